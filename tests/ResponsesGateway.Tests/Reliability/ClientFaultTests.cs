using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using ResponsesGateway.Tests.Infrastructure;
using static ResponsesGateway.Tests.Infrastructure.GatewayHttp;
using static ResponsesGateway.Tests.Reliability.FaultGateway;

namespace ResponsesGateway.Tests.Reliability;

/// <summary>
/// Clients that leave mid-stream, read slowly, or come in crowds: the turn is stored <c>incomplete</c> and the upstream
/// call cancelled; memory stays bounded because nothing is read from the upstream faster than the client takes it;
/// hundreds of concurrent streams all stay well formed.
/// </summary>
[Collection(SerialReliabilityCollection.Name)]
public sealed class ClientFaultTests(OutageFixture fixture, Xunit.Abstractions.ITestOutputHelper output) : IAsyncLifetime
{
    public Task InitializeAsync() => fixture.EnsureAzuriteAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task DisconnectMidStream_StoredIncomplete_UpstreamAborted()
    {
        await using var gateway = await fixture.StartGatewayAsync();
        using var client = Client(gateway);
        fixture.Mock.ClearRequests();

        string id;
        using (var request = new HttpRequestMessage(HttpMethod.Post, "/v1/responses") { Content = Json("""{"model":"mock-stall-20000","input":"one two three","stream":true}""") })
        using (var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var seen = await ReadUntilAsync(await response.Content.ReadAsStreamAsync(), "response.output_text.delta");
            id = (string)new SseStream(seen[..(seen.LastIndexOf("\n\n", StringComparison.Ordinal) + 2)]).Events[0].Json["response"]!["id"]!;
        } // disposed unread: the connection is dropped (no draining, see GatewayHost.CreateClient)

        Assert.True(await fixture.Mock.WaitForAbortAsync(TimeSpan.FromSeconds(10)), "the gateway did not cancel its upstream call");
        var stored = await EventuallyStoredAsync(client, id, TimeSpan.FromSeconds(10));
        Assert.Equal("incomplete", (string?)stored["status"]);
        Assert.Equal("interrupted", (string?)stored["incomplete_details"]?["reason"]);
        var item = stored["output"]![0]!;
        Assert.Equal("incomplete", (string?)item["status"]);
        Assert.StartsWith("Mock", (string?)item["content"]![0]!["text"]); // what was streamed before the client left
    }

    [Fact]
    public async Task SlowReader_GatewayReadsNoFasterThanTheClient_MemoryBounded()
    {
        await using var upstream = await ScriptedUpstream.StartAsync(fixture.Mock.BaseUrl);
        upstream.Default = upstream.LongStream(deltas: 100_000, deltaChars: 1024); // ~110 MB if nobody pushed back
        await using var gateway = await GatewayHost.StartAsync(fixture.Azurite.ConnectionString, GatewayHost.Upstream("long", "responses", upstream.BaseUrl));
        using var client = Client(gateway);
        var heapBefore = Heap();

        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/responses") { Content = Json("""{"model":"long","input":"go","stream":true}""") };
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        await using var body = await response.Content.ReadAsStreamAsync();
        var one = new byte[1];
        async Task ReadSlowlyAsync(TimeSpan duration)
        {
            var watch = Stopwatch.StartNew();
            while (watch.Elapsed < duration)
            {
                Assert.Equal(1, await body.ReadAsync(one));
                await Task.Delay(10);
            }
        }

        await ReadSlowlyAsync(TimeSpan.FromSeconds(3)); // 1 byte per 10 ms: every buffer on the way fills up
        var written = upstream.BytesWritten;
        await ReadSlowlyAsync(TimeSpan.FromSeconds(1));
        var writtenLater = upstream.BytesWritten;
        var heapGrowth = Heap() - heapBefore;
        output.WriteLine($"upstream wrote {written / 1024} KB after 3 s, {writtenLater / 1024} KB after 4 s; managed heap grew {heapGrowth / 1024} KB");

        // Only socket buffers and one event at a time lie between the upstream and the slow client.
        Assert.True(written < 48L * 1024 * 1024, $"the upstream wrote {written / 1048576} MB for a client that read a few hundred bytes");
        Assert.True(writtenLater - written < 1024 * 1024, $"the upstream kept writing ({(writtenLater - written) / 1024} KB in 1 s) into a stalled client");
        Assert.True(heapGrowth < 64L * 1024 * 1024, $"the managed heap grew by {heapGrowth / 1048576} MB");
    }

    [Fact]
    public async Task TwoHundredConcurrentStreams_AllWellFormedAndStored()
    {
        await using var gateway = await fixture.StartGatewayAsync();
        using var client = Client(gateway);
        client.Timeout = TimeSpan.FromSeconds(30);
        var watch = Stopwatch.StartNew();

        // stall-300: each stream pauses mid-way, so all of them are open at the same time.
        var streams = await Task.WhenAll(Enumerable.Range(0, 200).Select(i =>
            StreamAsync(client, $$"""{"model":"mock-stall-300","input":"stream {{i}} of many","stream":true}""")));
        var elapsed = watch.Elapsed;
        output.WriteLine($"200 concurrent streams in {elapsed.TotalSeconds:0.00} s");

        Assert.All(streams, s =>
        {
            EventSequenceChecker.Check(s);
            Assert.Equal("response.completed", s.Types[^1]);
        });
        Assert.Equal(200, streams.Select(s => (string)s.Terminal["id"]!).Distinct().Count());
        Assert.True(elapsed < TimeSpan.FromSeconds(20), $"200 streams took {elapsed.TotalSeconds:0.0} s");
        foreach (var s in streams.Where((_, i) => i % 20 == 0))
        {
            Assert.Equal("completed", await UpstreamFaultTests.StoredStatusAsync(client, (string)s.Terminal["id"]!));
        }
    }

    private static long Heap()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        return GC.GetTotalMemory(forceFullCollection: true);
    }

    private static async Task<string> ReadUntilAsync(Stream body, string marker)
    {
        var text = new StringBuilder();
        var buffer = new byte[4096];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (!text.ToString().Contains(marker, StringComparison.Ordinal))
        {
            var read = await body.ReadAsync(buffer, timeout.Token);
            Assert.True(read > 0, "the stream ended before " + marker);
            text.Append(Encoding.UTF8.GetString(buffer, 0, read));
        }
        return text.ToString();
    }

    private static async Task<JsonObject> EventuallyStoredAsync(HttpClient client, string id, TimeSpan within)
    {
        var watch = Stopwatch.StartNew();
        while (true)
        {
            using var response = await client.GetAsync($"/v1/responses/{id}");
            if (response.StatusCode == HttpStatusCode.OK)
            {
                return await ReadObjectAsync(response);
            }
            Assert.True(watch.Elapsed < within, $"{id} was not stored within {within.TotalSeconds} s (last: HTTP {(int)response.StatusCode})");
            await Task.Delay(100);
        }
    }
}
