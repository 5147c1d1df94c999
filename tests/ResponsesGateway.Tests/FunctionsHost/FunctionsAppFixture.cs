using System.Reflection;
using System.Text.Json.Nodes;
using ResponsesGateway.MockUpstream;
using ResponsesGateway.TestSupport;
using ResponsesGateway.Tests.Infrastructure;

namespace ResponsesGateway.Tests.FunctionsHost;

/// <summary>
/// The Functions app as it runs for real: the built ResponsesGateway.Functions worker under the stand-in host, on a
/// real Azurite and the mock upstream. Its settings are local.settings.sample.json's <c>Values</c>, as Core Tools
/// would pass them, with only the addresses, the keys and the keep-alive interval changed.
/// </summary>
public sealed class FunctionsAppFixture : IAsyncLifetime
{
    public const string KeyA = GatewayHost.KeyA;
    public const string KeyB = GatewayHost.KeyB;

    public AzuriteServer Azurite { get; private set; } = null!;

    public MockUpstreamServer Mock { get; private set; } = null!;

    public FunctionsHostStandIn Host { get; private set; } = null!;

    /// <summary>The worker's table, for a test that puts rows in it the way the store does.</summary>
    public string TableName { get; } = "f" + Guid.NewGuid().ToString("N")[..20];

    public static string AppDirectory =>
        typeof(FunctionsAppFixture).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "FunctionsAppDirectory").Value!;

    public async Task InitializeAsync()
    {
        Azurite = await AzuriteServer.StartAsync();
        Mock = await MockUpstreamServer.StartAsync();

        Host = await StartHostAsync();
    }

    /// <summary>Another worker under its own stand-in host, on the same Azurite, table and mock, with extra settings.</summary>
    public Task<FunctionsHostStandIn> StartHostAsync(IReadOnlyDictionary<string, string>? extra = null)
    {
        var settings = SampleSettings(Azurite.ConnectionString, TableName, Mock.BaseUrl);
        // A keep-alive comment within a short stall.
        settings["Gateway__KeepAliveSeconds"] = "1";
        foreach (var (name, value) in extra ?? new Dictionary<string, string>())
        {
            settings[name] = value;
        }
        return FunctionsHostStandIn.StartAsync(AppDirectory, settings);
    }

    /// <summary>
    /// local.settings.sample.json's <c>Values</c>, as Core Tools passes them to the worker, with the storage, the
    /// upstream and the two test tenants' keys put in.
    /// </summary>
    public static Dictionary<string, string> SampleSettings(string storageConnectionString, string tableName, Uri upstream)
    {
        var sample = JsonNode.Parse(File.ReadAllText(Path.Combine(RepositoryRoot.Path, "local.settings.sample.json")))!;
        var settings = sample["Values"]!.AsObject().ToDictionary(p => p.Key, p => (string?)p.Value ?? "");
        settings["AzureWebJobsStorage"] = storageConnectionString;
        settings["Storage__ConnectionString"] = storageConnectionString;
        settings["Storage__TableName"] = tableName;
        settings["Upstreams__default__BaseUrl"] = upstream.ToString();
        settings.Remove("Gateway__ApiKeys__default");
        settings["Gateway__ApiKeys__tenant-a"] = KeyA;
        settings["Gateway__ApiKeys__tenant-b"] = KeyB;
        settings["Logging__LogLevel__Default"] = "Warning";
        return settings;
    }

    public HttpClient CreateClient(string? key = KeyA) => CreateClient(Host, key);

    public static HttpClient CreateClient(FunctionsHostStandIn host, string? key = KeyA)
    {
        var client = new HttpClient(new SocketsHttpHandler { MaxResponseDrainSize = 0 }) { BaseAddress = host.BaseUrl, Timeout = TimeSpan.FromSeconds(60) };
        if (key is not null)
        {
            client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key);
        }
        return client;
    }

    public async Task DisposeAsync()
    {
        if (Host is not null)
        {
            await Host.DisposeAsync();
        }
        if (Mock is not null)
        {
            await Mock.DisposeAsync();
        }
        if (Azurite is not null)
        {
            await Azurite.DisposeAsync();
        }
    }
}

[CollectionDefinition(Name)]
public sealed class FunctionsAppCollection : ICollectionFixture<FunctionsAppFixture>
{
    public const string Name = "functions-app";
}
