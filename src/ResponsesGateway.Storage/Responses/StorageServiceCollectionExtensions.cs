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
        services.AddSingleton(sp => CreateTableClient(sp.GetRequiredService<IOptions<StorageOptions>>().Value));
        services.AddSingleton<IResponseStore>(sp => new TableResponseStore(sp.GetRequiredService<TableClient>(), sp.GetRequiredService<ILogger<TableResponseStore>>()));
        return services;
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
