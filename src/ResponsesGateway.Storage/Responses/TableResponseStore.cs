using Azure;
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
            [ResponseRows.Continuations] = (long)continuations, // Int64 carries its type on the wire; Int32 comes back as a bare number
        };
        ResponseRows.WriteChunks(head, chunks, 0);
        // Upsert: a write that timed out but succeeded server-side may be retried safely.
        await UpsertAsync(head, cancellationToken);
        Log.Saved(_logger, response.Id, chunks.Count, continuations);
    }

    public async Task<StoredResponse?> GetAsync(string owner, string id, CancellationToken cancellationToken)
    {
        var partition = ResponseRows.PartitionOf(id);
        var result = await _table.GetEntityAsync(partition, id, null, cancellationToken);
        if (result.Status == TableResultStatus.NotFound)
        {
            return null;
        }
        Check(result, "read");
        var head = result.Value!;
        if (!Visible(head, owner))
        {
            return null;
        }
        var rows = new List<TableEntity> { head };
        if ((head.GetInt64(ResponseRows.Continuations) ?? 0) > 0)
        {
            var prefix = id + ResponseRows.ContinuationSeparator;
            var filter = $"PartitionKey eq {ResponseRows.Literal(partition)} and RowKey gt {ResponseRows.Literal(prefix)} and RowKey lt {ResponseRows.Literal(id + (char)(ResponseRows.ContinuationSeparator + 1))}";
            rows.AddRange(await QueryAllAsync(filter, null, cancellationToken));
        }
        return Assemble(head, rows.Where(r => r != head).ToList());
    }

    public async Task<bool> IsVisibleAsync(string owner, string id, CancellationToken cancellationToken)
    {
        // Two small columns of the head row: no payload, whatever the size of the turn or the depth of its chain.
        var result = await _table.GetEntityAsync(ResponseRows.PartitionOf(id), id, [ResponseRows.Owner, ResponseRows.Deleted], cancellationToken);
        if (result.Status == TableResultStatus.NotFound)
        {
            return false;
        }
        Check(result, "read");
        return Visible(result.Value!, owner);
    }

    public async Task<IReadOnlyList<StoredResponse>?> GetChainAsync(string owner, string id, CancellationToken cancellationToken)
    {
        var partition = ResponseRows.PartitionOf(id);
        var rows = await QueryAllAsync($"PartitionKey eq {ResponseRows.Literal(partition)}", null, cancellationToken);
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
        var result = await _table.GetEntityAsync(partition, id, [ResponseRows.Owner, ResponseRows.Deleted, ResponseRows.Continuations], cancellationToken);
        if (result.Status == TableResultStatus.NotFound)
        {
            return false;
        }
        Check(result, "read");
        var head = result.Value!;
        if (!Visible(head, owner))
        {
            return false;
        }
        var children = await _table.QueryPageAsync(
            $"PartitionKey eq {ResponseRows.Literal(partition)} and Parent eq {ResponseRows.Literal(id)}", [ResponseRows.Parent], 1, null, cancellationToken);
        Check(children, "read");
        if (children.Value!.Values.Count > 0 || children.Value.ContinuationToken is not null)
        {
            // Descendants are rebuilt from this turn's items: hide it from every path but keep its items until the
            // chain expires. If-Match makes the tombstone lose a race against a concurrent delete instead of undoing it.
            var tombstone = new TableEntity(partition, id) { [ResponseRows.Deleted] = true };
            var merged = await _table.UpdateEntityAsync(tombstone, head.ETag, TableUpdateMode.Merge, cancellationToken);
            return merged.Status == TableResultStatus.Ok || (merged.Status is not (TableResultStatus.NotFound or TableResultStatus.PreconditionFailed) && Fail(merged, "delete"));
        }
        var deleted = await _table.DeleteEntityAsync(partition, id, head.ETag, cancellationToken);
        if (deleted.Status is TableResultStatus.NotFound or TableResultStatus.PreconditionFailed)
        {
            return false;
        }
        Check(deleted, "delete");
        for (var i = 1; i <= (head.GetInt64(ResponseRows.Continuations) ?? 0); i++)
        {
            await _table.DeleteEntityAsync(partition, ResponseRows.ContinuationKey(id, i), ETag.All, cancellationToken);
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
                var result = await _table.DeleteEntityAsync(partition, key, ETag.All, cancellationToken);
                if (result.Status == TableResultStatus.Ok && !ResponseRows.IsContinuation(key, out _))
                {
                    removed++;
                }
            }
        }
        return removed;
    }

    private async Task<List<TableEntity>> QueryAllAsync(string? filter, IReadOnlyList<string>? select, CancellationToken cancellationToken)
    {
        var rows = new List<TableEntity>();
        string? continuation = null;
        do
        {
            var page = await _table.QueryPageAsync(filter, select, null, continuation, cancellationToken);
            if (page.Status == TableResultStatus.NotFound)
            {
                return rows; // no table yet: nothing stored
            }
            Check(page, "query");
            rows.AddRange(page.Value!.Values);
            continuation = page.Value.ContinuationToken;
        }
        while (continuation is not null);
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

    private static bool Visible(TableEntity head, string owner) =>
        head.GetString(ResponseRows.Owner) == owner && head.GetBoolean(ResponseRows.Deleted) != true;

    private async Task UpsertAsync(TableEntity row, CancellationToken cancellationToken)
    {
        var result = await _table.UpsertEntityAsync(row, TableUpdateMode.Replace, cancellationToken);
        if (result.Status == TableResultStatus.NotFound && result.ErrorCode == "TableNotFound")
        {
            // The table went away after this process created it (deleted, or an emulator restarted empty): without
            // this, every later write would fail until the process restarts.
            _tableReady = false;
            await EnsureTableAsync(cancellationToken);
            result = await _table.UpsertEntityAsync(row, TableUpdateMode.Replace, cancellationToken);
        }
        Check(result, "write");
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
                Check(await _table.CreateIfNotExistsAsync(cancellationToken), "create the table");
                _tableReady = true;
            }
        }
        finally
        {
            _createTable.Release();
        }
    }

    private void Check(TableResult result, string operation)
    {
        if (!result.IsOk)
        {
            Fail(result, operation);
        }
    }

    private bool Fail(TableResult result, string operation)
    {
        Log.StorageFailed(_logger, operation, result.Status, result.ErrorCode);
        throw new StoreUnavailableException($"Table storage could not {operation}: {result.Status} ({result.ErrorCode}).");
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 4001, Level = LogLevel.Debug, Message = "Stored {ResponseId} in {Chunks} chunks ({Continuations} continuation rows)")]
        public static partial void Saved(ILogger logger, string responseId, int chunks, int continuations);

        [LoggerMessage(EventId = 4002, Level = LogLevel.Warning, Message = "Table storage failed to {Operation}: {Status} ({Code})")]
        public static partial void StorageFailed(ILogger logger, string operation, TableResultStatus status, string? code);
    }
}
