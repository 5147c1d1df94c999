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

    /// <summary>
    /// Writes the properties of <paramref name="obj"/> as they are, except <paramref name="skip"/> and
    /// <paramref name="alsoSkip"/>; the caller writes the braces (and whatever it puts in place of the skipped ones).
    /// </summary>
    public static void WritePropertiesExcept(Utf8JsonWriter writer, JsonObject obj, string skip, string? alsoSkip = null)
    {
        foreach (var (name, value) in obj)
        {
            if (name == skip || name == alsoSkip)
            {
                continue;
            }
            writer.WritePropertyName(name);
            if (value is null)
            {
                writer.WriteNullValue();
            }
            else
            {
                value.WriteTo(writer);
            }
        }
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
