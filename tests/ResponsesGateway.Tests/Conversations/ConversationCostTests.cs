using System.Collections.Concurrent;
using System.Diagnostics;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using Microsoft.Extensions.DependencyInjection;
using ResponsesGateway.Tests.Infrastructure;
using Xunit.Abstractions;
using static ResponsesGateway.Tests.Conversations.ConversationHttp;

namespace ResponsesGateway.Tests.Conversations;

/// <summary>What a turn on a conversation costs in storage requests: the same at turn 40 as at turn 3.</summary>
[Collection(GatewayCollection.Name)]
public sealed class ConversationCostTests(GatewayFixture fixture, ITestOutputHelper output)
{
    [Fact]
    public async Task TurnOnAConversation_CostsTheSameStorageRequestsAtAnyLength()
    {
        var table = "k" + Guid.NewGuid().ToString("N")[..20];
        var log = new ConcurrentQueue<string>();
        await using var gateway = await GatewayHost.StartAsync(fixture.Azurite.ConnectionString, GatewayHost.Upstream("mock", "responses", fixture.Mock.BaseUrl),
            new Dictionary<string, string?> { ["Storage:TableName"] = table }, services =>
            {
                // The same table client the gateway builds, with every storage request it sends written down.
                var options = new TableClientOptions();
                options.AddPolicy(new RequestLog(log), HttpPipelinePosition.PerCall);
                services.AddSingleton(new TableClient(fixture.Azurite.ConnectionString, table, options));
            });
        using var client = gateway.CreateClient();
        var conversation = await CreateAsync(client);
        var costs = new Dictionary<int, (List<string> Requests, TimeSpan Took)>();

        for (var turn = 1; turn <= 40; turn++)
        {
            log.Clear();
            var clock = Stopwatch.StartNew();
            await TurnAsync(client, $$"""{"model":"mock-model","input":"turn {{turn}}","conversation":"{{conversation}}"}""");
            costs[turn] = (log.ToList(), clock.Elapsed);
        }

        // One query reads the conversation; the append is a head read and one transaction, plus the item index; then
        // the response itself, a chain of its own (its row and its expiry bucket row, sent together). No request
        // grows with the length of the conversation.
        var third = costs[3].Requests;
        Assert.Equal(1, third.Count(r => r.StartsWith("GET", StringComparison.Ordinal) && r.Contains($"PartitionKey eq '{conversation}'", StringComparison.Ordinal)));
        Assert.True(third.Count == 6, string.Join("\n", third));
        Assert.Equal(third.Select(Shape), costs[40].Requests.Select(Shape));
        Assert.Equal(80, (await ItemsAsync(client, conversation)).Count);
        output.WriteLine($"storage requests per turn: {third.Count} ({string.Join("; ", third.Select(Shape))})");
        output.WriteLine($"turn 3: {costs[3].Took.TotalMilliseconds:F0} ms, turn 40: {costs[40].Took.TotalMilliseconds:F0} ms");
    }

    // The method and the path without the ids, so two turns' requests compare.
    private static string Shape(string request) => request.Split('?')[0].Split('(')[0];

    private sealed class RequestLog(ConcurrentQueue<string> log) : HttpPipelineSynchronousPolicy
    {
        public override void OnSendingRequest(HttpMessage message) => log.Enqueue(message.Request.Method + " " + Uri.UnescapeDataString(message.Request.Uri.ToString()));
    }
}
