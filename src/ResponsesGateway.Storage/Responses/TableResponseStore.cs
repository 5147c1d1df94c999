using Azure;
using Azure.Data.Tables;
using Microsoft.Extensions.Logging;
using ResponsesGateway.Core.Storage;
using ResponsesGateway.Storage.Tables;

namespace ResponsesGateway.Storage.Responses;

/// <summary>
/// <see cref="IResponseStore"/> on Azure Table Storage (layout in <see cref="ResponseRows"/>). Reads are scoped by owner,
/// a chain at any depth is one partition query, and a turn is visible only once its head row is written.
/// </summary>
internal sealed partial class TableResponseStore : IResponseStore
{
    private static readonly string[] VisibilityColumns = [ResponseRows.Owner, ResponseRows.Deleted];
    private static readonly string[] DeleteColumns = [ResponseRows.Owner, ResponseRows.Deleted, ResponseRows.Continuations, ResponseRows.Parent];
    private static readonly string[] SweepColumns = ["PartitionKey", "RowKey", ResponseRows.CreatedAt, ResponseRows.Parent];
    private const int MaxDeleteAttempts = 10;

    private static readonly TimeSpan LeaseTime = TimeSpan.FromMinutes(15);

    private readonly TableClient _table;
    private readonly ILogger _logger;
    private readonly ExpiryIndex _index = new();
    private readonly TableGuard _guard;

    public TableResponseStore(TableClient table, ILogger<TableResponseStore> logger)
    {
        _table = table;
        _logger = logger;
        _guard = new TableGuard(table, logger, "responses");
    }

    public async Task SaveAsync(StoredResponse response, CancellationToken cancellationToken)
    {
        await _guard.EnsureCreatedAsync(cancellationToken);
        var partition = ResponseRows.PartitionOf(response.Id);
        var chunks = ResponsePayload.Split(ResponsePayload.Encode(response.Response, response.InputItems, out var plainBytes));
        var continuations = Math.Max(0, (chunks.Count - 1) / ResponseRows.ChunksPerRow);
        // The index row is written alongside the turn, not before it, so a new chain costs one write's latency, not
        // two; the save fails if either fails, so a turn reported stored is always indexed.
        var bucket = _index.RowToAdd(partition, response.CreatedAt);
        var indexed = bucket is null ? Task.CompletedTask : UpsertAsync(bucket, cancellationToken);
        try
        {
            await WriteTurnAsync(response, partition, chunks, continuations, plainBytes, cancellationToken);
        }
        catch
        {
            await indexed.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            throw;
        }
        await indexed;
        if (bucket is not null)
        {
            _index.Added(bucket);
        }
        Log.Saved(_logger, response.Id, chunks.Count, continuations);
    }

    private async Task WriteTurnAsync(StoredResponse response, string partition, List<byte[]> chunks, int continuations, long plainBytes, CancellationToken cancellationToken)
    {
        // Continuation rows first: the head row is the commit marker, so a reader never sees half a turn.
        for (var i = 1; i <= continuations; i++)
        {
            var row = new TableEntity(partition, ResponseRows.ContinuationKey(response.Id, i));
            ResponseRows.WriteChunks(row, chunks, i * ResponseRows.ChunksPerRow);
            await UpsertAsync(row, cancellationToken);
        }
        var head = new TableEntity(partition, response.Id)
        {
            [ResponseRows.Owner] = response.Owner,
            [ResponseRows.Parent] = response.PreviousResponseId,
            [ResponseRows.Status] = response.Status,
            [ResponseRows.Model] = response.Model,
            [ResponseRows.CreatedAt] = response.CreatedAt,
            [ResponseRows.Deleted] = false,
            [ResponseRows.Continuations] = (long)continuations,
            [ResponseRows.PlainBytes] = plainBytes,
        };
        ResponseRows.WriteChunks(head, chunks, 0);
        if (response.PreviousResponseId is not { } parent)
        {
            // Upsert: a write that timed out but succeeded server-side may be retried safely.
            await UpsertAsync(head, cancellationToken);
        }
        else if (!await CommitChildAsync(head, parent, cancellationToken))
        {
            await RemoveContinuationsAsync(partition, response.Id, continuations, cancellationToken);
            throw new PreviousResponseGoneException(parent);
        }
    }

