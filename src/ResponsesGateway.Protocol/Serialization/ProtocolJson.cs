using System.Text.Json;
using System.Text.Json.Nodes;

namespace ResponsesGateway.Protocol.Serialization;

/// <summary>Shared JSON settings of the wire.</summary>
public static class ProtocolJson
{
    /// <summary>
    /// Parsing limits for anything that comes from a client or an upstream: bounded depth, and duplicate keys
    /// rejected instead of silently keeping one of them.
    /// </summary>
    public static readonly JsonDocumentOptions DocumentOptions = new()
    {
        MaxDepth = 64,
        AllowDuplicateProperties = false,
    };

    public static readonly JsonNodeOptions NodeOptions = new() { PropertyNameCaseInsensitive = false };

    /// <summary>Parses one JSON object; throws <see cref="JsonException"/> for anything else.</summary>
    public static JsonObject ParseObject(ReadOnlySpan<byte> utf8)
    {
        var node = JsonNode.Parse(utf8, NodeOptions, DocumentOptions);
        return node as JsonObject ?? throw new JsonException("The JSON value is not an object.");
    }

    /// <inheritdoc cref="ParseObject(ReadOnlySpan{byte})"/>
    public static JsonObject ParseObject(string json)
    {
        var node = JsonNode.Parse(json, NodeOptions, DocumentOptions);
        return node as JsonObject ?? throw new JsonException("The JSON value is not an object.");
    }

    /// <summary>Serializes a node compactly as UTF-8 (one line: what an SSE <c>data:</c> field needs).</summary>
    public static byte[] ToUtf8(JsonNode node)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(1024);
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = false, SkipValidation = true }))
        {
            node.WriteTo(writer);
        }
        return buffer.WrittenSpan.ToArray();
    }
}
