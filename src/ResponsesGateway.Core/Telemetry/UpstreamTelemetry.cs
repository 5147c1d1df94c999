using System.Diagnostics;
using ResponsesGateway.Core.Routing;
using ResponsesGateway.Core.Upstreams;

namespace ResponsesGateway.Core.Telemetry;

/// <summary>
/// One span per upstream attempt (a child of the turn; the HttpClient span of the call nests under it), and the
/// error, retry and fallback counters. An attempt ends when the upstream answered: its JSON body, or a stream's first
/// event. What follows the first event belongs to the turn's span.
/// </summary>
internal static class UpstreamTelemetry
{
    public static Activity? StartAttempt(ModelRoute route, int retry, bool fallback)
    {
        if (!GatewayTelemetry.Source.HasListeners())
        {
            return null;
        }
        var activity = GatewayTelemetry.Source.StartActivity($"{TelemetryTags.ChatOperation} {route.UpstreamModel}", ActivityKind.Client);
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag(TelemetryTags.OperationName, TelemetryTags.ChatOperation);
            activity.SetTag(TelemetryTags.ProviderName, route.Upstream.Name);
            activity.SetTag(TelemetryTags.RequestModel, route.UpstreamModel);
            activity.SetTag(TelemetryTags.Upstream, route.Upstream.Name);
            activity.SetTag(TelemetryTags.UpstreamKind, route.Kind);
            activity.SetTag(TelemetryTags.Retry, retry);
            activity.SetTag(TelemetryTags.Fallback, fallback);
        }
        return activity;
    }

    /// <summary>An attempt failed: the span says why, and the error counts for its upstream.</summary>
    public static void Failed(Activity? activity, ModelRoute route, UpstreamException e)
    {
        var errorType = ErrorType(e);
        activity?.SetTag(TelemetryTags.ErrorType, errorType);
        activity?.SetStatus(ActivityStatusCode.Error, errorType);
        if (GatewayMetrics.UpstreamErrors.Enabled)
        {
            GatewayMetrics.UpstreamErrors.Add(1, new TagList { { TelemetryTags.Upstream, route.Upstream.Name }, { TelemetryTags.UpstreamKind, route.Kind }, { TelemetryTags.ErrorType, errorType } });
        }
    }

    /// <summary>A retry is starting after <paramref name="cause"/>.</summary>
    public static void Retrying(ModelRoute route, UpstreamException cause)
    {
        if (GatewayMetrics.UpstreamRetries.Enabled)
        {
            GatewayMetrics.UpstreamRetries.Add(1, new TagList { { TelemetryTags.Upstream, route.Upstream.Name }, { TelemetryTags.ErrorType, ErrorType(cause) } });
        }
    }

    /// <summary>The route's upstream gave up; its fallback takes the turn.</summary>
    public static void FallingBack(ModelRoute route, ModelRoute fallback, UpstreamException cause)
    {
        var errorType = ErrorType(cause);
        Activity.Current?.SetTag(TelemetryTags.FallbackTo, fallback.Upstream.Name);
        if (GatewayMetrics.UpstreamFallbacks.Enabled)
        {
            GatewayMetrics.UpstreamFallbacks.Add(1, new TagList { { TelemetryTags.Upstream, route.Upstream.Name }, { TelemetryTags.FallbackTo, fallback.Upstream.Name }, { TelemetryTags.ErrorType, errorType } });
        }
    }

    /// <summary>
    /// The cause as <c>error.type</c>: the upstream's HTTP status for a bad status (as the HTTP conventions do),
    /// otherwise the kind of failure (<c>connect</c>, <c>timeout</c>, <c>stream_interrupted</c>, <c>in_band_error</c>).
    /// </summary>
    public static string ErrorType(UpstreamException e) => e.Failure switch
    {
        UpstreamFailure.BadStatus when e.StatusCode is { } status => StatusText(status),
        UpstreamFailure.Connect => "connect",
        UpstreamFailure.Timeout => "timeout",
        UpstreamFailure.StreamInterrupted => "stream_interrupted",
        UpstreamFailure.InBandError => "in_band_error",
        _ => "_OTHER",
    };

    private static string StatusText(int status) => status switch
    {
        429 => "429",
        500 => "500",
        502 => "502",
        503 => "503",
        504 => "504",
        _ => status.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };
}
