using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace ResponsesGateway.Core.Telemetry;

/// <summary>The gateway's instruments, all on <see cref="GatewayTelemetry.Meter"/>.</summary>
public static class GatewayMetrics
{
    // The bucket boundaries the GenAI conventions recommend for these two histograms.
    private static readonly double[] DurationBuckets = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92];
    private static readonly long[] TokenBuckets = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864];
    // Storage and first-event latencies are mostly milliseconds; the default boundaries (0..10000) are for ms, not s.
    private static readonly double[] FastBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

    public static readonly Histogram<long> TokenUsage = GatewayTelemetry.Meter.CreateHistogram(
        "gen_ai.client.token.usage", "{token}", "Tokens used per turn, by token type (input, output).",
        advice: new InstrumentAdvice<long> { HistogramBucketBoundaries = TokenBuckets });

    public static readonly Histogram<double> OperationDuration = GatewayTelemetry.Meter.CreateHistogram(
        "gen_ai.client.operation.duration", "s", "Duration of a create call, from the request to the last event or the JSON body.",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = DurationBuckets });

    public static readonly Histogram<double> TimeToFirstEvent = GatewayTelemetry.Meter.CreateHistogram(
        "responses_gateway.stream.time_to_first_event", "s", "Time from the request to the first upstream event of a stream (retries and fallback included).",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = FastBuckets });

    public static readonly Counter<long> UpstreamErrors = GatewayTelemetry.Meter.CreateCounter<long>(
        "responses_gateway.upstream.errors", "{error}", "Failed upstream attempts, by upstream and cause (error.type).");

    public static readonly Counter<long> UpstreamRetries = GatewayTelemetry.Meter.CreateCounter<long>(
        "responses_gateway.upstream.retries", "{retry}", "Upstream attempts that were retries, by upstream and the cause of the retry.");

    public static readonly Counter<long> UpstreamFallbacks = GatewayTelemetry.Meter.CreateCounter<long>(
        "responses_gateway.upstream.fallbacks", "{fallback}", "Turns handed to a fallback upstream, by upstream, fallback and cause.");

    public static readonly Histogram<double> StorageDuration = GatewayTelemetry.Meter.CreateHistogram(
        "responses_gateway.storage.operation.duration", "s", "Duration of one response-store operation (its own retries included).",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = FastBuckets });

    public static readonly UpDownCounter<long> OpenStreams = GatewayTelemetry.Meter.CreateUpDownCounter<long>(
        "responses_gateway.streams.open", "{stream}", "Streamed creates in progress.");

    public static readonly Counter<long> RejectedByLimits = GatewayTelemetry.Meter.CreateCounter<long>(
        "responses_gateway.requests.rejected", "{request}", "Requests turned away by a per-key limit, by tenant and limit.");

    /// <summary>A request was turned away by a per-key limit (<paramref name="reason"/>: <c>concurrency</c>, <c>rate</c>).</summary>
    public static void Rejected(string tenant, string reason)
    {
        if (RejectedByLimits.Enabled)
        {
            RejectedByLimits.Add(1, new TagList { { TelemetryTags.Tenant, tenant }, { TelemetryTags.RejectReason, reason } });
        }
    }
}
