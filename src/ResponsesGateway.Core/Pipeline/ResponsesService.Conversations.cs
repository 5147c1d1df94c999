using System.Text.Json.Nodes;
using ResponsesGateway.Core.Auth;
using ResponsesGateway.Core.Conversations;
using ResponsesGateway.Core.Errors;
using ResponsesGateway.Core.Requests;
using ResponsesGateway.Core.Storage;
using ResponsesGateway.Protocol.Streaming;

namespace ResponsesGateway.Core.Pipeline;

public sealed partial class ResponsesService
{
    /// <summary>
    /// Reads the turn's conversation (one partition query, bounded by <c>Gateway:MaxChainBytes</c>) and replaces the
    /// input's <c>item_reference</c> items by the items they name. Null when the turn has no conversation.
    /// </summary>
    private async Task<ConversationContents?> PrepareConversationAsync(Tenant tenant, CreateResponseRequest request, CancellationToken cancellationToken)
    {
        var conversationId = request.ConversationId;
        if (_conversations is null)
        {
            return conversationId is null ? null : throw ConversationErrors.TurnConversationNotFound(conversationId);
        }
        try
        {
            ConversationContents? contents = null;
            if (conversationId is not null)
            {
                contents = ConversationIds.IsWellFormed(conversationId)
                    ? await _conversations.ReadAsync(tenant.Name, conversationId, _options.MaxChainBytes, cancellationToken)
                    : null;
                if (contents is null)
                {
                    throw ConversationErrors.TurnConversationNotFound(conversationId);
                }
            }
            await _references!.ResolveAsync(tenant.Name, request.Input, "input", contents?.Items, cancellationToken);
            return contents;
        }
        catch (StoreUnavailableException e)
        {
            Log.StoreFailed(_logger, conversationId ?? "", e);
            throw GatewayErrors.StorageUnavailable();
        }
        catch (ChainTooLargeException)
        {
            throw ConversationErrors.TooLarge(conversationId!, _options.MaxChainBytes);
        }
    }

    /// <summary>The conversation's items go before the turn's input, without their ids (as a chain's items do).</summary>
    private static void PrependConversation(JsonObject upstreamBody, CreateResponseRequest request, ConversationContents? conversation)
    {
        upstreamBody.Remove("conversation");
        if (conversation is null)
        {
            return;
        }
        // The items were read for this request alone (references are already resolved from them): moved, not copied,
        // so the conversation is held once.
        var input = new JsonArray();
        foreach (var item in conversation.Items)
        {
            item.Remove("id");
            input.Add((JsonNode)item);
        }
        conversation.Items.Clear();
        // The input as a list (a string input is one user message), as references were resolved in it.
        foreach (var item in request.Input)
        {
            input.Add(item?.DeepClone());
        }
        upstreamBody["input"] = input;
    }

    /// <summary>
    /// Appends a finished turn's input and output items to its conversation, before the turn is stored and before its
    /// terminal event. A failed turn appends nothing, so retrying it does not repeat its input in the conversation.
    /// </summary>
    private async Task AppendToConversationAsync(Turn turn, JsonObject response, CancellationToken cancellationToken)
    {
        if (turn.ConversationId is not { } conversationId || _conversations is null
            || (string?)response["status"] is not (ResponseStatuses.Completed or ResponseStatuses.Incomplete))
        {
            return;
        }
        var items = turn.StoredInput.Concat(response["output"] as JsonArray ?? []).OfType<JsonObject>().Select(i => (JsonObject)i.DeepClone()).ToList();
        if (!await _conversations.AppendAsync(turn.Tenant.Name, conversationId, items, Now(), cancellationToken))
        {
            throw new ConversationGoneException(conversationId);
        }
    }

    /// <summary>A stored turn outside a conversation: its items become referable by id (a conversation indexes its own).</summary>
    private Task IndexTurnItemsAsync(Turn turn, StoredResponse stored, CancellationToken cancellationToken) =>
        turn.ConversationId is null ? IndexStoredItemsAsync(stored, cancellationToken) : Task.CompletedTask;

    /// <summary>
    /// Makes the items of a turn stored outside this class referable by id (the background runner stores its turns
    /// itself). A turn on a conversation is skipped: its items are indexed to the conversation, which outlives the turn.
    /// </summary>
    public Task IndexStoredItemsAsync(StoredResponse stored, CancellationToken cancellationToken)
    {
        if (_conversations is null || stored.Response["conversation"] is JsonObject)
        {
            return Task.CompletedTask;
        }
        var ids = stored.InputItems.Concat(stored.OutputItems).OfType<JsonObject>()
            .Select(item => JsonKinds.AsString(item["id"])).OfType<string>().ToHashSet(StringComparer.Ordinal);
        return ids.Count == 0 ? Task.CompletedTask : _conversations.IndexResponseItemsAsync(stored.Owner, stored.Id, ids, cancellationToken);
    }
}
