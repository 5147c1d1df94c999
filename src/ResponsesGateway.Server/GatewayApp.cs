using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace ResponsesGateway.Server;

/// <summary>Builds the standalone server; <c>Program</c> runs it and the end-to-end tests start it in-process.</summary>
public static class GatewayApp
{
    public static WebApplication Build(string[] args, Action<IConfigurationBuilder>? configure = null, Action<IServiceCollection>? services = null)
    {
        // Content root at the binaries, so appsettings.json is found whatever the working directory.
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
        configure?.Invoke(builder.Configuration);
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
}
