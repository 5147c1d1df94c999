using ResponsesGateway.Storage.Tables;
using ResponsesGateway.Storage.Tests.Tables;
using ResponsesGateway.TestSupport;

namespace ResponsesGateway.Storage.Tests.TestSupport;

/// <summary>Uses its own emulator: stopping the shared one would break the other classes.</summary>
public sealed class AzuriteServerTests
{
    [Fact]
    public async Task StopAndRestart_KeepThePort_ClientSeesUnreachableThenAnEmptyStore()
    {
        await using var server = await AzuriteServer.StartAsync();
        var client = new TableClient(server.ConnectionString, "restarts", TableTestClients.FastRetries());
        Assert.True((await client.CreateIfNotExistsAsync()).Value);
        Assert.True((await client.AddEntityAsync(new TableEntity("p", "r"))).IsOk);
        var port = server.Port;

        await server.StopAsync();
        var whileDown = await client.GetEntityAsync("p", "r");
        await server.RestartAsync();
        var afterRestart = await client.GetEntityAsync("p", "r");

        Assert.True(server.IsRunning);
        Assert.Equal(port, server.Port);
        Assert.Equal(TableResultStatus.Unreachable, whileDown.Status);
        Assert.Equal(TableResultStatus.NotFound, afterRestart.Status);
        Assert.Equal("TableNotFound", afterRestart.ErrorCode);
    }

    [Fact]
    public async Task ConnectionString_IsExplicitAndPointsAtTheChosenPort()
    {
        await using var server = await AzuriteServer.StartAsync();

        Assert.Equal(
            $"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={AzuriteServer.AccountKey};TableEndpoint=http://127.0.0.1:{server.Port}/devstoreaccount1;",
            server.ConnectionString);
        Assert.Equal(new Uri($"http://127.0.0.1:{server.Port}/devstoreaccount1"), server.TableEndpoint);
        Assert.True(server.IsRunning);
    }

    [Fact]
    public async Task Dispose_StopsTheEmulator()
    {
        var server = await AzuriteServer.StartAsync();
        var client = new TableClient(server.ConnectionString, "disposed", TableTestClients.FastRetries(maxRetries: 0));

        await server.DisposeAsync();

        Assert.False(server.IsRunning);
        Assert.Equal(TableResultStatus.Unreachable, (await client.CreateIfNotExistsAsync()).Status);
    }
}
