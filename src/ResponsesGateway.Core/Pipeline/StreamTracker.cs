using System.Text;
using System.Text.Json.Nodes;
using ResponsesGateway.Core.Responses;
using ResponsesGateway.Protocol.Streaming;

namespace ResponsesGateway.Core.Pipeline;

/// <summary>
/// Follows a Responses event stream closely enough to end it well when it breaks: it knows the last Response
/// snapshot, every item and content part that was opened, and the text streamed into each. When the upstream
/// or the client goes away mid-item, <see cref="CloseOpenItems"/> produces the missing <c>.done</c> events so the
/// stream the client sees stays well formed (invariant 6 in docs/architecture.md), and <see cref="Output"/> is what gets stored.
/// </summary>
internal sealed class StreamTracker
{
    private readonly List<TrackedItem> _items = [];

    public JsonObject? Snapshot { get; private set; }

    public void Observe(JsonObject evt)
    {
        var type = (string?)evt["type"];
        if (StreamEventTypes.CarriesResponse(type) && evt["response"] is JsonObject response)
        {
            Snapshot = response;
            return;
        }
        var index = evt["output_index"] is JsonValue v && v.TryGetValue<int>(out var i) ? i : -1;
        switch (type)
        {
            case StreamEventTypes.OutputItemAdded when evt["item"] is JsonObject item:
                while (_items.Count <= index)
                {
                    _items.Add(new TrackedItem());
                }
                if (index >= 0)
                {
                    _items[index] = new TrackedItem { Added = item };
                }
                return;
            case StreamEventTypes.OutputItemDone when evt["item"] is JsonObject done && Item(index) is { } tracked:
                tracked.Done = done;
                return;
        }
        if (Item(index) is not { } target)
        {
            return;
        }
        var contentIndex = evt["content_index"] is JsonValue cv && cv.TryGetValue<int>(out var c) ? c : -1;
        var summaryIndex = evt["summary_index"] is JsonValue sv && sv.TryGetValue<int>(out var s) ? s : -1;
        switch (type)
        {
            case StreamEventTypes.ContentPartAdded:
                target.Parts.Add(new TrackedPart((string?)evt["part"]?["type"] ?? "output_text"));
                break;
            case StreamEventTypes.ContentPartDone when Part(target.Parts, contentIndex) is { } part:
                part.Done = true;
                break;
            case StreamEventTypes.OutputTextDelta or StreamEventTypes.RefusalDelta or StreamEventTypes.ReasoningTextDelta
                when Part(target.Parts, contentIndex) is { } part:
                part.Text.Append((string?)evt["delta"]);
                break;
            case StreamEventTypes.OutputTextDone or StreamEventTypes.RefusalDone or StreamEventTypes.ReasoningTextDone
                when Part(target.Parts, contentIndex) is { } part:
                part.TextDone = true;
                break;
            case StreamEventTypes.FunctionCallArgumentsDelta or StreamEventTypes.CustomToolCallInputDelta:
                target.Arguments.Append((string?)evt["delta"]);
                break;
            case StreamEventTypes.FunctionCallArgumentsDone or StreamEventTypes.CustomToolCallInputDone:
                target.ArgumentsDone = true;
                break;
            case StreamEventTypes.ReasoningSummaryPartAdded:
                target.Summary.Add(new TrackedPart("summary_text"));
                break;
            case StreamEventTypes.ReasoningSummaryTextDelta when Part(target.Summary, summaryIndex) is { } part:
                part.Text.Append((string?)evt["delta"]);
                break;
            case StreamEventTypes.ReasoningSummaryTextDone when Part(target.Summary, summaryIndex) is { } part:
                part.TextDone = true;
                break;
            case StreamEventTypes.ReasoningSummaryPartDone when Part(target.Summary, summaryIndex) is { } part:
                part.Done = true;
                break;
        }
    }

