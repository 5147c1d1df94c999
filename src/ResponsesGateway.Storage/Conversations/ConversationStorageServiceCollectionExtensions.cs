using Azure.Data.Tables;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ResponsesGateway.Core.Conversations;
using ResponsesGateway.Storage.Conversations;

namespace ResponsesGateway.Storage;

/// <summary>Registers the table-backed conversation store, in the table of the response store.</summary>
public static class ConversationStorageServiceCollectionExtensions
{
    public static IServiceCollection AddTableConversationStore(this IServiceCollection services)
    {
        services.AddSingleton<IConversationStore>(sp => new TableConversationStore(sp.GetRequiredService<TableClient>(), sp.GetRequiredService<ILogger<TableConversationStore>>()));
        return services;
    }
}
