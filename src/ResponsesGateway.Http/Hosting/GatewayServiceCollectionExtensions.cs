using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ResponsesGateway.Core.Auth;
using ResponsesGateway.Core.Background;
using ResponsesGateway.Core.Conversations;
using ResponsesGateway.Core.Options;
using ResponsesGateway.Core.Pipeline;
using ResponsesGateway.Core.Retention;
using ResponsesGateway.Core.Routing;
using ResponsesGateway.Core.Storage;
using ResponsesGateway.Http.Endpoints;
using ResponsesGateway.Http.Hosting;
using ResponsesGateway.Http.Limits;
using ResponsesGateway.Storage;
using ResponsesGateway.Storage.Background;
using ResponsesGateway.Upstreams;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>The single composition root both hosts call.</summary>
public static class GatewayServiceCollectionExtensions
{
    /// <summary>
    /// Registers the gateway: options from <c>Gateway</c>, <c>Upstreams:{name}</c> and <c>Storage</c>, the upstream
    /// adapters, the table-backed store, the pipeline and the HTTP handlers.
    /// </summary>
    public static IServiceCollection AddResponsesGateway(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<GatewayOptions>().Bind(configuration.GetSection(GatewayOptions.SectionName)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<GatewayOptions>, GatewayOptionsValidator>();
        services.AddOptions<StorageOptions>().Bind(configuration.GetSection(StorageOptions.SectionName));
        services.AddOptions<BackgroundOptions>().Bind(configuration.GetSection(BackgroundOptions.SectionName));
        services.TryAddSingleton(TimeProvider.System);

        services.AddSingleton(sp => new UpstreamHttpClientHolder(UpstreamFactory.CreateHttpClient(sp.GetRequiredService<IOptions<GatewayOptions>>().Value)));
        services.AddSingleton(sp =>
        {
            var gateway = sp.GetRequiredService<IOptions<GatewayOptions>>().Value;
            var client = sp.GetRequiredService<UpstreamHttpClientHolder>().Client;
            var loggers = sp.GetRequiredService<ILoggerFactory>();
            var registrations = new List<UpstreamRegistration>();
            foreach (var section in configuration.GetSection(UpstreamOptions.SectionName).GetChildren())
            {
                var options = new UpstreamOptions();
                section.Bind(options);
                registrations.Add(new UpstreamRegistration(section.Key, options, UpstreamFactory.Create(section.Key, options, gateway, client, loggers)));
            }
            if (registrations.Count == 0)
            {
                throw new InvalidOperationException("No upstream is configured: set Upstreams__<name>__BaseUrl (and Kind, ApiKey, Models).");
            }
            return new UpstreamRouter(registrations);
        });
        services.AddTableResponseStore();
        services.AddTableConversationStore();
        services.AddResponseStoreTelemetry();
        services.AddSingleton<ApiKeyAuthenticator>();
        services.AddSingleton<TenantRequestLimiter>();
        services.AddSingleton<GatewayShutdown>();
        services.AddHostedService<ShutdownDrainService>();
        // The host's own shutdown deadline must leave room for the drain and the closing of the cut streams.
        services.AddOptions<HostOptions>().Configure<IOptions<GatewayOptions>>((host, gateway) =>
        {
            var needed = TimeSpan.FromSeconds(gateway.Value.ShutdownDrainSeconds + 10);
            if (host.ShutdownTimeout < needed)
            {
                host.ShutdownTimeout = needed;
            }
        });
        services.AddSingleton<ResponsesService>();
        services.AddSingleton<StoredResponsesService>();
        services.AddBackgroundRunStorage();
        services.AddSingleton<BackgroundResponses>();
        services.AddSingleton<BackgroundRunner>();
        services.AddSingleton<RetentionSweeper>();
        services.AddSingleton<ResponsesEndpoints>();
        services.AddSingleton<ConversationsService>();
        services.AddSingleton<ConversationsEndpoints>();
        return services;
    }

    /// <summary>Runs the retention sweep on a timer inside the process (standalone server only).</summary>
    public static IServiceCollection AddRetentionSweepService(this IServiceCollection services) =>
        services.AddHostedService<RetentionSweepService>();

    /// <summary>The standalone server's consumer of the background queue (the Functions app has its queue trigger).</summary>
    public static IServiceCollection AddBackgroundQueueConsumer(this IServiceCollection services) =>
        ResponsesGateway.Storage.Background.BackgroundServiceCollectionExtensions.AddBackgroundQueueConsumer(services);

    /// <summary>Owns the shared upstream HttpClient so the container disposes it.</summary>
    private sealed class UpstreamHttpClientHolder(HttpClient client) : IDisposable
    {
        public HttpClient Client { get; } = client;

        public void Dispose() => Client.Dispose();
    }
}
