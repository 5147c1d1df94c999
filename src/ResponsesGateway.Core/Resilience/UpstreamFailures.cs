using ResponsesGateway.Core.Upstreams;

namespace ResponsesGateway.Core.Resilience;

/// <summary>Which upstream failures are worth another attempt, at the same upstream or at its fallback.</summary>
internal static class UpstreamFailures
{
    /// <summary>
    /// Worth retrying at the same upstream: the connection could not be opened (refused, reset, connect timeout), or the
    /// upstream said "not now" (408, 429, 5xx other than 501/505, which will not change on a retry). A first-byte
    /// timeout is not retried: the upstream is slow, not gone, and another wait of the same length rarely helps.
    /// </summary>
    public static bool IsTransient(UpstreamException e) => e.Failure switch
    {
        UpstreamFailure.Connect => true,
        UpstreamFailure.Timeout => e.DuringConnect,
        UpstreamFailure.BadStatus => e.StatusCode is 408 or 429 or (>= 500 and not 501 and not 505),
        _ => false,
    };

    /// <summary>
    /// Worth trying the fallback upstream: anything that says "this upstream is not serving right now". Not the
    /// upstream's verdict on the request itself (400, 404, 413, 422…): the fallback would reject it the same way.
    /// </summary>
    public static bool AllowsFallback(UpstreamException e) => e.Failure switch
    {
        UpstreamFailure.BadStatus => e.StatusCode is 401 or 403 or 408 or 429 or >= 500,
        _ => true,
    };
}
