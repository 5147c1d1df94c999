using System.Buffers;
using System.Text.Json;
using System.Text.Json.Nodes;
using ResponsesGateway.Core.Ids;
using ResponsesGateway.Core.Storage;
using ResponsesGateway.Protocol.Serialization;

namespace ResponsesGateway.Core.Pipeline;

/// <summary>How stored turns become context again, and how a turn's input items get their stable ids.</summary>
internal static class ChainHistory
{
    /// <summary>
    /// What a stored turn adds to the context of later turns: its input items then its output items, as a UTF-8 JSON
    /// array. Instructions are not part of it (as in OpenAI). Item ids are dropped: the upstream is called with
    /// <c>store:false</c> and cannot resolve ids it never stored; reasoning items keep their <c>encrypted_content</c>.
    /// Serialised once per turn, so a cached chain is expanded by concatenating bytes (<see cref="Expand"/>).
    /// </summary>
    public static byte[] ContextOf(StoredResponse turn)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartArray();
            WriteWithoutIds(writer, turn.InputItems);
            WriteWithoutIds(writer, turn.OutputItems);
            writer.WriteEndArray();
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>The items the model saw before the new input: the turns' contexts (<see cref="ContextOf"/>), oldest first, as one array.</summary>
    public static JsonArray Expand(IReadOnlyList<byte[]> contexts)
    {
        // "[" + the contexts without their brackets, comma-separated + "]": one parse for the whole chain.
        var length = 2 + contexts.Sum(c => c.Length - 1);
        var rented = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            var at = 0;
            rented[at++] = (byte)'[';
            foreach (var context in contexts)
            {
                var items = context.AsSpan(1, context.Length - 2);
                if (items.IsEmpty)
                {
                    continue;
                }
                if (at > 1)
                {
                    rented[at++] = (byte)',';
                }
                items.CopyTo(rented.AsSpan(at));
                at += items.Length;
            }
            rented[at++] = (byte)']';
            // Written by ContextOf from items that passed the request limits; stored depth is bounded the same way.
            return JsonNode.Parse(rented.AsSpan(0, at), ProtocolJson.NodeOptions, new JsonDocumentOptions { MaxDepth = 256 })!.AsArray();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    private static void WriteWithoutIds(Utf8JsonWriter writer, JsonArray items)
    {
        foreach (var node in items)
        {
            if (node is not JsonObject item)
            {
                continue;
            }
            writer.WriteStartObject();
            ProtocolJson.WritePropertiesExcept(writer, item, "id");
            writer.WriteEndObject();
        }
    }

    /// <summary>Every item listed by <c>input_items</c> for the last turn of <paramref name="chain"/>, oldest first.</summary>
    public static List<JsonObject> ListedItems(IReadOnlyList<StoredResponse> chain)
    {
        var items = new List<JsonObject>();
        for (var i = 0; i < chain.Count; i++)
        {
            items.AddRange(chain[i].InputItems.OfType<JsonObject>());
            if (i < chain.Count - 1)
            {
                items.AddRange(chain[i].OutputItems.OfType<JsonObject>());
            }
        }
        return items;
    }

    /// <summary>A stored copy of this turn's input items, each with an id and, for messages and outputs, a status.</summary>
    public static JsonArray WithIds(JsonArray input)
    {
        var stored = new JsonArray();
        foreach (var node in input)
        {
            if (node is not JsonObject item)
            {
                continue;
            }
            var copy = (JsonObject)item.DeepClone();
            var type = (string?)copy["type"] ?? "message";
            if (copy["type"] is null)
            {
                // Listed items always name their type, as OpenAI's input_items does.
                var rebuilt = new JsonObject { ["type"] = "message" };
                foreach (var (key, value) in copy.ToArray())
                {
                    copy.Remove(key);
                    rebuilt[key] = value;
                }
                copy = rebuilt;
            }
            if (copy["id"] is null)
            {
                copy["id"] = ResponseIds.NewItemId(Prefix(type));
            }
            if (copy["status"] is null && type is "message" or "function_call_output")
            {
                copy["status"] = "completed";
            }
            if (type == "message" && copy["content"] is JsonValue text && text.TryGetValue<string>(out var s))
            {
                var partType = (string?)copy["role"] == "assistant" ? "output_text" : "input_text";
                copy["content"] = new JsonArray(new JsonObject { ["type"] = partType, ["text"] = s });
            }
            stored.Add((JsonNode)copy);
        }
        return stored;
    }

    private static string Prefix(string type) => type switch
    {
        "message" => "msg",
        "function_call" or "function_call_output" => "fc",
        "reasoning" => "rs",
        "custom_tool_call" or "custom_tool_call_output" => "ctc",
        _ => "item",
    };
}
