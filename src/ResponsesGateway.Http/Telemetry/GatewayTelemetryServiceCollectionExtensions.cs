using Azure.Identity;
using Azure.Monitor.OpenTelemetry.Exporter;
using Microsoft.Extensions.Configuration;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using ResponsesGateway.Core.Storage;
using ResponsesGateway.Core.Telemetry;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// OpenTelemetry for both hosts: the gateway's source and meter with the ASP.NET Core and HttpClient instrumentation,
/// exported over OTLP when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set and to Azure Monitor when
/// <c>APPLICATIONINSIGHTS_CONNECTION_STRING</c> is set; when neither is, nothing is registered and no listener exists,
/// so the instrumentation in the pipeline costs a null check (docs/observability.md, docs/benchmarks.md).
/// </summary>
public static class GatewayTelemetryServiceCollectionExtensions
{
    public const string OtlpEndpointSetting = "OTEL_EXPORTER_OTLP_ENDPOINT";
    public const string ApplicationInsightsSetting = "APPLICATIONINSIGHTS_CONNECTION_STRING";
    /// <summary><c>Authorization=AAD</c> (and <c>ClientId=</c> for a user-assigned identity): send with a managed identity.</summary>
    public const string ApplicationInsightsAuthenticationSetting = "APPLICATIONINSIGHTS_AUTHENTICATION_STRING";
    public const string DefaultServiceName = "responses-gateway";

    /// <summary>
    /// Registers the exporters the configuration asks for; returns the builder for host-specific additions (the
    /// Functions worker's defaults), or null when no exporter is configured and nothing was registered.
    /// </summary>
    public static IOpenTelemetryBuilder? AddGatewayTelemetry(this IServiceCollection services, IConfiguration configuration)
    {
        var otlp = configuration[OtlpEndpointSetting];
        var applicationInsights = configuration[ApplicationInsightsSetting];
        if (string.IsNullOrWhiteSpace(otlp) && string.IsNullOrWhiteSpace(applicationInsights))
        {
            return null;
        }
        var builder = services.AddOpenTelemetry().WithGatewaySignals();
        if (string.IsNullOrWhiteSpace(configuration["OTEL_SERVICE_NAME"]))
        {
            builder.ConfigureResource(resource => resource.AddService(DefaultServiceName));
        }
        if (!string.IsNullOrWhiteSpace(otlp))
        {
            // The exporter reads OTEL_EXPORTER_OTLP_* (endpoint, protocol, headers) from the configuration itself.
            builder.WithTracing(tracing => tracing.AddOtlpExporter()).WithMetrics(metrics => metrics.AddOtlpExporter());
        }
        if (!string.IsNullOrWhiteSpace(applicationInsights))
        {
            var authentication = configuration[ApplicationInsightsAuthenticationSetting];
            // Traces and metrics only: logs already reach Application Insights through the host's logging.
            builder.WithTracing(tracing => tracing.AddAzureMonitorTraceExporter(o => ConfigureAzureMonitor(o, applicationInsights, authentication)))
                .WithMetrics(metrics => metrics.AddAzureMonitorMetricExporter(o => ConfigureAzureMonitor(o, applicationInsights, authentication)));
        }
        return builder;
    }

    /// <summary>The gateway's signals without an exporter: what both hosts export, and what the tests listen to.</summary>
    public static IOpenTelemetryBuilder WithGatewaySignals(this IOpenTelemetryBuilder builder) => builder
        .WithTracing(tracing => tracing
            .AddSource(GatewayTelemetry.Name)
            .AddAspNetCoreInstrumentation()
            .AddHttpClientInstrumentation())
        .WithMetrics(metrics => metrics
            .AddMeter(GatewayTelemetry.Name)
            .AddAspNetCoreInstrumentation()
            .AddHttpClientInstrumentation());

    /// <summary>Wraps the registered response store in <see cref="InstrumentedResponseStore"/> (a span and a duration per operation).</summary>
    public static IServiceCollection AddResponseStoreTelemetry(this IServiceCollection services)
    {
        var registered = services.LastOrDefault(d => d.ServiceType == typeof(IResponseStore) && !d.IsKeyedService)
            ?? throw new InvalidOperationException("Register the response store before its telemetry.");
        services.Remove(registered);
        services.Add(ServiceDescriptor.Describe(typeof(IResponseStore), sp => new InstrumentedResponseStore(Create(sp, registered)), registered.Lifetime));
        return services;
    }

    private static IResponseStore Create(IServiceProvider services, ServiceDescriptor registered) =>
        (IResponseStore)(registered.ImplementationInstance
            ?? registered.ImplementationFactory?.Invoke(services)
            ?? ActivatorUtilities.CreateInstance(services, registered.ImplementationType!));

    private static void ConfigureAzureMonitor(AzureMonitorExporterOptions options, string connectionString, string? authentication)
    {
        options.ConnectionString = connectionString;
        if (authentication is null || !authentication.Contains("Authorization=AAD", StringComparison.OrdinalIgnoreCase))
        {
            return;
        }
        // The Bicep sets "ClientId=<user-assigned identity>;Authorization=AAD": the exporter reads only the connection
        // string, so the identity is given to it here (local authentication is disabled on the Azure resource).
        var clientId = authentication.Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Select(part => part.Split('=', 2))
            .FirstOrDefault(kv => kv.Length == 2 && kv[0].Equals("ClientId", StringComparison.OrdinalIgnoreCase))?[1];
        options.Credential = string.IsNullOrEmpty(clientId)
            ? new ManagedIdentityCredential(ManagedIdentityId.SystemAssigned)
            : new ManagedIdentityCredential(ManagedIdentityId.FromUserAssignedClientId(clientId));
    }
}
