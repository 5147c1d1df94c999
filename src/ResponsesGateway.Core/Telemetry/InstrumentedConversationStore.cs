using System.Diagnostics;
using System.Text.Json.Nodes;
using ResponsesGateway.Core.Conversations;
using ResponsesGateway.Core.Storage;

namespace ResponsesGateway.Core.Telemetry;

/// <summary>
/// Decorates the conversation store with a span and a duration measurement per operation, as
/// <see cref="InstrumentedResponseStore"/> does for the response store; operations are named <c>conversation_…</c>
/// and <c>item_index_…</c> so the two stores' timings stay apart.
/// </summary>
public sealed class InstrumentedConversationStore(IConversationStore inner) : IConversationStore
{
    public IConversationStore Inner { get; } = inner;

    public Task CreateAsync(StoredConversation conversation, IReadOnlyList<JsonObject> items, CancellationToken cancellationToken) =>
        RunAsync("conversation_create", async ct => { await Inner.CreateAsync(conversation, items, ct).ConfigureAwait(false); return true; }, cancellationToken);

    public Task<StoredConversation?> GetAsync(string owner, string id, CancellationToken cancellationToken) =>
        RunAsync("conversation_get", ct => Inner.GetAsync(owner, id, ct), cancellationToken);

    public Task<StoredConversation?> UpdateMetadataAsync(string owner, string id, JsonObject metadata, CancellationToken cancellationToken) =>
        RunAsync("conversation_update", ct => Inner.UpdateMetadataAsync(owner, id, metadata, ct), cancellationToken);

    public Task<bool> DeleteAsync(string owner, string id, CancellationToken cancellationToken) =>
        RunAsync("conversation_delete", ct => Inner.DeleteAsync(owner, id, ct), cancellationToken);

    public Task<ConversationContents?> ReadAsync(string owner, string id, long maxBytes, CancellationToken cancellationToken) =>
        RunAsync("conversation_read", ct => Inner.ReadAsync(owner, id, maxBytes, ct), cancellationToken);

    public Task<bool> AppendAsync(string owner, string id, IReadOnlyList<JsonObject> items, long now, CancellationToken cancellationToken) =>
        RunAsync("conversation_append", ct => Inner.AppendAsync(owner, id, items, now, ct), cancellationToken);

    public Task<JsonObject?> GetItemAsync(string owner, string id, string itemId, CancellationToken cancellationToken) =>
        RunAsync("conversation_get_item", ct => Inner.GetItemAsync(owner, id, itemId, ct), cancellationToken);

    public Task<bool> DeleteItemAsync(string owner, string id, string itemId, CancellationToken cancellationToken) =>
        RunAsync("conversation_delete_item", ct => Inner.DeleteItemAsync(owner, id, itemId, ct), cancellationToken);

    public Task IndexResponseItemsAsync(string owner, string responseId, IReadOnlyCollection<string> itemIds, CancellationToken cancellationToken) =>
        RunAsync("item_index_write", async ct => { await Inner.IndexResponseItemsAsync(owner, responseId, itemIds, ct).ConfigureAwait(false); return true; }, cancellationToken);

    public Task<string?> LocateItemAsync(string owner, string itemId, CancellationToken cancellationToken) =>
        RunAsync("item_index_read", ct => Inner.LocateItemAsync(owner, itemId, ct), cancellationToken);

    public Task<int> SweepAsync(DateTimeOffset cutoff, CancellationToken cancellationToken) =>
        RunAsync("conversation_sweep", ct => Inner.SweepAsync(cutoff, ct), cancellationToken);

    private static async Task<T> RunAsync<T>(string operation, Func<CancellationToken, Task<T>> call, CancellationToken cancellationToken)
    {
        if (!GatewayTelemetry.Source.HasListeners() && !GatewayMetrics.StorageDuration.Enabled)
        {
            return await call(cancellationToken).ConfigureAwait(false);
        }
        var started = Stopwatch.GetTimestamp();
        using var activity = GatewayTelemetry.Source.StartActivity("storage " + operation, ActivityKind.Internal);
        activity?.SetTag(TelemetryTags.DbOperation, operation);
        string? errorType = null;
        try
        {
            return await call(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            errorType = e is StoreUnavailableException ? "store_unavailable" : e is OperationCanceledException ? "cancelled" : e.GetType().Name;
            activity?.SetTag(TelemetryTags.ErrorType, errorType);
            activity?.SetStatus(ActivityStatusCode.Error, errorType);
            throw;
        }
        finally
        {
            if (GatewayMetrics.StorageDuration.Enabled)
            {
                var tags = new TagList { { TelemetryTags.DbOperation, operation } };
                if (errorType is not null)
                {
                    tags.Add(TelemetryTags.ErrorType, errorType);
                }
                GatewayMetrics.StorageDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, tags);
            }
        }
    }
}
