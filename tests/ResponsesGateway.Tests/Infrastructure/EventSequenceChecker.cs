using System.Text;
using System.Text.Json.Nodes;

namespace ResponsesGateway.Tests.Infrastructure;

/// <summary>
/// Checks design invariant 6 on a whole stream: dense sequence numbers from 0, event name = type, created first,
/// one id everywhere, every item opened and closed in order with item_id = item id, content parts in order,
/// deltas adding up to the done text, exactly one terminal event and it is last, and the terminal response's
/// output equal to the done items. Throws with a precise message on the first violation.
/// </summary>
public static class EventSequenceChecker
{
    private static readonly HashSet<string> Terminals = ["response.completed", "response.incomplete", "response.failed"];

    public static void Check(SseStream stream, string? expectedId = null)
    {
        var events = stream.Events;
        Assert.NotEmpty(events);
        Assert.DoesNotContain("[DONE]", stream.Raw);
        string? id = expectedId;
        var items = new List<(JsonObject Added, JsonObject? Done, List<StringBuilder> Parts, StringBuilder Args)>();
        for (var i = 0; i < events.Count; i++)
        {
            var evt = events[i].Json;
            var type = (string?)evt["type"];
            Assert.True(type is not null, $"event {i} has no type");
            Assert.True(events[i].EventName == type, $"event {i}: 'event: {events[i].EventName}' differs from type {type}");
            Assert.True((int?)evt["sequence_number"] == i, $"event {i} ({type}) has sequence_number {evt["sequence_number"]}");
            Assert.False(evt.ContainsKey("error") && type != "error", $"event {i} ({type}) carries a top-level error key");
            if (i == 0)
            {
                Assert.Equal("response.created", type);
            }
            if (evt["response"] is JsonObject response)
            {
                id ??= (string?)response["id"];
                Assert.Equal(id, (string?)response["id"]);
                Assert.True(response["created_at"] is JsonValue v && v.GetValueKind() == System.Text.Json.JsonValueKind.Number && v.ToJsonString().All(char.IsDigit),
                    "created_at must be an integer");
            }
            var isTerminal = Terminals.Contains(type!);
            Assert.True(isTerminal == (i == events.Count - 1), isTerminal ? $"terminal event {type} at {i} is not last" : $"stream ends with {type}, not a terminal event");
            var index = (int?)evt["output_index"];
            switch (type)
            {
                case "response.output_item.added":
                    Assert.Equal(items.Count, index);
                    var added = evt["item"]!.AsObject();
                    Assert.False(string.IsNullOrEmpty((string?)added["id"]), "added item has no id");
                    items.Add((added, null, [], new StringBuilder()));
                    break;
                case "response.output_item.done":
                    Assert.True(index < items.Count, $"output_item.done for unknown index {index}");
                    var done = evt["item"]!.AsObject();
                    Assert.Equal((string?)items[index!.Value].Added["id"], (string?)done["id"]);
                    Assert.Equal((string?)items[index.Value].Added["type"], (string?)done["type"]);
                    Assert.Null(items[index.Value].Done);
                    items[index.Value] = items[index.Value] with { Done = done };
                    break;
                default:
                    if (index is { } at && evt["item_id"] is not null)
                    {
                        Assert.True(at < items.Count, $"{type} refers to output_index {at} before it was added");
                        Assert.Null(items[at].Done);
                        Assert.Equal((string?)items[at].Added["id"], (string?)evt["item_id"]);
                        CheckPart(type!, evt, items[at].Parts, items[at].Args);
                    }
                    break;
            }
        }
        Assert.All(items, item => Assert.NotNull(item.Done));
        var output = stream.Terminal["output"]!.AsArray();
        Assert.Equal(items.Count, output.Count);
        for (var i = 0; i < items.Count; i++)
        {
            Assert.True(JsonNode.DeepEquals(items[i].Done, output[i]), $"terminal output[{i}] differs from its output_item.done");
        }
    }

    private static void CheckPart(string type, JsonObject evt, List<StringBuilder> parts, StringBuilder args)
    {
        var c = (int?)evt["content_index"];
        switch (type)
        {
            case "response.content_part.added":
                Assert.Equal(parts.Count, c);
                parts.Add(new StringBuilder());
                break;
            case "response.output_text.delta" or "response.reasoning_text.delta" or "response.refusal.delta":
                Assert.True(c < parts.Count, $"{type} before content_part.added");
                parts[c!.Value].Append((string?)evt["delta"]);
                break;
            case "response.output_text.done" or "response.reasoning_text.done":
                Assert.Equal(parts[c!.Value].ToString(), (string?)evt["text"]);
                break;
            case "response.function_call_arguments.delta":
                args.Append((string?)evt["delta"]);
                break;
            case "response.function_call_arguments.done":
                Assert.Equal(args.ToString(), (string?)evt["arguments"]);
                break;
        }
    }
}
