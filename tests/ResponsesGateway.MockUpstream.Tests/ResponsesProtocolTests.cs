using System.Diagnostics;
using System.Net;
using System.Text.Json;
using static ResponsesGateway.MockUpstream.Tests.TestHelpers;

namespace ResponsesGateway.MockUpstream.Tests;

public sealed class ResponsesProtocolTests(ServerFixture fx) : IClassFixture<ServerFixture>
{
    private static readonly string[] TextStreamTypes =
    [
        "response.created", "response.in_progress", "response.output_item.added", "response.content_part.added",
        "response.output_text.delta", "response.output_text.delta", "response.output_text.delta", "response.output_text.delta",
        "response.output_text.done", "response.content_part.done", "response.output_item.done", "response.completed",
    ];

    private static readonly string[] ResponseFields =
    [
        "id", "object", "created_at", "status", "background", "completed_at", "conversation", "error", "incomplete_details",
        "instructions", "max_output_tokens", "max_tool_calls", "model", "output", "parallel_tool_calls", "previous_response_id",
        "prompt_cache_key", "prompt_cache_retention", "reasoning", "safety_identifier", "service_tier", "store", "temperature",
        "text", "tool_choice", "tools", "top_logprobs", "top_p", "truncation", "usage", "user", "metadata",
    ];

    private HttpClient Client => fx.Client;

    [Fact]
    public async Task Json_normal_answer_has_every_field_and_echoes_settings()
    {
        var body = ResponsesBody(extra: """
            ,"instructions":"Be terse.","temperature":0.5,"top_p":0.9,"max_output_tokens":64,"parallel_tool_calls":false,
            "store":false,"previous_response_id":"resp_prev","metadata":{"k":"v"},"tool_choice":"none",
            "tools":[{"type":"function","name":"lookup","parameters":{"type":"object","properties":{}}}],
            "text":{"format":{"type":"text"},"verbosity":"low"},"reasoning":{"effort":"low"},"unknown_field":{"x":1}
            """);
        var (response, json) = await PostJsonAsync(Client, "responses", body);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        foreach (var field in ResponseFields)
        {
            Assert.True(json.TryGetProperty(field, out _), $"missing field {field}");
        }

        Assert.StartsWith("resp_mock", json.GetProperty("id").GetString());
        Assert.Equal("response", json.GetProperty("object").GetString());
        Assert.Equal(JsonValueKind.Number, json.GetProperty("created_at").ValueKind);
        Assert.True(json.GetProperty("created_at").TryGetInt64(out _));
        Assert.Equal("completed", json.GetProperty("status").GetString());
        Assert.Equal(JsonValueKind.Null, json.GetProperty("error").ValueKind);
        Assert.Equal(JsonValueKind.Null, json.GetProperty("incomplete_details").ValueKind);
        Assert.Equal("gpt-test", json.GetProperty("model").GetString());
        Assert.Equal("Be terse.", json.GetProperty("instructions").GetString());
        Assert.Equal(0.5, json.GetProperty("temperature").GetDouble());
        Assert.Equal(0.9, json.GetProperty("top_p").GetDouble());
        Assert.Equal(64, json.GetProperty("max_output_tokens").GetInt32());
        Assert.False(json.GetProperty("parallel_tool_calls").GetBoolean());
        Assert.False(json.GetProperty("store").GetBoolean());
        Assert.Equal("resp_prev", json.GetProperty("previous_response_id").GetString());
        Assert.Equal("v", json.GetProperty("metadata").GetProperty("k").GetString());
        Assert.Equal("none", json.GetProperty("tool_choice").GetString());
        Assert.Equal("lookup", json.GetProperty("tools")[0].GetProperty("name").GetString());
        Assert.Equal("low", json.GetProperty("text").GetProperty("verbosity").GetString());
        Assert.Equal("low", json.GetProperty("reasoning").GetProperty("effort").GetString());
        Assert.Equal(JsonValueKind.Null, json.GetProperty("reasoning").GetProperty("summary").ValueKind);

        var output = json.GetProperty("output");
        Assert.Equal(1, output.GetArrayLength());
        var message = output[0];
        Assert.StartsWith("msg_", message.GetProperty("id").GetString());
        Assert.Equal("message", message.GetProperty("type").GetString());
        Assert.Equal("completed", message.GetProperty("status").GetString());
        Assert.Equal("assistant", message.GetProperty("role").GetString());
        var part = message.GetProperty("content")[0];
        Assert.Equal("output_text", part.GetProperty("type").GetString());
        Assert.Equal("Mock reply to: Hello there", part.GetProperty("text").GetString());
        Assert.Equal(0, part.GetProperty("annotations").GetArrayLength());
        Assert.Equal(0, part.GetProperty("logprobs").GetArrayLength());

        var usage = json.GetProperty("usage");
        var input = usage.GetProperty("input_tokens").GetInt32();
        var outputTokens = usage.GetProperty("output_tokens").GetInt32();
        Assert.True(input >= 1);
        Assert.Equal(5, outputTokens); // "Mock", " reply", " to:", " Hello", " there"
        Assert.Equal(input + outputTokens, usage.GetProperty("total_tokens").GetInt32());
        Assert.Equal(0, usage.GetProperty("input_tokens_details").GetProperty("cached_tokens").GetInt32());
        Assert.Equal(0, usage.GetProperty("output_tokens_details").GetProperty("reasoning_tokens").GetInt32());

        Assert.Contains("unknown_field", fx.Server.Requests.Last(r => r.Path == "/v1/responses").Body);
    }

