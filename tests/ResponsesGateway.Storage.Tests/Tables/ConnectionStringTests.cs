using System.Net;
using System.Net.Sockets;
using Azure.Data.Tables;
using Azure.Data.Tables.Sas;
using ResponsesGateway.Core.Options;
using ResponsesGateway.Storage.Tables;
using ResponsesGateway.TestSupport;

namespace ResponsesGateway.Storage.Tests.Tables;

/// <summary>
/// Every connection string form the gateway documents, each against a real Azurite: the client built from the
/// setting creates a table, writes a row and reads it back.
/// </summary>
[Collection(AzuriteFixture.CollectionName)]
public sealed class ConnectionStringTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task ExplicitTableEndpointAccountNameAndKey_OnAnyPort()
    {
        var connection = $"DefaultEndpointsProtocol=http;AccountName={AzuriteServer.AccountName};AccountKey={AzuriteServer.AccountKey};TableEndpoint={azurite.TableEndpoint};";
        await AssertRoundTripAsync(connection);
    }

    [Fact]
    public void AccountNameAndEndpointSuffix_BuildTheHostStyleEndpoint()
    {
        // A suffix cannot carry a port and *.localhost does not resolve here, so this form is not sent to Azurite:
        // the test pins the endpoint the SDK derives from it (the request path is the SDK's, as in every other form).
        var client = TableClients.Create(Options($"DefaultEndpointsProtocol=https;AccountName=acct;AccountKey={AzuriteServer.AccountKey};EndpointSuffix=core.chinacloudapi.cn"));
        Assert.Equal("https://acct.table.core.chinacloudapi.cn/", client.Uri.GetLeftPart(UriPartial.Authority) + "/");
        Assert.Equal("acct", client.AccountName);
    }

    [Fact]
    public async Task SharedAccessSignature_WithTableEndpoint()
    {
        var keyed = new TableServiceClient(azurite.TableEndpoint, new TableSharedKeyCredential(AzuriteServer.AccountName, AzuriteServer.AccountKey));
        var sas = keyed.GenerateSasUri(TableAccountSasPermissions.All, TableAccountSasResourceTypes.All, DateTimeOffset.UtcNow.AddHours(1));
        var connection = $"TableEndpoint={azurite.TableEndpoint};SharedAccessSignature={sas.Query.TrimStart('?')}";
        await AssertRoundTripAsync(connection);
    }

    [Fact]
    public async Task SharedAccessSignature_ReadOnly_CannotWrite()
    {
        var keyed = new TableServiceClient(azurite.TableEndpoint, new TableSharedKeyCredential(AzuriteServer.AccountName, AzuriteServer.AccountKey));
        var sas = keyed.GenerateSasUri(TableAccountSasPermissions.Read | TableAccountSasPermissions.List, TableAccountSasResourceTypes.All, DateTimeOffset.UtcNow.AddHours(1));
        var client = TableClients.Create(Options($"TableEndpoint={azurite.TableEndpoint};SharedAccessSignature={sas.Query.TrimStart('?')}"));

        var denied = await Assert.ThrowsAsync<Azure.RequestFailedException>(() => client.CreateIfNotExistsAsync());
        Assert.Equal(403, denied.Status);
    }

    [Fact]
    public async Task UseDevelopmentStorage_ReachesAzuriteOnItsDefaultPort()
    {
        // The shorthand means 127.0.0.1:10002. Start an Azurite there unless one already listens (a developer's).
        await using var own = PortIsFree(10002) ? await AzuriteServer.StartOnPortAsync(10002) : null;
        await AssertRoundTripAsync("UseDevelopmentStorage=true");
    }

    [Fact]
    public void TableEndpoint_WithoutConnectionString_UsesAManagedIdentityOverHttpsOnly()
    {
        var client = TableClients.Create(new StorageOptions { TableEndpoint = "https://account.table.core.windows.net", TableName = "chains" });
        Assert.Equal("account", client.AccountName);
        Assert.Equal("chains", client.Name);

        var http = Assert.Throws<FormatException>(() => TableClients.Create(new StorageOptions { TableEndpoint = "http://account.table.core.windows.net" }));
        Assert.Contains("https", http.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("AccountName=devstoreaccount1")]
    [InlineData("this is not a connection string")]
    [InlineData("AccountName=a;AccountKey=not-base64!;TableEndpoint=http://127.0.0.1:1/a")]
    public void MalformedConnectionString_FailsWithoutEchoingIt(string connection)
    {
        var e = Record.Exception(() => TableClients.Create(Options(connection)));
        Assert.IsType<FormatException>(e);
        Assert.Contains("Storage:ConnectionString", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(connection, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void NothingConfigured_SaysWhatToSet()
    {
        var e = Assert.Throws<InvalidOperationException>(() => TableClients.Create(new StorageOptions()));
        Assert.Contains("Storage__ConnectionString", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void StorageSettings_BecomeTheSdkRetryOptions()
    {
        var options = TableClients.Options(new StorageOptions { MaxRetries = 5, RetryDelaySeconds = 0.5, NetworkTimeoutSeconds = 7 });
        Assert.Equal(5, options.Retry.MaxRetries);
        Assert.Equal(TimeSpan.FromSeconds(0.5), options.Retry.Delay);
        Assert.Equal(TimeSpan.FromSeconds(7), options.Retry.NetworkTimeout);
        Assert.Equal(Azure.Core.RetryMode.Exponential, options.Retry.Mode);
    }

    private static StorageOptions Options(string connection) => new() { ConnectionString = connection, TableName = "c" + Guid.NewGuid().ToString("N")[..12] };

    private static async Task<TableClient> AssertRoundTripAsync(string connection)
    {
        var client = TableClients.Create(Options(connection));
        await client.CreateIfNotExistsAsync();
        await client.AddEntityAsync(new TableEntity("p", "r") { ["Payload"] = new byte[] { 1, 2, 3 }, ["N"] = 42L });
        var read = (await client.GetEntityAsync<TableEntity>("p", "r")).Value;
        Assert.Equal(new byte[] { 1, 2, 3 }, read.GetBinary("Payload"));
        Assert.Equal(42L, read.GetInt64("N"));
        await client.DeleteAsync();
        return client;
    }

    private static bool PortIsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
