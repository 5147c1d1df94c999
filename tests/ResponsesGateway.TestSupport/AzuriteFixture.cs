using Xunit;

namespace ResponsesGateway.TestSupport;

/// <summary>
/// One Azurite shared by every test class in a collection. xunit only discovers collection definitions
/// in the test assembly itself, so each test project declares:
/// <code>
/// [CollectionDefinition(AzuriteFixture.CollectionName)]
/// public sealed class AzuriteCollection : ICollectionFixture&lt;AzuriteFixture&gt; { }
/// </code>
/// and marks its classes with <c>[Collection(AzuriteFixture.CollectionName)]</c>. Use unique table names
/// per class. Fault tests that stop or restart the emulator should start their own <see cref="AzuriteServer"/>,
/// because a restart empties the shared in-memory store.
/// </summary>
public sealed class AzuriteFixture : IAsyncLifetime
{
    public const string CollectionName = "Azurite";

    private AzuriteServer? _server;

    public AzuriteServer Server => _server ?? throw new InvalidOperationException("Azurite has not been started.");

    public string ConnectionString => Server.ConnectionString;

    public Uri TableEndpoint => Server.TableEndpoint;

    public async Task InitializeAsync() => _server = await AzuriteServer.StartAsync().ConfigureAwait(false);

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync().ConfigureAwait(false);
        }
    }
}