    [Fact]
    public async Task Json_defaults_when_settings_are_absent()
    {
        var (_, json) = await PostJsonAsync(Client, "responses", ResponsesBody());
        Assert.Equal(JsonValueKind.Null, json.GetProperty("instructions").ValueKind);
        Assert.Equal(1.0, json.GetProperty("temperature").GetDouble());
        Assert.Equal(1.0, json.GetProperty("top_p").GetDouble());
        Assert.True(json.GetProperty("parallel_tool_calls").GetBoolean());
        Assert.True(json.GetProperty("store").GetBoolean());
        Assert.Equal("auto", json.GetProperty("tool_choice").GetString());
        Assert.Equal(0, json.GetProperty("tools").GetArrayLength());
        Assert.Equal(JsonValueKind.Object, json.GetProperty("metadata").ValueKind);
        Assert.Equal("text", json.GetProperty("text").GetProperty("format").GetProperty("type").GetString());
        Assert.Equal(JsonValueKind.Null, json.GetProperty("user").ValueKind);
        Assert.Equal("disabled", json.GetProperty("truncation").GetString());
    }

    [Fact]
    public async Task Array_input_uses_last_user_message_with_parts()
    {
        const string input = """
            [{"role":"user","content":"first question"},
             {"type":"message","role":"assistant","content":[{"type":"output_text","text":"an answer","annotations":[]}]},
             {"type":"message","role":"user","content":[{"type":"input_text","text":"second"},{"type":"input_text","text":"question"}]}]
            """;
        var (_, json) = await PostJsonAsync(Client, "responses", ResponsesBody(input: input));
        Assert.Equal("Mock reply to: second question", json.GetProperty("output")[0].GetProperty("content")[0].GetProperty("text").GetString());
    }

    [Fact]
    public async Task Reply_is_truncated_to_200_chars()
    {
        var longText = new string('a', 500);
        var (_, json) = await PostJsonAsync(Client, "responses", ResponsesBody(input: $"\"{longText}\""));
        Assert.Equal(200, json.GetProperty("output")[0].GetProperty("content")[0].GetProperty("text").GetString()!.Length);
    }

