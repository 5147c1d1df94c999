using Azure.Data.Tables;
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
        services.AddSingleton(sp => TableClients.Create(sp.GetRequiredService<IOptions<StorageOptions>>().Value));
        services.AddSingleton<IResponseStore>(sp => new TableResponseStore(sp.GetRequiredService<TableClient>(), sp.GetRequiredService<ILogger<TableResponseStore>>()));
        return services;
    }
}
