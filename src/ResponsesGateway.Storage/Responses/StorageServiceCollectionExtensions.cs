using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ResponsesGateway.Core.Options;
using ResponsesGateway.Core.Storage;
using ResponsesGateway.Storage.Responses;
using ResponsesGateway.Storage.Tables;

namespace ResponsesGateway.Storage;

/// <summary>Registers the table-backed response store from the <c>Storage</c> options.</summary>
public static class StorageServiceCollectionExtensions
{
    public static IServiceCollection AddTableResponseStore(this IServiceCollection services)
    {
        services.AddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<StorageOptions>>().Value;
            return CreateTableClient(options, RetryBudget(options));
        });
        services.AddSingleton<IResponseStore>(sp => new TableResponseStore(sp.GetRequiredService<TableClient>(), sp.GetRequiredService<ILogger<TableResponseStore>>()));
        return services;
    }

    /// <summary>
    /// Azure.Core's retry policy, bounded by the <c>Storage</c> settings. A request that must be stored waits for the
    /// store; this bound is what keeps a dead store from holding every such request for long.
    /// </summary>
    public static TableClientOptions RetryBudget(StorageOptions options)
    {
        var client = new TableClientOptions();
        client.Retry.MaxRetries = Math.Max(0, options.MaxRetries);
        client.Retry.Mode = Azure.Core.RetryMode.Exponential;
        client.Retry.Delay = TimeSpan.FromSeconds(Math.Max(0, options.RetryDelaySeconds));
        client.Retry.MaxDelay = TimeSpan.FromSeconds(Math.Max(options.RetryDelaySeconds, 5));
        client.Retry.NetworkTimeout = TimeSpan.FromSeconds(options.NetworkTimeoutSeconds > 0 ? options.NetworkTimeoutSeconds : 10);
        return client;
    }

    /// <summary>SharedKey from a connection string (Azurite locally), otherwise the endpoint with a managed identity.</summary>
    public static TableClient CreateTableClient(StorageOptions options, TableClientOptions? clientOptions = null)
    {
        if (string.IsNullOrWhiteSpace(options.ConnectionString) && string.IsNullOrWhiteSpace(options.TableEndpoint))
        {
            throw new InvalidOperationException("Storage is not configured: set Storage__ConnectionString (UseDevelopmentStorage=true for Azurite) or Storage__TableEndpoint with a managed identity.");
        }
        var settings = new TableStorageSettings
        {
            ConnectionString = options.ConnectionString,
            Endpoint = string.IsNullOrWhiteSpace(options.TableEndpoint) ? null : new Uri(options.TableEndpoint),
            ManagedIdentityClientId = options.ManagedIdentityClientId,
        };
        return TableClient.Create(settings, options.TableName, clientOptions);
    }
}
