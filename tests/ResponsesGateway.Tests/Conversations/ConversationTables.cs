using Azure.Data.Tables;
using Microsoft.Extensions.DependencyInjection;
using ResponsesGateway.Tests.Infrastructure;

namespace ResponsesGateway.Tests.Conversations;

/// <summary>The table a running gateway stores in, to check what is (and is not) written.</summary>
internal static class ConversationTables
{
    public static TableClient Of(GatewayHost gateway) => gateway.Services.GetRequiredService<TableClient>();

    public static async Task<List<TableEntity>> PartitionAsync(GatewayHost gateway, string partition)
    {
        var rows = new List<TableEntity>();
        await foreach (var row in Of(gateway).QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {partition}")))
        {
            rows.Add(row);
        }
        return rows;
    }
}
