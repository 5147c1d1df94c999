using System.Diagnostics;
using System.Text.Json.Nodes;
using ResponsesGateway.Core.Telemetry;
using ResponsesGateway.Tests.Infrastructure;
using ResponsesGateway.Tests.Reliability;
using static ResponsesGateway.Tests.Infrastructure.GatewayHttp;

namespace ResponsesGateway.Tests.Telemetry;

/// <summary>
/// Traces and metrics as an exporter receives them (the OpenTelemetry in-memory exporter), for requests made over
/// real HTTP to a gateway on the real mock upstream and Azurite.
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class TelemetryTests(GatewayFixture fixture)
{
    [Fact]
    public async Task StreamedChainedChatTurn_YieldsTurnAttemptAndStorageSpans_WithGenAiAttributes()
    {
        var upstream = "chat-" + Guid.NewGuid().ToString("N")[..8];
        await using var capture = await TelemetryCapture.StartAsync(fixture.Azurite.ConnectionString, GatewayHost.Upstream(upstream, "chat", fixture.Mock.BaseUrl));
        using var client = capture.Gateway.CreateClient();

        var (first, trace1) = await StreamTracedAsync(client, """{"model":"mock-model","input":"Hello there","stream":true}""");
        var (second, trace2) = await StreamTracedAsync(client, $$"""{"model":"mock-model","input":"And again","stream":true,"previous_response_id":"{{first["id"]}}"}""");

        foreach (var (trace, response, depth) in new[] { (trace1, first, 0), (trace2, second, 1) })
        {
            var spans = await capture.SpansAsync(trace);
            var server = TelemetryCapture.GatewayServerSpan(spans, trace)!;
            var turn = Assert.Single(spans, s => s.Source.Name == GatewayTelemetry.Name && s.Kind == ActivityKind.Internal && s.DisplayName == "chat mock-model");
            Assert.Equal(server.SpanId, turn.ParentSpanId);
            Assert.Equal("chat", turn.GetTagItem("gen_ai.operation.name"));
            Assert.Equal(upstream, turn.GetTagItem("gen_ai.provider.name"));
            Assert.Equal("mock-model", turn.GetTagItem("gen_ai.request.model"));
            Assert.Equal((string?)response["model"], turn.GetTagItem("gen_ai.response.model"));
            Assert.Equal((string?)response["id"], turn.GetTagItem("gen_ai.response.id"));
            Assert.Equal((long)response["usage"]!["input_tokens"]!, turn.GetTagItem("gen_ai.usage.input_tokens"));
            Assert.Equal((long)response["usage"]!["output_tokens"]!, turn.GetTagItem("gen_ai.usage.output_tokens"));
            Assert.Equal(["stop"], Assert.IsType<string[]>(turn.GetTagItem("gen_ai.response.finish_reasons")));
            Assert.Equal("tenant-a", turn.GetTagItem("responses_gateway.tenant"));
            Assert.Equal(depth, turn.GetTagItem("responses_gateway.chain.depth"));
            Assert.Equal(true, turn.GetTagItem("responses_gateway.stream"));
            Assert.Equal(true, turn.GetTagItem("responses_gateway.store"));
            Assert.Equal("chat", turn.GetTagItem("responses_gateway.upstream.kind"));
            Assert.Contains(turn.Events, e => e.Name == "first_event");
            Assert.Equal(ActivityStatusCode.Unset, turn.Status);

            var attempt = Assert.Single(spans, s => s.Source.Name == GatewayTelemetry.Name && s.Kind == ActivityKind.Client);
            Assert.Equal(turn.SpanId, attempt.ParentSpanId);
            Assert.Equal(upstream, attempt.GetTagItem("gen_ai.provider.name"));
            Assert.Equal(0, attempt.GetTagItem("responses_gateway.upstream.retry"));
            Assert.Equal(false, attempt.GetTagItem("responses_gateway.upstream.fallback"));
            // The upstream HTTP call nests under the attempt: the mock was called with this trace's context.
            Assert.Contains(spans, s => s.Source.Name == "System.Net.Http" && s.ParentSpanId == attempt.SpanId
                && s.GetTagItem("url.full")?.ToString()?.StartsWith(fixture.Mock.BaseUrl.ToString(), StringComparison.Ordinal) == true);

            var save = Assert.Single(spans, s => s.DisplayName == "storage save");
            Assert.Equal(turn.SpanId, save.ParentSpanId);
            Assert.Equal("save", save.GetTagItem("db.operation.name"));
            if (depth > 0)
            {
                // The chain was read (or its cached copy checked) inside the turn, before the upstream was called.
                var read = Assert.Single(spans, s => s.DisplayName is "storage get_chain" or "storage is_visible");
                Assert.Equal(turn.SpanId, read.ParentSpanId);
                Assert.True(read.StartTimeUtc <= attempt.StartTimeUtc);
            }
        }
    }

    [Fact]
    public async Task RetriedThenFallback_ShowsEveryAttempt_AndPassesTraceparentUpstream()
    {
        await using var primary = await ScriptedUpstream.StartAsync(fixture.Mock.BaseUrl);
        var traceparents = new List<string?>();
        primary.Default = context =>
        {
            lock (traceparents)
            {
                traceparents.Add(context.Request.Headers["traceparent"]);
            }
            return ScriptedUpstream.Status(503)(context);
        };
        var id = Guid.NewGuid().ToString("N")[..8];
        string a = "a-prim-" + id, b = "b-back-" + id;
        var upstreams = GatewayHost.Upstream(a, "responses", primary.BaseUrl);
        foreach (var (k, v) in GatewayHost.Upstream(b, "chat", fixture.Mock.BaseUrl, models: "backup-only"))
        {
            upstreams[k] = v;
        }
        upstreams[$"Upstreams:{a}:Fallback"] = b;
        await using var capture = await TelemetryCapture.StartAsync(fixture.Azurite.ConnectionString, upstreams, new Dictionary<string, string?>
        {
            ["Gateway:UpstreamMaxRetries"] = "1",
            ["Gateway:UpstreamRetryDelaySeconds"] = "0.01",
        });
        using var client = capture.Gateway.CreateClient();

        var (response, traceId) = await StreamTracedAsync(client, """{"model":"mock-model","input":"hi","stream":true}""");
        Assert.Equal("completed", (string?)response["status"]);

        var spans = await capture.SpansAsync(traceId);
        var turn = Assert.Single(spans, s => s.Source.Name == GatewayTelemetry.Name && s.Kind == ActivityKind.Internal && s.DisplayName.StartsWith("chat ", StringComparison.Ordinal));
        var attempts = spans.Where(s => s.Source.Name == GatewayTelemetry.Name && s.Kind == ActivityKind.Client).OrderBy(s => s.StartTimeUtc).ToList();
        Assert.Equal(
            [(a, 0, false, "503"), (a, 1, false, "503"), (b, 0, true, null)],
            attempts.Select(s => ((string)s.GetTagItem("gen_ai.provider.name")!, (int)s.GetTagItem("responses_gateway.upstream.retry")!,
                (bool)s.GetTagItem("responses_gateway.upstream.fallback")!, (string?)s.GetTagItem("error.type"))).ToArray());
        Assert.All(attempts, s => Assert.Equal(turn.SpanId, s.ParentSpanId));
        Assert.Equal([ActivityStatusCode.Error, ActivityStatusCode.Error, ActivityStatusCode.Unset], attempts.Select(s => s.Status).ToArray());
        Assert.Equal(b, turn.GetTagItem("gen_ai.provider.name"));
        Assert.Equal(b, turn.GetTagItem("responses_gateway.upstream.fallback_to"));
        Assert.Equal("chat", attempts[2].GetTagItem("responses_gateway.upstream.kind"));

        // W3C trace context reached the upstream: both calls to the primary carried the client's trace id.
        Assert.Equal(2, traceparents.Count);
        Assert.All(traceparents, p => Assert.Equal(traceId.TraceId.ToHexString(), p?.Split('-')[1]));

        var metrics = capture.FlushMetrics();
        Assert.Equal(2, TelemetryCapture.Points(metrics, "responses_gateway.upstream.errors", ("responses_gateway.upstream", a), ("error.type", "503")).Sum(p => p.GetSumLong()));
        Assert.Equal(1, TelemetryCapture.Points(metrics, "responses_gateway.upstream.retries", ("responses_gateway.upstream", a), ("error.type", "503")).Sum(p => p.GetSumLong()));
        Assert.Equal(1, TelemetryCapture.Points(metrics, "responses_gateway.upstream.fallbacks", ("responses_gateway.upstream", a), ("responses_gateway.upstream.fallback_to", b)).Sum(p => p.GetSumLong()));
        var tokens = TelemetryCapture.Points(metrics, "gen_ai.client.token.usage", ("gen_ai.provider.name", b), ("gen_ai.token.type", "output"));
        Assert.Equal((long)response["usage"]!["output_tokens"]!, (long)tokens.Sum(p => p.GetHistogramSum()));
    }

    [Fact]
    public async Task Metrics_RecordPerTenant_TokensDurationsStreamsStorageAndRejections()
    {
        var id = Guid.NewGuid().ToString("N")[..8];
        string x = "tel-x-" + id, y = "tel-y-" + id, keyX = "sk-tel-x-" + id, keyY = "sk-tel-y-" + id;
        await using var capture = await TelemetryCapture.StartAsync(fixture.Azurite.ConnectionString, GatewayHost.Upstream("mock", "responses", fixture.Mock.BaseUrl),
            new Dictionary<string, string?>
            {
                [$"Gateway:ApiKeys:{x}"] = keyX,
                [$"Gateway:ApiKeys:{y}"] = keyY,
                ["Gateway:RequestsPerMinutePerKey"] = "3",
            });
        using var clientX = capture.Gateway.CreateClient(keyX);
        using var clientY = capture.Gateway.CreateClient(keyY);

        var usages = new List<JsonObject>();
        var streamed = await StreamAsync(clientX, """{"model":"mock-model","input":"one two three four","stream":true}""");
        usages.Add(streamed.Terminal["usage"]!.AsObject());
        var (status, json) = await PostAsync(clientX, "/v1/responses", """{"model":"mock-model","input":"five six"}""");
        Assert.Equal(200, status);
        usages.Add(json["usage"]!.AsObject());
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(200, (await PostAsync(clientY, "/v1/responses", """{"model":"mock-model","input":"y"}""")).Status);
        }
        Assert.Equal(429, (await PostAsync(clientY, "/v1/responses", """{"model":"mock-model","input":"y"}""")).Status);

        var metrics = capture.FlushMetrics();
        var inputX = TelemetryCapture.Points(metrics, "gen_ai.client.token.usage", ("responses_gateway.tenant", x), ("gen_ai.token.type", "input"));
        Assert.Equal(2, inputX.Sum(p => p.GetHistogramCount()));
        Assert.Equal(usages.Sum(u => (long)u["input_tokens"]!), (long)inputX.Sum(p => p.GetHistogramSum()));
        var outputX = TelemetryCapture.Points(metrics, "gen_ai.client.token.usage", ("responses_gateway.tenant", x), ("gen_ai.token.type", "output"));
        Assert.Equal(usages.Sum(u => (long)u["output_tokens"]!), (long)outputX.Sum(p => p.GetHistogramSum()));
        Assert.Equal(3, TelemetryCapture.Points(metrics, "gen_ai.client.token.usage", ("responses_gateway.tenant", y), ("gen_ai.token.type", "input")).Sum(p => p.GetHistogramCount()));

        Assert.Equal(2, TelemetryCapture.Points(metrics, "gen_ai.client.operation.duration", ("responses_gateway.tenant", x), ("gen_ai.provider.name", "mock")).Sum(p => p.GetHistogramCount()));
        Assert.Equal(1, TelemetryCapture.Points(metrics, "responses_gateway.stream.time_to_first_event", ("responses_gateway.tenant", x)).Sum(p => p.GetHistogramCount()));
        Assert.Empty(TelemetryCapture.Points(metrics, "responses_gateway.stream.time_to_first_event", ("responses_gateway.tenant", y)));
        // Opened and closed again: the up-down counter is back at zero for the tenant.
        var open = TelemetryCapture.Points(metrics, "responses_gateway.streams.open", ("responses_gateway.tenant", x));
        Assert.NotEmpty(open);
        Assert.Equal(0, open.Sum(p => p.GetSumLong()));
        Assert.Equal(1, TelemetryCapture.Points(metrics, "responses_gateway.requests.rejected", ("responses_gateway.tenant", y), ("responses_gateway.reject.reason", "rate")).Sum(p => p.GetSumLong()));
        Assert.Empty(TelemetryCapture.Points(metrics, "responses_gateway.requests.rejected", ("responses_gateway.tenant", x)));
        // Store writes are measured (shared by every gateway in the process, so at least this test's five).
        Assert.True(TelemetryCapture.Points(metrics, "responses_gateway.storage.operation.duration", ("db.operation.name", "save")).Sum(p => p.GetHistogramCount()) >= 5);
    }

    [Fact]
    public async Task NoKeyPromptOrOutputText_InAnyExportedValue()
    {
        var id = Guid.NewGuid().ToString("N");
        var key = "sk-secret-telemetry-" + id;
        var prompt = "PROMPT-MARKER-" + id;
        var instructions = "INSTRUCTIONS-MARKER-" + id;
        await using var capture = await TelemetryCapture.StartAsync(fixture.Azurite.ConnectionString, GatewayHost.Upstream("mockchat", "chat", fixture.Mock.BaseUrl),
            new Dictionary<string, string?> { ["Gateway:ApiKeys:tel-secret"] = key });
        using var client = capture.Gateway.CreateClient(key);

        var traces = new List<ClientTrace>();
        var outputs = new List<string>();
        foreach (var body in new[]
        {
            $$"""{"model":"mock-model","input":"{{prompt}}","instructions":"{{instructions}}","stream":true}""",
            $$"""{"model":"mock-model","input":"{{prompt}}","instructions":"{{instructions}}"}""",
            $$$"""{"model":"mock-tools","input":"{{{prompt}}}","tools":[{"type":"function","name":"get_weather","parameters":{"type":"object"}}],"stream":true}""",
            $$"""{"model":"mock-disconnect-3","input":"{{prompt}}","stream":true}""",
        })
        {
            var (_, text, traceId) = await TelemetryCapture.PostTracedAsync(client, body);
            traces.Add(traceId);
            outputs.Add(text);
        }
        // The mock echoes the input ("Mock reply to: ..."): the output text carries the marker too.
        Assert.Contains(outputs, o => o.Contains(prompt, StringComparison.Ordinal));

        var values = new List<string>();
        foreach (var trace in traces)
        {
            foreach (var span in await capture.SpansAsync(trace))
            {
                values.Add(span.DisplayName);
                values.Add(span.StatusDescription ?? "");
                values.AddRange(span.TagObjects.Select(t => $"{t.Key}={Flatten(t.Value)}"));
                values.AddRange(span.Events.SelectMany(e => e.Tags.Select(t => $"{e.Name}:{t.Key}={Flatten(t.Value)}")));
                values.AddRange(span.Baggage.Select(b => $"{b.Key}={b.Value}"));
            }
        }
        foreach (var metric in capture.FlushMetrics())
        {
            foreach (var point in metric.MetricPoints)
            {
                foreach (var tag in point.Tags)
                {
                    values.Add($"{metric.Name}:{tag.Key}={Flatten(tag.Value)}");
                }
            }
        }
        Assert.Contains(values, v => v == "responses_gateway.tenant=tel-secret");
        Assert.Contains(values, v => v == "gen_ai.client.token.usage:responses_gateway.tenant=tel-secret");
        foreach (var secret in new[] { key, id, "get_weather", "Mock reply" })
        {
            Assert.DoesNotContain(values, v => v.Contains(secret, StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task FailedTurn_MarksTheSpanAndTheDurationWithTheErrorType()
    {
        await using var capture = await TelemetryCapture.StartAsync(fixture.Azurite.ConnectionString, GatewayHost.Upstream("mock", "responses", fixture.Mock.BaseUrl),
            new Dictionary<string, string?> { ["Gateway:UpstreamMaxRetries"] = "0" });
        using var client = capture.Gateway.CreateClient();
        var (status, _, traceId) = await TelemetryCapture.PostTracedAsync(client, """{"model":"mock-error-503","input":"x"}""");
        Assert.Equal(502, status);

        var spans = await capture.SpansAsync(traceId);
        var turn = Assert.Single(spans, s => s.Source.Name == GatewayTelemetry.Name && s.Kind == ActivityKind.Internal);
        Assert.Equal(ActivityStatusCode.Error, turn.Status);
        Assert.Equal("upstream_error", turn.GetTagItem("error.type"));
        var attempt = Assert.Single(spans, s => s.Source.Name == GatewayTelemetry.Name && s.Kind == ActivityKind.Client);
        Assert.Equal("503", attempt.GetTagItem("error.type"));
        Assert.DoesNotContain(spans, s => s.DisplayName == "storage save");
    }

    private static async Task<(JsonObject Response, ClientTrace Trace)> StreamTracedAsync(HttpClient client, string body)
    {
        var (status, text, traceId) = await TelemetryCapture.PostTracedAsync(client, body);
        Assert.True(status == 200, text);
        var stream = new SseStream(text);
        EventSequenceChecker.Check(stream);
        return (stream.Terminal, traceId);
    }

    private static string Flatten(object? value) => value switch
    {
        null => "",
        string s => s,
        System.Collections.IEnumerable items => string.Join(",", items.Cast<object?>()),
        _ => Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? "",
    };
}
