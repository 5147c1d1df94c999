using System.Text;
using ResponsesGateway.Tests.FunctionsHost;
using ResponsesGateway.Tests.Infrastructure;

namespace ResponsesGateway.Tests.Telemetry;

/// <summary>
/// The Functions worker exports too: the real worker under the stand-in host, with <c>OTEL_EXPORTER_OTLP_ENDPOINT</c>
/// set, sends the turn's spans (in the client's trace, carried through the host's forwarding) and the gateway's
/// metrics to a local OTLP sink.
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class FunctionsTelemetryTests(GatewayFixture fixture)
{
    [Fact]
    public async Task FunctionsWorker_WithOtlpEndpoint_ExportsTheTurnInTheClientsTrace()
    {
        await using var sink = await TelemetrySink.StartAsync();
        var settings = FunctionsAppFixture.SampleSettings(fixture.Azurite.ConnectionString, "o" + Guid.NewGuid().ToString("N")[..20], fixture.Mock.BaseUrl);
        settings["OTEL_EXPORTER_OTLP_ENDPOINT"] = sink.BaseUrl.ToString().TrimEnd('/');
        settings["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf";
        // Short export intervals: the worker is another process, its providers cannot be flushed from here.
        settings["OTEL_BSP_SCHEDULE_DELAY"] = "200";
        settings["OTEL_METRIC_EXPORT_INTERVAL"] = "500";
        await using var host = await FunctionsHostStandIn.StartAsync(FunctionsAppFixture.AppDirectory, settings);
        using var client = new HttpClient { BaseAddress = host.BaseUrl, Timeout = TimeSpan.FromSeconds(60) };
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", GatewayHost.KeyA);

        var (status, body, trace) = await TelemetryCapture.PostTracedAsync(client, """{"model":"mock-model","input":"hi","stream":true}""");
        Assert.True(status == 200, $"{status} {body}\n{host.Diagnostics}");

        var traceId = Convert.FromHexString(trace.TraceId.ToHexString());
        var spans = await sink.WaitForAsync("/v1/traces", b => Contains(b, traceId) && Contains(b, Encoding.UTF8.GetBytes("gen_ai.usage.output_tokens")), TimeSpan.FromSeconds(30));
        Assert.True(spans is not null, $"the worker exported no span of trace {trace.TraceId}; got: {string.Join(", ", sink.Paths)}\n{host.Diagnostics}");
        var metrics = await sink.WaitForAsync("/v1/metrics", b => Contains(b, Encoding.UTF8.GetBytes("gen_ai.client.token.usage")), TimeSpan.FromSeconds(30));
        Assert.True(metrics is not null, $"the worker exported no gateway metric; got: {string.Join(", ", sink.Paths)}");
    }

    private static bool Contains(byte[] body, byte[] bytes) => body.AsSpan().IndexOf(bytes) >= 0;
}
