using System.Net;
using System.Text.Json.Nodes;
using ResponsesGateway.Tests.Infrastructure;
using static ResponsesGateway.Tests.Infrastructure.GatewayHttp;
using static ResponsesGateway.Tests.Reliability.FaultGateway;

namespace ResponsesGateway.Tests.Reliability;

/// <summary>
/// Upstream faults over real HTTP: retried and fallen back from before the first byte, <c>response.failed</c> after it,
/// the stored state matching what the client saw, and every request bounded in time.
/// </summary>
[Collection(UpstreamFaultCollection.Name)]
public sealed class UpstreamFaultTests(GatewayFixture fixture)
{
    [Theory]
    [InlineData(500, false)]
    [InlineData(502, true)]
    [InlineData(503, false)]
    [InlineData(503, true)]
    [InlineData(504, true)]
    [InlineData(408, false)]
    public async Task Retry_TransientStatusThenSuccess_Completes(int status, bool stream)
    {
        await using var upstream = await ScriptedUpstream.StartAsync(fixture.Mock.BaseUrl);
        await using var gateway = await fixture.StartGatewayAsync(FastRetries(), upstream: upstream.BaseUrl);
        using var client = Client(gateway);
        upstream.Enqueue(ScriptedUpstream.Status(status), ScriptedUpstream.Status(status));

        var id = await CreateCompletedAsync(client, """{"model":"mock-model","input":"try again"}""", stream);

        Assert.Equal(3, upstream.Requests);
        Assert.Equal("completed", await StoredStatusAsync(client, id));
    }

    [Fact]
    public async Task Retry_GivesUpAfterMaxRetries_With502()
    {
        await using var upstream = await ScriptedUpstream.StartAsync(fixture.Mock.BaseUrl);
        await using var gateway = await fixture.StartGatewayAsync(FastRetries(retries: 2), upstream: upstream.BaseUrl);
        using var client = Client(gateway);
        upstream.Enqueue(ScriptedUpstream.Status(503), ScriptedUpstream.Status(503), ScriptedUpstream.Status(503), ScriptedUpstream.Status(503));

        var (status, body) = await PostAsync(client, "/v1/responses", """{"model":"mock-model","input":"x","stream":true}""");

        Assert.Equal(502, status);
        AssertError(body, null, "upstream_error", "server_error");
        Assert.Equal(3, upstream.Requests);
    }

    [Fact]
    public async Task Retry_NotForClientErrors()
    {
        await using var upstream = await ScriptedUpstream.StartAsync(fixture.Mock.BaseUrl);
        await using var gateway = await fixture.StartGatewayAsync(FastRetries(), upstream: upstream.BaseUrl);
        using var client = Client(gateway);
        upstream.Enqueue(ScriptedUpstream.Status(400));

        var (status, _) = await PostAsync(client, "/v1/responses", """{"model":"mock-model","input":"x"}""");

        Assert.Equal(400, status);
        Assert.Equal(1, upstream.Requests);
    }

    [Fact]
    public async Task RateLimited_HonoursRetryAfter_ThenCompletes()
    {
        await using var upstream = await ScriptedUpstream.StartAsync(fixture.Mock.BaseUrl);
        await using var gateway = await fixture.StartGatewayAsync(FastRetries(), upstream: upstream.BaseUrl);
        using var client = Client(gateway);
        upstream.Enqueue(ScriptedUpstream.Status(429, retryAfterSeconds: 1));

        string id = "";
        var elapsed = await TimeAsync(async () => id = await CreateCompletedAsync(client, """{"model":"mock-model","input":"x"}""", stream: true));

        Assert.Equal(2, upstream.Requests);
        // The back-off alone is 0.05 s: only the upstream's Retry-After explains a second's wait.
        Assert.True(elapsed >= TimeSpan.FromSeconds(0.9), $"retried after {elapsed.TotalSeconds:0.00} s, before the upstream's Retry-After");
        Assert.Equal("completed", await StoredStatusAsync(client, id));
    }

