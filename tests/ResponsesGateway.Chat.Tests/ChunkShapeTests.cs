using System.Text.Json.Nodes;
using ResponsesGateway.TestSupport;
using ResponsesGateway.Upstreams.Chat.Tests.Infrastructure;

namespace ResponsesGateway.Upstreams.Chat.Tests;

/// <summary>
/// Chunk shapes the golden transcripts do not cover, read by the translator as servers send them: arguments as an
/// object, a null <c>delta</c> next to a <c>message</c>, an error given as a bare string, token counts as decimals.
/// </summary>
public sealed class ChunkShapeTests
{
    private const string StreamRequest = """{"model":"chat-model","input":"What is the weather in Zürich?","stream":true}""";

    [Fact]
    public async Task ArgumentsSentAsAnObject_BecomeItsJsonText()
    {
        var events = await StreamAsync(
            """{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"get_weather","arguments":{"city":"Zürich","days":[1, 2]}}}]},"finish_reason":"tool_calls"}]}""");

        var item = events.Single(e => (string?)e["type"] == "response.output_item.done")["item"]!;
        Assert.Equal("{\"city\":\"Z\\u00FCrich\",\"days\":[1,2]}", (string?)item["arguments"]);
    }

    [Fact]
    public async Task NullDelta_FallsBackToMessage()
    {
        var events = await StreamAsync("""{"choices":[{"index":0,"delta":null,"message":{"content":"Sunny."},"finish_reason":"stop"}]}""");

        Assert.Equal("Sunny.", (string?)events.Single(e => (string?)e["type"] == "response.output_text.done")["text"]);
    }

    [Fact]
    public async Task OnlyTheFirstChoiceCounts()
    {
        var events = await StreamAsync(
            """{"choices":[{"index":1,"delta":{"content":"other answer"}},"junk",{"delta":{"content":"first"},"finish_reason":"stop"}]}""");

        Assert.Equal("first", (string?)events.Single(e => (string?)e["type"] == "response.output_text.done")["text"]);
    }

    [Fact]
    public async Task ErrorAsAString_IsTheMessage()
    {
        var events = await StreamAsync("""{"choices":[{"index":0,"delta":{"content":"Hi"}}]}""", """{"error":"model overloaded","code":"busy"}""");

        var response = events[^1]["response"]!;
        Assert.Equal("response.failed", (string?)events[^1]["type"]);
        Assert.Equal("model overloaded", (string?)response["error"]!["message"]);
        Assert.Equal("busy", (string?)response["error"]!["code"]);
    }

    [Fact]
    public async Task UsageWithDecimalsAndDeepSeekCacheHits_IsMapped()
    {
        var events = await StreamAsync(
            """{"choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":"stop"}]}""",
            """{"choices":[],"usage":{"prompt_tokens":12.0,"completion_tokens":3,"prompt_cache_hit_tokens":4,"completion_tokens_details":{"reasoning_tokens":1}}}""");

        var usage = events[^1]["response"]!["usage"]!;
        Assert.True(JsonNode.DeepEquals(
            JsonNode.Parse("""{"input_tokens":12,"input_tokens_details":{"cached_tokens":4,"cache_write_tokens":0},"output_tokens":3,"output_tokens_details":{"reasoning_tokens":1},"total_tokens":15}"""),
            usage), usage.ToJsonString());
    }

    private static async Task<List<JsonObject>> StreamAsync(params string[] chunks)
    {
        var gateway = new ChatGateway(FakeChatServer.Sse(string.Concat(chunks.Select(c => "data: " + c + "\n\n")) + "data: [DONE]\n\n"));
        var events = await gateway.StreamAsync(StreamRequest);
        EventSequenceChecker.Check(events);
        return events;
    }
}