    /// <summary>
    /// Writes a child's head row in one entity group transaction with a merge into its parent's head row. The merge
    /// carries <c>If-Match: *</c>: it fails only when the parent row is gone, never because another fork touched it, so
    /// forks do not serialise; and it changes the parent's ETag, which is what a delete of the parent conditions on
    /// (<see cref="DeleteAsync"/>). False when the parent row is gone: nothing of the transaction was written.
    /// </summary>
    private async Task<bool> CommitChildAsync(TableEntity head, string parent, CancellationToken cancellationToken)
    {
        var marker = new TableEntity(head.PartitionKey, parent) { [ResponseRows.ChildWrittenAt] = DateTimeOffset.UtcNow };
        TableTransactionAction[] actions =
        [
            new(TableTransactionActionType.UpdateMerge, marker, ETag.All),
            new(TableTransactionActionType.UpsertReplace, head),
        ];
        try
        {
            await _table.SubmitTransactionAsync(actions, cancellationToken);
            return true;
        }
        catch (TableTransactionFailedException e) when (e.Status == 404 && e.FailedTransactionActionIndex == 0)
        {
            return false;
        }
        catch (Exception e) when (TableFailures.IsStoreFailure(e, cancellationToken))
        {
            throw _guard.Unavailable("write", e);
        }
    }

    public async Task<StoredResponse?> GetAsync(string owner, string id, CancellationToken cancellationToken)
    {
        var partition = ResponseRows.PartitionOf(id);
        var head = await GetHeadAsync(partition, id, null, cancellationToken);
        if (head is null || !Visible(head, owner))
        {
            return null;
        }
        var continuations = ResponseRows.ContinuationCount(head) > 0
            ? await QueryAllAsync(ResponseRows.ContinuationsOf(partition, id), null, cancellationToken)
            : [];
        return Assemble(head, continuations);
    }

    public async Task<bool> IsVisibleAsync(string owner, string id, CancellationToken cancellationToken)
    {
        // Two small columns of the head row: no payload, whatever the size of the turn or the depth of its chain.
        var head = await GetHeadAsync(ResponseRows.PartitionOf(id), id, VisibilityColumns, cancellationToken);
        return head is not null && Visible(head, owner);
    }

    public Task<IReadOnlyList<StoredResponse>?> GetChainAsync(string owner, string id, CancellationToken cancellationToken) =>
        GetChainAsync(owner, id, long.MaxValue, cancellationToken);

    public async Task<IReadOnlyList<StoredResponse>?> GetChainAsync(string owner, string id, long maxBytes, CancellationToken cancellationToken)
    {
        var partition = ResponseRows.PartitionOf(id);
        var rows = await QueryAllAsync(TableClient.CreateQueryFilter($"PartitionKey eq {partition}"), null, cancellationToken);
        var heads = new Dictionary<string, TableEntity>(StringComparer.Ordinal);
        var continuations = new Dictionary<string, List<TableEntity>>(StringComparer.Ordinal);
        foreach (var row in rows)
        {
            if (ResponseRows.IsContinuation(row.RowKey, out var responseId))
            {
                (continuations.TryGetValue(responseId, out var list) ? list : continuations[responseId] = []).Add(row);
            }
            else
            {
                heads[row.RowKey] = row;
            }
        }
        if (!heads.TryGetValue(id, out var target) || !Visible(target, owner))
        {
            return null;
        }
        // Walk parent links from the requested turn to the root. Deleted ancestors still carry their items (they are
        // hidden, not removed, while descendants need them); a missing or foreign ancestor breaks the chain. Only the
        // path is decoded, and only once its sizes, known from the head rows, are within the bound.
        var path = new List<TableEntity>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        long bytes = 0;
        for (var current = target; current is not null;)
        {
            if (!seen.Add(current.RowKey) || current.GetString(ResponseRows.Owner) != owner)
            {
                return null;
            }
            path.Add(current);
            bytes += current.GetInt64(ResponseRows.PlainBytes) ?? 0;
            var parent = current.GetString(ResponseRows.Parent);
            if (parent is null)
            {
                break;
            }
            if (!heads.TryGetValue(parent, out current))
            {
                return null;
            }
        }
        if (bytes > maxBytes)
        {
            throw new ChainTooLargeException(bytes, maxBytes);
        }
        var chain = path.Select(head => Assemble(head, continuations.GetValueOrDefault(head.RowKey) ?? [])).ToList();
        chain.Reverse();
        return chain;
    }