    /// <summary>The events that close every item still open, each closed item marked <c>incomplete</c>.</summary>
    public List<JsonObject> CloseOpenItems()
    {
        var events = new List<JsonObject>();
        for (var index = 0; index < _items.Count; index++)
        {
            var tracked = _items[index];
            if (tracked.Added is null || tracked.Done is not null)
            {
                continue;
            }
            var id = (string?)tracked.Added["id"] ?? "";
            var type = (string?)tracked.Added["type"];
            for (var s = 0; s < tracked.Summary.Count; s++)
            {
                var part = tracked.Summary[s];
                if (!part.TextDone)
                {
                    events.Add(StreamEvents.ItemEvent(StreamEventTypes.ReasoningSummaryTextDone, id, index, ("summary_index", s), ("text", part.Text.ToString())));
                }
                if (!part.Done)
                {
                    events.Add(StreamEvents.ItemEvent(StreamEventTypes.ReasoningSummaryPartDone, id, index, ("summary_index", s), ("part", part.ToJson())));
                }
            }
            for (var c = 0; c < tracked.Parts.Count; c++)
            {
                var part = tracked.Parts[c];
                if (!part.TextDone)
                {
                    var done = part.Type switch
                    {
                        "refusal" => StreamEvents.ItemEvent(StreamEventTypes.RefusalDone, id, index, ("content_index", c), ("refusal", part.Text.ToString())),
                        "reasoning_text" => StreamEvents.ItemEvent(StreamEventTypes.ReasoningTextDone, id, index, ("content_index", c), ("text", part.Text.ToString())),
                        _ => StreamEvents.ItemEvent(StreamEventTypes.OutputTextDone, id, index, ("content_index", c), ("text", part.Text.ToString()), ("logprobs", new JsonArray())),
                    };
                    events.Add(done);
                }
                if (!part.Done)
                {
                    events.Add(StreamEvents.ItemEvent(StreamEventTypes.ContentPartDone, id, index, ("content_index", c), ("part", part.ToJson())));
                }
            }
            if (type == "function_call" && !tracked.ArgumentsDone)
            {
                events.Add(StreamEvents.ItemEvent(StreamEventTypes.FunctionCallArgumentsDone, id, index,
                    ("arguments", tracked.Arguments.ToString()), ("name", tracked.Added["name"]?.DeepClone())));
            }
            if (type == "custom_tool_call" && !tracked.ArgumentsDone)
            {
                events.Add(StreamEvents.ItemEvent(StreamEventTypes.CustomToolCallInputDone, id, index, ("input", tracked.Arguments.ToString())));
            }
            tracked.Done = tracked.BuildClosedItem();
            events.Add(new JsonObject { ["type"] = StreamEventTypes.OutputItemDone, ["output_index"] = index, ["item"] = tracked.Done.DeepClone() });
        }
        return events;
    }

    /// <summary>The output items finished so far (closed items included once <see cref="CloseOpenItems"/> ran).</summary>
    public JsonArray Output()
    {
        var output = new JsonArray();
        foreach (var tracked in _items)
        {
            if (tracked.Done is not null)
            {
                output.Add(tracked.Done.DeepClone());
            }
        }
        return output;
    }

    private TrackedItem? Item(int index) => index >= 0 && index < _items.Count && _items[index].Added is not null ? _items[index] : null;

    private static TrackedPart? Part(List<TrackedPart> parts, int index) => index >= 0 && index < parts.Count ? parts[index] : null;


    private sealed class TrackedItem
    {
        public JsonObject? Added { get; init; }
        public JsonObject? Done { get; set; }
        public List<TrackedPart> Parts { get; } = [];
        public List<TrackedPart> Summary { get; } = [];
        /// <summary>A function call's arguments or a custom tool call's input, as streamed so far.</summary>
        public StringBuilder Arguments { get; } = new();
        public bool ArgumentsDone { get; set; }

        public JsonObject BuildClosedItem()
        {
            var item = (JsonObject)Added!.DeepClone();
            item["status"] = ResponseStatuses.Incomplete;
            switch ((string?)item["type"])
            {
                case "message":
                    item["content"] = new JsonArray(Parts.Select(p => (JsonNode)p.ToJson()).ToArray());
                    break;
                case "function_call":
                    item["arguments"] = Arguments.ToString();
                    break;
                case "custom_tool_call":
                    // What the upstream streamed of the input before the break, as for a function call's arguments.
                    item["input"] = Arguments.ToString();
                    break;
                case "reasoning":
                    item.Remove("status"); // recorded reasoning items carry no status
                    item["summary"] = new JsonArray(Summary.Select(p => (JsonNode)p.ToJson()).ToArray());
                    var reasoningText = Parts.Where(p => p.Type == "reasoning_text").Select(p => (JsonNode)p.ToJson()).ToArray();
                    if (reasoningText.Length > 0)
                    {
                        item["content"] = new JsonArray(reasoningText);
                    }
                    break;
            }
            return item;
        }
    }

    private sealed class TrackedPart(string type)
    {
        public string Type { get; } = type;
        public StringBuilder Text { get; } = new();
        public bool TextDone { get; set; }
        public bool Done { get; set; }

        public JsonObject ToJson() => Type switch
        {
            "refusal" => new JsonObject { ["type"] = "refusal", ["refusal"] = Text.ToString() },
            "output_text" => new JsonObject { ["type"] = "output_text", ["annotations"] = new JsonArray(), ["logprobs"] = new JsonArray(), ["text"] = Text.ToString() },
            _ => new JsonObject { ["type"] = Type, ["text"] = Text.ToString() },
        };
    }
}
