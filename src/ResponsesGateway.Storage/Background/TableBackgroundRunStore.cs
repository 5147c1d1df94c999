using System.Text.Json.Nodes;
using Azure;
using Azure.Data.Tables;
using Microsoft.Extensions.Logging;
using ResponsesGateway.Core.Background;
using ResponsesGateway.Core.Storage;
using ResponsesGateway.Storage.Responses;
using ResponsesGateway.Storage.Tables;

namespace ResponsesGateway.Storage.Background;

/// <summary><see cref="IBackgroundRunStore"/> on the chain table (layout in <see cref="BackgroundRows"/>).</summary>
internal sealed class TableBackgroundRunStore(TableClient table, ILogger<TableBackgroundRunStore> logger) : IBackgroundRunStore
{
    private static readonly string[] RunColumns = [BackgroundRows.Owner, BackgroundRows.State, BackgroundRows.LeaseUntil, BackgroundRows.LastSequence];
    private readonly TableGuard _guard = new(table, logger, "background runs");

    public async Task CreateAsync(BackgroundRun run, JsonObject requestBody, CancellationToken cancellationToken)
    {
        await _guard.EnsureCreatedAsync(cancellationToken);
        var partition = ResponseRows.PartitionOf(run.Id);
        var rows = BackgroundRows.RowsOf(BackgroundRows.EncodeRequest(requestBody));
        for (var i = 0; i < rows.Count; i++)
        {
            var row = new TableEntity(partition, BackgroundRows.RequestKey(run.Id, i));
            ResponseRows.WriteChunks(row, rows[i], 0);
            await _guard.WriteAsync(() => table.UpsertEntityAsync(row, TableUpdateMode.Replace, cancellationToken), "write", cancellationToken);
        }
        var head = new TableEntity(partition, BackgroundRows.RunKey(run.Id))
        {
            [BackgroundRows.Owner] = run.Owner,
            [BackgroundRows.State] = run.State,
            [BackgroundRows.LastSequence] = run.LastSequence,
            [BackgroundRows.RequestRows] = (long)rows.Count,
        };
        await _guard.WriteAsync(() => table.UpsertEntityAsync(head, TableUpdateMode.Replace, cancellationToken), "write", cancellationToken);
    }

    public async Task<BackgroundRun?> GetAsync(string id, CancellationToken cancellationToken)
    {
        var row = await GetRowAsync(ResponseRows.PartitionOf(id), BackgroundRows.RunKey(id), RunColumns, cancellationToken);
        return row is null ? null : BackgroundRows.ToRun(row, id);
    }

    public async Task<JsonObject?> GetRequestAsync(string id, CancellationToken cancellationToken)
    {
        var partition = ResponseRows.PartitionOf(id);
        var run = await GetRowAsync(partition, BackgroundRows.RunKey(id), [BackgroundRows.RequestRows], cancellationToken);
        if (run?.GetInt64(BackgroundRows.RequestRows) is not { } count)
        {
            return null;
        }
        var payload = new MemoryStream();
        for (var i = 0; i < count; i++)
        {
            var row = await GetRowAsync(partition, BackgroundRows.RequestKey(id, i), null, cancellationToken);
            if (row is null)
            {
                return null;
            }
            foreach (var chunk in ResponseRows.ReadChunks(row))
            {
                payload.Write(chunk);
            }
        }
        return BackgroundRows.Decompress(payload.ToArray()) as JsonObject;
    }

    public async Task<BackgroundRun?> TryUpdateAsync(BackgroundRun updated, CancellationToken cancellationToken)
    {
        var row = new TableEntity(ResponseRows.PartitionOf(updated.Id), BackgroundRows.RunKey(updated.Id))
        {
            [BackgroundRows.State] = updated.State,
            [BackgroundRows.LeaseUntil] = updated.LeaseUntil,
            [BackgroundRows.LastSequence] = updated.LastSequence,
        };
        try
        {
            var response = await table.UpdateEntityAsync(row, new ETag(updated.Version), TableUpdateMode.Merge, cancellationToken);
            return updated with { Version = response.Headers.ETag?.ToString() ?? "" };
        }
        catch (RequestFailedException e) when (e.Status is 404 or 412)
        {
            return null;
        }
        catch (Exception e) when (TableFailures.IsStoreFailure(e, cancellationToken))
        {
            throw _guard.Unavailable("write", e);
        }
    }

