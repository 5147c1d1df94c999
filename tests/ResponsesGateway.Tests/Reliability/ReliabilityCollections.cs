using ResponsesGateway.Tests.Infrastructure;

namespace ResponsesGateway.Tests.Reliability;

/// <summary>Upstream fault tests: their own Azurite, mock and gateway, so short timeouts elsewhere never meet them.</summary>
[CollectionDefinition(Name)]
public sealed class UpstreamFaultCollection : ICollectionFixture<GatewayFixture>
{
    public const string Name = "reliability-upstream";
}

/// <summary>
/// Storage outages and load: an Azurite that gets stopped and restarted, hundreds of concurrent streams, a memory
/// measurement. Run alone (after the parallel collections) so they neither disturb nor are disturbed by other tests.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SerialReliabilityCollection : ICollectionFixture<OutageFixture>
{
    public const string Name = "reliability-serial";
}