    [Fact]
    public async Task Sse_normal_answer_follows_the_exact_grammar()
    {
        var (response, events, raw) = await PostSseAsync(Client, "responses", ResponsesBody(stream: true, input: "\"Hi\""));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(TextStreamTypes, Types(events));
        AssertDenseSequence(events);
        Assert.DoesNotContain("[DONE]", raw);
        Assert.EndsWith("}}\n\n", raw);

        var created = events[0].Json.GetProperty("response");
        Assert.Equal("in_progress", created.GetProperty("status").GetString());
        Assert.Equal(0, created.GetProperty("output").GetArrayLength());
        Assert.Equal(JsonValueKind.Null, created.GetProperty("usage").ValueKind);

        var added = events[2].Json.GetProperty("item");
        var itemId = added.GetProperty("id").GetString();
        Assert.Equal("in_progress", added.GetProperty("status").GetString());
        Assert.Equal(0, added.GetProperty("content").GetArrayLength());

        var deltas = events.Where(e => e.Type == "response.output_text.delta").Select(e => e.Json).ToList();
        Assert.All(deltas, d =>
        {
            Assert.Equal(itemId, d.GetProperty("item_id").GetString());
            Assert.Equal(0, d.GetProperty("output_index").GetInt32());
            Assert.Equal(0, d.GetProperty("content_index").GetInt32());
            Assert.Equal(0, d.GetProperty("logprobs").GetArrayLength());
        });
        var text = string.Concat(deltas.Select(d => d.GetProperty("delta").GetString()));
        Assert.Equal("Mock reply to: Hi", text);
        Assert.Equal(text, events[8].Json.GetProperty("text").GetString());
        Assert.Equal(text, events[9].Json.GetProperty("part").GetProperty("text").GetString());
        Assert.Equal("completed", events[10].Json.GetProperty("item").GetProperty("status").GetString());

        var completed = events[^1].Json.GetProperty("response");
        Assert.Equal(created.GetProperty("id").GetString(), completed.GetProperty("id").GetString());
        Assert.Equal("completed", completed.GetProperty("status").GetString());
        Assert.Equal(text, completed.GetProperty("output")[0].GetProperty("content")[0].GetProperty("text").GetString());
        Assert.Equal(4, completed.GetProperty("usage").GetProperty("output_tokens").GetInt32());
    }

    [Fact]
    public async Task Sse_tools_streams_one_function_call()
    {
        var body = ResponsesBody(model: "mock-tools", stream: true, extra: ""","tools":[{"type":"function","name":"lookup_city","parameters":{}}]""");
        var (_, events, _) = await PostSseAsync(Client, "responses", body);

        Assert.Equal(
            ["response.created", "response.in_progress", "response.output_item.added",
             .. Enumerable.Repeat("response.function_call_arguments.delta", 5),
             "response.function_call_arguments.done", "response.output_item.done", "response.completed"],
            Types(events));
        AssertDenseSequence(events);
        var item = events[2].Json.GetProperty("item");
        Assert.Equal("function_call", item.GetProperty("type").GetString());
        Assert.StartsWith("fc_", item.GetProperty("id").GetString());
        Assert.StartsWith("call_", item.GetProperty("call_id").GetString());
        Assert.Equal("lookup_city", item.GetProperty("name").GetString());
        Assert.Equal("", item.GetProperty("arguments").GetString());
        var args = string.Concat(events.Where(e => e.Type == "response.function_call_arguments.delta").Select(e => e.Json.GetProperty("delta").GetString()));
        Assert.Equal("""{"location":"Paris"}""", args);
        Assert.Equal(args, events[8].Json.GetProperty("arguments").GetString());
        var done = events[9].Json.GetProperty("item");
        Assert.Equal(item.GetProperty("call_id").GetString(), done.GetProperty("call_id").GetString());
        Assert.Equal(args, done.GetProperty("arguments").GetString());
        Assert.Equal("completed", events[^1].Json.GetProperty("response").GetProperty("status").GetString());
    }

    [Fact]
    public async Task Json_tools_defaults_to_get_weather_and_tool_result_ends_the_loop()
    {
        var (_, json) = await PostJsonAsync(Client, "responses", ResponsesBody(model: "mock-tools"));
        var call = json.GetProperty("output")[0];
        Assert.Equal("function_call", call.GetProperty("type").GetString());
        Assert.Equal("get_weather", call.GetProperty("name").GetString());

        var followUp = $$"""[{"role":"user","content":"weather?"},{"type":"function_call_output","call_id":"{{call.GetProperty("call_id").GetString()}}","output":"sunny"}]""";
        var (_, second) = await PostJsonAsync(Client, "responses", ResponsesBody(model: "mock-tools", input: followUp));
        Assert.Equal("message", second.GetProperty("output")[0].GetProperty("type").GetString());
        Assert.Equal("Mock reply to: weather?", second.GetProperty("output")[0].GetProperty("content")[0].GetProperty("text").GetString());
    }

