using ResponsesGateway.Core.Routing;
using ResponsesGateway.Core.Upstreams;

namespace ResponsesGateway.Core.Telemetry;

/// <summary>
/// Wraps each attempt the retry pipeline makes at one upstream in its span, numbering the retries and counting each
/// retry under the cause of the attempt before it.
/// </summary>
internal sealed class UpstreamAttempts(ModelRoute route, bool fallback)
{
    private int _attempt;
    private UpstreamException? _last;

    public async ValueTask<T> RunAsync<T>(Func<IUpstream, UpstreamRequest, CancellationToken, ValueTask<T>> attempt, UpstreamRequest request, CancellationToken cancellationToken)
    {
        var retry = _attempt++;
        if (_last is not null)
        {
            UpstreamTelemetry.Retrying(route, _last);
        }
        using var activity = UpstreamTelemetry.StartAttempt(route, retry, fallback);
        try
        {
            return await attempt(route.Upstream, request, cancellationToken).ConfigureAwait(false);
        }
        catch (UpstreamException e)
        {
            _last = e;
            UpstreamTelemetry.Failed(activity, route, e);
            throw;
        }
    }
}
