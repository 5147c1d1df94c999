using System.IO.Compression;
using System.Text.Json;
using System.Text.Json.Nodes;
using ResponsesGateway.Protocol.Serialization;

namespace ResponsesGateway.Storage.Responses;

/// <summary>
/// A turn's Response object and input items as one compressed JSON document, cut into chunks that fit binary
/// properties (64 KiB each). Compression first: stored responses are mostly text and shrink several times.
/// </summary>
internal static class ResponsePayload
{
    /// <summary>Raw bytes per binary property; below the 64 KiB limit.</summary>
    public const int ChunkBytes = 60 * 1024;

    /// <summary>The compressed document; <paramref name="plainBytes"/> is its size before compression.</summary>
    public static byte[] Encode(JsonObject response, JsonArray inputItems, out long plainBytes)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Fastest, leaveOpen: true))
        using (var writer = new Utf8JsonWriter(gzip))
        {
            writer.WriteStartObject();
            writer.WritePropertyName("response");
            response.WriteTo(writer);
            writer.WritePropertyName("input");
            inputItems.WriteTo(writer);
            writer.WriteEndObject();
            writer.Flush();
            plainBytes = writer.BytesCommitted;
        }
        return buffer.ToArray();
    }

    public static (JsonObject Response, JsonArray InputItems) Decode(byte[] compressed)
    {
        using var gzip = new GZipStream(new MemoryStream(compressed), CompressionMode.Decompress);
        using var plain = new MemoryStream();
        gzip.CopyTo(plain);
        // Stored documents were written by us; depth can exceed a client's limit only if the client's input did, which was rejected.
        var root = JsonNode.Parse(plain.GetBuffer().AsSpan(0, (int)plain.Length), ProtocolJson.NodeOptions, new JsonDocumentOptions { MaxDepth = 256 })!.AsObject();
        return ((JsonObject)root["response"]!, (JsonArray)root["input"]!);
    }

    public static List<byte[]> Split(byte[] payload)
    {
        var chunks = new List<byte[]>((payload.Length / ChunkBytes) + 1);
        for (var offset = 0; offset < payload.Length; offset += ChunkBytes)
        {
            chunks.Add(payload.AsSpan(offset, Math.Min(ChunkBytes, payload.Length - offset)).ToArray());
        }
        return chunks;
    }
}
