using ResponsesGateway.Core.Upstreams;

namespace ResponsesGateway.Core.Routing;

/// <summary>Where a model goes: the upstream, and the model name to send it.</summary>
public sealed record ModelRoute(IUpstream Upstream, string UpstreamModel);
