using System.Net;
using System.Text.Json;
using static ResponsesGateway.MockUpstream.Tests.TestHelpers;

namespace ResponsesGateway.MockUpstream.Tests;

public sealed class ChatProtocolTests(ServerFixture fx) : IClassFixture<ServerFixture>
{
    private HttpClient Client => fx.Client;

    private static JsonElement Choice(JsonElement chunk) => chunk.GetProperty("choices")[0];

    private static string? Finish(JsonElement chunk) =>
        Choice(chunk).GetProperty("finish_reason") is { ValueKind: JsonValueKind.String } f ? f.GetString() : null;

    [Fact]
    public async Task Json_completion_has_the_chat_shape()
    {
        var (response, json) = await PostJsonAsync(Client, "chat/completions", ChatBody());
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("chat.completion", json.GetProperty("object").GetString());
        Assert.StartsWith("chatcmpl-", json.GetProperty("id").GetString());
        Assert.Equal("gpt-test", json.GetProperty("model").GetString());
        Assert.True(json.GetProperty("created").TryGetInt64(out _));
        var choice = json.GetProperty("choices")[0];
        Assert.Equal(0, choice.GetProperty("index").GetInt32());
        Assert.Equal("stop", choice.GetProperty("finish_reason").GetString());
        Assert.Equal("assistant", choice.GetProperty("message").GetProperty("role").GetString());
        Assert.Equal("Mock reply to: Hello there", choice.GetProperty("message").GetProperty("content").GetString());
        var usage = json.GetProperty("usage");
        Assert.Equal(5, usage.GetProperty("completion_tokens").GetInt32());
        Assert.Equal(usage.GetProperty("prompt_tokens").GetInt32() + 5, usage.GetProperty("total_tokens").GetInt32());
    }

