using System.Globalization;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Azure.Data.Tables;
using ResponsesGateway.Protocol.Serialization;
using ResponsesGateway.Storage.Responses;

namespace ResponsesGateway.Storage.Conversations;

/// <summary>
/// The table layout of conversations, in the table that holds response chains.
/// <list type="bullet">
/// <item>PartitionKey: the conversation id (<c>conv_</c> + 48 hex digits; chain partitions are 32 hex digits, so the
/// two never meet): one query reads a whole conversation.</item>
/// <item>Head row, RowKey <c>c</c>: owner, created_at, metadata, the next item sequence number and the time of the last
/// activity. Every append is an ETag-guarded write of this row, which is what orders racing appends.</item>
/// <item>Item rows, RowKey <c>i</c> + a 10-digit sequence number: the item's id, its size before compression and the
/// first payload chunks (the same compressed, chunked encoding as a stored turn); continuation rows
/// (<c>i0000000007~0001</c>) hold the chunks of an item larger than one row.</item>
/// <item>Item index rows, PartitionKey <c>ix</c> + a hash of the owner, RowKey the item id: where the owner stored
/// that item last (a response id or a conversation id), so <c>item_reference</c> finds it with one point read.</item>
/// <item>Expiry buckets, PartitionKey <c>y</c> + the UTC day, RowKey the conversation id: the days a conversation was
/// active, so the retention sweep reads what may have expired, not the table.</item>
/// </list>
/// </summary>
internal static class ConversationRows
{
    public const string HeadKey = "c";
    public const string ItemPrefix = "i";
    public const string Owner = "Owner";
    public const string CreatedAt = "CreatedAt";
    public const string Metadata = "Metadata";
    public const string NextSequence = "NextSeq";
    public const string LastActivity = "LastActivity";
    public const string ItemId = "ItemId";
    public const string Place = "Place";
    public const string IndexPrefix = "ix";
    public const string BucketPrefix = "y";

    public static string ItemKey(long sequence) => ItemPrefix + sequence.ToString("D10", CultureInfo.InvariantCulture);

    public static bool IsItem(string rowKey) => rowKey.StartsWith(ItemPrefix, StringComparison.Ordinal) && !rowKey.Contains(ResponseRows.ContinuationSeparator, StringComparison.Ordinal);

    /// <summary>The item rows of a conversation, one per item and oldest first, each with its continuation rows.</summary>
    public static List<(TableEntity Row, List<TableEntity> Continuations)> Items(IEnumerable<TableEntity> rows)
    {
        var items = new SortedDictionary<string, (TableEntity Row, List<TableEntity> Continuations)>(StringComparer.Ordinal);
        var continuations = new Dictionary<string, List<TableEntity>>(StringComparer.Ordinal);
        foreach (var row in rows)
        {
            if (IsItem(row.RowKey))
            {
                items[row.RowKey] = (row, []);
            }
            else if (row.RowKey.StartsWith(ItemPrefix, StringComparison.Ordinal) && ResponseRows.IsContinuation(row.RowKey, out var owner))
            {
                (continuations.TryGetValue(owner, out var list) ? list : continuations[owner] = []).Add(row);
            }
        }
        return items.Values.Select(i => (i.Row, continuations.GetValueOrDefault(i.Row.RowKey) ?? [])).ToList();
    }

    /// <summary>An item as rows: the item row last (it is what makes the item exist), its continuations before it.</summary>
    public static List<TableEntity> Encode(string partition, long sequence, JsonObject item, out long storedBytes)
    {
        var compressed = Compress(item, out var plainBytes);
        var chunks = ResponsePayload.Split(compressed);
        storedBytes = compressed.Length;
        var key = ItemKey(sequence);
        var rows = new List<TableEntity>();
        var continuations = Math.Max(0, (chunks.Count - 1) / ResponseRows.ChunksPerRow);
        for (var i = 1; i <= continuations; i++)
        {
            var continuation = new TableEntity(partition, ResponseRows.ContinuationKey(key, i));
            ResponseRows.WriteChunks(continuation, chunks, i * ResponseRows.ChunksPerRow);
            rows.Add(continuation);
        }
        var row = new TableEntity(partition, key)
        {
            [ItemId] = Indexable((string?)item["id"]),
            [ResponseRows.PlainBytes] = plainBytes,
            [ResponseRows.Continuations] = (long)continuations,
        };
        ResponseRows.WriteChunks(row, chunks, 0);
        rows.Add(row);
        return rows;
    }

    public static JsonObject Decode(TableEntity row, IEnumerable<TableEntity> continuations)
    {
        using var payload = new MemoryStream();
        foreach (var part in continuations.OrderBy(r => r.RowKey, StringComparer.Ordinal).Prepend(row))
        {
            foreach (var chunk in ResponseRows.ReadChunks(part))
            {
                payload.Write(chunk);
            }
        }
        payload.Position = 0;
        using var gzip = new GZipStream(payload, CompressionMode.Decompress);
        using var plain = new MemoryStream();
        gzip.CopyTo(plain);
        // Written by us from items that passed the request limits.
        return JsonNode.Parse(plain.GetBuffer().AsSpan(0, (int)plain.Length), ProtocolJson.NodeOptions, new JsonDocumentOptions { MaxDepth = 256 })!.AsObject();
    }

    private static byte[] Compress(JsonObject item, out long plainBytes)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Fastest, leaveOpen: true))
        using (var writer = new Utf8JsonWriter(gzip))
        {
            item.WriteTo(writer);
            writer.Flush();
            plainBytes = writer.BytesCommitted;
        }
        return buffer.ToArray();
    }

    /// <summary>The index partition of an owner: a hash, since owner names are configuration keys of any shape.</summary>
    public static string IndexPartition(string owner) => IndexPrefix + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(owner)))[..32];

    /// <summary>Longest item id kept in a column (a string property holds 32K characters); longer ids are not referable.</summary>
    public const int MaxIndexedIdLength = 1024;

    public static string? Indexable(string? itemId) => itemId is { Length: > 0 and <= MaxIndexedIdLength } ? itemId : null;

    /// <summary>The index RowKey of an item id: the id itself when it is a valid key, else a hash of it.</summary>
    public static string IndexKey(string itemId) =>
        itemId.Length is > 0 and <= 200 && itemId.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.' or ':')
            ? itemId
            : "~" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(itemId)));

    /// <summary>The head row and the rows of the item with this id, in one query.</summary>
    public static string HeadAndItem(string id, string itemId) => TableClient.CreateQueryFilter(
        $"(PartitionKey eq {id} and RowKey eq {HeadKey}) or (PartitionKey eq {id} and ItemId eq {itemId})");

    public static string BucketOf(long unixSeconds) =>
        BucketPrefix + DateTimeOffset.FromUnixTimeSeconds(unixSeconds).UtcDateTime.ToString("yyyyMMdd", CultureInfo.InvariantCulture);

    /// <summary>Every bucket row of the days before the cutoff's day.</summary>
    public static string ExpiredBuckets(DateTimeOffset cutoff) => TableClient.CreateQueryFilter(
        $"PartitionKey ge {BucketPrefix} and PartitionKey lt {BucketOf(cutoff.ToUnixTimeSeconds())}");
}
