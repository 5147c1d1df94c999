using System.Text.Json.Nodes;
using ResponsesGateway.Protocol.Streaming;

namespace ResponsesGateway.Core.Responses;

/// <summary>
/// The canonical event sequence of a finished Response (created, in_progress, then per item added, part and delta events, done, then the terminal event): what a live stream of it would
/// have carried. Used to replay a stored response on <c>GET ?stream=true</c>. Sequence numbers are left to the caller.
/// </summary>
public static class CanonicalEvents
{
    public static IEnumerable<JsonObject> For(JsonObject response)
    {
        var opening = (JsonObject)response.DeepClone();
        opening["status"] = ResponseStatuses.InProgress;
        opening["output"] = new JsonArray();
        opening["usage"] = null;
        opening["completed_at"] = null;
        opening["error"] = null;
        opening["incomplete_details"] = null;
        yield return Lifecycle(StreamEventTypes.Created, opening);
        yield return Lifecycle(StreamEventTypes.InProgress, (JsonObject)opening.DeepClone());

        var output = response["output"] as JsonArray ?? [];
        for (var index = 0; index < output.Count; index++)
        {
            if (output[index] is not JsonObject item)
            {
                continue;
            }
            foreach (var evt in ForItem(item, index))
            {
                yield return evt;
            }
        }
        var terminal = (string?)response["status"] switch
        {
            ResponseStatuses.Incomplete => StreamEventTypes.Incomplete,
            ResponseStatuses.Failed or ResponseStatuses.Cancelled => StreamEventTypes.Failed,
            _ => StreamEventTypes.Completed,
        };
        yield return Lifecycle(terminal, (JsonObject)response.DeepClone());
    }

    private static IEnumerable<JsonObject> ForItem(JsonObject item, int index)
    {
        var id = (string?)item["id"] ?? "";
        var type = (string?)item["type"];
        var added = (JsonObject)item.DeepClone();
        if (added.ContainsKey("status"))
        {
            added["status"] = ResponseStatuses.InProgress;
        }
        switch (type)
        {
            case "message":
                added["content"] = new JsonArray();
                break;
            case "function_call":
                added["arguments"] = "";
                break;
            case "reasoning":
                added["summary"] = new JsonArray();
                if (added.ContainsKey("content"))
                {
                    added["content"] = new JsonArray();
                }
                break;
        }
        yield return new JsonObject { ["type"] = StreamEventTypes.OutputItemAdded, ["output_index"] = index, ["item"] = added };

        switch (type)
        {
            case "message":
                var parts = item["content"] as JsonArray ?? [];
                for (var c = 0; c < parts.Count; c++)
                {
                    if (parts[c] is JsonObject part)
                    {
                        foreach (var evt in ForMessagePart(part, id, index, c))
                        {
                            yield return evt;
                        }
                    }
                }
                break;
            case "function_call":
                var arguments = (string?)item["arguments"] ?? "";
                yield return StreamEvents.ItemEvent(StreamEventTypes.FunctionCallArgumentsDelta, id, index, ("delta", arguments));
                yield return StreamEvents.ItemEvent(StreamEventTypes.FunctionCallArgumentsDone, id, index, ("arguments", arguments), ("name", item["name"]?.DeepClone()));
                break;
            case "reasoning":
                var summary = item["summary"] as JsonArray ?? [];
                for (var s = 0; s < summary.Count; s++)
                {
                    var text = (string?)summary[s]?["text"] ?? "";
                    yield return StreamEvents.ItemEvent(StreamEventTypes.ReasoningSummaryPartAdded, id, index, ("summary_index", s), ("part", SummaryPart("")));
                    yield return StreamEvents.ItemEvent(StreamEventTypes.ReasoningSummaryTextDelta, id, index, ("summary_index", s), ("delta", text));
                    yield return StreamEvents.ItemEvent(StreamEventTypes.ReasoningSummaryTextDone, id, index, ("summary_index", s), ("text", text));
                    yield return StreamEvents.ItemEvent(StreamEventTypes.ReasoningSummaryPartDone, id, index, ("summary_index", s), ("part", SummaryPart(text)));
                }
                var content = item["content"] as JsonArray ?? [];
                for (var c = 0; c < content.Count; c++)
                {
                    var text = (string?)content[c]?["text"] ?? "";
                    yield return StreamEvents.ItemEvent(StreamEventTypes.ContentPartAdded, id, index, ("content_index", c), ("part", new JsonObject { ["type"] = "reasoning_text", ["text"] = "" }));
                    yield return StreamEvents.ItemEvent(StreamEventTypes.ReasoningTextDelta, id, index, ("content_index", c), ("delta", text));
                    yield return StreamEvents.ItemEvent(StreamEventTypes.ReasoningTextDone, id, index, ("content_index", c), ("text", text));
                    yield return StreamEvents.ItemEvent(StreamEventTypes.ContentPartDone, id, index, ("content_index", c), ("part", content[c]!.DeepClone()));
                }
                break;
        }
        yield return new JsonObject { ["type"] = StreamEventTypes.OutputItemDone, ["output_index"] = index, ["item"] = item.DeepClone() };
    }

    private static IEnumerable<JsonObject> ForMessagePart(JsonObject part, string id, int index, int c)
    {
        var partType = (string?)part["type"];
        if (partType == "output_text")
        {
            var text = (string?)part["text"] ?? "";
            var logprobs = part["logprobs"]?.DeepClone() ?? new JsonArray();
            var empty = new JsonObject { ["type"] = "output_text", ["annotations"] = new JsonArray(), ["logprobs"] = new JsonArray(), ["text"] = "" };
            yield return StreamEvents.ItemEvent(StreamEventTypes.ContentPartAdded, id, index, ("content_index", c), ("part", empty));
            yield return StreamEvents.ItemEvent(StreamEventTypes.OutputTextDelta, id, index, ("content_index", c), ("delta", text), ("logprobs", logprobs.DeepClone()));
            var annotations = part["annotations"] as JsonArray ?? [];
            for (var a = 0; a < annotations.Count; a++)
            {
                yield return StreamEvents.ItemEvent("response.output_text.annotation.added", id, index, ("content_index", c), ("annotation_index", a), ("annotation", annotations[a]?.DeepClone()));
            }
            yield return StreamEvents.ItemEvent(StreamEventTypes.OutputTextDone, id, index, ("content_index", c), ("text", text), ("logprobs", logprobs));
        }
        else if (partType == "refusal")
        {
            var refusal = (string?)part["refusal"] ?? "";
            yield return StreamEvents.ItemEvent(StreamEventTypes.ContentPartAdded, id, index, ("content_index", c), ("part", new JsonObject { ["type"] = "refusal", ["refusal"] = "" }));
            yield return StreamEvents.ItemEvent(StreamEventTypes.RefusalDelta, id, index, ("content_index", c), ("delta", refusal));
            yield return StreamEvents.ItemEvent(StreamEventTypes.RefusalDone, id, index, ("content_index", c), ("refusal", refusal));
        }
        else
        {
            yield return StreamEvents.ItemEvent(StreamEventTypes.ContentPartAdded, id, index, ("content_index", c), ("part", part.DeepClone()));
        }
        yield return StreamEvents.ItemEvent(StreamEventTypes.ContentPartDone, id, index, ("content_index", c), ("part", part.DeepClone()));
    }

    private static JsonObject SummaryPart(string text) => new() { ["type"] = "summary_text", ["text"] = text };

    private static JsonObject Lifecycle(string type, JsonObject response) => new() { ["type"] = type, ["response"] = response };

}
