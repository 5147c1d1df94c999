using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using ResponsesGateway.Tests.Infrastructure;
using static ResponsesGateway.Tests.Infrastructure.GatewayHttp;
using static ResponsesGateway.Tests.Reliability.FaultGateway;

namespace ResponsesGateway.Tests.Reliability;

/// <summary>
/// The host stops (a deployment, a scale-in) while streams are open. New turns get 503 <c>server_shutting_down</c>
/// with <c>Retry-After</c>; a stream that ends within <c>Gateway:ShutdownDrainSeconds</c> completes normally; one that
/// does not ends with a well-formed <c>response.failed</c> (<c>server_shutting_down</c>) and is stored <c>failed</c>
/// with what was generated (was: reset after the host's 30 s, no terminal event, stored <c>incomplete</c>).
/// </summary>
[Collection(SerialReliabilityCollection.Name)]
public sealed class ShutdownTests(OutageFixture fixture) : IAsyncLifetime
{
    public Task InitializeAsync() => fixture.EnsureAzuriteAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task StalledStream_IsCutAfterTheDrainTime_WithResponseFailed_StoredFailed()
    {
        var table = Table();
        await using var gateway = await fixture.StartGatewayAsync(Settings(table, drainSeconds: "1"));
        using var client = Client(gateway);

        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/responses") { Content = Json("""{"model":"mock-stall-60000","input":"one two three","stream":true}""") };
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await using var body = await response.Content.ReadAsStreamAsync();
        var seen = await ReadUntilAsync(body, "response.output_text.delta");

        var watch = Stopwatch.StartNew();
        var stopping = gateway.StopAsync();
        await AssertNewTurnRefusedAsync(client);
        var rest = await new StreamReader(body, Encoding.UTF8).ReadToEndAsync();
        var cutAfter = watch.Elapsed;
        await stopping.WaitAsync(TimeSpan.FromSeconds(20));

        var stream = new SseStream(seen + rest);
        EventSequenceChecker.Check(stream);
        Assert.Equal("response.failed", stream.Types[^1]);
        Assert.Equal("server_shutting_down", (string?)stream.Terminal["error"]!["code"]);
        Assert.Contains("response.output_text.delta", stream.Types);
        Assert.InRange(cutAfter, TimeSpan.FromSeconds(0.5), TimeSpan.FromSeconds(8)); // the drain time (1 s), not the stall (60 s)

        // Stored failed, with the text streamed before the cut: read through another gateway on the same table.
        await using var next = await fixture.StartGatewayAsync(Settings(table, drainSeconds: "1"));
        using var reader = Client(next);
        var (status, stored) = await GetAsync(reader, $"/v1/responses/{(string)stream.Terminal["id"]!}");
        Assert.Equal(200, status);
        Assert.Equal("failed", (string?)stored["status"]);
        Assert.Equal("server_shutting_down", (string?)stored["error"]!["code"]);
        Assert.Equal("incomplete", (string?)stored["output"]![0]!["status"]);
        Assert.StartsWith("Mock", (string?)stored["output"]![0]!["content"]![0]!["text"]);
    }

    [Fact]
    public async Task StreamEndingWithinTheDrainTime_CompletesNormally()
    {
        var table = Table();
        await using var gateway = await fixture.StartGatewayAsync(Settings(table, drainSeconds: "10"));
        using var client = Client(gateway);

        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/responses") { Content = Json("""{"model":"mock-stall-1500","input":"one two three","stream":true}""") };
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        await using var body = await response.Content.ReadAsStreamAsync();
        var seen = await ReadUntilAsync(body, "response.output_text.delta");

        var watch = Stopwatch.StartNew();
        var stopping = gateway.StopAsync();
        await AssertNewTurnRefusedAsync(client);
        var rest = await new StreamReader(body, Encoding.UTF8).ReadToEndAsync();
        await stopping.WaitAsync(TimeSpan.FromSeconds(20));
        var stopped = watch.Elapsed;

        var stream = new SseStream(seen + rest);
        EventSequenceChecker.Check(stream);
        Assert.Equal("response.completed", stream.Types[^1]);
        // The host waited for the stream, and no longer: it stopped once the last turn was done, well before 10 s.
        Assert.InRange(stopped, TimeSpan.FromSeconds(0.5), TimeSpan.FromSeconds(8));

        await using var next = await fixture.StartGatewayAsync(Settings(table, drainSeconds: "1"));
        using var reader = Client(next);
        var (status, stored) = await GetAsync(reader, $"/v1/responses/{(string)stream.Terminal["id"]!}");
        Assert.Equal(200, status);
        Assert.Equal("completed", (string?)stored["status"]);
    }

    [Fact]
    public async Task JsonCreateStillWaitingForTheUpstream_Is503AfterTheDrainTime()
    {
        await using var gateway = await fixture.StartGatewayAsync(Settings(Table(), drainSeconds: "1"));
        using var client = Client(gateway);

        var pending = PostAsync(client, "/v1/responses", """{"model":"mock-slow-60000","input":"hi"}""");
        await Task.Delay(500); // the request is in flight, waiting for the upstream's headers
        var watch = Stopwatch.StartNew();
        var stopping = gateway.StopAsync();
        var (status, body) = await pending;
        await stopping.WaitAsync(TimeSpan.FromSeconds(20));

        Assert.Equal(503, status);
        AssertError(body, null, "server_shutting_down", "server_error");
        Assert.InRange(watch.Elapsed, TimeSpan.FromSeconds(0.5), TimeSpan.FromSeconds(8));
    }

    [Fact]
    public async Task IdleGateway_StopsAtOnce()
    {
        await using var gateway = await fixture.StartGatewayAsync(Settings(Table(), drainSeconds: "20"));
        using var client = Client(gateway);
        Assert.Equal(200, (await PostAsync(client, "/v1/responses", """{"model":"mock-model","input":"hi","store":false}""")).Status);

        var elapsed = await TimeAsync(gateway.StopAsync);

        Assert.True(elapsed < TimeSpan.FromSeconds(5), $"an idle gateway took {elapsed.TotalSeconds:0.0} s to stop");
    }

    // While the gateway drains, a new turn is refused in the envelope; reads of stored responses still work.
    private static async Task AssertNewTurnRefusedAsync(HttpClient client)
    {
        using var fresh = new HttpClient { BaseAddress = client.BaseAddress, Timeout = RequestBound };
        fresh.DefaultRequestHeaders.Authorization = client.DefaultRequestHeaders.Authorization;
        var watch = Stopwatch.StartNew();
        while (true)
        {
            using var response = await fresh.PostAsync("/v1/responses", Json("""{"model":"mock-model","input":"hi"}"""));
            if (response.StatusCode == HttpStatusCode.ServiceUnavailable)
            {
                AssertError(await ReadObjectAsync(response), null, "server_shutting_down", "server_error");
                Assert.Equal(TimeSpan.FromSeconds(1), response.Headers.RetryAfter?.Delta);
                return;
            }
            // The stop is asynchronous: a request that raced it may still be served.
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2), $"no 503 while draining (last: HTTP {(int)response.StatusCode})");
            await Task.Delay(20);
        }
    }

    private static string Table() => "shut" + Guid.NewGuid().ToString("N")[..16];

    private static Dictionary<string, string?> Settings(string table, string drainSeconds) => new()
    {
        ["Storage:TableName"] = table,
        ["Gateway:ShutdownDrainSeconds"] = drainSeconds,
    };

    private static async Task<(int Status, JsonObject Body)> GetAsync(HttpClient client, string path)
    {
        using var response = await client.GetAsync(path);
        return ((int)response.StatusCode, await ReadObjectAsync(response));
    }

    private static async Task<string> ReadUntilAsync(Stream body, string marker)
    {
        var text = new StringBuilder();
        var buffer = new byte[1];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        // One byte at a time, so nothing past the marker's event is taken from the stream here.
        while (!text.ToString().EndsWith("\n\n", StringComparison.Ordinal) || !text.ToString().Contains(marker, StringComparison.Ordinal))
        {
            var read = await body.ReadAsync(buffer, timeout.Token);
            Assert.True(read > 0, "the stream ended before " + marker);
            text.Append((char)buffer[0]);
        }
        return text.ToString();
    }
}
