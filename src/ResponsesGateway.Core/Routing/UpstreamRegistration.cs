using ResponsesGateway.Core.Options;
using ResponsesGateway.Core.Upstreams;

namespace ResponsesGateway.Core.Routing;

/// <summary>A configured upstream with its options, in configuration order.</summary>
public sealed record UpstreamRegistration(string Name, UpstreamOptions Options, IUpstream Upstream);