    public async Task<bool> DeleteAsync(string owner, string id, CancellationToken cancellationToken)
    {
        var partition = ResponseRows.PartitionOf(id);
        // Each attempt conditions its write on the ETag it read when it checked for children. A child stored in between
        // changed that ETag (CommitChildAsync), so the write fails and the next attempt sees the child. Each failed
        // attempt means another write landed; a few are plenty even with many parallel forks.
        for (var attempt = 0; ; attempt++)
        {
            var head = await GetHeadAsync(partition, id, DeleteColumns, cancellationToken);
            if (head is null || !Visible(head, owner))
            {
                return false;
            }
            if (await HasChildrenAsync(partition, id, cancellationToken))
            {
                // Descendants are rebuilt from this turn's items: hide it, keep its rows until the last one is deleted.
                var tombstone = new TableEntity(partition, id) { [ResponseRows.Deleted] = true };
                if (await _guard.ConditionalAsync(() => _table.UpdateEntityAsync(tombstone, head.ETag, TableUpdateMode.Merge, cancellationToken), "delete", cancellationToken))
                {
                    return true;
                }
            }
            else if (await _guard.ConditionalAsync(() => _table.DeleteEntityAsync(partition, id, head.ETag, cancellationToken), "delete", cancellationToken))
            {
                await RemoveContinuationsAsync(partition, id, ResponseRows.ContinuationCount(head), cancellationToken);
                await EraseDeletedAncestorsAsync(partition, head.GetString(ResponseRows.Parent), cancellationToken);
                return true;
            }
            if (attempt == MaxDeleteAttempts)
            {
                throw _guard.Unavailable("delete", new InvalidOperationException("The row kept changing."));
            }
        }
    }

    /// <summary>
    /// Erases the hidden ancestors that the removed turn was the last living descendant of, nearest first; stops at
    /// the first that is visible or still has a child (a child stored meanwhile changes its ETag: it stays).
    /// </summary>
    private async Task EraseDeletedAncestorsAsync(string partition, string? id, CancellationToken cancellationToken)
    {
        while (id is not null)
        {
            var head = await GetHeadAsync(partition, id, DeleteColumns, cancellationToken);
            if (head is null || head.GetBoolean(ResponseRows.Deleted) != true || await HasChildrenAsync(partition, id, cancellationToken)
                || !await _guard.ConditionalAsync(() => _table.DeleteEntityAsync(partition, id, head.ETag, cancellationToken), "delete", cancellationToken))
            {
                return;
            }
            await RemoveContinuationsAsync(partition, id, ResponseRows.ContinuationCount(head), cancellationToken);
            id = head.GetString(ResponseRows.Parent);
        }
    }

    private async Task<bool> HasChildrenAsync(string partition, string id, CancellationToken cancellationToken) =>
        (await QueryAllAsync(TableClient.CreateQueryFilter($"PartitionKey eq {partition} and Parent eq {id}"), [ResponseRows.Parent], cancellationToken, maxRows: 1)).Count > 0;

