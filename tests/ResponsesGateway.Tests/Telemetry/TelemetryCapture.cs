using System.Collections.ObjectModel;
using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using ResponsesGateway.Tests.Infrastructure;

namespace ResponsesGateway.Tests.Telemetry;

/// <summary>
/// A gateway whose traces and metrics go to the OpenTelemetry in-memory exporter, wired with the same signals the
/// hosts export (<c>WithGatewaySignals</c>). Listeners are process-wide, so other tests' gateways are heard too:
/// spans are picked by the trace id the test's client sent in <c>traceparent</c>, metrics by a tenant of its own.
/// </summary>
public sealed class TelemetryCapture : IAsyncDisposable
{
    private readonly LockedList<Activity> _spans = new();
    private readonly LockedList<MetricSnapshot> _metrics = new();

    private TelemetryCapture()
    {
    }

    public GatewayHost Gateway { get; private set; } = null!;

    public static async Task<TelemetryCapture> StartAsync(string storage, IDictionary<string, string?> upstreams, IDictionary<string, string?>? extra = null)
    {
        var capture = new TelemetryCapture();
        capture.Gateway = await GatewayHost.StartAsync(storage, upstreams, extra, services => services.AddOpenTelemetry()
            .WithGatewaySignals()
            .WithTracing(tracing => tracing.AddInMemoryExporter(capture._spans))
            .WithMetrics(metrics => metrics.AddInMemoryExporter(capture._metrics)));
        return capture;
    }

    /// <summary>
    /// POSTs a create under a client span of the test's own, so the request carries that trace's <c>traceparent</c>
    /// (HttpClient propagates the current activity), and reads the whole answer.
    /// </summary>
    public static async Task<(int Status, string Body, ClientTrace Trace)> PostTracedAsync(HttpClient client, string json)
    {
        // Sampled, as a client that records its traces would send it: the gateway's sampler follows the parent.
        using var span = new Activity("test-client") { ActivityTraceFlags = ActivityTraceFlags.Recorded }.Start();
        using var response = await client.PostAsync("/v1/responses", GatewayHttp.Json(json));
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync(), new ClientTrace(span.TraceId, span.SpanId));
    }

    /// <summary>
    /// The gateway's request span: the server span under the test client's HttpClient span (the mock and scripted
    /// upstreams run in this process too, and their server spans are in the same trace).
    /// </summary>
    public static Activity? GatewayServerSpan(IReadOnlyList<Activity> spans, ClientTrace trace) =>
        spans.FirstOrDefault(s => s.Kind == ActivityKind.Server && spans.Any(c => c.SpanId == s.ParentSpanId && c.ParentSpanId == trace.SpanId));

    /// <summary>The finished spans of one trace. The server span ends after the response, so wait for it briefly.</summary>
    public async Task<IReadOnlyList<Activity>> SpansAsync(ClientTrace trace)
    {
        var traceId = trace.TraceId;
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var spans = _spans.Snapshot().Where(a => a.TraceId == traceId).ToList();
            if (GatewayServerSpan(spans, trace) is not null)
            {
                return spans;
            }
            if (deadline.Elapsed > TimeSpan.FromSeconds(10))
            {
                var all = _spans.Snapshot();
                Assert.Fail($"No complete trace {traceId} among {all.Count} spans: " + string.Join("; ", all.Take(40).Select(a => $"{a.Source.Name}/{a.DisplayName}/{a.Kind}/{a.TraceId}/{a.ParentId}")));
            }
            await Task.Delay(20);
        }
    }

    /// <summary>Collects the metrics now and returns every exported point.</summary>
    public IReadOnlyList<MetricSnapshot> FlushMetrics()
    {
        Gateway.Services.GetRequiredService<MeterProvider>().ForceFlush();
        return _metrics.Snapshot();
    }

    /// <summary>The points of one instrument whose tags include all of <paramref name="tags"/>, across every export.</summary>
    public static List<MetricPoint> Points(IReadOnlyList<MetricSnapshot> metrics, string name, params (string Key, object Value)[] tags)
    {
        // Cumulative temporality: the last export holds the totals.
        var last = metrics.LastOrDefault(m => m.Name == name);
        var points = new List<MetricPoint>();
        if (last is null)
        {
            return points;
        }
        foreach (var point in last.MetricPoints)
        {
            var pointTags = new Dictionary<string, object?>();
            foreach (var tag in point.Tags)
            {
                pointTags[tag.Key] = tag.Value;
            }
            if (tags.All(t => pointTags.TryGetValue(t.Key, out var v) && Equals(v, t.Value)))
            {
                points.Add(point);
            }
        }
        return points;
    }

    public async ValueTask DisposeAsync() => await Gateway.DisposeAsync();

    /// <summary>The exporters add from the threads that end spans; reads take a copy.</summary>
    private sealed class LockedList<T> : Collection<T>
    {
        private readonly Lock _lock = new();

        public List<T> Snapshot()
        {
            lock (_lock)
            {
                return [.. Items];
            }
        }

        protected override void InsertItem(int index, T item)
        {
            lock (_lock)
            {
                base.InsertItem(index, item);
            }
        }
    }
}

/// <summary>The trace of one test request, and the test's own client span at its root.</summary>
public sealed record ClientTrace(ActivityTraceId TraceId, ActivitySpanId SpanId);