    public async Task AppendEventsAsync(string id, IReadOnlyList<SequencedEvent> events, CancellationToken cancellationToken)
    {
        if (events.Count == 0)
        {
            return;
        }
        var partition = ResponseRows.PartitionOf(id);
        var first = events[0].SequenceNumber;
        var rows = BackgroundRows.RowsOf(BackgroundRows.EncodeEvents(events));
        // Later parts first: part 0 is the commit marker of the batch.
        for (var part = rows.Count - 1; part >= 0; part--)
        {
            var row = new TableEntity(partition, BackgroundRows.EventKey(id, first, part));
            ResponseRows.WriteChunks(row, rows[part], 0);
            if (part == 0)
            {
                row[BackgroundRows.Parts] = rows.Count;
                row[BackgroundRows.Last] = events[^1].SequenceNumber;
            }
            await _guard.WriteAsync(() => table.UpsertEntityAsync(row, TableUpdateMode.Replace, cancellationToken), "write", cancellationToken);
        }
    }

    public async Task<IReadOnlyList<SequencedEvent>> ReadEventsAsync(string id, int after, bool afterEndsBatch, CancellationToken cancellationToken)
    {
        var partition = ResponseRows.PartitionOf(id);
        var rows = new List<TableEntity>();
        try
        {
            // Batches are consecutive, so a reader that knows 'after' ends a batch reads from the next one on; otherwise
            // from the start, since a batch that starts before 'after' may hold later events.
            var first = afterEndsBatch ? after + 1 : 0;
            await foreach (var row in table.QueryAsync<TableEntity>(BackgroundRows.EventsFrom(partition, id, first), cancellationToken: cancellationToken))
            {
                rows.Add(row);
            }
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return [];
        }
        catch (Exception e) when (TableFailures.IsStoreFailure(e, cancellationToken))
        {
            throw _guard.Unavailable("query", e);
        }
        var events = new List<SequencedEvent>();
        var batches = rows
            .Select(r => BackgroundRows.TryParseEventKey(r.RowKey, out var f, out var p) ? (First: f, Part: p, Row: r) : (First: -1, Part: -1, Row: r))
            .Where(b => b.First >= 0)
            .GroupBy(b => b.First)
            .OrderBy(g => g.Key);
        var expected = -1;
        foreach (var batch in batches)
        {
            var parts = batch.OrderBy(b => b.Part).ToList();
            var head = parts[0];
            // A batch whose marker is not written yet, or a gap before it: stop, the rest is not there yet.
            if (head.Part != 0 || head.Row.GetInt32(BackgroundRows.Parts) is not { } count || parts.Count < count
                || (expected >= 0 && batch.Key != expected))
            {
                break;
            }
            expected = (head.Row.GetInt32(BackgroundRows.Last) ?? batch.Key) + 1;
            if (expected - 1 <= after)
            {
                continue;
            }
            var payload = new MemoryStream();
            foreach (var part in parts.Take(count))
            {
                foreach (var chunk in ResponseRows.ReadChunks(part.Row))
                {
                    payload.Write(chunk);
                }
            }
            events.AddRange(BackgroundRows.DecodeEvents(payload.ToArray()).Where(e => e.SequenceNumber > after));
        }
        return events;
    }

    private async Task<TableEntity?> GetRowAsync(string partition, string rowKey, IEnumerable<string>? select, CancellationToken cancellationToken)
    {
        try
        {
            var result = await table.GetEntityIfExistsAsync<TableEntity>(partition, rowKey, select, cancellationToken);
            return result.HasValue ? result.Value : null;
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
}
