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

    public async Task InitializeAsync()
    {
        Azurite = await AzuriteServer.StartAsync();
        Mock = await MockUpstreamServer.StartAsync();
        Native = await GatewayHost.StartAsync(Azurite.ConnectionString, GatewayHost.Upstream("mock", UpstreamKinds.Native, Mock.BaseUrl));
        Chat = await GatewayHost.StartAsync(Azurite.ConnectionString, GatewayHost.Upstream("mock", UpstreamKinds.Chat, Mock.BaseUrl));
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
