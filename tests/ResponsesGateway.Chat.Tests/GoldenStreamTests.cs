using System.Text.Json.Nodes;
using ResponsesGateway.TestSupport;
using ResponsesGateway.Upstreams.Chat.Tests.Infrastructure;

namespace ResponsesGateway.Upstreams.Chat.Tests;

/// <summary>
/// The edge cases of the chat translation that live in the answer (docs/architecture.md, chat rules R8–R11): each <c>Fixtures/NN-*.sse</c> chat transcript is
/// served by a fake <c>/chat/completions</c>, run through the real pipeline, and the Responses events must equal
/// <c>NN-*.events</c> line for line, pass the sequence checker and validate against the OpenAPI schemas.
/// </summary>
public sealed class GoldenStreamTests
{
    private const string StreamRequest = """{"model":"chat-model","input":"What is the weather in Paris?","stream":true}""";

    [Theory]
    [InlineData("01-reasoning-then-text")]
    [InlineData("02-text-and-tools")]
    [InlineData("03a-args-one-chunk")]
    [InlineData("03b-args-char-by-char")]
    [InlineData("03c-args-interleaved")]
    [InlineData("03d-name-late")]
    [InlineData("04-parallel-tool-calls")]
    [InlineData("06-deepseek-thinking-tools")]
    [InlineData("07-length-mid-reasoning")]
    [InlineData("08-usage-after-finish")]
    [InlineData("08b-no-done-no-usage-no-finish")]
    [InlineData("11-inband-error")]
    [InlineData("11b-content-filter")]
    [InlineData("12-think-split")]
    public async Task Stream_Fixture_EmitsExpectedEvents(string fixture)
    {
        var (events, _) = await RunAsync(fixture);
        Assert.Equal(Fixtures.ExpectedEvents(fixture + ".events"), Fixtures.Summarize(events));
    }

    [Fact]
    public async Task ReasoningThenText_EmitsBothItemsWithTheirOwnIndexes()
    {
        var (events, response) = await RunAsync("01-reasoning-then-text");
        Assert.Equal("completed", (string?)response["status"]);
        var output = response["output"]!.AsArray();
        Assert.Equal("reasoning", (string?)output[0]!["type"]);
        Assert.Equal("The user greets me.", (string?)output[0]!["content"]![0]!["text"]);
        Assert.Equal("reasoning_text", (string?)output[0]!["content"]![0]!["type"]);
        Assert.Empty(output[0]!["summary"]!.AsArray());
        Assert.StartsWith("rs_", (string?)output[0]!["id"]);
        Assert.Null(output[0]!["encrypted_content"]); // not asked for
        Assert.Equal("Hello!", (string?)output[1]!["content"]![0]!["text"]);
        Assert.StartsWith("msg_", (string?)output[1]!["id"]);
        AssertUsage(response, input: 10, cached: 4, output: 20, reasoning: 12, total: 30);
        Assert.Equal(JsonNode.Parse("""{"type":"message","status":"in_progress","content":[],"role":"assistant"}"""),
            WithoutId(events.First(e => (string?)e["type"] == "response.output_item.added" && (int?)e["output_index"] == 1)["item"]!), JsonNode.DeepEquals);
    }

    [Fact]
    public async Task TextAndTools_KeepsTheTextAndTheCall()
    {
        var (_, response) = await RunAsync("02-text-and-tools");
        var output = response["output"]!.AsArray();
        Assert.Equal(2, output.Count);
        Assert.Equal("Let me check the weather.", (string?)output[0]!["content"]![0]!["text"]);
        Assert.Equal(JsonNode.Parse("""{"type":"function_call","status":"completed","arguments":"{\"city\":\"Paris\"}","call_id":"call_w1","name":"get_weather"}"""),
            WithoutId(output[1]!), JsonNode.DeepEquals);
        Assert.StartsWith("fc_", (string?)output[1]!["id"]);
    }

    [Theory]
    [InlineData("03a-args-one-chunk", "call_a", "lookup", """{"q":"one chunk"}""")]
    [InlineData("03b-args-char-by-char", "call_c", "set_value", """{"n":42}""")]
    [InlineData("03d-name-late", "call_late", "get_weather", """{"city":"Oslo"}""")]
    public async Task ToolArguments_HoweverChunked_AddUpToTheCall(string fixture, string callId, string name, string arguments)
    {
        var (events, response) = await RunAsync(fixture);
        var call = response["output"]!.AsArray().Single()!;
        Assert.Equal(callId, (string?)call["call_id"]);
        Assert.Equal(name, (string?)call["name"]);
        Assert.Equal(arguments, (string?)call["arguments"]);
        var done = events.Single(e => (string?)e["type"] == "response.function_call_arguments.done");
        Assert.Equal(name, (string?)done["name"]);
        if (fixture == "03d-name-late")
        {
            // The fragment that came before the name is not lost: it goes out with the first delta after the item is added.
            Assert.Equal("""{"city":""", (string?)events.First(e => (string?)e["type"] == "response.function_call_arguments.delta")["delta"]);
        }
    }

