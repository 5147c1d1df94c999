using Azure.Core;
using Azure.Core.Pipeline;
using ResponsesGateway.Storage.Tables;
using ResponsesGateway.TestSupport;

namespace ResponsesGateway.Storage.Tests.Tables;

internal static class TableTestClients
{
    /// <summary>A client for a fresh, created table with a name unique to the caller.</summary>
    public static async Task<TableClient> CreateTableAsync(AzuriteFixture azurite, string prefix, TableClientOptions? options = null)
    {
        var client = new TableClient(azurite.ConnectionString, UniqueName(prefix), options);
        var created = await client.CreateIfNotExistsAsync();
        Assert.True(created.IsOk, created.ToString());
        return client;
    }

    public static string UniqueName(string prefix) => prefix + Guid.NewGuid().ToString("N")[..12];

    /// <summary>Fast retries so failure tests finish in well under a second per attempt.</summary>
    public static TableClientOptions FastRetries(int maxRetries = 1)
    {
        var options = new TableClientOptions();
        options.Retry.MaxRetries = maxRetries;
        options.Retry.Delay = TimeSpan.FromMilliseconds(10);
        options.Retry.MaxDelay = TimeSpan.FromMilliseconds(50);
        options.Retry.NetworkTimeout = TimeSpan.FromSeconds(3);
        return options;
    }
}

/// <summary>Counts the attempts that reach the transport (added per retry, so each retry counts).</summary>
internal sealed class CountingPolicy : HttpPipelineSynchronousPolicy
{
    private int _count;

    public int Count => Volatile.Read(ref _count);

    public List<string> Methods { get; } = [];

    public List<string?> AuthorizationHeaders { get; } = [];

    public override void OnSendingRequest(HttpMessage message)
    {
        Interlocked.Increment(ref _count);
        lock (Methods)
        {
            Methods.Add(message.Request.Method.Method);
            AuthorizationHeaders.Add(message.Request.Headers.TryGetValue("Authorization", out var auth) ? auth : null);
        }
    }
}
