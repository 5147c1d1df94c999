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
    private static readonly string[] DeleteColumns = [ResponseRows.Owner, ResponseRows.Deleted, ResponseRows.Continuations];

    private readonly TableClient _table;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _createTable = new(1, 1);
    private volatile bool _tableReady;

    public TableResponseStore(TableClient table, ILogger<TableResponseStore> logger)
    {
        _table = table;
        _logger = logger;
    }

    public async Task SaveAsync(StoredResponse response, CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken);
        var partition = ResponseRows.PartitionOf(response.Id);
        var chunks = ResponsePayload.Split(ResponsePayload.Encode(response.Response, response.InputItems));
        var continuations = Math.Max(0, (chunks.Count - 1) / ResponseRows.ChunksPerRow);

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
        };
        ResponseRows.WriteChunks(head, chunks, 0);
        // Upsert: a write that timed out but succeeded server-side may be retried safely.
        await UpsertAsync(head, cancellationToken);
        Log.Saved(_logger, response.Id, chunks.Count, continuations);
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

    public async Task<IReadOnlyList<StoredResponse>?> GetChainAsync(string owner, string id, CancellationToken cancellationToken)
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
        // tombstoned, not removed, while descendants need them); a missing or foreign ancestor breaks the chain.
        var chain = new List<StoredResponse>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var current = target; current is not null;)
        {
            if (!seen.Add(current.RowKey) || current.GetString(ResponseRows.Owner) != owner)
            {
                return null;
            }
            chain.Add(Assemble(current, continuations.GetValueOrDefault(current.RowKey) ?? []));
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
        chain.Reverse();
        return chain;
    }

    public async Task<bool> DeleteAsync(string owner, string id, CancellationToken cancellationToken)
    {
        var partition = ResponseRows.PartitionOf(id);
        var head = await GetHeadAsync(partition, id, DeleteColumns, cancellationToken);
        if (head is null || !Visible(head, owner))
        {
            return false;
        }
        var children = await QueryAllAsync(TableClient.CreateQueryFilter($"PartitionKey eq {partition} and Parent eq {id}"), [ResponseRows.Parent], cancellationToken, maxRows: 1);
        if (children.Count > 0)
        {
            // Descendants are rebuilt from this turn's items: hide it from every path but keep its items until the
            // chain expires. If-Match makes the tombstone lose a race against a concurrent delete instead of undoing it.
            var tombstone = new TableEntity(partition, id) { [ResponseRows.Deleted] = true };
            return await ConditionalAsync(() => _table.UpdateEntityAsync(tombstone, head.ETag, TableUpdateMode.Merge, cancellationToken), "delete", cancellationToken);
        }
        if (!await ConditionalAsync(() => _table.DeleteEntityAsync(partition, id, head.ETag, cancellationToken), "delete", cancellationToken))
        {
            return false;
        }
        for (var i = 1; i <= ResponseRows.ContinuationCount(head); i++)
        {
            var key = ResponseRows.ContinuationKey(id, i);
            await ConditionalAsync(() => _table.DeleteEntityAsync(partition, key, ETag.All, cancellationToken), "delete", cancellationToken);
        }
        return true;
    }

    public async Task<int> SweepAsync(DateTimeOffset cutoff, CancellationToken cancellationToken)
    {
        await EnsureTableAsync(cancellationToken);
        // A chain lives while any of its turns is younger than the cutoff, so whole partitions expire together.
        var newest = new Dictionary<string, long>(StringComparer.Ordinal);
        var rowsByPartition = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var row in await QueryAllAsync(null, ["PartitionKey", "RowKey", ResponseRows.CreatedAt], cancellationToken))
        {
            (rowsByPartition.TryGetValue(row.PartitionKey, out var keys) ? keys : rowsByPartition[row.PartitionKey] = []).Add(row.RowKey);
            if (row.GetInt64(ResponseRows.CreatedAt) is { } created)
            {
                newest[row.PartitionKey] = Math.Max(newest.GetValueOrDefault(row.PartitionKey), created);
            }
        }
        var removed = 0;
        var limit = cutoff.ToUnixTimeSeconds();
        foreach (var (partition, keys) in rowsByPartition)
        {
            if (newest.GetValueOrDefault(partition) >= limit)
            {
                continue;
            }
            // Continuation rows go first, so an interrupted sweep never leaves a head row without its payload.
            foreach (var key in keys.OrderByDescending(k => ResponseRows.IsContinuation(k, out _)))
            {
                if (await ConditionalAsync(() => _table.DeleteEntityAsync(partition, key, ETag.All, cancellationToken), "delete", cancellationToken)
                    && !ResponseRows.IsContinuation(key, out _))
                {
                    removed++;
                }
            }
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
            throw Unavailable("read", e);
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
            throw Unavailable("query", e);
        }
        return rows;
    }

    /// <summary>A write that may lose to another: false when the row is gone or changed (404, 412).</summary>
    private async Task<bool> ConditionalAsync(Func<Task<Response>> write, string operation, CancellationToken cancellationToken)
    {
        try
        {
            await write();
            return true;
        }
        catch (RequestFailedException e) when (e.Status is 404 or 412)
        {
            return false;
        }
        catch (Exception e) when (TableFailures.IsStoreFailure(e, cancellationToken))
        {
            throw Unavailable(operation, e);
        }
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

    private static bool Visible(TableEntity head, string owner) =>
        head.GetString(ResponseRows.Owner) == owner && head.GetBoolean(ResponseRows.Deleted) != true;

    private async Task UpsertAsync(TableEntity row, CancellationToken cancellationToken)
    {
        try
        {
            try
            {
                await _table.UpsertEntityAsync(row, TableUpdateMode.Replace, cancellationToken);
            }
            catch (RequestFailedException e) when (e.Status == 404 && e.ErrorCode == "TableNotFound")
            {
                // The table went away after this process created it (deleted, or an emulator restarted empty): without
                // this, every later write would fail until the process restarts.
                _tableReady = false;
                await EnsureTableAsync(cancellationToken);
                await _table.UpsertEntityAsync(row, TableUpdateMode.Replace, cancellationToken);
            }
        }
        catch (Exception e) when (TableFailures.IsStoreFailure(e, cancellationToken))
        {
            throw Unavailable("write", e);
        }
    }

    private async Task EnsureTableAsync(CancellationToken cancellationToken)
    {
        if (_tableReady)
        {
            return;
        }
        await _createTable.WaitAsync(cancellationToken);
        try
        {
            if (!_tableReady)
            {
                await _table.CreateIfNotExistsAsync(cancellationToken);
                _tableReady = true;
            }
        }
        catch (Exception e) when (TableFailures.IsStoreFailure(e, cancellationToken))
        {
            throw Unavailable("create the table", e);
        }
        finally
        {
            _createTable.Release();
        }
    }

    private StoreUnavailableException Unavailable(string operation, Exception e)
    {
        var (status, code) = TableFailures.Describe(e);
        Log.StorageFailed(_logger, operation, status, code);
        // Not the SDK exception: its message carries request headers, URIs and bodies. Status and code are what an operator needs.
        return new StoreUnavailableException($"Table storage could not {operation}: HTTP {status} ({code ?? "no answer"}).");
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 4001, Level = LogLevel.Debug, Message = "Stored {ResponseId} in {Chunks} chunks ({Continuations} continuation rows)")]
        public static partial void Saved(ILogger logger, string responseId, int chunks, int continuations);

        [LoggerMessage(EventId = 4002, Level = LogLevel.Warning, Message = "Table storage failed to {Operation}: HTTP {Status} ({Code})")]
        public static partial void StorageFailed(ILogger logger, string operation, int status, string? code);
    }
}
