using System.Text.Json.Nodes;
using ResponsesGateway.Core.Pipeline;

namespace ResponsesGateway.Tests.Reliability;

/// <summary>How a stream cut mid-item is closed: what was streamed so far survives in the closing events and the stored item.</summary>
public sealed class StreamTrackerTests
{
    [Fact]
    public void CustomToolCallCutMidInput_IsClosedWithTheInputStreamedSoFar()
    {
        var tracker = new StreamTracker();
        tracker.Observe(Parse("""{"type":"response.output_item.added","output_index":0,"item":{"id":"ctc_1","type":"custom_tool_call","status":"in_progress","call_id":"call_1","name":"apply_patch","input":""}}"""));
        tracker.Observe(Parse("""{"type":"response.custom_tool_call_input.delta","output_index":0,"item_id":"ctc_1","delta":"*** Begin Patch\n"}"""));
        tracker.Observe(Parse("""{"type":"response.custom_tool_call_input.delta","output_index":0,"item_id":"ctc_1","delta":"*** Add File: a.txt"}"""));

        var closing = tracker.CloseOpenItems();

        Assert.Equal(["response.custom_tool_call_input.done", "response.output_item.done"], closing.Select(e => (string)e["type"]!));
        Assert.Equal("*** Begin Patch\n*** Add File: a.txt", (string?)closing[0]["input"]);
        Assert.Equal("ctc_1", (string?)closing[0]["item_id"]);
        Assert.Equal(0, (int?)closing[0]["output_index"]);
        var item = closing[1]["item"]!;
        Assert.Equal("incomplete", (string?)item["status"]);
        Assert.Equal("*** Begin Patch\n*** Add File: a.txt", (string?)item["input"]);
        Assert.True(JsonNode.DeepEquals(item, tracker.Output()[0]));
    }

    [Fact]
    public void CustomToolCallWhoseInputWasDone_GetsNoSecondDone()
    {
        var tracker = new StreamTracker();
        tracker.Observe(Parse("""{"type":"response.output_item.added","output_index":0,"item":{"id":"ctc_1","type":"custom_tool_call","call_id":"call_1","name":"t","input":""}}"""));
        tracker.Observe(Parse("""{"type":"response.custom_tool_call_input.delta","output_index":0,"item_id":"ctc_1","delta":"x"}"""));
        tracker.Observe(Parse("""{"type":"response.custom_tool_call_input.done","output_index":0,"item_id":"ctc_1","input":"x"}"""));

        var closing = tracker.CloseOpenItems();

        Assert.Equal(["response.output_item.done"], closing.Select(e => (string)e["type"]!));
        Assert.Equal("x", (string?)closing[0]["item"]!["input"]);
    }

    [Fact]
    public void FunctionCallCutMidArguments_IsClosedWithTheArgumentsStreamedSoFar()
    {
        var tracker = new StreamTracker();
        tracker.Observe(Parse("""{"type":"response.output_item.added","output_index":0,"item":{"id":"fc_1","type":"function_call","call_id":"call_1","name":"get_weather","arguments":""}}"""));
        tracker.Observe(Parse("""{"type":"response.function_call_arguments.delta","output_index":0,"item_id":"fc_1","delta":"{\"city\":"}"""));

        var closing = tracker.CloseOpenItems();

        Assert.Equal(["response.function_call_arguments.done", "response.output_item.done"], closing.Select(e => (string)e["type"]!));
        Assert.Equal("{\"city\":", (string?)closing[0]["arguments"]);
        Assert.Equal("{\"city\":", (string?)closing[1]["item"]!["arguments"]);
    }

    private static JsonObject Parse(string json) => JsonNode.Parse(json)!.AsObject();
}
