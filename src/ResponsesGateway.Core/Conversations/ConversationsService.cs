using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using ResponsesGateway.Core.Auth;
using ResponsesGateway.Core.Errors;
using ResponsesGateway.Core.Options;
using ResponsesGateway.Core.Pipeline;
using ResponsesGateway.Core.Storage;
using ResponsesGateway.Protocol.Lists;

namespace ResponsesGateway.Core.Conversations;

/// <summary>
/// The Conversations API: create, read, update and delete conversations, and list, add, read and delete their items.
/// Every path is scoped by the caller's key: another key's conversation answers exactly like a missing one.
/// </summary>
public sealed class ConversationsService
{
    private readonly IConversationStore _store;
    private readonly ItemReferences _references;
    private readonly GatewayOptions _options;
    private readonly TimeProvider _time;

    public ConversationsService(IConversationStore store, IResponseStore responses, IOptions<GatewayOptions> options, TimeProvider time)
    {
        _store = store;
        _references = new ItemReferences(store, responses);
        _options = options.Value;
        _time = time;
    }

    public async Task<JsonObject> CreateAsync(Tenant tenant, JsonObject metadata, JsonArray items, CancellationToken cancellationToken)
    {
        await Guard(() => _references.ResolveAsync(tenant.Name, items, "items", null, cancellationToken));
        var conversation = new StoredConversation
        {
            Id = ConversationIds.New(),
            Owner = tenant.Name,
            CreatedAt = _time.GetUtcNow().ToUnixTimeSeconds(),
            Metadata = metadata,
        };
        var stored = ChainHistory.WithIds(items).OfType<JsonObject>().ToList();
        await Guard(() => _store.CreateAsync(conversation, stored, cancellationToken));
        return conversation.ToJson();
    }

    public async Task<JsonObject> GetAsync(Tenant tenant, string id, CancellationToken cancellationToken) =>
        (await Guard(() => Known(id) ? _store.GetAsync(tenant.Name, id, cancellationToken) : Task.FromResult<StoredConversation?>(null)))?.ToJson()
        ?? throw ConversationErrors.NotFound(id);

    public async Task<JsonObject> UpdateAsync(Tenant tenant, string id, JsonObject metadata, CancellationToken cancellationToken) =>
        (await Guard(() => Known(id) ? _store.UpdateMetadataAsync(tenant.Name, id, metadata, cancellationToken) : Task.FromResult<StoredConversation?>(null)))?.ToJson()
        ?? throw ConversationErrors.NotFound(id);

    public async Task<JsonObject> DeleteAsync(Tenant tenant, string id, CancellationToken cancellationToken) =>
        await Guard(() => Known(id) ? _store.DeleteAsync(tenant.Name, id, cancellationToken) : Task.FromResult(false))
            ? new JsonObject { ["id"] = id, ["object"] = "conversation.deleted", ["deleted"] = true }
            : throw ConversationErrors.NotFound(id);

    /// <summary><c>GET …/items</c>: newest first unless <c>order=asc</c>; <c>after</c> is the last id of the previous page.</summary>
    public async Task<InputItemList> ListItemsAsync(Tenant tenant, string id, InputItemsQuery query, CancellationToken cancellationToken)
    {
        var contents = await ReadAsync(tenant, id, cancellationToken);
        var items = contents.Items;
        if (query.Descending)
        {
            items.Reverse();
        }
        var start = 0;
        if (query.After is not null)
        {
            var at = items.FindIndex(item => (string?)item["id"] == query.After);
            start = at < 0 ? throw GatewayErrors.InvalidRequest($"No item with id '{GatewayErrors.Clip(query.After)}' in this conversation.", "after") : at + 1;
        }
        var page = items.Skip(start).Take(query.Limit).ToList();
        return new InputItemList("list", page, (string?)page.FirstOrDefault()?["id"], (string?)page.LastOrDefault()?["id"], items.Count - start > page.Count);
    }

    /// <summary><c>POST …/items</c>: appends up to 20 items after every item already there; answers the items as stored.</summary>
    public async Task<InputItemList> AddItemsAsync(Tenant tenant, string id, JsonArray items, CancellationToken cancellationToken)
    {
        if (!Known(id))
        {
            throw ConversationErrors.NotFound(id);
        }
        await Guard(() => _references.ResolveAsync(tenant.Name, items, "items", null, cancellationToken));
        var stored = ChainHistory.WithIds(items).OfType<JsonObject>().ToList();
        if (!await Guard(() => _store.AppendAsync(tenant.Name, id, stored, _time.GetUtcNow().ToUnixTimeSeconds(), cancellationToken)))
        {
            throw ConversationErrors.NotFound(id);
        }
        return new InputItemList("list", stored, (string?)stored.FirstOrDefault()?["id"], (string?)stored.LastOrDefault()?["id"], false);
    }

    public async Task<JsonObject> GetItemAsync(Tenant tenant, string id, string itemId, CancellationToken cancellationToken)
    {
        // One query reads the conversation's head row and the item: a missing conversation and a missing item are both 404.
        var item = await Guard(() => Known(id) ? _store.GetItemAsync(tenant.Name, id, itemId, cancellationToken) : Task.FromResult<JsonObject?>(null));
        if (item is not null)
        {
            return item;
        }
        throw await Guard(() => _store.GetAsync(tenant.Name, id, cancellationToken)) is null ? ConversationErrors.NotFound(id) : ConversationErrors.ItemNotFound(itemId);
    }

    /// <summary><c>DELETE …/items/{item_id}</c>: erases the item; answers the conversation.</summary>
    public async Task<JsonObject> DeleteItemAsync(Tenant tenant, string id, string itemId, CancellationToken cancellationToken)
    {
        var conversation = await Guard(() => Known(id) ? _store.GetAsync(tenant.Name, id, cancellationToken) : Task.FromResult<StoredConversation?>(null))
            ?? throw ConversationErrors.NotFound(id);
        return await Guard(() => _store.DeleteItemAsync(tenant.Name, id, itemId, cancellationToken))
            ? conversation.ToJson()
            : throw ConversationErrors.ItemNotFound(itemId);
    }

    private async Task<ConversationContents> ReadAsync(Tenant tenant, string id, CancellationToken cancellationToken)
    {
        try
        {
            return await Guard(() => Known(id) ? _store.ReadAsync(tenant.Name, id, _options.MaxChainBytes, cancellationToken) : Task.FromResult<ConversationContents?>(null))
                ?? throw ConversationErrors.NotFound(id);
        }
        catch (ChainTooLargeException)
        {
            throw ConversationErrors.TooLarge(id, _options.MaxChainBytes);
        }
    }

    private static bool Known(string id) => ConversationIds.IsWellFormed(id);

    private static async Task<T> Guard<T>(Func<Task<T>> call)
    {
        try
        {
            return await call();
        }
        catch (StoreUnavailableException)
        {
            throw GatewayErrors.StorageUnavailable();
        }
    }

    private static async Task Guard(Func<Task> call)
    {
        try
        {
            await call();
        }
        catch (StoreUnavailableException)
        {
            throw GatewayErrors.StorageUnavailable();
        }
    }
}
