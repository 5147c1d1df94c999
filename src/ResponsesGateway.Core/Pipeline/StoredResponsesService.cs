using System.Text.Json.Nodes;
using ResponsesGateway.Core.Auth;
using ResponsesGateway.Core.Errors;
using ResponsesGateway.Core.Ids;
using ResponsesGateway.Core.Responses;
using ResponsesGateway.Core.Storage;
using ResponsesGateway.Protocol.Lists;

namespace ResponsesGateway.Core.Pipeline;

/// <summary>
/// GET, DELETE, input_items and stream replay of stored responses. Every path is scoped by the caller's key: another
/// key's response answers exactly like a missing one (invariant 5 in docs/architecture.md).
/// </summary>
public sealed class StoredResponsesService(IResponseStore store)
{
    public async Task<JsonObject> GetAsync(Tenant tenant, string id, CancellationToken cancellationToken)
    {
        var stored = await Guard(() => ResponseIds.IsWellFormed(id) ? store.GetAsync(tenant.Name, id, cancellationToken) : Task.FromResult<StoredResponse?>(null));
        var response = stored?.Response ?? throw GatewayErrors.ResponseNotFound(id);
        // Responses stored before the gateway completed every field read back complete too (and so replay complete).
        ResponseObjects.Complete(response, requestBody: null);
        return response;
    }

    public async Task<DeletedResponse> DeleteAsync(Tenant tenant, string id, CancellationToken cancellationToken)
    {
        var deleted = await Guard(() => ResponseIds.IsWellFormed(id) ? store.DeleteAsync(tenant.Name, id, cancellationToken) : Task.FromResult(false));
        return deleted ? DeletedResponse.For(id) : throw GatewayErrors.ResponseNotFound(id);
    }

    /// <summary>
    /// The canonical events of a stored response with <c>sequence_number</c> greater than <paramref name="startingAfter"/>.
    /// </summary>
    public async Task<IEnumerable<(JsonObject Event, int SequenceNumber)>> ReplayAsync(Tenant tenant, string id, int? startingAfter, CancellationToken cancellationToken)
    {
        return Replay(await GetAsync(tenant, id, cancellationToken), startingAfter);
    }

    /// <summary>The canonical events of <paramref name="response"/> after <paramref name="startingAfter"/>.</summary>
    public static IEnumerable<(JsonObject Event, int SequenceNumber)> Replay(JsonObject response, int? startingAfter) =>
        CanonicalEvents.For(response)
            .Select((evt, index) => (evt, index))
            .Where(numbered => startingAfter is null || numbered.index > startingAfter);

    public async Task<InputItemList> ListInputItemsAsync(Tenant tenant, string id, InputItemsQuery query, CancellationToken cancellationToken)
    {
        var chain = await Guard(() => ResponseIds.IsWellFormed(id) ? store.GetChainAsync(tenant.Name, id, cancellationToken) : Task.FromResult<IReadOnlyList<StoredResponse>?>(null))
            ?? throw GatewayErrors.ResponseNotFound(id);
        var items = ChainHistory.ListedItems(chain);
        if (query.Descending)
        {
            items.Reverse();
        }
        var start = 0;
        var end = items.Count;
        if (query.After is not null)
        {
            var at = items.FindIndex(item => (string?)item["id"] == query.After);
            start = at < 0 ? throw GatewayErrors.InvalidRequest($"No item with id '{GatewayErrors.Clip(query.After)}' in this response's input items.", "after") : at + 1;
        }
        if (query.Before is not null)
        {
            var at = items.FindIndex(item => (string?)item["id"] == query.Before);
            end = at < 0 ? throw GatewayErrors.InvalidRequest($"No item with id '{GatewayErrors.Clip(query.Before)}' in this response's input items.", "before") : at;
        }
        // With only 'before', the page is the items right before the cursor, as a cursor list going backwards expects.
        var window = items.Skip(start).Take(Math.Max(0, end - start)).ToList();
        var page = query.Before is not null && query.After is null ? window.Skip(Math.Max(0, window.Count - query.Limit)).ToList() : window.Take(query.Limit).ToList();
        var hasMore = window.Count > page.Count;
        return new InputItemList("list", page, (string?)page.FirstOrDefault()?["id"], (string?)page.LastOrDefault()?["id"], hasMore);
    }


    private static async Task<T> Guard<T>(Func<Task<T>> read)
    {
        try
        {
            return await read();
        }
        catch (StoreUnavailableException)
        {
            throw GatewayErrors.StorageUnavailable();
        }
    }
}

/// <summary>Validated query of <c>input_items</c>.</summary>
public sealed record InputItemsQuery(int Limit, bool Descending, string? After, string? Before)
{
    /// <summary>Parses the raw query values; 400 with <c>param</c> for anything out of range.</summary>
    public static InputItemsQuery Parse(string? limit, string? order, string? after, string? before)
    {
        var size = 20;
        if (limit is not null && (!int.TryParse(limit, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out size) || size is < 1 or > 100))
        {
            throw GatewayErrors.InvalidValue("limit", $"'{Truncate(limit)}'. Expected an integer between 1 and 100.");
        }
        var descending = order switch
        {
            null or "desc" => true,
            "asc" => false,
            _ => throw GatewayErrors.InvalidValue("order", $"'{Truncate(order)}'. Supported values are: 'asc' and 'desc'."),
        };
        return new InputItemsQuery(size, descending, Empty(after), Empty(before));
    }

    private static string? Empty(string? value) => string.IsNullOrEmpty(value) ? null : value;

    private static string Truncate(string value) => GatewayErrors.Clip(value);
}
