using Azure;
using Azure.Data.Tables;
using ResponsesGateway.TestSupport;

namespace ResponsesGateway.Storage.Tests.TestSupport;

/// <summary>Uses its own emulator: stopping the shared one would break the other classes.</summary>
public sealed class AzuriteServerTests
{
    [Fact]
    public async Task StopAndRestart_KeepThePort_ClientSeesUnreachableThenAnEmptyStore()
    {
        await using var server = await AzuriteServer.StartAsync();
        var client = new TableClient(server.ConnectionString, "restarts", FastRetries());
        await client.CreateIfNotExistsAsync();
        await client.AddEntityAsync(new TableEntity("p", "r"));
        var port = server.Port;

        await server.StopAsync();
        var whileDown = await Record.ExceptionAsync(() => client.GetEntityAsync<TableEntity>("p", "r"));
        await server.RestartAsync();
        var afterRestart = await Assert.ThrowsAsync<RequestFailedException>(() => client.GetEntityAsync<TableEntity>("p", "r"));

        Assert.True(server.IsRunning);
        Assert.Equal(port, server.Port);
        Assert.True(whileDown is AggregateException or RequestFailedException { Status: 0 }, whileDown?.GetType().Name);
        Assert.Equal(404, afterRestart.Status);
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
        var client = new TableClient(server.ConnectionString, "disposed", FastRetries(maxRetries: 0));

        await server.DisposeAsync();

        Assert.False(server.IsRunning);
        var e = await Record.ExceptionAsync(() => client.CreateIfNotExistsAsync());
        Assert.True(e is AggregateException or RequestFailedException { Status: 0 }, e?.GetType().Name);
    }

    /// <summary>Fast retries so failure tests finish in well under a second per attempt.</summary>
    private static TableClientOptions FastRetries(int maxRetries = 1)
    {
        var options = new TableClientOptions();
        options.Retry.MaxRetries = maxRetries;
        options.Retry.Delay = TimeSpan.FromMilliseconds(10);
        options.Retry.MaxDelay = TimeSpan.FromMilliseconds(50);
        options.Retry.NetworkTimeout = TimeSpan.FromSeconds(3);
        return options;
    }
}