    [Fact]
    public async Task RateLimited_Persistently_Answers429WithRetryAfter()
    {
        await using var upstream = await ScriptedUpstream.StartAsync(fixture.Mock.BaseUrl);
        await using var gateway = await fixture.StartGatewayAsync(FastRetries(), upstream: upstream.BaseUrl);
        using var client = Client(gateway);
        upstream.Enqueue(ScriptedUpstream.Status(429, 1), ScriptedUpstream.Status(429, 1), ScriptedUpstream.Status(429, 1));

        using var response = await client.PostAsync("/v1/responses", Json("""{"model":"mock-model","input":"x","stream":true}"""));

        Assert.Equal(429, (int)response.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(1), response.Headers.RetryAfter?.Delta);
        Assert.NotNull((await ReadObjectAsync(response))["error"]);
        Assert.Equal(3, upstream.Requests);
    }

    [Fact]
    public async Task RateLimited_RetryAfterBeyondTheCap_Answers429AtOnce()
    {
        await using var upstream = await ScriptedUpstream.StartAsync(fixture.Mock.BaseUrl);
        await using var gateway = await fixture.StartGatewayAsync(FastRetries(), upstream: upstream.BaseUrl);
        using var client = Client(gateway);
        upstream.Enqueue(ScriptedUpstream.Status(429, retryAfterSeconds: 30));

        HttpResponseMessage? response = null;
        var elapsed = await TimeAsync(async () => response = await client.PostAsync("/v1/responses", Json("""{"model":"mock-model","input":"x"}""")));

        using (response)
        {
            Assert.Equal(429, (int)response!.StatusCode);
            Assert.Equal(TimeSpan.FromSeconds(30), response.Headers.RetryAfter?.Delta);
        }
        Assert.Equal(1, upstream.Requests);
        // Far under the 30 s the upstream asked for: the gateway passed the 429 on instead of waiting.
        Assert.True(elapsed < TimeSpan.FromSeconds(10), $"took {elapsed.TotalSeconds:0.0} s");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Fallback_WhenThePrimaryKeepsFailing_ServesTheSameModel(bool stream)
    {
        await using var primary = await ScriptedUpstream.StartAsync(fixture.Mock.BaseUrl);
        await using var gateway = await StartWithFallbackAsync(primary.BaseUrl, fixture.Mock.BaseUrl, FastRetries(retries: 1));
        using var client = Client(gateway);
        primary.Enqueue(ScriptedUpstream.Status(503), ScriptedUpstream.Status(503));
        var marker = Guid.NewGuid().ToString("N");

        var id = await CreateCompletedAsync(client, $$"""{"model":"client-model","input":"{{marker}}"}""", stream);

        Assert.Equal(2, primary.Requests);
        var sent = JsonNode.Parse(fixture.Mock.Requests.Last(r => r.Body.Contains(marker, StringComparison.Ordinal)).Body)!;
        Assert.Equal("mock-model", (string?)sent["model"]); // the fallback's own ModelMap applies
        Assert.Equal("completed", await StoredStatusAsync(client, id));
    }

    [Fact]
    public async Task Fallback_WhenThePrimaryIsUnreachable()
    {
        var (listener, filler, port) = await BlackHoleAsync();
        listener.Dispose(); // now refused
        filler.Dispose();
        await using var gateway = await StartWithFallbackAsync(new Uri($"http://127.0.0.1:{port}/v1"), fixture.Mock.BaseUrl, FastRetries(retries: 1));
        using var client = Client(gateway);

        await CreateCompletedAsync(client, """{"model":"client-model","input":"x"}""", stream: true);
    }

    [Fact]
    public async Task Fallback_NotUsedWhenTheUpstreamRejectsTheRequest()
    {
        await using var primary = await ScriptedUpstream.StartAsync(fixture.Mock.BaseUrl);
        await using var backup = await ScriptedUpstream.StartAsync(fixture.Mock.BaseUrl);
        await using var gateway = await StartWithFallbackAsync(primary.BaseUrl, backup.BaseUrl, FastRetries());
        using var client = Client(gateway);
        primary.Enqueue(ScriptedUpstream.Status(422));

        var (status, _) = await PostAsync(client, "/v1/responses", """{"model":"client-model","input":"x"}""");

        Assert.Equal(422, status);
        Assert.Equal(0, backup.Requests);
    }

    [Fact]
    public async Task ResetMidStream_IsNotRetried_FailsAndIsStoredFailed()
    {
        await using var upstream = await ScriptedUpstream.StartAsync(fixture.Mock.BaseUrl);
        await using var gateway = await fixture.StartGatewayAsync(FastRetries(), upstream: upstream.BaseUrl);
        using var client = Client(gateway);

        var stream = await StreamAsync(client, """{"model":"mock-disconnect-5","input":"a b c d e f g h","stream":true}""");

        EventSequenceChecker.Check(stream);
        Assert.Equal("response.failed", stream.Types[^1]);
        Assert.Equal(1, upstream.Requests); // events had reached the client: never retried
        Assert.Equal("failed", await StoredStatusAsync(client, (string)stream.Terminal["id"]!));
    }

    [Fact]
    public async Task ResetBeforeHeaders_Is502WithoutBody()
    {
        await using var upstream = await ScriptedUpstream.StartAsync(fixture.Mock.BaseUrl);
        await using var gateway = await fixture.StartGatewayAsync(FastRetries(retries: 0), upstream: upstream.BaseUrl);
        using var client = Client(gateway);
        upstream.Enqueue(ScriptedUpstream.Reset());

        var (status, body) = await PostAsync(client, "/v1/responses", """{"model":"mock-model","input":"x","stream":true}""");

        Assert.Equal(502, status);
        AssertError(body, null, "upstream_error", "server_error");
    }

    [Fact]
    public async Task ConnectTimeout_Is504()
    {
        var (listener, filler, port) = await BlackHoleAsync();
        using (listener)
        using (filler)
        {
            await using var gateway = await fixture.StartGatewayAsync(
                FastRetries(retries: 1).With("Gateway:UpstreamConnectTimeoutSeconds", "0.5"), upstream: new Uri($"http://127.0.0.1:{port}/v1"));
            using var client = Client(gateway);

            (int Status, JsonObject Body) result = default;
            var elapsed = await TimeAsync(async () => result = await PostAsync(client, "/v1/responses", """{"model":"mock-model","input":"x","stream":true}"""));

            Assert.Equal(504, result.Status);
            AssertError(result.Body!, null, "upstream_timeout", "server_error");
            // Two attempts of 0.5 s each (a connect timeout is retried), well under the first-byte timeout.
            Assert.InRange(elapsed.TotalSeconds, 0.9, 5);
        }
    }

    [Fact]
    public async Task FirstByteTimeout_Is504_AndNotRetried()
    {
        await using var upstream = await ScriptedUpstream.StartAsync(fixture.Mock.BaseUrl);
        // 1.5 s, not less: on a loaded machine a freshly started upstream has taken over 0.5 s to hand the request to
        // its handler, and a timeout that fires before that leaves nothing counted to tell "sent once" apart.
        await using var gateway = await fixture.StartGatewayAsync(FastRetries().With("Gateway:UpstreamFirstByteTimeoutSeconds", "1.5"), upstream: upstream.BaseUrl);
        using var client = Client(gateway);

        (int Status, JsonObject Body) result = default;
        var elapsed = await TimeAsync(async () => result = await PostAsync(client, "/v1/responses", """{"model":"mock-slow-20000","input":"x","stream":true}"""));

        Assert.Equal(504, result.Status);
        AssertError(result.Body!, null, "upstream_timeout", "server_error");
        Assert.True(elapsed < TimeSpan.FromSeconds(8), $"took {elapsed.TotalSeconds:0.0} s");
        // A retry would have been sent before the 504 was answered; the one request may still be reaching the handler.
        await Eventually.WaitUntilAsync(() => upstream.Requests != 0, TimeSpan.FromSeconds(5));
        Assert.Equal(1, upstream.Requests);
    }

    [Fact]
    public async Task IdleTimeout_StallMidStream_FailsAndIsStoredFailed()
    {
        await using var gateway = await fixture.StartGatewayAsync(FastRetries().With("Gateway:UpstreamIdleTimeoutSeconds", "0.5"));
        using var client = Client(gateway);

        SseStream stream = null!;
        var elapsed = await TimeAsync(async () => stream = await StreamAsync(client, """{"model":"mock-stall-10000","input":"one two three","stream":true}"""));

        EventSequenceChecker.Check(stream);
        Assert.Equal("response.failed", stream.Types[^1]);
        Assert.Contains("stopped sending events", (string?)stream.Terminal["error"]!["message"]);
        Assert.Contains("response.output_text.delta", stream.Types); // the part before the stall reached the client
        Assert.True(elapsed < TimeSpan.FromSeconds(8), $"took {elapsed.TotalSeconds:0.0} s"); // the stall is 10 s
        var stored = await StoredAsync(client, (string)stream.Terminal["id"]!);
        Assert.Equal("failed", (string?)stored["status"]);
        Assert.Equal("incomplete", (string?)stored["output"]![0]!["status"]);
    }

    [Fact]
    public async Task TotalTimeout_MidStream_FailsWithTimeoutCode()
    {
        await using var gateway = await fixture.StartGatewayAsync(FastRetries().With("Gateway:RequestTimeoutSeconds", "1"));
        using var client = Client(gateway);

        SseStream stream = null!;
        var elapsed = await TimeAsync(async () => stream = await StreamAsync(client, """{"model":"mock-stall-10000","input":"one two","stream":true}"""));

        EventSequenceChecker.Check(stream);
        Assert.Equal("timeout", (string?)stream.Terminal["error"]!["code"]);
        Assert.True(elapsed < TimeSpan.FromSeconds(8), $"took {elapsed.TotalSeconds:0.0} s"); // the stall is 10 s
        Assert.Equal("failed", await StoredStatusAsync(client, (string)stream.Terminal["id"]!));
    }

    [Fact]
    public async Task TotalTimeout_BeforeTheFirstByte_Is504()
    {
        await using var gateway = await fixture.StartGatewayAsync(FastRetries().With("Gateway:RequestTimeoutSeconds", "1"));
        using var client = Client(gateway);

        var (status, body) = await PostAsync(client, "/v1/responses", """{"model":"mock-slow-10000","input":"x"}""");

        Assert.Equal(504, status);
        AssertError(body, null, "upstream_timeout", "server_error");
    }

    [Fact]
    public async Task MalformedSse_FailsCleanlyAndIsStoredFailed()
    {
        using var client = Client(fixture.Gateway);

        var stream = await StreamAsync(client, """{"model":"mock-malformed-sse","input":"x","stream":true}""");

        EventSequenceChecker.Check(stream);
        Assert.Equal("response.failed", stream.Types[^1]);
        Assert.Contains("not JSON", (string?)stream.Terminal["error"]!["message"]);
        Assert.Equal("failed", await StoredStatusAsync(client, (string)stream.Terminal["id"]!));
    }

    [Fact]
    public async Task TruncatedJson_JsonMode_Is502()
    {
        using var client = Client(fixture.Gateway);

        var (status, body) = await PostAsync(client, "/v1/responses", """{"model":"mock-truncated-json","input":"x"}""");

        Assert.Equal(502, status);
        AssertError(body, null, "upstream_error", "server_error");
    }

    [Fact]
    public async Task TruncatedJson_StreamMode_FailsCleanlyAndIsStoredFailed()
    {
        using var client = Client(fixture.Gateway);

        var stream = await StreamAsync(client, """{"model":"mock-truncated-json","input":"a b c","stream":true}""");

        EventSequenceChecker.Check(stream);
        Assert.Equal("response.failed", stream.Types[^1]);
        Assert.Equal("failed", await StoredStatusAsync(client, (string)stream.Terminal["id"]!));
    }

    [Fact]
    public async Task OversizedEvent_FailsCleanlyInsteadOfBuffering()
    {
        await using var gateway = await fixture.StartGatewayAsync(new Dictionary<string, string?> { ["Gateway:UpstreamMaxEventBytes"] = "1048576" });
        using var client = Client(gateway);

        var stream = await StreamAsync(client, """{"model":"mock-oversized-event","input":"x","stream":true}""");

        EventSequenceChecker.Check(stream);
        Assert.Equal("response.failed", stream.Types[^1]);
        Assert.Equal("upstream_event_too_large", (string?)stream.Terminal["error"]!["code"]);
        Assert.All(stream.Events, e => Assert.True(e.Data.Length < 1024 * 1024, $"{e.EventName} of {e.Data.Length} bytes reached the client"));
        Assert.Equal("failed", await StoredStatusAsync(client, (string)stream.Terminal["id"]!));
    }

    [Theory]
    [InlineData("responses")]
    [InlineData("chat")]
    public async Task OversizedJsonAnswer_Is502_NotBufferedWithoutLimit(string kind)
    {
        await using var gateway = await fixture.StartGatewayAsync(new Dictionary<string, string?> { ["Gateway:UpstreamMaxEventBytes"] = "1048576" }, kind);
        using var client = Client(gateway);

        var (status, body) = await PostAsync(client, "/v1/responses", """{"model":"mock-oversized-event","input":"x"}""");

        Assert.Equal(502, status);
        AssertError(body, null, "upstream_response_too_large", "server_error");
        Assert.Contains("1048576 bytes", (string?)body["error"]!["message"], StringComparison.Ordinal);
        // Within the default bound the same answer goes through.
        using var defaults = Client(fixture.Gateway);
        var (ok, answer) = await PostAsync(defaults, "/v1/responses", """{"model":"mock-oversized-event","input":"x"}""");
        Assert.True(ok == 200, answer.ToJsonString());
        Assert.Equal("completed", (string?)answer["status"]);
    }

    [Fact]
    public async Task OversizedEvent_WithinTheDefaultBound_Completes()
    {
        using var client = Client(fixture.Gateway);

        var stream = await StreamAsync(client, """{"model":"mock-oversized-event","input":"x","stream":true}""");

        EventSequenceChecker.Check(stream);
        Assert.Equal("response.completed", stream.Types[^1]);
    }

    private Task<GatewayHost> StartWithFallbackAsync(Uri primary, Uri backup, Dictionary<string, string?> extra) =>
        GatewayHost.StartAsync(fixture.Azurite.ConnectionString,
            Merge(
                GatewayHost.Upstream("a-primary", "responses", primary),
                GatewayHost.Upstream("b-backup", "responses", backup, models: "backup-only")).With("Upstreams:a-primary:Fallback", "b-backup")
                .With("Upstreams:b-backup:ModelMap", "client-model=mock-model"),
            extra);

    /// <summary>Creates a response and asserts it completed (well formed when streamed); returns its id.</summary>
    internal static async Task<string> CreateCompletedAsync(HttpClient client, string json, bool stream)
    {
        var body = JsonNode.Parse(json)!.AsObject();
        body["stream"] = stream;
        if (stream)
        {
            var events = await StreamAsync(client, body.ToJsonString());
            EventSequenceChecker.Check(events);
            Assert.Equal("response.completed", events.Types[^1]);
            return (string)events.Terminal["id"]!;
        }
        var (status, response) = await PostAsync(client, "/v1/responses", body.ToJsonString());
        Assert.True(status == 200, $"HTTP {status}: {response.ToJsonString()}");
        Assert.Equal("completed", (string?)response["status"]);
        return (string)response["id"]!;
    }

    internal static async Task<JsonObject> StoredAsync(HttpClient client, string id)
    {
        using var response = await client.GetAsync($"/v1/responses/{id}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await ReadObjectAsync(response);
    }

    internal static async Task<string?> StoredStatusAsync(HttpClient client, string id) => (string?)(await StoredAsync(client, id))["status"];
}