    /// <summary>Removes a turn's continuation rows; without their head row they are invisible, so order does not matter.</summary>
    private async Task RemoveContinuationsAsync(string partition, string id, long count, CancellationToken cancellationToken)
    {
        for (var i = 1; i <= count; i++)
        {
            var key = ResponseRows.ContinuationKey(id, i);
            await _guard.ConditionalAsync(() => _table.DeleteEntityAsync(partition, key, ETag.All, cancellationToken), "delete", cancellationToken);
        }
    }

    public async Task<int> SweepAsync(DateTimeOffset cutoff, CancellationToken cancellationToken)
    {
        await _guard.EnsureCreatedAsync(cancellationToken);
        if (await TryTakeLeaseAsync(cancellationToken) is not { } lease)
        {
            return 0; // another instance is sweeping
        }
        // Only the buckets of the days before the cutoff's day: what is read scales with what expires, not with the table.
        var removed = 0;
        var limit = cutoff.ToUnixTimeSeconds();
        foreach (var bucket in await QueryAllAsync(ExpiryIndex.ExpiredBuckets(cutoff), ["PartitionKey", "RowKey"], cancellationToken))
        {
            // A chain lives while any of its turns is younger than the cutoff: re-read the chain's heads (no payload).
            var chain = bucket.RowKey;
            var rows = await QueryAllAsync(TableClient.CreateQueryFilter($"PartitionKey eq {chain}"), SweepColumns, cancellationToken);
            if (rows.Count > 0 && rows.Max(r => r.GetInt64(ResponseRows.CreatedAt) ?? 0) < limit)
            {
                removed += await RemoveChainAsync(chain, rows, cancellationToken);
            }
            // A chain that lives on was indexed again on a later day; this bucket row has done its work.
            await _guard.ConditionalAsync(() => _table.DeleteEntityAsync(bucket.PartitionKey, bucket.RowKey, ETag.All, cancellationToken), "delete", cancellationToken);
        }
        await _guard.ConditionalAsync(() => _table.DeleteEntityAsync(ExpiryIndex.LeasePartition, ExpiryIndex.LeaseRow, lease, cancellationToken), "delete", cancellationToken);
        return removed;
    }

    /// <summary>
    /// The sweep lease, so one instance sweeps at a time (the Functions timer is a singleton, the standalone servers
    /// are not): a conditional insert, or an ETag-checked update of a lease that has expired. The ETag held, or null.
    /// </summary>
    private async Task<ETag?> TryTakeLeaseAsync(CancellationToken cancellationToken)
    {
        var now = DateTimeOffset.UtcNow;
        var lease = new TableEntity(ExpiryIndex.LeasePartition, ExpiryIndex.LeaseRow) { [ExpiryIndex.LeaseExpiresAt] = now + LeaseTime };
        try
        {
            var current = await _table.GetEntityIfExistsAsync<TableEntity>(ExpiryIndex.LeasePartition, ExpiryIndex.LeaseRow, null, cancellationToken);
            if (!current.HasValue)
            {
                return (await _table.AddEntityAsync(lease, cancellationToken)).Headers.ETag;
            }
            if (current.Value!.GetDateTimeOffset(ExpiryIndex.LeaseExpiresAt) > now)
            {
                return null;
            }
            return (await _table.UpdateEntityAsync(lease, current.Value.ETag, TableUpdateMode.Replace, cancellationToken)).Headers.ETag;
        }
        catch (RequestFailedException e) when (e.Status is 409 or 412 or 404)
        {
            return null; // another instance took it first
        }
        catch (Exception e) when (TableFailures.IsStoreFailure(e, cancellationToken))
        {
            throw _guard.Unavailable("take the sweep lease", e);
        }
    }

