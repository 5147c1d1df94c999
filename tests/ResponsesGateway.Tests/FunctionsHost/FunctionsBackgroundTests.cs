using System.Text.Json.Nodes;
using Azure.Storage.Queues;
using ResponsesGateway.TestSupport;
using ResponsesGateway.Tests.Background;
using ResponsesGateway.Tests.Infrastructure;
using static ResponsesGateway.Tests.Infrastructure.GatewayHttp;

namespace ResponsesGateway.Tests.FunctionsHost;

/// <summary>
/// Background responses on the Functions path: the HTTP triggers queue the run on Azurite's queue service, and the
/// stand-in host takes the message off that queue and invokes the queue trigger with it, as the host's queue listener
/// does (deleting it when the invocation succeeds); the poison-queue trigger and the cancel route too.
/// </summary>
[Collection(FunctionsAppCollection.Name)]
public sealed class FunctionsBackgroundTests(FunctionsAppFixture app) : IAsyncLifetime
{
    private readonly string _queueName = "fq-" + Guid.NewGuid().ToString("N")[..12];
    private AzuriteServer _queues = null!;
    private FunctionsHostStandIn _host = null!;

    public async Task InitializeAsync()
    {
        _queues = await AzuriteServer.StartQueueAsync();
        var connection = app.Azurite.ConnectionStringWithQueue(_queues);
        _host = await app.StartHostAsync(new Dictionary<string, string>
        {
            ["AzureWebJobsStorage"] = connection,
            ["Storage__ConnectionString"] = connection,
            ["Background__QueueName"] = _queueName,
        });
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        await _queues.DisposeAsync();
    }

    private QueueClient Queue => new(app.Azurite.ConnectionStringWithQueue(_queues), _queueName, new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 });

    /// <summary>What the host's queue listener does: take the next message, invoke the function, delete it on success.</summary>
    private async Task<string> RunNextMessageAsync(string function = "RunBackgroundResponse")
    {
        var message = (await Queue.ReceiveMessagesAsync(1, TimeSpan.FromMinutes(2))).Value.Single();
        var result = await _host.InvokeQueueAsync(function, message.Body.ToString(), message.DequeueCount);
        Assert.True(result.Result.Status == Rpc.StatusResult.Types.Status.Success, $"{result.Result.Exception?.Message}\n{_host.Diagnostics}");
        await Queue.DeleteMessageAsync(message.MessageId, message.PopReceipt);
        return message.Body.ToString();
    }

    [Fact]
    public async Task A_background_create_is_run_by_the_queue_trigger_and_streams_back_with_its_sequence_numbers()
    {
        using var client = FunctionsAppFixture.CreateClient(_host);
        var marker = Guid.NewGuid().ToString("N");
        var (status, queued) = await PostAsync(client, "/v1/responses", $$"""{"model":"mock-model","input":"fn {{marker}}","background":true}""");
        Assert.True(status == 200, queued.ToJsonString() + "\n" + _host.Diagnostics);
        Assert.Equal("queued", (string?)queued["status"]);
        var id = (string)queued["id"]!;

        var message = await RunNextMessageAsync();
        Assert.Contains(id, message);
        Assert.Equal(0, (await Queue.GetPropertiesAsync()).Value.ApproximateMessagesCount);

        using var get = await client.GetAsync($"/v1/responses/{id}");
        var done = await ReadObjectAsync(get);
        Assert.Equal("completed", (string?)done["status"]);
        Assert.True((bool)done["background"]!);
        Assert.Contains($"Mock reply to: fn {marker}", done["output"]!.ToJsonString());
        Assert.Single(app.Mock.Requests, r => r.Body.Contains(marker, StringComparison.Ordinal));

        using var replay = await client.GetAsync($"/v1/responses/{id}?stream=true&starting_after=1");
        var stream = new SseStream(await replay.Content.ReadAsStringAsync());
        Assert.Equal("response.in_progress", stream.Types[0]);
        Assert.Equal(2, (int)stream.Events[0].Json["sequence_number"]!);
        Assert.Equal("response.completed", stream.Types[^1]);

        // Delivered again (the host retried after a lost acknowledgement): the run has ended, nothing is called again.
        var again = await _host.InvokeQueueAsync("RunBackgroundResponse", message, 2);
        Assert.True(again.Result.Status == Rpc.StatusResult.Types.Status.Success, again.Result.Exception?.Message);
        Assert.Single(app.Mock.Requests, r => r.Body.Contains(marker, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Cancel_through_the_functions_route_and_the_poison_trigger_end_queued_runs()
    {
        using var client = FunctionsAppFixture.CreateClient(_host);
        var marker = Guid.NewGuid().ToString("N");
        var (_, first) = await PostAsync(client, "/v1/responses", $$"""{"model":"mock-model","input":"cancel {{marker}}","background":true}""");
        var cancelledId = (string)first["id"]!;
        using (var cancel = await client.PostAsync($"/v1/responses/{cancelledId}/cancel", null))
        {
            var body = await ReadObjectAsync(cancel);
            Assert.Equal(200, (int)cancel.StatusCode);
            Assert.Equal("cancelled", (string?)body["status"]);
        }
        using (var stranger = FunctionsAppFixture.CreateClient(_host, FunctionsAppFixture.KeyB))
        using (var foreign = await stranger.PostAsync($"/v1/responses/{cancelledId}/cancel", null))
        {
            Assert.Equal(404, (int)foreign.StatusCode);
            AssertError(await ReadObjectAsync(foreign), null, null);
        }
        await RunNextMessageAsync();
        Assert.DoesNotContain(app.Mock.Requests, r => r.Body.Contains(marker, StringComparison.Ordinal));

        var (_, second) = await PostAsync(client, "/v1/responses", $$"""{"model":"mock-model","input":"poison {{marker}}","background":true}""");
        var poisonedId = (string)second["id"]!;
        await RunNextMessageAsync("FailPoisonedBackgroundResponse");
        using var get = await client.GetAsync($"/v1/responses/{poisonedId}");
        var failed = await ReadObjectAsync(get);
        Assert.Equal("failed", (string?)failed["status"]);
        Assert.Equal("background_run_failed", (string?)failed["error"]!["code"]);
        Assert.DoesNotContain(app.Mock.Requests, r => r.Body.Contains(marker, StringComparison.Ordinal));
    }
}
