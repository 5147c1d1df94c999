using System.Text.Json.Nodes;
using ResponsesGateway.Core.Ids;
using ResponsesGateway.Core.Storage;

namespace ResponsesGateway.Core.Pipeline;

/// <summary>How stored turns become context again, and how a turn's input items get their stable ids.</summary>
internal static class ChainHistory
{
    /// <summary>
    /// The items the model saw before the new input: each turn's input then its output, oldest first. Instructions
    /// are not part of it (as in OpenAI). Item ids are dropped: the upstream is called with <c>store:false</c> and
    /// cannot resolve ids it never stored; reasoning items keep their <c>encrypted_content</c>.
    /// </summary>
    public static List<JsonNode> Expand(IReadOnlyList<StoredResponse> chain)
    {
        var items = new List<JsonNode>();
        foreach (var turn in chain)
        {
            foreach (var item in turn.InputItems.Concat(turn.OutputItems))
            {
                if (item is JsonObject obj)
                {
                    var copy = (JsonObject)obj.DeepClone();
                    copy.Remove("id");
                    items.Add(copy);
                }
            }
        }
        return items;
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
            stored.Add(copy);
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
