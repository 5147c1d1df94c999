using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Azure.Data.Tables;
using Microsoft.Extensions.Logging.Abstractions;
using ResponsesGateway.Core.Ids;
using ResponsesGateway.Core.Options;
using ResponsesGateway.Core.Storage;
using ResponsesGateway.Storage.Responses;
using ResponsesGateway.Tests.Infrastructure;
using Xunit.Abstractions;
using static ResponsesGateway.Tests.Infrastructure.GatewayHttp;

namespace ResponsesGateway.Tests.Storage;

/// <summary>Gateway:MaxChainBytes: a chain whose history is over the bound is refused before it is decoded or sent upstream.</summary>
[Collection(GatewayCollection.Name)]
public sealed class ChainBoundTests(GatewayFixture fixture, ITestOutputHelper output)
{
    [Fact]
    public async Task OverTheBound_400ContextLengthExceeded_OnTheCachingAndAColdInstance_NothingSentUpstream()
    {
        var table = "b" + Guid.NewGuid().ToString("N")[..20];
        var settings = new Dictionary<string, string?> { ["Storage:TableName"] = table, ["Gateway:MaxChainBytes"] = "16000" };
        await using var warm = await fixture.StartGatewayAsync(settings);
        await using var cold = await fixture.StartGatewayAsync(new Dictionary<string, string?>(settings) { ["Gateway:ChainCacheMegabytes"] = "0" });
        using var client = warm.CreateClient();
        var root = await ChainConsistencyTests.CreateAsync(client, new string('a', 5000), null);
        var second = await ChainConsistencyTests.CreateAsync(client, new string('b', 5000), root);
        var third = await ChainConsistencyTests.CreateAsync(client, new string('c', 8000), second);

        foreach (var gateway in new[] { warm, cold })
        {
            using var c = gateway.CreateClient();
            // Within the bound: two turns of history (about 11 KB); three (about 19 KB) are over it.
            await ChainConsistencyTests.CreateAsync(c, "fine", second);
            var marker = Guid.NewGuid().ToString("N");
            var (status, body) = await PostAsync(c, "/v1/responses", $$"""{"model":"mock-model","input":"{{marker}}","previous_response_id":"{{third}}","stream":true}""");

            Assert.Equal(400, status);
            AssertError(body, "previous_response_id", "context_length_exceeded");
            Assert.DoesNotContain(fixture.Mock.Requests, r => r.Body.Contains(marker, StringComparison.Ordinal));
        }
    }

    [Fact]
    public void BoundBelow1024_FailsTheStart()
    {
        var result = new GatewayOptionsValidator().Validate(null, new GatewayOptions { MaxChainBytes = 100, ApiKeys = { ["a"] = "sk-a" } });
        Assert.True(result.Failed);
        Assert.Contains("Gateway:MaxChainBytes", result.FailureMessage, StringComparison.Ordinal);
    }

    /// <summary>
    /// The review's case: four turns of about 25 MB, then four parallel 100-byte continuations on an instance with a
    /// cold cache. Before the bound the process grew by gigabytes; now each is refused after one partition read.
    /// </summary>
    [Fact]
    public async Task FourTurnsOf25MB_FourParallelContinuationsOnAColdInstance_StayUnderTheMemoryBound()
    {
        var table = "m" + Guid.NewGuid().ToString("N")[..20];
        var store = new TableResponseStore(new TableClient(fixture.Azurite.ConnectionString, table), NullLogger<TableResponseStore>.Instance);
        string? parent = null;
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < 4; i++)
        {
            var id = parent is null ? ResponseIds.NewRoot() : ResponseIds.NewChild(parent);
            await store.SaveAsync(Turn(id, parent, Prose(25_000_000)), CancellationToken.None);
            parent = id;
        }
        // A slow emulator on a busy machine is not what is measured: storage calls get time and are not retried.
        await using var gateway = await fixture.StartGatewayAsync(new Dictionary<string, string?>
        {
            ["Storage:TableName"] = table,
            ["Gateway:ChainCacheMegabytes"] = "0",
            ["Storage:NetworkTimeoutSeconds"] = "120",
            ["Storage:MaxRetries"] = "0",
        });
        using var client = gateway.CreateClient(GatewayHost.KeyA);
        client.Timeout = TimeSpan.FromMinutes(5);
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        using var self = Process.GetCurrentProcess();
        self.Refresh();
        var baseline = self.WorkingSet64;
        var peak = baseline;
        using var sampling = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!sampling.IsCancellationRequested)
            {
                self.Refresh();
                peak = Math.Max(peak, self.WorkingSet64);
                await Task.Delay(5);
            }
        });

        output.WriteLine($"4 × 25 MB stored in {clock.Elapsed.TotalSeconds:0.0} s; working set before the continuations {baseline / (1024 * 1024)} MB");
        clock.Restart();
        var answers = await Task.WhenAll(Enumerable.Range(0, 4).Select(i =>
            PostAsync(client, "/v1/responses", $$"""{"model":"mock-model","input":"{{new string('x', 100)}}","previous_response_id":"{{parent}}"}""")));
        await sampling.CancelAsync();
        await sampler;

        foreach (var (status, body) in answers)
        {
            Assert.Equal(400, status);
            AssertError(body, "previous_response_id", "context_length_exceeded");
        }
        // Each request holds the compressed partition once it is read; nothing is decoded or expanded.
        var grewMb = (peak - baseline) / (1024.0 * 1024);
        output.WriteLine($"4 parallel continuations answered in {clock.Elapsed.TotalSeconds:0.0} s; the process grew by {grewMb:0} MB at its peak");
        Assert.True(grewMb < 600, $"the process grew by {grewMb:0} MB");
    }

    /// <summary>Random words from a small vocabulary: text that gzip shrinks about as much as prose (4-5×), not to nothing.</summary>
    private static string Prose(int chars)
    {
        var words = Enumerable.Range(0, 256).Select(i => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(2 + (i % 4)))).ToArray();
        var text = new System.Text.StringBuilder(chars + 16);
        while (text.Length < chars)
        {
            text.Append(words[RandomNumberGenerator.GetInt32(words.Length)]).Append(' ');
        }
        return text.ToString(0, chars);
    }

    private static StoredResponse Turn(string id, string? parent, string text) => new()
    {
        Id = id,
        Owner = "tenant-a",
        PreviousResponseId = parent,
        Status = "completed",
        Model = "mock-model",
        CreatedAt = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
        Response = new JsonObject { ["id"] = id, ["object"] = "response", ["status"] = "completed", ["output"] = new JsonArray() },
        InputItems = [new JsonObject { ["type"] = "message", ["role"] = "user", ["content"] = text }],
    };
}
