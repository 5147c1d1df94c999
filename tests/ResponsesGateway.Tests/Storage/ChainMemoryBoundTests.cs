using System.Diagnostics;
using Azure.Data.Tables;
using Microsoft.Extensions.Logging.Abstractions;
using ResponsesGateway.Core.Ids;
using ResponsesGateway.Storage.Responses;
using ResponsesGateway.Tests.Infrastructure;
using Xunit.Abstractions;
using static ResponsesGateway.Tests.Infrastructure.GatewayHttp;

namespace ResponsesGateway.Tests.Storage;

/// <summary>
/// The memory bound of Gateway:MaxChainBytes, measured on the test process's working set: run alone, after the parallel
/// collections, so no other test's allocations are counted as the gateway's.
/// </summary>
[Collection(MemoryMeasurementCollection.Name)]
public sealed class ChainMemoryBoundTests(GatewayFixture fixture, ITestOutputHelper output)
{
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
            await store.SaveAsync(ChainBoundTests.Turn(id, parent, ChainBoundTests.Prose(25_000_000)), CancellationToken.None);
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
}
