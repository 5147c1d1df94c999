using ResponsesGateway.MockUpstream;
using ResponsesGateway.TestSupport;
using ResponsesGateway.Tests.Infrastructure;

namespace ResponsesGateway.Tests.Reliability;

/// <summary>
/// An Azurite that keeps its data on disk (so a stop and restart loses nothing that was acknowledged), a mock upstream,
/// and a way to start gateways on them. Tests that stop Azurite restart it before they end.
/// </summary>
public sealed class OutageFixture : IAsyncLifetime
{
    public AzuriteServer Azurite { get; private set; } = null!;

    public MockUpstreamServer Mock { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Azurite = await AzuriteServer.StartPersistentAsync();
        Mock = await MockUpstreamServer.StartAsync();
    }

    public Task<GatewayHost> StartGatewayAsync(IDictionary<string, string?>? extra = null) =>
        GatewayHost.StartAsync(Azurite.ConnectionString, GatewayHost.Upstream("mock", "responses", Mock.BaseUrl), extra);

    /// <summary>Azurite is running again, whatever the test did to it.</summary>
    public async Task EnsureAzuriteAsync()
    {
        if (!Azurite.IsRunning)
        {
            await Azurite.RestartAsync();
        }
    }

    public async Task DisposeAsync()
    {
        await Mock.DisposeAsync();
        await Azurite.DisposeAsync();
    }
}
