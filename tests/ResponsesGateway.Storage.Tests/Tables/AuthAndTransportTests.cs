using System.Net;
using System.Net.Sockets;
using System.Text;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Identity;
using ResponsesGateway.Storage.Tables;
using ResponsesGateway.TestSupport;

namespace ResponsesGateway.Storage.Tests.Tables;

[Collection(AzuriteFixture.CollectionName)]
public sealed class AuthAndTransportTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task WrongAccountKey_IsUnauthorized_WithClearMessageWithoutTheKey()
    {
        var wrongKey = Convert.ToBase64String(Encoding.UTF8.GetBytes("definitely-not-the-azurite-key-0123456789"));
        var client = new TableClient(
            $"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={wrongKey};TableEndpoint={azurite.TableEndpoint}",
            TableTestClients.UniqueName("auth"));

        var result = await client.CreateIfNotExistsAsync();

        Assert.Equal(TableResultStatus.Unauthorized, result.Status);
        Assert.Equal(403, result.HttpStatus);
        // Azurite answers a bad signature with an XML body and code AuthorizationFailure (Azure: AuthenticationFailed).
        Assert.Equal("AuthorizationFailure", result.ErrorCode);
        Assert.StartsWith("CreateIfNotExists failed with 403 AuthorizationFailure: Server failed to authenticate the request.", result.ErrorMessage, StringComparison.Ordinal);
        Assert.EndsWith("Check the AccountKey configured for account 'devstoreaccount1'.", result.ErrorMessage, StringComparison.Ordinal);
        Assert.DoesNotContain(wrongKey, result.ErrorMessage, StringComparison.Ordinal);
        Assert.DoesNotContain(wrongKey, result.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(AzuriteServer.AccountKey, result.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ClosedPort_IsUnreachable_AfterBoundedRetries()
    {
        var counter = new CountingPolicy();
        var options = TableTestClients.FastRetries(maxRetries: 2);
        options.AddPolicy(counter, HttpPipelinePosition.PerRetry);
        var endpoint = new Uri($"http://127.0.0.1:{ClosedPort()}/devstoreaccount1");
        var client = new TableClient(endpoint, "unreachable", new TableSharedKeyCredential("devstoreaccount1", AzuriteServer.AccountKey), options);
        var started = DateTime.UtcNow;

        var result = await client.GetEntityAsync("p", "r");

        Assert.Equal(TableResultStatus.Unreachable, result.Status);
        Assert.Equal(0, result.HttpStatus);
        Assert.Null(result.Value);
        Assert.Contains($"table endpoint {endpoint} is unreachable", result.ErrorMessage, StringComparison.Ordinal);
        Assert.Equal(3, counter.Count);
        Assert.InRange(DateTime.UtcNow - started, TimeSpan.Zero, TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Query_AgainstClosedPort_YieldsOneUnreachablePage()
    {
        var endpoint = new Uri($"http://127.0.0.1:{ClosedPort()}/devstoreaccount1");
        var client = new TableClient(endpoint, "unreachable", new TableSharedKeyCredential("devstoreaccount1", AzuriteServer.AccountKey), TableTestClients.FastRetries());

        var pages = new List<TableResult<TablePage>>();
        await foreach (var page in client.QueryAsync())
        {
            pages.Add(page);
        }

        Assert.Equal(TableResultStatus.Unreachable, Assert.Single(pages).Status);
    }

    [Fact]
    public async Task TokenCredential_SendsBearerToken_ForStorageScope()
    {
        var credential = new FakeCredential();
        var counter = new CountingPolicy();
        var options = TableTestClients.FastRetries(maxRetries: 0);
        options.AddPolicy(counter, HttpPipelinePosition.PerRetry);
        // Bearer tokens require https; nothing listens there, so the request fails after the token was attached.
        var client = new TableClient(new Uri($"https://127.0.0.1:{ClosedPort()}/devstoreaccount1"), "tokentable", credential, options);

        var result = await client.GetEntityAsync("p", "r");

        Assert.Equal(TableResultStatus.Unreachable, result.Status);
        Assert.Equal(["https://storage.azure.com/.default"], credential.RequestedScopes.Distinct());
        Assert.Equal("Bearer fake-token", Assert.Single(counter.AuthorizationHeaders));
        Assert.Equal("devstoreaccount1", client.AccountName);
    }

    [Fact]
    public async Task FailingCredential_IsUnauthorized()
    {
        var client = new TableClient(new Uri("https://acct.table.core.windows.net"), "tokentable", new FakeCredential(fail: true), TableTestClients.FastRetries());

        var result = await client.AddEntityAsync(new TableEntity("p", "r"));

        Assert.Equal(TableResultStatus.Unauthorized, result.Status);
        Assert.Equal(0, result.HttpStatus);
        Assert.Equal("AddEntity: could not obtain a storage token: no identity here", result.ErrorMessage);
        Assert.Equal("acct", client.AccountName);
    }

    [Fact]
    public async Task Persistent503_IsThrottled_AfterRetries_ThroughCallerHttpClient()
    {
        var handler = new StubHandler(HttpStatusCode.ServiceUnavailable,
            """{"odata.error":{"code":"ServerBusy","message":{"lang":"en-US","value":"The server is busy.\nRequestId:1"}}}""");
        var options = TableTestClients.FastRetries(maxRetries: 2);
        options.Transport = new HttpClientTransport(new HttpClient(handler));
        var client = new TableClient("UseDevelopmentStorage=true", "throttled", options);

        var result = await client.UpsertEntityAsync(new TableEntity("p", "r"));

        Assert.Equal(TableResultStatus.Throttled, result.Status);
        Assert.Equal(503, result.HttpStatus);
        Assert.Equal("ServerBusy", result.ErrorCode);
        Assert.Equal("UpsertEntity failed with 503 ServerBusy: The server is busy.", result.ErrorMessage);
        Assert.Equal(3, handler.Calls);
    }

    [Fact]
    public async Task CallerCancellation_Throws()
    {
        var client = new TableClient(azurite.ConnectionString, "cancelled");
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.GetEntityAsync("p", "r", cancellationToken: cts.Token));
    }

    private static int ClosedPort()
    {
        // Bind then release: for the test's short life nothing else listens there.
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    private sealed class FakeCredential(bool fail = false) : TokenCredential
    {
        public List<string> RequestedScopes { get; } = [];

        public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken)
        {
            RequestedScopes.AddRange(requestContext.Scopes);
            return fail
                ? throw new AuthenticationFailedException("no identity here")
                : new AccessToken("fake-token", DateTimeOffset.UtcNow.AddHours(1));
        }

        public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
            new(GetToken(requestContext, cancellationToken));
    }

    private sealed class StubHandler(HttpStatusCode status, string body) : HttpMessageHandler
    {
        private int _calls;

        public int Calls => Volatile.Read(ref _calls);

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _calls);
            return Task.FromResult(new HttpResponseMessage(status)
            {
                Content = new StringContent(body, Encoding.UTF8, "application/json"),
            });
        }
    }
}
