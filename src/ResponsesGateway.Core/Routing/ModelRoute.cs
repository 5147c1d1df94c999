using ResponsesGateway.Core.Upstreams;

namespace ResponsesGateway.Core.Routing;

/// <summary>Where a model goes: the upstream, and the model name to send it.</summary>
public sealed record ModelRoute(IUpstream Upstream, string UpstreamModel)
{
    /// <summary>Where the same model goes when <see cref="Upstream"/> fails before answering (<c>Upstreams:&lt;name&gt;:Fallback</c>).</summary>
    public ModelRoute? Fallback { get; init; }

    /// <summary>The upstream's protocol (<c>responses</c> or <c>chat</c>), for telemetry.</summary>
    public string Kind { get; init; } = Options.UpstreamKinds.Responses;
}
