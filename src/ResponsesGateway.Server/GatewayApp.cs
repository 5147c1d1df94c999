using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace ResponsesGateway.Server;

/// <summary>Builds the standalone server; <c>Program</c> runs it and the end-to-end tests start it in-process.</summary>
public static class GatewayApp
{
    public const string DefaultUrl = "http://127.0.0.1:8080";

    public static WebApplication Build(string[] args, Action<IConfigurationBuilder>? configure = null, Action<IServiceCollection>? services = null)
    {
        // Content root at the binaries, so appsettings.json is found whatever the working directory.
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
        configure?.Invoke(builder.Configuration);
        if (!ListenAddressConfigured(builder.Configuration))
        {
            // Loopback only unless told otherwise: --urls, ASPNETCORE_URLS, ASPNETCORE_HTTP_PORTS or Kestrel:Endpoints
            // all take precedence, which a "Urls" entry in appsettings.json would not allow for ASPNETCORE_URLS.
            builder.WebHost.UseUrls(DefaultUrl);
        }
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            // The gateway enforces Gateway:MaxRequestBodyBytes itself, answering in the OpenAI envelope.
            kestrel.Limits.MaxRequestBodySize = null;
            kestrel.AddServerHeader = false;
        });
        builder.Services.AddResponsesGateway(builder.Configuration);
        builder.Services.AddRetentionSweepService();
        builder.Services.AddBackgroundQueueConsumer();
        builder.Services.AddGatewayTelemetry(builder.Configuration);
        services?.Invoke(builder.Services);
        var app = builder.Build();
        // WebSocket mode: the server pings a socket idle for KeepAliveSeconds and drops it when no pong comes back.
        var keepAlive = TimeSpan.FromSeconds(app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<ResponsesGateway.Core.Options.GatewayOptions>>().Value.KeepAliveSeconds);
        app.UseWebSockets(new WebSocketOptions { KeepAliveInterval = keepAlive, KeepAliveTimeout = keepAlive * 2 });
        app.MapResponsesApi();
        // Build the gateway's singletons (upstream adapters, router, table client) now rather than on the first request:
        // no network is touched, a configuration error fails the start, and the first request only pays for JIT.
        app.Services.GetRequiredService<ResponsesGateway.Http.Endpoints.ResponsesEndpoints>();
        return app;
    }

    private static bool ListenAddressConfigured(IConfiguration configuration) =>
        !string.IsNullOrWhiteSpace(configuration["urls"])
        || !string.IsNullOrWhiteSpace(configuration["http_ports"])
        || !string.IsNullOrWhiteSpace(configuration["https_ports"])
        || configuration.GetSection("Kestrel:Endpoints").Exists();
}
