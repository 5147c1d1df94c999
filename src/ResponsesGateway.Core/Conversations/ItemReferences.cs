using System.Text.Json.Nodes;
using ResponsesGateway.Core.Ids;
using ResponsesGateway.Core.Requests;
using ResponsesGateway.Core.Storage;

namespace ResponsesGateway.Core.Conversations;

/// <summary>
/// Replaces <c>{"type":"item_reference","id":…}</c> input items by the stored items they name, before anything is sent
/// upstream (the upstream is called with <c>store:false</c> and could not resolve them). An id is looked up first among
/// the items already at hand (the conversation the turn continues), then in the owner's item index, which says which
/// response or conversation stored it; that place is then read. Another owner's item, or one whose response or
/// conversation was deleted, is unknown: 400 naming <c>input[i].id</c>.
/// </summary>
internal sealed class ItemReferences(IConversationStore conversations, IResponseStore responses)
{
    /// <summary>Resolves every reference in <paramref name="items"/> in place; <paramref name="param"/> is e.g. <c>input</c>.</summary>
    public async Task ResolveAsync(string owner, JsonArray items, string param, IReadOnlyList<JsonObject>? atHand, CancellationToken cancellationToken)
    {
        List<(int Index, string Id, Task<JsonObject?> Lookup)>? pending = null;
        for (var i = 0; i < items.Count; i++)
        {
            if (items[i] is not JsonObject item || JsonKinds.AsString(item["type"]) != "item_reference" || JsonKinds.AsString(item["id"]) is not { } id)
            {
                continue;
            }
            var local = atHand?.LastOrDefault(candidate => JsonKinds.AsString(candidate["id"]) == id);
            (pending ??= []).Add((i, id, local is not null ? Task.FromResult<JsonObject?>(local) : FindAsync(owner, id, cancellationToken)));
        }
        if (pending is null)
        {
            return;
        }
        // Several references are looked up at once: a turn costs the slowest lookup, not their sum.
        await Task.WhenAll(pending.Select(p => p.Lookup));
        foreach (var (index, id, lookup) in pending)
        {
            var found = await lookup ?? throw ConversationErrors.ReferenceNotFound($"{param}[{index}].id", id);
            // A copy without its id: it is a new item of this turn (stored under a new id), and an upstream called
            // with store:false must not be handed ids it never stored.
            var copy = (JsonObject)found.DeepClone();
            copy.Remove("id");
            items[index] = copy;
        }
    }

    private async Task<JsonObject?> FindAsync(string owner, string id, CancellationToken cancellationToken)
    {
        var place = await conversations.LocateItemAsync(owner, id, cancellationToken);
        if (ConversationIds.IsWellFormed(place))
        {
            return await conversations.GetItemAsync(owner, place!, id, cancellationToken);
        }
        if (ResponseIds.IsWellFormed(place) && await responses.GetAsync(owner, place!, cancellationToken) is { } response)
        {
            return response.InputItems.Concat(response.OutputItems).OfType<JsonObject>().LastOrDefault(item => JsonKinds.AsString(item["id"]) == id);
        }
        return null;
    }
}
