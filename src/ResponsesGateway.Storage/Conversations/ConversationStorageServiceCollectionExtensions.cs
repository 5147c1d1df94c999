using Azure.Data.Tables;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ResponsesGateway.Core.Conversations;
using ResponsesGateway.Core.Telemetry;
using ResponsesGateway.Storage.Conversations;

namespace ResponsesGateway.Storage;

/// <summary>Registers the table-backed conversation store, in the table of the response store.</summary>
public static class ConversationStorageServiceCollectionExtensions
{
    public static IServiceCollection AddTableConversationStore(this IServiceCollection services)
    {
        // Spans and durations per operation, as for the response store; the store itself carries no telemetry.
        services.AddSingleton<IConversationStore>(sp => new InstrumentedConversationStore(
            new TableConversationStore(sp.GetRequiredService<TableClient>(), sp.GetRequiredService<ILogger<TableConversationStore>>())));
        return services;
    }
}
