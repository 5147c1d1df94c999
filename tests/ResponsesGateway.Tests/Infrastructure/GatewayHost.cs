using System.Net.Http.Headers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using ResponsesGateway.Server;

namespace ResponsesGateway.Tests.Infrastructure;

/// <summary>
/// The standalone server, started in-process on a free loopback port with test configuration: two tenants, the
/// given upstreams and the given table storage. Everything talks to it over real HTTP.
/// </summary>
public sealed class GatewayHost : IAsyncDisposable
{
    public const string KeyA = "sk-test-tenant-a-0123456789";
    public const string KeyB = "sk-test-tenant-b-9876543210";

    private readonly WebApplication _app;
    private Task? _stopping;

    private GatewayHost(WebApplication app, Uri baseUrl)
    {
        _app = app;
        BaseUrl = baseUrl;
    }

    /// <summary>e.g. <c>http://127.0.0.1:5123</c>.</summary>
    public Uri BaseUrl { get; }

    public IServiceProvider Services => _app.Services;

    public static async Task<GatewayHost> StartAsync(string storageConnectionString, IDictionary<string, string?> upstreams, IDictionary<string, string?>? extra = null, Action<IServiceCollection>? services = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Gateway:ApiKeys:tenant-a"] = KeyA,
            ["Gateway:ApiKeys:tenant-b"] = KeyB,
            ["Storage:ConnectionString"] = storageConnectionString,
            ["Storage:TableName"] = "t" + Guid.NewGuid().ToString("N")[..20],
            ["Logging:LogLevel:Default"] = "Warning",
            ["Urls"] = "http://127.0.0.1:0",
            // No queue consumer unless a test asks for one (tests/ResponsesGateway.Tests/Background): most tests have no queue service.
            ["Background:Runner"] = "false",
        };
        foreach (var (key, value) in upstreams)
        {
            settings[key] = value;
        }
        foreach (var (key, value) in extra ?? new Dictionary<string, string?>())
        {
            settings[key] = value;
        }
        var app = GatewayApp.Build([], config => config.AddInMemoryCollection(settings), services);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new GatewayHost(app, new Uri(address));
    }

    /// <summary>Upstream settings for one upstream named <paramref name="name"/>.</summary>
    public static Dictionary<string, string?> Upstream(string name, string kind, Uri baseUrl, string models = "*", string? apiKey = null) => new()
    {
        [$"Upstreams:{name}:Kind"] = kind,
        [$"Upstreams:{name}:BaseUrl"] = baseUrl.ToString(),
        [$"Upstreams:{name}:Models"] = models,
        [$"Upstreams:{name}:ApiKey"] = apiKey,
    };

    public HttpClient CreateClient(string? key = KeyA)
    {
        // No draining of unread bodies on dispose: a test that walks away from a stream really drops the connection.
        var client = new HttpClient(new SocketsHttpHandler { MaxResponseDrainSize = 0 }) { BaseAddress = BaseUrl, Timeout = TimeSpan.FromSeconds(60) };
        if (key is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }
        return client;
    }

    /// <summary>Stops the host as a deployment or scale-in does (the gateway drains first); only the first call stops it.</summary>
    public Task StopAsync() => _stopping ??= _app.StopAsync();

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        await _app.DisposeAsync();
    }
}
