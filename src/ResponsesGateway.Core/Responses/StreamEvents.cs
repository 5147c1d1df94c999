using System.Text.Json.Nodes;

namespace ResponsesGateway.Core.Responses;

/// <summary>Small builders for stream events, shared by live streams, closing events and replays.</summary>
public static class StreamEvents
{
    /// <summary>An item-scoped event: <c>type</c>, <c>item_id</c>, <c>output_index</c>, then <paramref name="fields"/>.</summary>
    public static JsonObject ItemEvent(string type, string itemId, int outputIndex, params (string Name, JsonNode? Value)[] fields)
    {
        var evt = new JsonObject { ["type"] = type, ["item_id"] = itemId, ["output_index"] = outputIndex };
        foreach (var (name, value) in fields)
        {
            evt[name] = value;
        }
        return evt;
    }

    /// <summary>
    /// The event with <c>sequence_number</c> set to <paramref name="sequence"/> right after <c>type</c>, where OpenAI puts
    /// it, whatever number (if any) it carried. The properties move to the returned object; <paramref name="evt"/> is
    /// left empty.
    /// </summary>
    public static JsonObject WithSequence(JsonObject evt, int sequence)
    {
        evt.Remove("sequence_number");
        var numbered = new JsonObject { ["type"] = evt["type"]?.DeepClone(), ["sequence_number"] = sequence };
        foreach (var (key, value) in evt.ToArray())
        {
            if (key != "type")
            {
                evt.Remove(key);
                numbered[key] = value;
            }
        }
        return numbered;
    }
}