    /// <summary>
    /// Removes the listed rows of an expired chain, descendants before their ancestors, each head row on the ETag it
    /// was listed with: a child stored since changed its parent's ETag, so the sweep stops there and the chain, alive
    /// again, keeps every ancestor that child needs. Returns the turns removed.
    /// </summary>
    private async Task<int> RemoveChainAsync(string partition, List<TableEntity> rows, CancellationToken cancellationToken)
    {
        var heads = rows.Where(r => !ResponseRows.IsContinuation(r.RowKey, out _)).ToDictionary(r => r.RowKey, StringComparer.Ordinal);
        int Depth(TableEntity head)
        {
            var depth = 0;
            for (var parent = head.GetString(ResponseRows.Parent); parent is not null && heads.TryGetValue(parent, out var up) && depth <= heads.Count; parent = up.GetString(ResponseRows.Parent))
            {
                depth++;
            }
            return depth;
        }
        var removed = 0;
        foreach (var head in heads.Values.OrderByDescending(Depth))
        {
            try
            {
                await _table.DeleteEntityAsync(partition, head.RowKey, head.ETag, cancellationToken);
                removed++;
            }
            catch (RequestFailedException e) when (e.Status == 404)
            {
                // deleted meanwhile: its continuation rows go below
            }
            catch (RequestFailedException e) when (e.Status == 412)
            {
                return removed; // the chain is alive again
            }
            catch (Exception e) when (TableFailures.IsStoreFailure(e, cancellationToken))
            {
                throw _guard.Unavailable("delete", e);
            }
        }
        // Without their head rows, continuation rows are invisible: they go last.
        foreach (var row in rows.Where(r => ResponseRows.IsContinuation(r.RowKey, out _)))
        {
            await _guard.ConditionalAsync(() => _table.DeleteEntityAsync(partition, row.RowKey, ETag.All, cancellationToken), "delete", cancellationToken);
        }
        return removed;
    }

    /// <summary>The head row, or null when it (or the table) does not exist.</summary>
    private async Task<TableEntity?> GetHeadAsync(string partition, string id, IEnumerable<string>? select, CancellationToken cancellationToken)
    {
        try
        {
            var result = await _table.GetEntityIfExistsAsync<TableEntity>(partition, id, select, cancellationToken);
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

    private async Task<List<TableEntity>> QueryAllAsync(string? filter, IEnumerable<string>? select, CancellationToken cancellationToken, int? maxRows = null)
    {
        var rows = new List<TableEntity>();
        try
        {
            await foreach (var page in _table.QueryAsync<TableEntity>(filter, maxRows, select, cancellationToken).AsPages().WithCancellation(cancellationToken))
            {
                rows.AddRange(page.Values);
                if (rows.Count >= maxRows)
                {
                    break;
                }
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

    private static StoredResponse Assemble(TableEntity head, List<TableEntity> continuations)
    {
        var payload = new MemoryStream();
        foreach (var row in continuations.OrderBy(r => r.RowKey, StringComparer.Ordinal).Prepend(head))
        {
            foreach (var chunk in ResponseRows.ReadChunks(row))
            {
                payload.Write(chunk);
            }
        }
        var (response, input) = ResponsePayload.Decode(payload.ToArray());
        return new StoredResponse
        {
            Id = head.RowKey,
            Owner = head.GetString(ResponseRows.Owner) ?? "",
            PreviousResponseId = head.GetString(ResponseRows.Parent),
            Status = head.GetString(ResponseRows.Status) ?? "",
            Model = head.GetString(ResponseRows.Model) ?? "",
            CreatedAt = head.GetInt64(ResponseRows.CreatedAt) ?? 0,
            Response = response,
            InputItems = input,
        };
    }

    private Task UpsertAsync(TableEntity row, CancellationToken cancellationToken) =>
        _guard.WriteAsync(() => _table.UpsertEntityAsync(row, TableUpdateMode.Replace, cancellationToken), "write", cancellationToken);

    private static bool Visible(TableEntity head, string owner) =>
        head.GetString(ResponseRows.Owner) == owner && head.GetBoolean(ResponseRows.Deleted) != true;

    private static partial class Log
    {
        [LoggerMessage(EventId = 4001, Level = LogLevel.Debug, Message = "Stored {ResponseId} in {Chunks} chunks ({Continuations} continuation rows)")]
        public static partial void Saved(ILogger logger, string responseId, int chunks, int continuations);
    }
}
