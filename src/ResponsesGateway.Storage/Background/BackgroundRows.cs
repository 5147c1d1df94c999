using System.Globalization;
using System.IO.Compression;
using System.Text.Json;
using System.Text.Json.Nodes;
using Azure.Data.Tables;
using ResponsesGateway.Core.Background;
using ResponsesGateway.Protocol.Serialization;
using ResponsesGateway.Storage.Responses;

namespace ResponsesGateway.Storage.Background;

/// <summary>
/// The rows of a background run, in its chain's partition beside the turn (so a whole chain, runs included, is one
/// partition, and the retention sweep removes them with it). Their keys carry <c>!</c>, never <c>~</c>, so the chain
/// store never mistakes them for a turn's continuation rows; and no turn id contains <c>!</c>.
/// <list type="bullet">
/// <item><c>{id}!run</c>: owner, state, lease, last sequence number: the row every change of state is conditional on.</item>
/// <item><c>{id}!req0000</c>…: the request body, compressed, for the runner.</item>
/// <item><c>{id}!ev{first:D8}-{part:D4}</c>: one batch of events (compressed JSON), cut in parts of up to 600 KiB;
/// part 0 is written last and says how many parts there are, so a reader sees a batch whole or not at all.</item>
/// </list>
/// </summary>
internal static class BackgroundRows
{
    public const string Owner = "Owner";
    public const string State = "State";
    public const string LeaseUntil = "LeaseUntil";
    public const string LastSequence = "LastSequence";
    public const string RequestRows = "RequestRows";
    public const string Parts = "Parts";
    public const string Last = "Last";

    public static string RunKey(string id) => id + "!run";

    public static string RequestKey(string id, int index) => id + "!req" + index.ToString("D4", CultureInfo.InvariantCulture);

    public static string EventKey(string id, int first, int part) =>
        id + "!ev" + first.ToString("D8", CultureInfo.InvariantCulture) + "-" + part.ToString("D4", CultureInfo.InvariantCulture);

    /// <summary>The filter of the event rows of <paramref name="id"/> from the batch starting at <paramref name="first"/> on.</summary>
    public static string EventsFrom(string partition, string id, int first) => TableClient.CreateQueryFilter(
        $"PartitionKey eq {partition} and RowKey ge {EventKey(id, first, 0)} and RowKey lt {id + "!ew"}");

    public static bool TryParseEventKey(string rowKey, out int first, out int part)
    {
        first = part = 0;
        var at = rowKey.IndexOf("!ev", StringComparison.Ordinal);
        return at >= 0 && rowKey.Length == at + 3 + 8 + 1 + 4
            && int.TryParse(rowKey.AsSpan(at + 3, 8), NumberStyles.None, CultureInfo.InvariantCulture, out first)
            && int.TryParse(rowKey.AsSpan(at + 12, 4), NumberStyles.None, CultureInfo.InvariantCulture, out part);
    }

    public static byte[] EncodeEvents(IReadOnlyList<SequencedEvent> events)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Fastest, leaveOpen: true))
        using (var writer = new Utf8JsonWriter(gzip))
        {
            writer.WriteStartArray();
            foreach (var (sequence, evt) in events)
            {
                writer.WriteStartArray();
                writer.WriteNumberValue(sequence);
                evt.WriteTo(writer);
                writer.WriteEndArray();
            }
            writer.WriteEndArray();
        }
        return buffer.ToArray();
    }

    public static List<SequencedEvent> DecodeEvents(byte[] compressed)
    {
        var root = Decompress(compressed).AsArray();
        var events = new List<SequencedEvent>(root.Count);
        foreach (var pair in root)
        {
            var array = pair!.AsArray();
            var evt = (JsonObject)array[1]!;
            array.RemoveAt(1); // detaches the event from the document: no copy
            events.Add(new SequencedEvent((int)array[0]!, evt));
        }
        return events;
    }

    public static byte[] EncodeRequest(JsonObject body)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Fastest, leaveOpen: true))
        using (var writer = new Utf8JsonWriter(gzip))
        {
            body.WriteTo(writer);
        }
        return buffer.ToArray();
    }

    public static JsonNode Decompress(byte[] compressed)
    {
        using var gzip = new GZipStream(new MemoryStream(compressed), CompressionMode.Decompress);
        using var plain = new MemoryStream();
        gzip.CopyTo(plain);
        return JsonNode.Parse(plain.GetBuffer().AsSpan(0, (int)plain.Length), ProtocolJson.NodeOptions, new JsonDocumentOptions { MaxDepth = 256 })!;
    }

    /// <summary>Rows of <see cref="ResponseRows.ChunksPerRow"/> chunks each, in order.</summary>
    public static List<List<byte[]>> RowsOf(byte[] payload)
    {
        var chunks = ResponsePayload.Split(payload);
        var rows = new List<List<byte[]>>();
        for (var i = 0; i < chunks.Count; i += ResponseRows.ChunksPerRow)
        {
            rows.Add(chunks.Skip(i).Take(ResponseRows.ChunksPerRow).ToList());
        }
        if (rows.Count == 0)
        {
            rows.Add([]);
        }
        return rows;
    }

    public static BackgroundRun ToRun(TableEntity row, string id) => new()
    {
        Id = id,
        Owner = row.GetString(Owner) ?? "",
        State = row.GetString(State) ?? "",
        LeaseUntil = row.GetDateTimeOffset(LeaseUntil),
        LastSequence = row.GetInt64(LastSequence) ?? -1,
        Version = row.ETag.ToString(),
    };
}
