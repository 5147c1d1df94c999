namespace ResponsesGateway.Tests.Infrastructure;

/// <summary>
/// Tests that measure this process's memory: run alone, after the parallel collections, so no other test's allocations
/// are counted as the gateway's.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class MemoryMeasurementCollection : ICollectionFixture<GatewayFixture>
{
    public const string Name = "memory-measurement";
}