    [Fact]
    public async Task Sse_stream_with_usage_has_role_content_finish_usage_and_done()
    {
        var (response, events, raw) = await PostSseAsync(Client, "chat/completions", ChatBody(stream: true, includeUsage: true));
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        Assert.All(events, e => Assert.Null(e.Event));
        Assert.Equal("[DONE]", events[^1].Data);
        Assert.EndsWith("data: [DONE]\n\n", raw);

        var chunks = ChatChunks(events);
        Assert.All(chunks, c => Assert.Equal("chat.completion.chunk", c.GetProperty("object").GetString()));
        Assert.Single(chunks.Select(c => c.GetProperty("id").GetString()).Distinct());
        Assert.Equal("assistant", Choice(chunks[0]).GetProperty("delta").GetProperty("role").GetString());
        Assert.Equal("Mock reply to: Hello there", ChatContent(chunks));

        var usageChunk = chunks[^1];
        Assert.Equal(0, usageChunk.GetProperty("choices").GetArrayLength());
        Assert.Equal(5, usageChunk.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
        var finishChunk = chunks[^2];
        Assert.Equal("stop", Finish(finishChunk));
        Assert.Equal(JsonValueKind.Null, finishChunk.GetProperty("usage").ValueKind);
        Assert.All(chunks[..^2], c => Assert.Null(Finish(c)));
    }

    [Fact]
    public async Task Sse_stream_without_include_usage_has_no_usage_chunk()
    {
        var (_, events, _) = await PostSseAsync(Client, "chat/completions", ChatBody(stream: true));
        var chunks = ChatChunks(events);
        Assert.Equal("[DONE]", events[^1].Data);
        Assert.All(chunks, c => Assert.Equal(1, c.GetProperty("choices").GetArrayLength()));
        Assert.All(chunks, c => Assert.False(c.TryGetProperty("usage", out _)));
        Assert.Equal("stop", Finish(chunks[^1]));
    }

    [Fact]
    public async Task Sse_tools_streams_tool_call_deltas_with_nested_tool_name()
    {
        var body = ChatBody(model: "mock-tools", stream: true, extra: ""","tools":[{"type":"function","function":{"name":"find_weather","parameters":{"type":"object"}}}]""");
        var (_, events, _) = await PostSseAsync(Client, "chat/completions", body);
        var chunks = ChatChunks(events);
        var toolDeltas = chunks.Select(c => Choice(c).GetProperty("delta")).Where(d => d.TryGetProperty("tool_calls", out _)).Select(d => d.GetProperty("tool_calls")[0]).ToList();
        Assert.True(toolDeltas.Count > 2);
        var first = toolDeltas[0];
        Assert.Equal(0, first.GetProperty("index").GetInt32());
        Assert.StartsWith("call_", first.GetProperty("id").GetString());
        Assert.Equal("function", first.GetProperty("type").GetString());
        Assert.Equal("find_weather", first.GetProperty("function").GetProperty("name").GetString());
        Assert.All(toolDeltas.Skip(1), d => Assert.False(d.TryGetProperty("id", out _)));
        var args = string.Concat(toolDeltas.Select(d => d.GetProperty("function").GetProperty("arguments").GetString()));
        Assert.Equal("""{"location":"Paris"}""", args);
        Assert.Equal("tool_calls", Finish(chunks[^1]));
    }

    [Fact]
    public async Task Sse_tools_fills_input_when_the_function_declares_input_and_no_location()
    {
        // A free-form custom tool as a gateway sends it to a chat upstream: one string parameter "input".
        var body = ChatBody(model: "mock-tools", stream: true, extra: ""","tools":[{"type":"function","function":{"name":"apply_patch","parameters":{"type":"object","properties":{"input":{"type":"string"}},"required":["input"]}}}]""");
        var (_, events, _) = await PostSseAsync(Client, "chat/completions", body);
        var toolDeltas = ChatChunks(events).Select(c => Choice(c).GetProperty("delta")).Where(d => d.TryGetProperty("tool_calls", out _)).Select(d => d.GetProperty("tool_calls")[0]).ToList();
        Assert.Equal("apply_patch", toolDeltas[0].GetProperty("function").GetProperty("name").GetString());
        Assert.Equal("""{"input":"Paris"}""", string.Concat(toolDeltas.Select(d => d.GetProperty("function").GetProperty("arguments").GetString())));

        // Both declared: location wins, as before.
        var both = ChatBody(model: "mock-tools", extra: ""","tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object","properties":{"input":{"type":"string"},"location":{"type":"string"}}}}}]""");
        var (_, json) = await PostJsonAsync(Client, "chat/completions", both);
        Assert.Equal("""{"location":"Paris"}""", json.GetProperty("choices")[0].GetProperty("message").GetProperty("tool_calls")[0].GetProperty("function").GetProperty("arguments").GetString());
    }

    [Fact]
    public async Task Json_tools_returns_tool_calls_and_tool_message_ends_the_loop()
    {
        var (_, json) = await PostJsonAsync(Client, "chat/completions", ChatBody(model: "mock-tools"));
        var choice = json.GetProperty("choices")[0];
        Assert.Equal("tool_calls", choice.GetProperty("finish_reason").GetString());
        Assert.Equal(JsonValueKind.Null, choice.GetProperty("message").GetProperty("content").ValueKind);
        var call = choice.GetProperty("message").GetProperty("tool_calls")[0];
        Assert.Equal("get_weather", call.GetProperty("function").GetProperty("name").GetString());
        Assert.Equal("""{"location":"Paris"}""", call.GetProperty("function").GetProperty("arguments").GetString());

        var callId = call.GetProperty("id").GetString();
        var followUp = $$$"""
            {"model":"mock-tools","messages":[{"role":"user","content":"weather?"},
             {"role":"assistant","content":null,"tool_calls":[{"id":"{{{callId}}}","type":"function","function":{"name":"get_weather","arguments":"{}"}}]},
             {"role":"tool","tool_call_id":"{{{callId}}}","content":"sunny"}]}
            """;
        var (_, second) = await PostJsonAsync(Client, "chat/completions", followUp);
        Assert.Equal("stop", second.GetProperty("choices")[0].GetProperty("finish_reason").GetString());
        Assert.Equal("Mock reply to: weather?", second.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());
    }

    [Fact]
    public async Task Sse_parallel_tools_interleave_argument_fragments()
    {
        var (_, events, _) = await PostSseAsync(Client, "chat/completions", ChatBody(stream: true), behavior: "parallel-tools");
        var toolDeltas = ChatChunks(events).Select(c => Choice(c).GetProperty("delta"))
            .Where(d => d.TryGetProperty("tool_calls", out _)).Select(d => d.GetProperty("tool_calls")[0]).ToList();
        var indexes = toolDeltas.Select(d => d.GetProperty("index").GetInt32()).ToList();
        Assert.Contains(indexes.Zip(indexes.Skip(1)), p => p.First == 1 && p.Second == 0); // index 0 resumes after index 1
        string Args(int i) => string.Concat(toolDeltas.Where(d => d.GetProperty("index").GetInt32() == i).Select(d => d.GetProperty("function").GetProperty("arguments").GetString()));
        Assert.Equal("""{"location":"Paris"}""", Args(0));
        Assert.Equal("""{"location":"Tokyo"}""", Args(1));
        Assert.Equal(2, toolDeltas.Count(d => d.TryGetProperty("id", out _)));
    }

    [Fact]
    public async Task Sse_text_and_tools_sends_content_then_tool_calls()
    {
        var (_, events, _) = await PostSseAsync(Client, "chat/completions", ChatBody(model: "mock-text-and-tools", stream: true));
        var chunks = ChatChunks(events);
        Assert.Equal("Mock reply to: Hello there", ChatContent(chunks));
        Assert.Contains(chunks, c => Choice(c).GetProperty("delta").TryGetProperty("tool_calls", out _));
        Assert.Equal("tool_calls", Finish(chunks[^1]));
    }

    [Fact]
    public async Task Sse_reasoning_sends_reasoning_content_before_content()
    {
        var (_, events, _) = await PostSseAsync(Client, "chat/completions", ChatBody(model: "mock-reasoning", stream: true, includeUsage: true));
        var chunks = ChatChunks(events);
        var deltas = chunks.Where(c => c.GetProperty("choices").GetArrayLength() > 0).Select(c => Choice(c).GetProperty("delta")).ToList();
        var lastReasoning = deltas.FindLastIndex(d => d.TryGetProperty("reasoning_content", out _));
        var firstContent = deltas.FindIndex(d => d.TryGetProperty("content", out var c) && !string.IsNullOrEmpty(c.GetString()));
        Assert.True(lastReasoning > 0 && firstContent > lastReasoning);
        Assert.False(string.IsNullOrEmpty(ChatContent(chunks, "reasoning_content")));
        Assert.True(chunks[^1].GetProperty("usage").GetProperty("completion_tokens_details").GetProperty("reasoning_tokens").GetInt32() > 0);
    }

    [Fact]
    public async Task Sse_think_tags_are_split_across_chunks()
    {
        var (_, events, _) = await PostSseAsync(Client, "chat/completions", ChatBody(model: "mock-think-tags", stream: true));
        var chunks = ChatChunks(events);
        var contents = chunks.Select(c => Choice(c).GetProperty("delta")).Where(d => d.TryGetProperty("content", out var v) && v.ValueKind == JsonValueKind.String)
            .Select(d => d.GetProperty("content").GetString()).ToList();
        Assert.Contains("<thi", contents);
        Assert.Contains("nk>", contents);
        Assert.Equal("<think>Considering the request.</think>Mock reply to: Hello there", ChatContent(chunks));
    }

    [Theory]
    [InlineData("length", "length")]
    [InlineData("content-filter", "content_filter")]
    public async Task Sse_early_stop_sets_finish_reason(string behavior, string finish)
    {
        var (_, events, _) = await PostSseAsync(Client, "chat/completions", ChatBody(stream: true), behavior: behavior);
        var chunks = ChatChunks(events);
        Assert.Equal(finish, Finish(chunks[^1]));
        Assert.True(ChatContent(chunks).Length < "Mock reply to: Hello there".Length);
        Assert.Equal("[DONE]", events[^1].Data);
    }

    [Fact]
    public async Task Json_content_filter_sets_finish_reason()
    {
        var (_, json) = await PostJsonAsync(Client, "chat/completions", ChatBody(model: "mock-content-filter"));
        Assert.Equal("content_filter", json.GetProperty("choices")[0].GetProperty("finish_reason").GetString());
    }

    [Fact]
    public async Task Sse_inband_error_sends_error_line_and_no_done()
    {
        var (_, events, raw) = await PostSseAsync(Client, "chat/completions", ChatBody(model: "mock-inband-error", stream: true));
        Assert.DoesNotContain("[DONE]", raw);
        Assert.Equal("Mock", ChatContent(events.Take(events.Count - 1).Select(e => e.Json)));
        var error = events[^1].Json.GetProperty("error");
        Assert.Equal("server_error", error.GetProperty("type").GetString());
        Assert.Equal("upstream_overloaded", error.GetProperty("code").GetString());
        Assert.False(string.IsNullOrEmpty(error.GetProperty("message").GetString()));
    }

    [Fact]
    public async Task Sse_malformed_sends_a_non_json_data_line()
    {
        var (_, events, raw) = await PostSseAsync(Client, "chat/completions", ChatBody(model: "mock-malformed-sse", stream: true));
        Assert.Equal(2, events.Count);
        Assert.Equal("chat.completion.chunk", events[0].Json.GetProperty("object").GetString());
        Assert.ThrowsAny<JsonException>(() => JsonDocument.Parse(events[1].Data));
        Assert.DoesNotContain("[DONE]", raw);
    }

    [Fact]
    public async Task Json_truncated_body_is_cut_in_the_middle()
    {
        using var response = await Client.SendAsync(Post("chat/completions", ChatBody(model: "mock-truncated-json")));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var text = await response.Content.ReadAsStringAsync();
        Assert.StartsWith("{\"id\":\"chatcmpl-", text);
        Assert.ThrowsAny<JsonException>(() => JsonDocument.Parse(text));
    }

    [Fact]
    public async Task Sse_oversized_event_has_a_2mb_content_delta()
    {
        var (_, events, _) = await PostSseAsync(Client, "chat/completions", ChatBody(model: "mock-oversized-event", stream: true));
        Assert.Contains(events, e => e.Data.Length > 2 * 1024 * 1024);
        Assert.Equal("[DONE]", events[^1].Data);
    }

    [Fact]
    public async Task Echo_replies_with_the_raw_body()
    {
        var body = ChatBody(model: "mock-echo");
        var (_, json) = await PostJsonAsync(Client, "chat/completions", body);
        Assert.Equal(body, json.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());
    }

    [Fact]
    public async Task Error_429_has_retry_after()
    {
        using var response = await Client.SendAsync(Post("chat/completions", ChatBody(model: "mock-error-429")));
        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.Equal("1", response.Headers.GetValues("Retry-After").Single());
        var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error");
        Assert.Equal("rate_limit_exceeded", error.GetProperty("code").GetString());
    }

    [Fact]
    public async Task Disconnect_aborts_the_chat_stream()
    {
        using var response = await Client.SendAsync(Post("chat/completions", ChatBody(stream: true), behavior: "disconnect-2"), HttpCompletionOption.ResponseHeadersRead);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        Assert.NotNull(await ReadEventAsync(reader));
        Assert.NotNull(await ReadEventAsync(reader));
        await Assert.ThrowsAnyAsync<IOException>(async () => await ReadEventAsync(reader));
    }
}
