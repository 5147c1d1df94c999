using Azure.Data.Tables;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ResponsesGateway.Core.Background;
using ResponsesGateway.Core.Options;

namespace ResponsesGateway.Storage.Background;

/// <summary>Registers the storage side of background responses: the run store on the chain table and the run queue.</summary>
public static class BackgroundServiceCollectionExtensions
{
    public static IServiceCollection AddBackgroundRunStorage(this IServiceCollection services)
    {
        services.AddSingleton<IBackgroundRunStore>(sp => new TableBackgroundRunStore(sp.GetRequiredService<TableClient>(), sp.GetRequiredService<ILogger<TableBackgroundRunStore>>()));
        services.AddSingleton<IBackgroundQueue>(sp => new StorageBackgroundQueue(() => BackgroundQueueClients.Create(
            sp.GetRequiredService<IOptions<StorageOptions>>().Value, sp.GetRequiredService<IOptions<BackgroundOptions>>().Value)));
        return services;
    }

    /// <summary>The standalone server's queue consumer, when <c>Background:Runner</c> is on.</summary>
    public static IServiceCollection AddBackgroundQueueConsumer(this IServiceCollection services) =>
        services.AddHostedService<QueueRunnerService>();
}
