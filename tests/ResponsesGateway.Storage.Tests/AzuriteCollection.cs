using ResponsesGateway.TestSupport;

namespace ResponsesGateway.Storage.Tests;

/// <summary>One Azurite for all table tests in this assembly (xunit needs the definition here).</summary>
[CollectionDefinition(AzuriteFixture.CollectionName)]
public sealed class AzuriteCollection : ICollectionFixture<AzuriteFixture>
{
}