    [Fact]
    public async Task Sse_parallel_tools_emits_two_calls_in_order()
    {
        var (_, events, _) = await PostSseAsync(Client, "responses", ResponsesBody(stream: true), behavior: "parallel-tools");
        AssertDenseSequence(events);
        var done = events.Where(e => e.Type == "response.output_item.done").Select(e => e.Json).ToList();
        Assert.Equal(2, done.Count);
        Assert.Equal(0, done[0].GetProperty("output_index").GetInt32());
        Assert.Equal(1, done[1].GetProperty("output_index").GetInt32());
        Assert.Equal("""{"location":"Paris"}""", done[0].GetProperty("item").GetProperty("arguments").GetString());
        Assert.Equal("""{"location":"Tokyo"}""", done[1].GetProperty("item").GetProperty("arguments").GetString());
        Assert.NotEqual(done[0].GetProperty("item").GetProperty("call_id").GetString(), done[1].GetProperty("item").GetProperty("call_id").GetString());
        Assert.Equal(2, events[^1].Json.GetProperty("response").GetProperty("output").GetArrayLength());
    }

    [Fact]
    public async Task Sse_text_and_tools_emits_message_then_call()
    {
        var (_, events, _) = await PostSseAsync(Client, "responses", ResponsesBody(model: "mock-text-and-tools", stream: true));
        AssertDenseSequence(events);
        var added = events.Where(e => e.Type == "response.output_item.added").Select(e => e.Json.GetProperty("item").GetProperty("type").GetString()).ToList();
        Assert.Equal(["message", "function_call"], added);
        var output = events[^1].Json.GetProperty("response").GetProperty("output");
        Assert.Equal("message", output[0].GetProperty("type").GetString());
        Assert.Equal("function_call", output[1].GetProperty("type").GetString());
    }

    [Fact]
    public async Task Sse_reasoning_emits_summary_events_before_the_message()
    {
        var (_, events, _) = await PostSseAsync(Client, "responses", ResponsesBody(model: "mock-reasoning", stream: true));
        AssertDenseSequence(events);
        var types = Types(events);
        var deltaCount = types.Count(t => t == "response.reasoning_summary_text.delta");
        Assert.True(deltaCount > 0);
        Assert.Equal(
            ["response.created", "response.in_progress", "response.output_item.added", "response.reasoning_summary_part.added",
             .. Enumerable.Repeat("response.reasoning_summary_text.delta", deltaCount),
             "response.reasoning_summary_text.done", "response.reasoning_summary_part.done", "response.output_item.done",
             "response.output_item.added", "response.content_part.added"],
            types.Take(10 + deltaCount - 1).ToList());

        var reasoningAdded = events[2].Json.GetProperty("item");
        Assert.Equal("reasoning", reasoningAdded.GetProperty("type").GetString());
        Assert.StartsWith("rs_", reasoningAdded.GetProperty("id").GetString());
        Assert.Equal(0, reasoningAdded.GetProperty("summary").GetArrayLength());

        var reasoningDone = events.First(e => e.Type == "response.output_item.done").Json.GetProperty("item");
        Assert.False(string.IsNullOrEmpty(reasoningDone.GetProperty("encrypted_content").GetString()));
        var summary = reasoningDone.GetProperty("summary")[0];
        Assert.Equal("summary_text", summary.GetProperty("type").GetString());
        var summaryText = string.Concat(events.Where(e => e.Type == "response.reasoning_summary_text.delta").Select(e => e.Json.GetProperty("delta").GetString()));
        Assert.Equal(summaryText, summary.GetProperty("text").GetString());

        var completed = events[^1].Json.GetProperty("response");
        Assert.Equal(1, completed.GetProperty("output")[1].GetProperty("content").GetArrayLength());
        var usage = completed.GetProperty("usage");
        var reasoningTokens = usage.GetProperty("output_tokens_details").GetProperty("reasoning_tokens").GetInt32();
        Assert.True(reasoningTokens > 0);
        Assert.True(usage.GetProperty("output_tokens").GetInt32() > reasoningTokens);
    }