    [Fact]
    public async Task InterleavedCallsAndText_KeepOneItemPerCallInArrivalOrder()
    {
        var (_, response) = await RunAsync("03c-args-interleaved");
        var output = response["output"]!.AsArray();
        Assert.Equal(["function_call", "function_call", "message"], output.Select(o => (string)o!["type"]!));
        Assert.Equal("""{"q":"x"}""", (string?)output[0]!["arguments"]);
        Assert.Equal("""{"url":"y"}""", (string?)output[1]!["arguments"]);
        Assert.Equal("Working on it.", (string?)output[2]!["content"]![0]!["text"]);
        Assert.Null(response["usage"]); // this transcript has no usage chunk
    }

    [Fact]
    public async Task ParallelToolCalls_BecomeTwoItems()
    {
        var (_, response) = await RunAsync("04-parallel-tool-calls");
        var output = response["output"]!.AsArray();
        Assert.Equal(["call_p1", "call_p2"], output.Select(o => (string)o!["call_id"]!));
        Assert.Equal(["""{"city":"Rome"}""", """{"tz":"CET"}"""], output.Select(o => (string)o!["arguments"]!));
    }

    [Fact]
    public async Task LengthMidReasoning_IsIncompleteWithMaxOutputTokens()
    {
        var (events, response) = await RunAsync("07-length-mid-reasoning");
        Assert.Equal("response.incomplete", (string?)events[^1]["type"]);
        Assert.Equal("incomplete", (string?)response["status"]);
        Assert.Equal("max_output_tokens", (string?)response["incomplete_details"]!["reason"]);
        Assert.Null(response["completed_at"]);
        Assert.Equal("First, consider the", (string?)response["output"]![0]!["content"]![0]!["text"]);
        AssertUsage(response, input: 20, cached: 0, output: 16, reasoning: 16, total: 36);
    }

    [Fact]
    public async Task UsageAfterFinish_IsWaitedFor()
    {
        var (_, response) = await RunAsync("08-usage-after-finish");
        Assert.Equal("completed", (string?)response["status"]);
        Assert.NotNull(response["completed_at"]);
        AssertUsage(response, input: 7, cached: 3, output: 2, reasoning: 0, total: 9);
    }

    [Fact]
    public async Task StreamWithoutDoneUsageOrFinishReason_CompletesWhenTheBodyEnds()
    {
        var (_, response) = await RunAsync("08b-no-done-no-usage-no-finish");
        Assert.Equal("completed", (string?)response["status"]);
        Assert.Equal("Partial answer", (string?)response["output"]![0]!["content"]![0]!["text"]);
        Assert.Null(response["usage"]);
    }

    [Fact]
    public async Task InBandError_FailsWithTheUpstreamCodeAndMessage()
    {
        var (events, response) = await RunAsync("11-inband-error");
        Assert.Equal("failed", (string?)response["status"]);
        Assert.Equal("upstream_overloaded", (string?)response["error"]!["code"]);
        Assert.Equal("The upstream model is overloaded.", (string?)response["error"]!["message"]);
        // The text that did arrive is kept, closed as incomplete.
        Assert.Equal("incomplete", (string?)response["output"]![0]!["status"]);
        Assert.Equal("Hel", (string?)response["output"]![0]!["content"]![0]!["text"]);
        Assert.Equal("Hel", (string?)events.Single(e => (string?)e["type"] == "response.output_text.done")["text"]);
    }

    [Fact]
    public async Task ContentFilter_IsIncompleteWithContentFilter()
    {
        var (_, response) = await RunAsync("11b-content-filter");
        Assert.Equal("incomplete", (string?)response["status"]);
        Assert.Equal("content_filter", (string?)response["incomplete_details"]!["reason"]);
        Assert.Equal("incomplete", (string?)response["output"]![0]!["status"]);
    }

