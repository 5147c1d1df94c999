using System.Globalization;
using Azure.Data.Tables;
using ResponsesGateway.Core.Ids;

namespace ResponsesGateway.Storage.Responses;

/// <summary>
/// The table layout of response chains.
/// <list type="bullet">
/// <item>PartitionKey: the chain part of the response id, so one query reads a whole chain (invariant 3 in docs/architecture.md).</item>
/// <item>Head row, RowKey = the response id: owner, parent, status, model, created_at, deleted flag, and the first
/// payload chunks. It is written last and is the commit marker: a turn without its head row does not exist.</item>
/// <item>Continuation rows, RowKey = id + <c>~0001</c>…: further payload chunks of a large turn.</item>
/// <item>A child's head row is written in one transaction with a merge into its parent's head row (see
/// <see cref="ChildWrittenAt"/>), so a child and the removal of its parent exclude each other.</item>
/// </list>
/// </summary>
internal static class ResponseRows
{
    public const string Owner = "Owner";
    public const string Parent = "Parent";
    public const string Status = "Status";
    public const string Model = "Model";
    public const string CreatedAt = "CreatedAt";
    public const string Deleted = "Deleted";
    public const string Continuations = "Continuations";

    /// <summary>The turn's document before compression: what decoding it costs, known before decoding.</summary>
    public const string PlainBytes = "PlainBytes";

    /// <summary>Merged into a parent's head row with each child: changes its ETag, which a delete conditions on.</summary>
    public const string ChildWrittenAt = "ChildWrittenAt";
    public const string ChunkPrefix = "P";

    /// <summary>Payload chunks per row: 10 × 60 KiB keeps a row under 1 MiB even after base64 on the wire.</summary>
    public const int ChunksPerRow = 10;

    public const char ContinuationSeparator = '~';

    public static string PartitionOf(string responseId) =>
        ResponseIds.TryGetChain(responseId, out var chain) ? chain : throw new ArgumentException("Not a gateway response id.", nameof(responseId));

    public static string ContinuationKey(string responseId, int index) =>
        responseId + ContinuationSeparator + index.ToString("D4", CultureInfo.InvariantCulture);

    public static bool IsContinuation(string rowKey, out string responseId)
    {
        var at = rowKey.IndexOf(ContinuationSeparator, StringComparison.Ordinal);
        responseId = at < 0 ? rowKey : rowKey[..at];
        return at >= 0;
    }

    public static string ChunkName(int index) => ChunkPrefix + index.ToString("D2", CultureInfo.InvariantCulture);

    public static void WriteChunks(TableEntity row, IReadOnlyList<byte[]> chunks, int first)
    {
        for (var i = 0; i < ChunksPerRow && first + i < chunks.Count; i++)
        {
            row[ChunkName(i)] = chunks[first + i];
        }
    }

    public static IEnumerable<byte[]> ReadChunks(TableEntity row)
    {
        for (var i = 0; i < ChunksPerRow; i++)
        {
            if (row.GetBinary(ChunkName(i)) is not { } chunk)
            {
                yield break;
            }
            yield return chunk;
        }
    }

    public static long ContinuationCount(TableEntity head) => head.GetInt64(Continuations) ?? 0;

    /// <summary>The filter of every continuation row of <paramref name="responseId"/>: a row-key range, no scan.</summary>
    public static string ContinuationsOf(string partition, string responseId) => TableClient.CreateQueryFilter(
        $"PartitionKey eq {partition} and RowKey gt {responseId + ContinuationSeparator} and RowKey lt {responseId + (char)(ContinuationSeparator + 1)}");
}