    [Fact]
    public async Task Sse_length_ends_with_response_incomplete()
    {
        var (_, events, _) = await PostSseAsync(Client, "responses", ResponsesBody(model: "mock-length", stream: true));
        AssertDenseSequence(events);
        Assert.Equal("response.incomplete", events[^1].Type);
        Assert.Equal("incomplete", events[^2].Json.GetProperty("item").GetProperty("status").GetString());
        var response = events[^1].Json.GetProperty("response");
        Assert.Equal("incomplete", response.GetProperty("status").GetString());
        Assert.Equal("max_output_tokens", response.GetProperty("incomplete_details").GetProperty("reason").GetString());
        Assert.Equal("incomplete", response.GetProperty("output")[0].GetProperty("status").GetString());
    }

    [Fact]
    public async Task Json_length_is_incomplete_with_http_200()
    {
        var (response, json) = await PostJsonAsync(Client, "responses", ResponsesBody(model: "mock-length"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("incomplete", json.GetProperty("status").GetString());
        Assert.Equal("max_output_tokens", json.GetProperty("incomplete_details").GetProperty("reason").GetString());
        Assert.Equal(JsonValueKind.Null, json.GetProperty("completed_at").ValueKind);
    }

    [Fact]
    public async Task Sse_inband_error_ends_with_response_failed()
    {
        var (_, events, _) = await PostSseAsync(Client, "responses", ResponsesBody(model: "mock-inband-error", stream: true));
        Assert.Equal(["response.created", "response.in_progress", "response.failed"], Types(events));
        AssertDenseSequence(events);
        var response = events[^1].Json.GetProperty("response");
        Assert.Equal("failed", response.GetProperty("status").GetString());
        Assert.Equal("server_error", response.GetProperty("error").GetProperty("code").GetString());
        Assert.Equal("The model failed to generate a response.", response.GetProperty("error").GetProperty("message").GetString());
        Assert.Equal(JsonValueKind.Null, response.GetProperty("usage").ValueKind);
    }

    [Fact]
    public async Task Json_inband_error_is_status_failed()
    {
        var (response, json) = await PostJsonAsync(Client, "responses", ResponsesBody(model: "mock-inband-error"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("failed", json.GetProperty("status").GetString());
        Assert.Equal("server_error", json.GetProperty("error").GetProperty("code").GetString());
    }

    [Fact]
    public async Task Sse_malformed_sends_a_non_json_data_line()
    {
        var (_, events, _) = await PostSseAsync(Client, "responses", ResponsesBody(stream: true), behavior: "malformed-sse");
        Assert.Equal(2, events.Count);
        Assert.Equal("response.created", events[0].Type);
        Assert.ThrowsAny<JsonException>(() => JsonDocument.Parse(events[1].Data));
    }

    [Fact]
    public async Task Json_truncated_body_is_cut_in_the_middle()
    {
        using var response = await Client.SendAsync(Post("responses", ResponsesBody(model: "mock-truncated-json")));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var text = await response.Content.ReadAsStringAsync();
        Assert.StartsWith("{\"id\":\"resp_mock", text);
        Assert.ThrowsAny<JsonException>(() => JsonDocument.Parse(text));
    }

    [Fact]
    public async Task Sse_truncated_json_cuts_the_terminal_event()
    {
        var (_, events, raw) = await PostSseAsync(Client, "responses", ResponsesBody(stream: true), behavior: "truncated-json");
        Assert.Equal("response.completed", events[^1].Event);
        Assert.ThrowsAny<JsonException>(() => JsonDocument.Parse(events[^1].Data));
        Assert.False(raw.EndsWith("\n\n", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Sse_oversized_event_has_a_2mb_delta()
    {
        var (_, events, _) = await PostSseAsync(Client, "responses", ResponsesBody(stream: true), behavior: "oversized-event");
        AssertDenseSequence(events);
        var largest = events.Where(e => e.Type == "response.output_text.delta").Max(e => e.Json.GetProperty("delta").GetString()!.Length);
        Assert.True(largest >= 2 * 1024 * 1024);
        Assert.Equal("response.completed", events[^1].Type);
    }

    [Fact]
    public async Task Echo_replies_with_the_raw_body()
    {
        var body = ResponsesBody(model: "mock-echo", input: "\"echo me\"");
        var (_, json) = await PostJsonAsync(Client, "responses", body);
        Assert.Equal(body, json.GetProperty("output")[0].GetProperty("content")[0].GetProperty("text").GetString());
        Assert.Equal("mock-echo", json.GetProperty("model").GetString());
    }

    [Theory]
    [InlineData(400, "invalid_request_error")]
    [InlineData(429, "requests")]
    [InlineData(500, "server_error")]
    [InlineData(503, "server_error")]
    public async Task Error_status_returns_openai_envelope(int status, string type)
    {
        using var response = await Client.SendAsync(Post("responses", ResponsesBody(model: $"mock-error-{status}", stream: true)));
        Assert.Equal(status, (int)response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error");
        Assert.Equal(type, error.GetProperty("type").GetString());
        Assert.False(string.IsNullOrEmpty(error.GetProperty("message").GetString()));
        Assert.True(error.TryGetProperty("param", out _));
        Assert.True(error.TryGetProperty("code", out _));
        if (status == 429)
        {
            Assert.Equal("1", response.Headers.GetValues("Retry-After").Single());
            Assert.Equal("rate_limit_exceeded", error.GetProperty("code").GetString());
        }
    }

    [Fact]
    public async Task Header_behaviour_wins_over_model()
    {
        using var response = await Client.SendAsync(Post("responses", ResponsesBody(model: "mock-tools"), behavior: "error-503"));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
    }

    [Fact]
    public async Task Slow_delays_the_response_headers()
    {
        var sw = Stopwatch.StartNew();
        using var response = await Client.SendAsync(Post("responses", ResponsesBody(stream: true), behavior: "slow-300"), HttpCompletionOption.ResponseHeadersRead);
        Assert.True(sw.ElapsedMilliseconds >= 280, $"headers after {sw.ElapsedMilliseconds} ms");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Stall_pauses_after_the_first_delta()
    {
        using var response = await Client.SendAsync(Post("responses", ResponsesBody(model: "mock-stall-400", stream: true)), HttpCompletionOption.ResponseHeadersRead);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        var sw = Stopwatch.StartNew();
        for (var i = 0; i < 5; i++)
        {
            var ev = await ReadEventAsync(reader);
            Assert.NotNull(ev);
        }

        var beforeStall = sw.ElapsedMilliseconds;
        var next = await ReadEventAsync(reader);
        var afterStall = sw.ElapsedMilliseconds;
        Assert.Equal("response.output_text.delta", next!.Type);
        Assert.True(beforeStall < 300, $"first five events took {beforeStall} ms");
        Assert.True(afterStall >= 380, $"second delta after {afterStall} ms");

        var rest = ParseSse(await reader.ReadToEndAsync());
        Assert.Equal("response.completed", rest[^1].Type);
    }

    [Fact]
    public async Task Disconnect_aborts_after_n_events_without_terminal_event()
    {
        using var response = await Client.SendAsync(Post("responses", ResponsesBody(model: "mock-disconnect-3", stream: true)), HttpCompletionOption.ResponseHeadersRead);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        var events = new List<SseEvent>();
        var failed = false;
        try
        {
            while (await ReadEventAsync(reader) is { } ev)
            {
                events.Add(ev);
            }
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException)
        {
            failed = true;
        }

        Assert.True(failed, "the stream should end with a transport error");
        Assert.Equal(3, events.Count);
        Assert.DoesNotContain(events, e => e.Type == "response.completed");
    }
}
