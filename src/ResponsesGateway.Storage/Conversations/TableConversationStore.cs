using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Azure;
using Azure.Data.Tables;
using Microsoft.Extensions.Logging;
using ResponsesGateway.Core.Conversations;
using ResponsesGateway.Core.Storage;
using ResponsesGateway.Protocol.Serialization;
using ResponsesGateway.Storage.Responses;
using ResponsesGateway.Storage.Tables;

namespace ResponsesGateway.Storage.Conversations;

/// <summary>
/// <see cref="IConversationStore"/> on Azure Table Storage (layout in <see cref="ConversationRows"/>). A conversation is
/// one partition: reading it at any length is one query, and an append is one entity group transaction of its head row
/// (ETag-guarded) and its item rows whenever they fit in one (100 rows, 4 MiB).
/// </summary>
internal sealed partial class TableConversationStore : IConversationStore
{
    private const int MaxAppendAttempts = 50;
    private const int MaxTransactionRows = 99; // plus the head row
    private const long MaxTransactionBytes = 2 * 1024 * 1024; // compressed payload; base64 and JSON framing stay under 4 MiB

    private static readonly string[] HeadColumns = [ConversationRows.Owner, ConversationRows.CreatedAt, ConversationRows.Metadata, ConversationRows.NextSequence];

    private readonly TableClient _table;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, byte> _bucketed = new(StringComparer.Ordinal);
    private readonly TableGuard _guard;

    public TableConversationStore(TableClient table, ILogger<TableConversationStore> logger)
    {
        _table = table;
        _logger = logger;
        _guard = new TableGuard(table, logger, "conversations");
    }

    public async Task CreateAsync(StoredConversation conversation, IReadOnlyList<JsonObject> items, CancellationToken cancellationToken)
    {
        await _guard.EnsureCreatedAsync(cancellationToken);
        var rows = new List<TableEntity>();
        long bytes = 0;
        for (var i = 0; i < items.Count; i++)
        {
            rows.AddRange(ConversationRows.Encode(conversation.Id, i, items[i], out var stored));
            bytes += stored;
        }
        var head = new TableEntity(conversation.Id, ConversationRows.HeadKey)
        {
            [ConversationRows.Owner] = conversation.Owner,
            [ConversationRows.CreatedAt] = conversation.CreatedAt,
            [ConversationRows.Metadata] = conversation.Metadata.ToJsonString(),
            [ConversationRows.NextSequence] = (long)items.Count,
            [ConversationRows.LastActivity] = conversation.CreatedAt,
        };
        if (rows.Count <= MaxTransactionRows && bytes <= MaxTransactionBytes)
        {
            // The conversation and its first items appear together.
            var actions = new List<TableTransactionAction> { new(TableTransactionActionType.Add, head) };
            actions.AddRange(rows.Select(row => new TableTransactionAction(TableTransactionActionType.UpsertReplace, row)));
            await _guard.WriteAsync(async () => (await _table.SubmitTransactionAsync(actions, cancellationToken)).GetRawResponse(), "write", cancellationToken);
        }
        else
        {
            // Too large for one transaction: the items first, the head row last (it is what makes the conversation exist).
            foreach (var row in rows)
            {
                await _guard.WriteAsync(() => _table.UpsertEntityAsync(row, TableUpdateMode.Replace, cancellationToken), "write", cancellationToken);
            }
            await _guard.WriteAsync(() => _table.AddEntityAsync(head, cancellationToken), "write", cancellationToken);
        }
        await Task.WhenAll(
            IndexAsync(conversation.Owner, conversation.Id, items.Select(i => (string?)i["id"]).OfType<string>().ToList(), cancellationToken),
            AddBucketAsync(conversation.Id, conversation.CreatedAt, cancellationToken));
        Log.Created(_logger, conversation.Id, items.Count);
    }

    public async Task<StoredConversation?> GetAsync(string owner, string id, CancellationToken cancellationToken)
    {
        var head = await GetHeadAsync(id, HeadColumns, cancellationToken);
        return head is not null && Visible(head, owner) ? ToConversation(id, head) : null;
    }

