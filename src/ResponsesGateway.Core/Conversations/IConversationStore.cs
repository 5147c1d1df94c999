using System.Text.Json.Nodes;

namespace ResponsesGateway.Core.Conversations;

/// <summary>
/// Durable conversations and the index that makes stored items referable by id (<c>item_reference</c>). Like
/// <see cref="Storage.IResponseStore"/>, every read is scoped by owner: another owner's conversation or item is
/// indistinguishable from a missing one. Failures to reach the store throw <see cref="Storage.StoreUnavailableException"/>.
/// </summary>
public interface IConversationStore
{
    /// <summary>Stores a new conversation with its first items (each with an id already); they are indexed too.</summary>
    Task CreateAsync(StoredConversation conversation, IReadOnlyList<JsonObject> items, CancellationToken cancellationToken);

    /// <summary>The conversation without its items, or null when missing, deleted or another owner's.</summary>
    Task<StoredConversation?> GetAsync(string owner, string id, CancellationToken cancellationToken);

    /// <summary>Replaces the metadata; the updated conversation, or null when there is none to update.</summary>
    Task<StoredConversation?> UpdateMetadataAsync(string owner, string id, JsonObject metadata, CancellationToken cancellationToken);

    /// <summary>Deletes the conversation and erases its items; false when the owner had no such conversation.</summary>
    Task<bool> DeleteAsync(string owner, string id, CancellationToken cancellationToken);

    /// <summary>
    /// The conversation and all its items, oldest first, read with one partition query; null when missing.
    /// <see cref="Storage.ChainTooLargeException"/> when the items hold more than <paramref name="maxBytes"/>, refused
    /// before they are decoded.
    /// </summary>
    Task<ConversationContents?> ReadAsync(string owner, string id, long maxBytes, CancellationToken cancellationToken);

    /// <summary>
    /// Appends items after every item already stored, in one ETag-guarded write of the conversation's head row: when
    /// two appends race, the loser re-reads the head and appends after the winner, so each append stays contiguous.
    /// False when the conversation is gone (nothing is appended). The items are indexed for <c>item_reference</c>.
    /// </summary>
    Task<bool> AppendAsync(string owner, string id, IReadOnlyList<JsonObject> items, long now, CancellationToken cancellationToken);

    /// <summary>The item, or null when the conversation or the item does not exist for this owner.</summary>
    Task<JsonObject?> GetItemAsync(string owner, string id, string itemId, CancellationToken cancellationToken);

    /// <summary>Erases one item; false when the conversation or the item does not exist for this owner.</summary>
    Task<bool> DeleteItemAsync(string owner, string id, string itemId, CancellationToken cancellationToken);

    /// <summary>Records that the items with these ids are stored in response <paramref name="responseId"/>.</summary>
    Task IndexResponseItemsAsync(string owner, string responseId, IReadOnlyCollection<string> itemIds, CancellationToken cancellationToken);

    /// <summary>
    /// Where an item id was stored last by this owner (a response id or a conversation id), or null when never.
    /// The place may have been deleted since: the caller reads it there.
    /// </summary>
    Task<string?> LocateItemAsync(string owner, string itemId, CancellationToken cancellationToken);

    /// <summary>Removes every conversation with no activity since <paramref name="cutoff"/>; returns how many.</summary>
    Task<int> SweepAsync(DateTimeOffset cutoff, CancellationToken cancellationToken);
}

/// <summary>A conversation's own fields (its items are read separately).</summary>
public sealed class StoredConversation
{
    public required string Id { get; init; }

    public required string Owner { get; init; }

    public required long CreatedAt { get; init; }

    public required JsonObject Metadata { get; init; }

    /// <summary>The wire object: <c>{"id","object":"conversation","created_at","metadata"}</c>.</summary>
    public JsonObject ToJson() => new()
    {
        ["id"] = Id,
        ["object"] = "conversation",
        ["created_at"] = CreatedAt,
        ["metadata"] = Metadata.DeepClone(),
    };
}

/// <summary>A conversation with every item, oldest first, each with its id.</summary>
public sealed record ConversationContents(StoredConversation Conversation, List<JsonObject> Items);

/// <summary>The conversation was deleted (or expired) while a turn on it ran, so the turn's items could not be appended.</summary>
public sealed class ConversationGoneException(string conversationId)
    : Exception("The conversation was deleted before this turn's items could be appended.")
{
    public string ConversationId { get; } = conversationId;
}
