using ResponsesGateway.MockUpstream;
using ResponsesGateway.TestSupport;
using ResponsesGateway.Tests.Infrastructure;

namespace ResponsesGateway.Tests.Conformance;

/// <summary>
/// The conformance suite's own Azurite, mock upstream and two gateways over that one mock: upstream <c>mock</c> of kind
/// <c>responses</c> (native) and of kind <c>chat</c> (Chat Completions, translated). Its own mock, so that
/// <see cref="MockUpstreamServer.WaitForAbortAsync"/> and the recorded requests only see this suite's traffic.
/// </summary>
public sealed class ConformanceFixture : IAsyncLifetime
{
    public AzuriteServer Azurite { get; private set; } = null!;

    public MockUpstreamServer Mock { get; private set; } = null!;

    public GatewayHost Native { get; private set; } = null!;

    public GatewayHost Chat { get; private set; } = null!;

    public GatewayHost Gateway(string kind) => kind switch
    {
        UpstreamKinds.Native => Native,
        UpstreamKinds.Chat => Chat,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };

    /// <summary>
    /// Upstream retries stay on, but short: the suite checks what a failure looks like after them, not their timing
    /// (the Reliability tests do), and the defaults (0.5 s back-off, honouring the mock's <c>Retry-After: 1</c>) would
    /// spend most of the suite's time waiting. A 429 asking for longer than the cap reaches the client right away.
    /// </summary>
    private static readonly Dictionary<string, string?> FastRetries = new()
    {
        ["Gateway:UpstreamRetryDelaySeconds"] = "0.01",
        ["Gateway:UpstreamMaxRetryDelaySeconds"] = "0.05",
    };

    public async Task InitializeAsync()
    {
        Azurite = await AzuriteServer.StartAsync();
        Mock = await MockUpstreamServer.StartAsync();
        Native = await GatewayHost.StartAsync(Azurite.ConnectionString, GatewayHost.Upstream("mock", UpstreamKinds.Native, Mock.BaseUrl), FastRetries);
        Chat = await GatewayHost.StartAsync(Azurite.ConnectionString, GatewayHost.Upstream("mock", UpstreamKinds.Chat, Mock.BaseUrl), FastRetries);
    }

    public async Task DisposeAsync()
    {
        await Chat.DisposeAsync();
        await Native.DisposeAsync();
        await Mock.DisposeAsync();
        await Azurite.DisposeAsync();
    }
}

public static class UpstreamKinds
{
    public const string Native = "responses";
    public const string Chat = "chat";
}

[CollectionDefinition(Name)]
public sealed class ConformanceCollection : ICollectionFixture<ConformanceFixture>
{
    public const string Name = "conformance";
}
