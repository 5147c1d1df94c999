namespace ResponsesGateway.MockUpstream.Tests;

/// <summary>One mock server shared by the tests of a class (tests that need special options start their own).</summary>
public sealed class ServerFixture : IAsyncLifetime
{
    public MockUpstreamServer Server { get; private set; } = null!;

    public HttpClient Client { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Server = await MockUpstreamServer.StartAsync();
        Client = TestHelpers.Client(Server);
    }

    public async Task DisposeAsync()
    {
        Client.Dispose();
        await Server.DisposeAsync();
    }
}