    [Fact]
    public async Task ThinkTagsSplitAcrossChunks_BecomeReasoning()
    {
        var (events, response) = await RunAsync("12-think-split");
        var output = response["output"]!.AsArray();
        Assert.Equal("Planning the answer.", (string?)output[0]!["content"]![0]!["text"]);
        Assert.Equal("The answer is 4.", (string?)output[1]!["content"]![0]!["text"]);
        Assert.DoesNotContain(events, e => ((string?)e["delta"])?.Contains('<') == true);
    }

    [Fact]
    public async Task ThinkTags_WhenDisabled_StayText()
    {
        var gateway = new ChatGateway(FakeChatServer.Sse(Fixtures.Read("12-think-split.sse")), o => o.ChatThinkTags = false);
        var events = await gateway.StreamAsync(StreamRequest);
        EventSequenceChecker.Check(events);
        var output = events[^1]["response"]!["output"]!.AsArray();
        Assert.Equal("<think>Planning the answer.</think>\n\nThe answer is 4.", (string?)output.Single()!["content"]![0]!["text"]);
    }

    [Fact]
    public async Task SameResponseId_InEveryEventAndTheStore()
    {
        var gateway = new ChatGateway(FakeChatServer.Sse(Fixtures.Read("01-reasoning-then-text.sse")));
        var events = await gateway.StreamAsync(StreamRequest);
        var stored = Assert.Single(gateway.Store.Turns);
        EventSequenceChecker.Check(events, expectedId: stored.Key);
        Assert.All(events.Where(e => e["response"] is not null), e => Assert.Equal(stored.Key, (string?)e["response"]!["id"]));
        Assert.True(JsonNode.DeepEquals(events[^1]["response"], stored.Value.Response));
    }

    [Fact]
    public async Task Stream_SendsStreamOptionsIncludeUsage_ToChatCompletions()
    {
        var gateway = new ChatGateway(FakeChatServer.Sse(Fixtures.Read("08-usage-after-finish.sse")));
        await gateway.StreamAsync(StreamRequest);
        Assert.Equal("http://chat.test/v1/chat/completions", gateway.Server.Requests[0].Url.ToString());
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"include_usage":true}"""), gateway.SentBody["stream_options"]));
        Assert.True((bool)gateway.SentBody["stream"]!);
    }

    [Fact]
    public async Task EmptyStream_FailsBeforeTheFirstEventIsCommitted()
    {
        // No chunk at all: created/in_progress were produced but nothing else; the pipeline ends with response.failed.
        var gateway = new ChatGateway(FakeChatServer.Sse("data: [DONE]\n\n"));
        var events = await gateway.StreamAsync(StreamRequest);
        EventSequenceChecker.Check(events);
        Assert.Equal("response.failed", (string?)events[^1]["type"]);
    }

    [Fact]
    public async Task MalformedChunk_FailsTheStream()
    {
        var gateway = new ChatGateway(FakeChatServer.Sse(Fixtures.Read("08b-no-done-no-usage-no-finish.sse") + "data: {not json\n\n"));
        var events = await gateway.StreamAsync(StreamRequest);
        EventSequenceChecker.Check(events);
        SchemaValidator.ValidateEvents(events);
        Assert.Equal("response.failed", (string?)events[^1]["type"]);
        Assert.Equal("server_error", (string?)events[^1]["response"]!["error"]!["code"]);
    }

    internal static async Task<(List<JsonObject> Events, JsonObject Response)> RunAsync(string fixture, string request = StreamRequest)
    {
        var gateway = new ChatGateway(FakeChatServer.Sse(Fixtures.Read(fixture + ".sse")));
        var events = await gateway.StreamAsync(request);
        var stored = Assert.Single(gateway.Store.Turns);
        EventSequenceChecker.Check(events, expectedId: stored.Key);
        SchemaValidator.ValidateEvents(events);
        var response = events[^1]["response"]!.AsObject();
        SchemaValidator.ValidateResponse(response);
        return (events, response);
    }

    internal static void AssertUsage(JsonObject response, long input, long cached, long output, long reasoning, long total) =>
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse($$"""
            {"input_tokens":{{input}},"input_tokens_details":{"cached_tokens":{{cached}},"cache_write_tokens":0},"output_tokens":{{output}},"output_tokens_details":{"reasoning_tokens":{{reasoning}}},"total_tokens":{{total}}}
            """), response["usage"]), response["usage"]?.ToJsonString());

    internal static JsonNode WithoutId(JsonNode item)
    {
        var copy = item.DeepClone().AsObject();
        copy.Remove("id");
        return copy;
    }
}
