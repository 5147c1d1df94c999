using System.Text;
using System.Text.Json.Nodes;
using Xunit;

namespace ResponsesGateway.TestSupport;

/// <summary>
/// The stream invariants (invariant 6 in docs/architecture.md), as the official SDKs' stream accumulators rely on them, checked on every stream a test produces:
/// dense sequence numbers from 0, <c>response.created</c> first, one response id everywhere, every item added with the
/// next output_index and closed exactly once with the same id and type, item_id = the item's id, content parts added
/// in order before their deltas, delta concatenation = done text/arguments/custom tool input (a completed
/// custom_tool_call must have had its <c>custom_tool_call_input.done</c>), content_part.done = the final part,
/// exactly one terminal event and it is last, and the terminal output equal to the done items.
/// </summary>
public static class EventSequenceChecker
{
    private static readonly HashSet<string> Terminals = ["response.completed", "response.incomplete", "response.failed"];

    public static void Check(IReadOnlyList<JsonObject> events, string? expectedId = null)
    {
        Assert.NotEmpty(events);
        var id = expectedId;
        var items = new List<Tracked>();
        for (var i = 0; i < events.Count; i++)
        {
            var evt = events[i];
            var type = (string?)evt["type"] ?? throw new Xunit.Sdk.XunitException($"event {i} has no type");
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
                Assert.Equal(System.Text.Json.JsonValueKind.Number, response["created_at"]!.GetValueKind());
                Assert.DoesNotContain('.', response["created_at"]!.ToJsonString());
            }
            var terminal = Terminals.Contains(type);
            Assert.True(terminal == (i == events.Count - 1), terminal ? $"terminal {type} at {i} is not last" : $"stream ends with {type}, not a terminal event");
            var index = (int?)evt["output_index"];
            switch (type)
            {
                case "response.output_item.added":
                    Assert.Equal(items.Count, index);
                    var added = evt["item"]!.AsObject();
                    Assert.False(string.IsNullOrEmpty((string?)added["id"]), $"event {i}: added item has no id");
                    if ((string?)added["type"] == "function_call")
                    {
                        Assert.False(string.IsNullOrEmpty((string?)added["call_id"]), "function_call without call_id");
                        Assert.False(string.IsNullOrEmpty((string?)added["name"]), "function_call without name");
                        Assert.Equal("", (string?)added["arguments"]);
                    }
                    if ((string?)added["type"] == "custom_tool_call")
                    {
                        Assert.False(string.IsNullOrEmpty((string?)added["call_id"]), "custom_tool_call without call_id");
                        Assert.False(string.IsNullOrEmpty((string?)added["name"]), "custom_tool_call without name");
                        Assert.Equal("", (string?)added["input"]);
                    }
                    items.Add(new Tracked(added));
                    break;
                case "response.output_item.done":
                    Assert.True(index < items.Count, $"output_item.done for unknown index {index}");
                    var tracked = items[index!.Value];
                    var done = evt["item"]!.AsObject();
                    Assert.Null(tracked.Done);
                    Assert.Equal((string?)tracked.Added["id"], (string?)done["id"]);
                    Assert.Equal((string?)tracked.Added["type"], (string?)done["type"]);
                    Assert.Equal((string?)tracked.Added["call_id"], (string?)done["call_id"]);
                    CheckItemMatchesParts(tracked, done);
                    tracked.Done = done;
                    break;
                default:
                    if (type.StartsWith("response.custom_tool_call_input.", StringComparison.Ordinal) || type.StartsWith("response.function_call_arguments.", StringComparison.Ordinal))
                    {
                        Assert.True(index is not null && evt["item_id"] is not null, $"event {i} ({type}) lacks output_index or item_id");
                    }
                    if (index is { } at && evt["item_id"] is not null)
                    {
                        Assert.True(at < items.Count, $"{type} refers to output_index {at} before it was added");
                        Assert.Null(items[at].Done);
                        Assert.Equal((string?)items[at].Added["id"], (string?)evt["item_id"]);
                        CheckPart(type, evt, items[at]);
                    }
                    break;
            }
        }
        Assert.All(items, item => Assert.NotNull(item.Done));
        var output = events[^1]["response"]!["output"]!.AsArray();
        Assert.Equal(items.Count, output.Count);
        for (var i = 0; i < items.Count; i++)
        {
            Assert.True(JsonNode.DeepEquals(items[i].Done, output[i]), $"terminal output[{i}] differs from its output_item.done");
        }
    }

    private static void CheckPart(string type, JsonObject evt, Tracked item)
    {
        var c = (int?)evt["content_index"];
        switch (type)
        {
            case "response.content_part.added":
                Assert.Equal(item.Parts.Count, c);
                item.Parts.Add(new Part((string)evt["part"]!["type"]!));
                break;
            case "response.output_text.delta" or "response.reasoning_text.delta" or "response.refusal.delta":
                Assert.True(c < item.Parts.Count, $"{type} before content_part.added");
                Assert.False(item.Parts[c!.Value].Done, $"{type} after its part was done");
                Assert.Equal(type switch { "response.output_text.delta" => "output_text", "response.reasoning_text.delta" => "reasoning_text", _ => "refusal" }, item.Parts[c.Value].Type);
                item.Parts[c.Value].Text.Append((string?)evt["delta"]);
                break;
            case "response.output_text.done" or "response.reasoning_text.done":
                Assert.Equal(item.Parts[c!.Value].Text.ToString(), (string?)evt["text"]);
                break;
            case "response.refusal.done":
                Assert.Equal(item.Parts[c!.Value].Text.ToString(), (string?)evt["refusal"]);
                break;
            case "response.content_part.done":
                var part = item.Parts[c!.Value];
                Assert.Equal(part.Text.ToString(), (string?)(evt["part"]!["text"] ?? evt["part"]!["refusal"]));
                part.Done = true;
                part.Final = evt["part"]!.AsObject();
                break;
            case "response.function_call_arguments.delta":
                item.Arguments.Append((string?)evt["delta"]);
                break;
            case "response.function_call_arguments.done":
                Assert.Equal(item.Arguments.ToString(), (string?)evt["arguments"]);
                Assert.Equal((string?)item.Added["name"], (string?)evt["name"]);
                break;
            case "response.custom_tool_call_input.delta":
                Assert.Equal("custom_tool_call", (string?)item.Added["type"]);
                Assert.False(item.InputDone, $"{type} after custom_tool_call_input.done");
                Assert.Equal(System.Text.Json.JsonValueKind.String, evt["delta"]?.GetValueKind());
                item.Arguments.Append((string?)evt["delta"]);
                break;
            case "response.custom_tool_call_input.done":
                Assert.Equal("custom_tool_call", (string?)item.Added["type"]);
                Assert.False(item.InputDone, "custom_tool_call_input.done twice");
                Assert.Equal(item.Arguments.ToString(), (string?)evt["input"]);
                item.InputDone = true;
                break;
        }
    }

    private static void CheckItemMatchesParts(Tracked tracked, JsonObject done)
    {
        switch ((string?)done["type"])
        {
            case "message":
            case "reasoning":
                var content = done["content"] as JsonArray ?? [];
                Assert.Equal(tracked.Parts.Count, content.Count);
                for (var c = 0; c < content.Count; c++)
                {
                    Assert.True(tracked.Parts[c].Done, $"item {done["id"]} done while part {c} is open");
                    Assert.True(JsonNode.DeepEquals(tracked.Parts[c].Final, content[c]), $"item {done["id"]} part {c} differs from its content_part.done");
                }
                if ((string?)done["type"] == "reasoning")
                {
                    Assert.IsType<JsonArray>(done["summary"]); // Codex drops reasoning items without it
                }
                break;
            case "function_call":
                Assert.Equal(tracked.Arguments.ToString(), (string?)done["arguments"]);
                break;
            case "custom_tool_call":
                Assert.Equal(tracked.Arguments.ToString(), (string?)done["input"]);
                Assert.True(tracked.InputDone || (string?)done["status"] == "incomplete", $"item {done["id"]} done before its custom_tool_call_input.done");
                break;
        }
    }

    private sealed class Tracked(JsonObject added)
    {
        public JsonObject Added { get; } = added;
        public JsonObject? Done { get; set; }
        public List<Part> Parts { get; } = [];
        public StringBuilder Arguments { get; } = new();
        public bool InputDone { get; set; }
    }

    private sealed class Part(string type)
    {
        public string Type { get; } = type;
        public StringBuilder Text { get; } = new();
        public bool Done { get; set; }
        public JsonObject? Final { get; set; }
    }
}