    public async Task<StoredConversation?> UpdateMetadataAsync(string owner, string id, JsonObject metadata, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < MaxAppendAttempts; attempt++)
        {
            var head = await GetHeadAsync(id, HeadColumns, cancellationToken);
            if (head is null || !Visible(head, owner))
            {
                return null;
            }
            var update = new TableEntity(id, ConversationRows.HeadKey) { [ConversationRows.Metadata] = metadata.ToJsonString() };
            // On the ETag read: a delete in between must not be undone by this write (a merge on a missing row fails).
            if (await _guard.ConditionalAsync(() => _table.UpdateEntityAsync(update, head.ETag, TableUpdateMode.Merge, cancellationToken), "write", cancellationToken))
            {
                head[ConversationRows.Metadata] = update[ConversationRows.Metadata];
                return ToConversation(id, head);
            }
        }
        throw _guard.Unavailable("write", new InvalidOperationException("The conversation kept changing."));
    }

    public async Task<bool> DeleteAsync(string owner, string id, CancellationToken cancellationToken)
    {
        var head = await GetHeadAsync(id, [ConversationRows.Owner], cancellationToken);
        if (head is null || !Visible(head, owner))
        {
            return false;
        }
        // The head row first: from then on the conversation does not exist and every append to it fails.
        if (!await _guard.ConditionalAsync(() => _table.DeleteEntityAsync(id, ConversationRows.HeadKey, ETag.All, cancellationToken), "delete", cancellationToken))
        {
            return false;
        }
        await EraseAsync(id, cancellationToken);
        return true;
    }

    public async Task<ConversationContents?> ReadAsync(string owner, string id, long maxBytes, CancellationToken cancellationToken)
    {
        var rows = await QueryAllAsync(TableClient.CreateQueryFilter($"PartitionKey eq {id}"), null, cancellationToken);
        var head = rows.FirstOrDefault(r => r.RowKey == ConversationRows.HeadKey);
        if (head is null || !Visible(head, owner))
        {
            return null;
        }
        var items = ConversationRows.Items(rows);
        // The sizes are on the item rows: a conversation over the bound is refused before anything is decoded.
        var bytes = items.Sum(i => i.Row.GetInt64(ResponseRows.PlainBytes) ?? 0);
        if (bytes > maxBytes)
        {
            throw new ChainTooLargeException(bytes, maxBytes);
        }
        return new ConversationContents(ToConversation(id, head), items.Select(i => ConversationRows.Decode(i.Row, i.Continuations)).ToList());
    }

    public async Task<bool> AppendAsync(string owner, string id, IReadOnlyList<JsonObject> items, long now, CancellationToken cancellationToken)
    {
        if (items.Count == 0)
        {
            return await GetAsync(owner, id, cancellationToken) is not null;
        }
        await _guard.EnsureCreatedAsync(cancellationToken);
        for (var attempt = 0; attempt < MaxAppendAttempts; attempt++)
        {
            var head = await GetHeadAsync(id, [ConversationRows.Owner, ConversationRows.NextSequence], cancellationToken);
            if (head is null || !Visible(head, owner))
            {
                return false;
            }
            var next = head.GetInt64(ConversationRows.NextSequence) ?? 0;
            var rows = new List<TableEntity>();
            long bytes = 0;
            for (var i = 0; i < items.Count; i++)
            {
                rows.AddRange(ConversationRows.Encode(id, next + i, items[i], out var stored));
                bytes += stored;
            }
            var claim = new TableEntity(id, ConversationRows.HeadKey)
            {
                [ConversationRows.NextSequence] = next + items.Count,
                [ConversationRows.LastActivity] = now,
            };
            var outcome = rows.Count <= MaxTransactionRows && bytes <= MaxTransactionBytes
                ? await AppendInOneTransactionAsync(claim, head.ETag, rows, cancellationToken)
                : await AppendRowByRowAsync(claim, head.ETag, rows, cancellationToken);
            if (outcome is null)
            {
                // Another append took these sequence numbers first: read the head again and append after it.
                await Task.Delay(Random.Shared.Next(1, 10 + attempt * 5), cancellationToken);
                continue;
            }
            if (outcome == false)
            {
                return false;
            }
            await Task.WhenAll(
                IndexAsync(owner, id, items.Select(i => (string?)i["id"]).OfType<string>().ToList(), cancellationToken),
                AddBucketAsync(id, now, cancellationToken));
            Log.Appended(_logger, id, items.Count, attempt);
            return true;
        }
        throw _guard.Unavailable("append", new InvalidOperationException("The conversation kept changing."));
    }

    /// <summary>True when appended, null when another append won the head row's ETag, false when the conversation is gone.</summary>
    private async Task<bool?> AppendInOneTransactionAsync(TableEntity claim, ETag etag, List<TableEntity> rows, CancellationToken cancellationToken)
    {
        var actions = new List<TableTransactionAction>(rows.Count + 1) { new(TableTransactionActionType.UpdateMerge, claim, etag) };
        actions.AddRange(rows.Select(row => new TableTransactionAction(TableTransactionActionType.UpsertReplace, row)));
        try
        {
            await _table.SubmitTransactionAsync(actions, cancellationToken);
            return true;
        }
        catch (TableTransactionFailedException e) when (e.FailedTransactionActionIndex == 0 && e.Status is 412 or 404)
        {
            return e.Status == 412 ? null : false;
        }
        catch (Exception e) when (TableFailures.IsStoreFailure(e, cancellationToken))
        {
            throw _guard.Unavailable("append", e);
        }
    }

    /// <summary>
    /// An append too large for one transaction: the sequence numbers are claimed with the ETag-guarded head write,
    /// then the rows are written, each item row after its continuations; so such an append becomes visible item by
    /// item. If the conversation was deleted meanwhile, what was written is removed again.
    /// </summary>
    private async Task<bool?> AppendRowByRowAsync(TableEntity claim, ETag etag, List<TableEntity> rows, CancellationToken cancellationToken)
    {
        try
        {
            await _table.UpdateEntityAsync(claim, etag, TableUpdateMode.Merge, cancellationToken);
        }
        catch (RequestFailedException e) when (e.Status is 412 or 404)
        {
            return e.Status == 412 ? null : false;
        }
        catch (Exception e) when (TableFailures.IsStoreFailure(e, cancellationToken))
        {
            throw _guard.Unavailable("append", e);
        }
        foreach (var row in rows)
        {
            await _guard.WriteAsync(() => _table.UpsertEntityAsync(row, TableUpdateMode.Replace, cancellationToken), "append", cancellationToken);
        }
        if (await GetHeadAsync(claim.PartitionKey, [ConversationRows.Owner], cancellationToken) is null)
        {
            foreach (var row in rows)
            {
                await _guard.ConditionalAsync(() => _table.DeleteEntityAsync(row.PartitionKey, row.RowKey, ETag.All, cancellationToken), "delete", cancellationToken);
            }
            return false;
        }
        return true;
    }

    public async Task<JsonObject?> GetItemAsync(string owner, string id, string itemId, CancellationToken cancellationToken)
    {
        if (ConversationRows.Indexable(itemId) is null)
        {
            return null;
        }
        // The head row (for the owner) and the item row in one query.
        var rows = await QueryAllAsync(
            ConversationRows.HeadAndItem(id, itemId), null, cancellationToken);
        var head = rows.FirstOrDefault(r => r.RowKey == ConversationRows.HeadKey);
        var row = rows.FirstOrDefault(r => ConversationRows.IsItem(r.RowKey));
        if (head is null || !Visible(head, owner) || row is null)
        {
            return null;
        }
        var continuations = (row.GetInt64(ResponseRows.Continuations) ?? 0) > 0
            ? await QueryAllAsync(ResponseRows.ContinuationsOf(id, row.RowKey), null, cancellationToken)
            : [];
        return ConversationRows.Decode(row, continuations);
    }

    public async Task<bool> DeleteItemAsync(string owner, string id, string itemId, CancellationToken cancellationToken)
    {
        if (ConversationRows.Indexable(itemId) is null)
        {
            return false;
        }
        var rows = await QueryAllAsync(
            ConversationRows.HeadAndItem(id, itemId),
            ["PartitionKey", "RowKey", ConversationRows.Owner, ResponseRows.Continuations], cancellationToken);
        var head = rows.FirstOrDefault(r => r.RowKey == ConversationRows.HeadKey);
        var items = rows.Where(r => ConversationRows.IsItem(r.RowKey)).ToList();
        if (head is null || !Visible(head, owner) || items.Count == 0)
        {
            return false;
        }
        var deleted = false;
        foreach (var row in items)
        {
            // The item row first: without it the item does not exist; then its continuation rows are erased too.
            deleted |= await _guard.ConditionalAsync(() => _table.DeleteEntityAsync(id, row.RowKey, ETag.All, cancellationToken), "delete", cancellationToken);
            for (var i = 1; i <= (row.GetInt64(ResponseRows.Continuations) ?? 0); i++)
            {
                var key = ResponseRows.ContinuationKey(row.RowKey, i);
                await _guard.ConditionalAsync(() => _table.DeleteEntityAsync(id, key, ETag.All, cancellationToken), "delete", cancellationToken);
            }
        }
        return deleted;
    }

    public async Task IndexResponseItemsAsync(string owner, string responseId, IReadOnlyCollection<string> itemIds, CancellationToken cancellationToken)
    {
        await _guard.EnsureCreatedAsync(cancellationToken);
        await IndexAsync(owner, responseId, itemIds, cancellationToken);
    }

    public async Task<string?> LocateItemAsync(string owner, string itemId, CancellationToken cancellationToken)
    {
        if (ConversationRows.Indexable(itemId) is null)
        {
            return null;
        }
        try
        {
            var result = await _table.GetEntityIfExistsAsync<TableEntity>(ConversationRows.IndexPartition(owner), ConversationRows.IndexKey(itemId),
                [ConversationRows.ItemId, ConversationRows.Place], cancellationToken);
            return result.HasValue && result.Value!.GetString(ConversationRows.ItemId) == itemId ? result.Value.GetString(ConversationRows.Place) : null;
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return null;
        }
        catch (Exception e) when (TableFailures.IsStoreFailure(e, cancellationToken))
        {
            throw _guard.Unavailable("read", e);
        }
    }

    public async Task<int> SweepAsync(DateTimeOffset cutoff, CancellationToken cancellationToken)
    {
        // Only the buckets of the days before the cutoff's day; each conversation in them is removed only if its head
        // row says it has been idle since the cutoff, and only on the ETag it was read with: an append in between keeps
        // it. Removal is idempotent, so instances sweeping at once only repeat each other's work.
        var removed = 0;
        var limit = cutoff.ToUnixTimeSeconds();
        foreach (var bucket in await QueryAllAsync(ConversationRows.ExpiredBuckets(cutoff), ["PartitionKey", "RowKey"], cancellationToken))
        {
            var id = bucket.RowKey;
            var head = await GetHeadAsync(id, [ConversationRows.LastActivity], cancellationToken);
            if (head is not null && (head.GetInt64(ConversationRows.LastActivity) ?? 0) < limit
                && await _guard.ConditionalAsync(() => _table.DeleteEntityAsync(id, ConversationRows.HeadKey, head.ETag, cancellationToken), "delete", cancellationToken))
            {
                await EraseAsync(id, cancellationToken);
                removed++;
            }
            else if (head is null)
            {
                await EraseAsync(id, cancellationToken); // rows left by a delete that did not finish
            }
            await _guard.ConditionalAsync(() => _table.DeleteEntityAsync(bucket.PartitionKey, bucket.RowKey, ETag.All, cancellationToken), "delete", cancellationToken);
        }
        return removed;
    }

    /// <summary>Removes every row of a conversation whose head row is gone, 100 to a transaction.</summary>
    private async Task EraseAsync(string id, CancellationToken cancellationToken)
    {
        var rows = await QueryAllAsync(TableClient.CreateQueryFilter($"PartitionKey eq {id}"), ["PartitionKey", "RowKey"], cancellationToken);
        foreach (var batch in rows.Chunk(100))
        {
            try
            {
                await _table.SubmitTransactionAsync(batch.Select(r => new TableTransactionAction(TableTransactionActionType.Delete, r, ETag.All)), cancellationToken);
            }
            catch (TableTransactionFailedException e) when (e.Status == 404)
            {
                // A row went meanwhile (another delete or sweep): delete the rest one by one.
                foreach (var row in batch)
                {
                    await _guard.ConditionalAsync(() => _table.DeleteEntityAsync(id, row.RowKey, ETag.All, cancellationToken), "delete", cancellationToken);
                }
            }
            catch (Exception e) when (TableFailures.IsStoreFailure(e, cancellationToken))
            {
                throw _guard.Unavailable("delete", e);
            }
        }
    }

    /// <summary>Index rows for the items (ids only, no content), one transaction per 100: the owner's index is one partition.</summary>
    private async Task IndexAsync(string owner, string place, IEnumerable<string> itemIds, CancellationToken cancellationToken)
    {
        var partition = ConversationRows.IndexPartition(owner);
        var rows = itemIds.Select(ConversationRows.Indexable).OfType<string>().Distinct(StringComparer.Ordinal)
            .Select(itemId => new TableEntity(partition, ConversationRows.IndexKey(itemId)) { [ConversationRows.ItemId] = itemId, [ConversationRows.Place] = place })
            .DistinctBy(row => row.RowKey, StringComparer.Ordinal)
            .ToList();
        foreach (var batch in rows.Chunk(100))
        {
            try
            {
                await _guard.RecreatingTableAsync(async () => (await _table.SubmitTransactionAsync(
                    batch.Select(r => new TableTransactionAction(TableTransactionActionType.UpsertReplace, r)), cancellationToken)).GetRawResponse(), cancellationToken);
            }
            catch (Exception e) when (TableFailures.IsStoreFailure(e, cancellationToken))
            {
                throw _guard.Unavailable("index", e);
            }
        }
    }

    /// <summary>The first activity of a conversation on a UTC day adds it to that day's bucket (once per process and day).</summary>
    private async Task AddBucketAsync(string id, long unixSeconds, CancellationToken cancellationToken)
    {
        var bucket = ConversationRows.BucketOf(unixSeconds);
        var key = bucket + "/" + id;
        if (_bucketed.ContainsKey(key))
        {
            return;
        }
        if (_bucketed.Count > 100_000)
        {
            _bucketed.Clear();
        }
        await _guard.WriteAsync(() => _table.UpsertEntityAsync(new TableEntity(bucket, id), TableUpdateMode.Replace, cancellationToken), "write", cancellationToken);
        _bucketed.TryAdd(key, 0);
    }

    private static StoredConversation ToConversation(string id, TableEntity head) => new()
    {
        Id = id,
        Owner = head.GetString(ConversationRows.Owner) ?? "",
        CreatedAt = head.GetInt64(ConversationRows.CreatedAt) ?? 0,
        Metadata = head.GetString(ConversationRows.Metadata) is { Length: > 0 } json ? ProtocolJson.ParseObject(json) : [],
    };

    private static bool Visible(TableEntity head, string owner) => head.GetString(ConversationRows.Owner) == owner;

    private async Task<TableEntity?> GetHeadAsync(string id, IEnumerable<string>? select, CancellationToken cancellationToken)
    {
        try
        {
            var result = await _table.GetEntityIfExistsAsync<TableEntity>(id, ConversationRows.HeadKey, select, cancellationToken);
            return result.HasValue ? result.Value : null;
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return null; // no table yet: nothing stored
        }
        catch (Exception e) when (TableFailures.IsStoreFailure(e, cancellationToken))
        {
            throw _guard.Unavailable("read", e);
        }
    }

    private async Task<List<TableEntity>> QueryAllAsync(string filter, IEnumerable<string>? select, CancellationToken cancellationToken)
    {
        var rows = new List<TableEntity>();
        try
        {
            await foreach (var row in _table.QueryAsync<TableEntity>(filter, null, select, cancellationToken))
            {
                rows.Add(row);
            }
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            // no table yet: nothing stored
        }
        catch (Exception e) when (TableFailures.IsStoreFailure(e, cancellationToken))
        {
            throw _guard.Unavailable("query", e);
        }
        return rows;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 4101, Level = LogLevel.Debug, Message = "Created conversation {ConversationId} with {Items} items")]
        public static partial void Created(ILogger logger, string conversationId, int items);

        [LoggerMessage(EventId = 4102, Level = LogLevel.Debug, Message = "Appended {Items} items to {ConversationId} after {Retries} lost races")]
        public static partial void Appended(ILogger logger, string conversationId, int items, int retries);
    }
}
