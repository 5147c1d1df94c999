using System.Text.Json.Nodes;
using ResponsesGateway.MockUpstream;

namespace ResponsesGateway.Tests.Conformance;

/// <summary>What a scenario runs with: the upstream kind, the path it sends through, and the mock's recorded requests.</summary>
public sealed class ScenarioContext(string kind, IResponsePath path, MockUpstreamServer mock)
{
    public string Kind { get; } = kind;

    public bool IsChat => Kind == UpstreamKinds.Chat;

    public IResponsePath Path { get; } = path;

    public Task<Turn> SendAsync(string json) => Path.SendAsync(JsonNode.Parse(json)!.AsObject());

    /// <summary>The markers of this run, in order: the paths differ only in them, so comparisons put placeholders in their place.</summary>
    public List<string> Markers { get; } = [];

    /// <summary>A unique token to find this request among the mock's recorded requests.</summary>
    public string NewMarker()
    {
        var marker = Guid.NewGuid().ToString("N")[..12];
        Markers.Add(marker);
        return marker;
    }

    /// <summary>The body the upstream received for the one request that carried <paramref name="marker"/>, at the path of this kind.</summary>
    public JsonObject UpstreamBody(string marker)
    {
        var expectedPath = IsChat ? "/v1/chat/completions" : "/v1/responses";
        var matches = mock.Requests.Where(r => r.Body.Contains(marker, StringComparison.Ordinal)).ToList();
        Assert.True(matches.Count == 1, $"expected one upstream request carrying {marker}, got {matches.Count}");
        Assert.Equal(expectedPath, matches[0].Path);
        return JsonNode.Parse(matches[0].Body)!.AsObject();
    }
}

/// <summary>
/// The conformance scenarios (issue 4), written once for both upstream kinds and every path. Each runs its turns
/// through <see cref="ScenarioContext.SendAsync"/>, asserts what the client must see and what the upstream must have
/// received, and returns the final Responses (or, for HTTP errors, a description of each error) so that the
/// paths can be compared with each other.
/// </summary>
public static partial class Scenarios
{
    public static readonly IReadOnlyDictionary<string, Func<ScenarioContext, Task<List<JsonObject>>>> All =
        new Dictionary<string, Func<ScenarioContext, Task<List<JsonObject>>>>
        {
            ["plain-text"] = PlainTextAsync,
            ["tool-round-trip"] = ToolRoundTripAsync,
            ["parallel-tools"] = ParallelToolsAsync,
            ["custom-tool"] = CustomToolAsync,
            ["reasoning"] = ReasoningAsync,
            ["think-tags"] = ThinkTagsAsync,
            ["structured-output"] = StructuredOutputAsync,
            ["max-output-tokens"] = MaxOutputTokensAsync,
            ["content-filter"] = ContentFilterAsync,
            ["upstream-http-error"] = UpstreamHttpErrorAsync,
            ["inband-error"] = InBandErrorAsync,
            ["chain"] = ChainAsync,
            ["codex-request"] = CodexRequestAsync,
            ["namespace-tool-loop"] = NamespaceToolLoopAsync,
            ["compaction-trigger"] = CompactionTriggerAsync,
            ["spec-defaults"] = SpecDefaultsAsync,
        };

    public static TheoryData<string> Names()
    {
        var data = new TheoryData<string>();
        foreach (var name in All.Keys)
        {
            data.Add(name);
        }
        return data;
    }

    private const string WeatherTool =
        """{"type":"function","name":"get_weather","description":"Current weather for a city.","parameters":{"type":"object","properties":{"location":{"type":"string"}},"required":["location"],"additionalProperties":false},"strict":true}""";

    private static async Task<List<JsonObject>> PlainTextAsync(ScenarioContext ctx)
    {
        var marker = ctx.NewMarker();
        var turn = await ctx.SendAsync($$$"""{"model":"mock-model","input":"hello {{{marker}}}","instructions":"be brief","temperature":0.5,"metadata":{"case":"plain"}}""");

        var response = turn.Response;
        Assert.Equal("completed", (string?)response["status"]);
        Assert.Equal("be brief", (string?)response["instructions"]);
        Assert.Equal("plain", (string?)response["metadata"]!["case"]);
        var message = Single(response, "message");
        Assert.Equal("assistant", (string?)message["role"]);
        Assert.Equal("completed", (string?)message["status"]);
        Assert.Equal($"Mock reply to: hello {marker}", OutputText(response));
        Assert.True((int)response["usage"]!["total_tokens"]! > 0);
        AssertEventsInclude(turn, "response.created", "response.in_progress", "response.content_part.added", "response.output_text.delta", "response.output_text.done", "response.completed");

        var sent = ctx.UpstreamBody(marker);
        Assert.Equal("mock-model", (string?)sent["model"]);
        Assert.Equal(0.5, (double)sent["temperature"]!);
        if (ctx.IsChat)
        {
            AssertJson("""[{"role":"system","content":"be brief"},{"role":"user","content":"hello MARKER"}]""".Replace("MARKER", marker, StringComparison.Ordinal), sent["messages"]);
        }
        else
        {
            Assert.Equal("be brief", (string?)sent["instructions"]);
            Assert.False((bool)sent["store"]!);
        }
        return [response];
    }

    private static async Task<List<JsonObject>> ToolRoundTripAsync(ScenarioContext ctx)
    {
        var marker = ctx.NewMarker();
        var first = await ctx.SendAsync($$"""{"model":"mock-tools","input":"weather in Paris? {{marker}}","tools":[{{WeatherTool}}]}""");

        var call = Single(first.Response, "function_call");
        Assert.Equal("completed", (string?)first.Response["status"]);
        Assert.Equal("get_weather", (string?)call["name"]);
        Assert.Equal("""{"location":"Paris"}""", (string?)call["arguments"]);
        Assert.Equal("completed", (string?)call["status"]);
        var callId = (string)call["call_id"]!;
        Assert.False(string.IsNullOrEmpty(callId));
        AssertEventsInclude(first, "response.function_call_arguments.delta", "response.function_call_arguments.done");

        var marker2 = ctx.NewMarker();
        var second = await ctx.SendAsync($$"""
            {"model":"mock-tools","previous_response_id":"{{first.Response["id"]}}","tools":[{{WeatherTool}}],
             "input":[{"type":"function_call_output","call_id":"{{callId}}","output":"{\"temperature_c\":21,\"ref\":\"{{marker2}}\"}"}]}
            """);

        Assert.Equal("completed", (string?)second.Response["status"]);
        Assert.Equal((string?)first.Response["id"], (string?)second.Response["previous_response_id"]);
        Single(second.Response, "message");
        Assert.Equal($"Mock reply to: weather in Paris? {marker}", OutputText(second.Response));

        var sent = ctx.UpstreamBody(marker2);
        var output = $$"""{"temperature_c":21,"ref":"{{marker2}}"}""";
        if (ctx.IsChat)
        {
            var expected = new JsonArray(
                new JsonObject { ["role"] = "user", ["content"] = $"weather in Paris? {marker}" },
                new JsonObject
                {
                    ["role"] = "assistant",
                    ["content"] = null,
                    ["tool_calls"] = new JsonArray(ChatToolCall(callId, "get_weather", """{"location":"Paris"}""")),
                },
                new JsonObject { ["role"] = "tool", ["tool_call_id"] = callId, ["content"] = output });
            AssertJson(expected, sent["messages"]);
            AssertJson("""[{"type":"function","function":{"name":"get_weather","description":"Current weather for a city.","parameters":{"type":"object","properties":{"location":{"type":"string"}},"required":["location"],"additionalProperties":false},"strict":true}}]""", sent["tools"]);
        }
        else
        {
            Assert.Equal(
                [$"user:weather in Paris? {marker}", $"function_call:{callId}:get_weather:{{\"location\":\"Paris\"}}", $"function_call_output:{callId}:{output}"],
                Describe(sent["input"]!.AsArray()));
            Assert.False(sent.ContainsKey("previous_response_id"));
        }
        return [first.Response, second.Response];
    }

    private const string PatchTool =
        """{"type":"custom","name":"apply_patch","description":"Edit files.","format":{"type":"grammar","syntax":"lark","definition":"start: \"*** Begin Patch\" LF"}}""";

    /// <summary>
    /// A free-form <c>custom</c> tool (Codex's <c>apply_patch</c>). Native: passed through untouched (the mock answers
    /// text). Chat: sent as a function with one string parameter <c>input</c>, the model's call comes back as a
    /// <c>custom_tool_call</c> with <c>custom_tool_call_input.*</c> events, and the next turn replays it as a tool call
    /// with arguments <c>{"input": …}</c> followed by the <c>custom_tool_call_output</c> as a tool message.
    /// </summary>
    private static async Task<List<JsonObject>> CustomToolAsync(ScenarioContext ctx)
    {
        var marker = ctx.NewMarker();
        if (!ctx.IsChat)
        {
            var turn = await ctx.SendAsync($$"""{"model":"mock-model","input":"patch {{marker}}","tools":[{{PatchTool}}]}""");
            Assert.Equal("completed", (string?)turn.Response["status"]);
            AssertJson($"[{PatchTool}]", ctx.UpstreamBody(marker)["tools"]);
            AssertJson($"[{PatchTool}]", turn.Response["tools"]);
            return [turn.Response];
        }

        var first = await ctx.SendAsync($$"""{"model":"mock-tools","input":"patch {{marker}}","tools":[{{PatchTool}}]}""");
        Assert.Equal("completed", (string?)first.Response["status"]);
        var call = Single(first.Response, "custom_tool_call");
        Assert.StartsWith("ctc_", (string?)call["id"]);
        Assert.Equal("apply_patch", (string?)call["name"]);
        Assert.Equal("Paris", (string?)call["input"]); // the mock fills the one declared parameter, "input"
        Assert.Equal("completed", (string?)call["status"]);
        var callId = (string)call["call_id"]!;
        AssertEventsInclude(first, "response.custom_tool_call_input.delta", "response.custom_tool_call_input.done");
        Assert.False(first.Events?.Contains("response.function_call_arguments.delta") ?? false);
        var tool = ctx.UpstreamBody(marker)["tools"]![0]!.AsObject();
        Assert.Equal("apply_patch", (string?)tool["function"]!["name"]);
        AssertJson("""{"type":"object","properties":{"input":{"type":"string"}},"required":["input"]}""", tool["function"]!["parameters"]);

        var marker2 = ctx.NewMarker();
        var second = await ctx.SendAsync($$"""
            {"model":"mock-tools","previous_response_id":"{{first.Response["id"]}}","tools":[{{PatchTool}}],
             "input":[{"type":"custom_tool_call_output","call_id":"{{callId}}","output":"Done {{marker2}}"}]}
            """);
        Assert.Equal("completed", (string?)second.Response["status"]);
        Assert.Equal($"Mock reply to: patch {marker}", OutputText(second.Response));
        AssertJson(new JsonArray(
            new JsonObject { ["role"] = "user", ["content"] = $"patch {marker}" },
            new JsonObject
            {
                ["role"] = "assistant",
                ["content"] = null,
                ["tool_calls"] = new JsonArray(ChatToolCall(callId, "apply_patch", """{"input":"Paris"}""")),
            },
            new JsonObject { ["role"] = "tool", ["tool_call_id"] = callId, ["content"] = $"Done {marker2}" }), ctx.UpstreamBody(marker2)["messages"]);
        return [first.Response, second.Response];
    }

    private static async Task<List<JsonObject>> ParallelToolsAsync(ScenarioContext ctx)
    {
        var marker = ctx.NewMarker();
        var first = await ctx.SendAsync($$"""{"model":"mock-parallel-tools","input":"Paris and Tokyo {{marker}}","tools":[{{WeatherTool}}],"parallel_tool_calls":true}""");

        var calls = first.Response["output"]!.AsArray().Select(i => i!.AsObject()).ToList();
        Assert.Equal(["function_call", "function_call"], calls.Select(c => (string?)c["type"]));
        Assert.Equal(["""{"location":"Paris"}""", """{"location":"Tokyo"}"""], calls.Select(c => (string?)c["arguments"]));
        var ids = calls.Select(c => (string)c["call_id"]!).ToList();
        Assert.NotEqual(ids[0], ids[1]);
        Assert.Equal(calls.Count, calls.Select(c => (string?)c["id"]).Distinct().Count());
        var firstSent = ctx.UpstreamBody(marker);

        var marker2 = ctx.NewMarker();
        var second = await ctx.SendAsync($$"""
            {"model":"mock-parallel-tools","previous_response_id":"{{first.Response["id"]}}","tools":[{{WeatherTool}}],
             "input":[{"type":"function_call_output","call_id":"{{ids[0]}}","output":"18C {{marker2}}"},
                      {"type":"function_call_output","call_id":"{{ids[1]}}","output":"24C"}]}
            """);

        Assert.Equal($"Mock reply to: Paris and Tokyo {marker}", OutputText(second.Response));
        var sent = ctx.UpstreamBody(marker2);
        if (ctx.IsChat)
        {
            // One assistant message with both calls, then one tool message per call in call order (openai/codex#7051).
            var expected = new JsonArray(
                new JsonObject { ["role"] = "user", ["content"] = $"Paris and Tokyo {marker}" },
                new JsonObject
                {
                    ["role"] = "assistant",
                    ["content"] = null,
                    ["tool_calls"] = new JsonArray(
                        ChatToolCall(ids[0], "get_weather", """{"location":"Paris"}"""),
                        ChatToolCall(ids[1], "get_weather", """{"location":"Tokyo"}""")),
                },
                new JsonObject { ["role"] = "tool", ["tool_call_id"] = ids[0], ["content"] = $"18C {marker2}" },
                new JsonObject { ["role"] = "tool", ["tool_call_id"] = ids[1], ["content"] = "24C" });
            AssertJson(expected, sent["messages"]);
            Assert.True((bool)firstSent["parallel_tool_calls"]!);
        }
        else
        {
            Assert.Equal(
            [
                $"user:Paris and Tokyo {marker}",
                $"function_call:{ids[0]}:get_weather:{{\"location\":\"Paris\"}}",
                $"function_call:{ids[1]}:get_weather:{{\"location\":\"Tokyo\"}}",
                $"function_call_output:{ids[0]}:18C {marker2}",
                $"function_call_output:{ids[1]}:24C",
            ], Describe(sent["input"]!.AsArray()));
        }
        return [first.Response, second.Response];
    }

    private static async Task<List<JsonObject>> ReasoningAsync(ScenarioContext ctx)
    {
        var marker = ctx.NewMarker();
        var turn = await ctx.SendAsync($$"""{"model":"mock-reasoning","input":"think {{marker}}","reasoning":{"effort":"low","summary":"auto"},"include":["reasoning.encrypted_content"]}""");

        var output = turn.Response["output"]!.AsArray();
        Assert.Equal(["reasoning", "message"], output.Select(o => (string?)o!["type"]));
        var reasoning = output[0]!.AsObject();
        Assert.False(string.IsNullOrEmpty((string?)reasoning["encrypted_content"]));
        Assert.True(reasoning["summary"] is JsonArray, "reasoning items carry a summary array (Codex requires it)");
        const string thought = "**Considering the request**\n\nThe user sent a message; the mock will answer it deterministically.";
        if (ctx.IsChat)
        {
            // reasoning_content has no summary: it is the raw reasoning, a reasoning_text part.
            AssertJson(new JsonArray(new JsonObject { ["type"] = "reasoning_text", ["text"] = thought }), reasoning["content"]);
            Assert.Empty(reasoning["summary"]!.AsArray());
            AssertEventsInclude(turn, "response.reasoning_text.delta", "response.reasoning_text.done");
            Assert.Equal("low", (string?)ctx.UpstreamBody(marker)["reasoning_effort"]);
        }
        else
        {
            AssertJson(new JsonArray(new JsonObject { ["type"] = "summary_text", ["text"] = thought }), reasoning["summary"]);
            AssertEventsInclude(turn, "response.reasoning_summary_part.added", "response.reasoning_summary_text.delta", "response.reasoning_summary_text.done", "response.reasoning_summary_part.done");
            var sent = ctx.UpstreamBody(marker);
            Assert.Equal("low", (string?)sent["reasoning"]!["effort"]);
            Assert.Contains("reasoning.encrypted_content", sent["include"]!.AsArray().Select(x => (string?)x));
        }
        Assert.Equal($"Mock reply to: think {marker}", OutputText(turn.Response));
        Assert.True((int)turn.Response["usage"]!["output_tokens_details"]!["reasoning_tokens"]! > 0);
        return [turn.Response];
    }

    private static async Task<List<JsonObject>> ThinkTagsAsync(ScenarioContext ctx)
    {
        var marker = ctx.NewMarker();
        var turn = await ctx.SendAsync($$"""{"model":"mock-think-tags","input":"tags {{marker}}"}""");

        var answer = $"Mock reply to: tags {marker}";
        if (ctx.IsChat)
        {
            // "<thi" + "nk>" … "</th" + "ink>" split across chunks becomes a reasoning item, then the answer alone.
            var output = turn.Response["output"]!.AsArray();
            Assert.Equal(["reasoning", "message"], output.Select(o => (string?)o!["type"]));
            Assert.Equal("Considering the request.", (string?)output[0]!["content"]![0]!["text"]);
            Assert.Equal(answer, OutputText(turn.Response));
        }
        else
        {
            // A native upstream's text is its own business: passed through untouched.
            Assert.Equal("<think>Considering the request.</think>" + answer, OutputText(turn.Response));
        }
        return [turn.Response];
    }

    /// <summary>
    /// <c>text.format</c> json_schema reaches the upstream in its protocol's form. The model is <c>mock-echo</c>, whose
    /// answer is the upstream request body itself: valid JSON, as a json_schema format promises (the JS helper
    /// <c>JSON.parse</c>s the text of a completed json_schema response), and a second view of what the upstream got.
    /// </summary>
    private static async Task<List<JsonObject>> StructuredOutputAsync(ScenarioContext ctx)
    {
        var marker = ctx.NewMarker();
        const string schema = """{"type":"object","properties":{"city":{"type":"string"},"temp":{"type":"number"}},"required":["city","temp"],"additionalProperties":false}""";
        var turn = await ctx.SendAsync($$$$"""
            {"model":"mock-echo","input":"structured {{{{marker}}}}",
             "text":{"format":{"type":"json_schema","name":"weather","description":"A weather report.","schema":{{{{schema}}}},"strict":true}}}
            """);

        Assert.Equal("completed", (string?)turn.Response["status"]);
        Assert.Equal("json_schema", (string?)turn.Response["text"]!["format"]!["type"]);
        Assert.Equal("weather", (string?)turn.Response["text"]!["format"]!["name"]);
        var sent = ctx.UpstreamBody(marker);
        var echoed = JsonNode.Parse(OutputText(turn.Response))!.AsObject();
        AssertJson(sent, echoed);
        if (ctx.IsChat)
        {
            // Chat nests name/schema/strict under response_format.json_schema.
            AssertJson($$$"""{"type":"json_schema","json_schema":{"name":"weather","schema":{{{schema}}},"description":"A weather report.","strict":true}}""", sent["response_format"]);
            Assert.False(sent.ContainsKey("text"));
        }
        else
        {
            AssertJson($$$"""{"type":"json_schema","name":"weather","description":"A weather report.","schema":{{{schema}}},"strict":true}""", sent["text"]!["format"]);
        }

        // The echoed bodies of the JSON and the streaming paths differ in their stream flags only.
        echoed.Remove("stream");
        echoed.Remove("stream_options");
        var comparable = (JsonObject)turn.Response.DeepClone();
        comparable["output"]![0]!["content"]![0]!["text"] = echoed.ToJsonString();
        return [comparable];
    }

    private static async Task<List<JsonObject>> MaxOutputTokensAsync(ScenarioContext ctx)
    {
        var marker = ctx.NewMarker();
        var turn = await ctx.SendAsync($$"""{"model":"mock-length","input":"one two three four five six {{marker}}","max_output_tokens":16}""");

        var response = turn.Response;
        Assert.Equal("incomplete", (string?)response["status"]);
        Assert.Equal("max_output_tokens", (string?)response["incomplete_details"]!["reason"]);
        Assert.Equal(16, (int?)response["max_output_tokens"]);
        var message = Single(response, "message");
        Assert.Equal("incomplete", (string?)message["status"]);
        Assert.StartsWith("Mock reply to:", OutputText(response), StringComparison.Ordinal);
        Assert.DoesNotContain(marker, OutputText(response), StringComparison.Ordinal);
        if (turn.Events is { } events)
        {
            Assert.Equal("response.incomplete", events[^1]);
        }
        var sent = ctx.UpstreamBody(marker);
        Assert.Equal(16, (int?)sent[ctx.IsChat ? "max_tokens" : "max_output_tokens"]);
        return [response];
    }

    private static async Task<List<JsonObject>> ContentFilterAsync(ScenarioContext ctx)
    {
        var turn = await ctx.SendAsync($$"""{"model":"mock-content-filter","input":"something the filter dislikes {{ctx.NewMarker()}}"}""");

        Assert.Equal("incomplete", (string?)turn.Response["status"]);
        Assert.Equal("content_filter", (string?)turn.Response["incomplete_details"]!["reason"]);
        Assert.Equal("incomplete", (string?)Single(turn.Response, "message")["status"]);
        if (turn.Events is { } events)
        {
            Assert.Equal("response.incomplete", events[^1]);
        }
        return [turn.Response];
    }

    /// <summary>Upstream HTTP errors before any output: 4xx forwarded with the upstream's envelope, 5xx → 502 that says so.</summary>
    private static async Task<List<JsonObject>> UpstreamHttpErrorAsync(ScenarioContext ctx)
    {
        var results = new List<JsonObject>();
        foreach (var (model, status, code, type) in new (string Model, int Status, string? Code, string? Type)[]
        {
            ("mock-error-400", 400, null, "invalid_request_error"),
            ("mock-error-429", 429, "rate_limit_exceeded", null),
            ("mock-error-503", 502, "upstream_error", "server_error"),
        })
        {
            var error = await Assert.ThrowsAsync<GatewayHttpError>(() => ctx.SendAsync($$"""{"model":"{{model}}","input":"x"}"""));
            Assert.True(status == error.Status, $"{model}: expected HTTP {status}, got {error.Status}: {error.Error.ToJsonString()}");
            if (code is not null)
            {
                Assert.Equal(code, (string?)error.Error["code"]);
            }
            if (type is not null)
            {
                Assert.Equal(type, (string?)error.Error["type"]);
            }
            Assert.False(string.IsNullOrWhiteSpace((string?)error.Error["message"]));
            results.Add(new JsonObject { ["status"] = error.Status, ["code"] = (string?)error.Error["code"], ["type"] = (string?)error.Error["type"] });
        }
        return results;
    }

    /// <summary>An error the upstream reports inside a 200 answer: a failed Response carrying the upstream's own code and message.</summary>
    private static async Task<List<JsonObject>> InBandErrorAsync(ScenarioContext ctx)
    {
        var turn = await ctx.SendAsync("""{"model":"mock-inband-error","input":"fail please"}""");

        var response = turn.Response;
        Assert.Equal("failed", (string?)response["status"]);
        var (code, message) = ctx.IsChat
            ? ("upstream_overloaded", "The upstream model is overloaded and stopped generating. (mock inband-error)")
            : ("server_error", "The model failed to generate a response.");
        Assert.Equal(code, (string?)response["error"]!["code"]);
        Assert.Equal(message, (string?)response["error"]!["message"]);
        if (turn.Events is { } events)
        {
            Assert.Equal("response.failed", events[^1]);
        }
        // The mock's chat stream sends a word before its error and its JSON answer does not, so only the outcome is compared.
        return [new JsonObject { ["status"] = response["status"]?.DeepClone(), ["error"] = response["error"]?.DeepClone(), ["model"] = response["model"]?.DeepClone() }];
    }

    /// <summary>A three-turn chain: the upstream receives exactly the expanded history, and only this turn's instructions.</summary>
    private static async Task<List<JsonObject>> ChainAsync(ScenarioContext ctx)
    {
        var m = ctx.NewMarker();
        var first = await ctx.SendAsync($$"""{"model":"mock-model","input":"turn one {{m}}","instructions":"old rules"}""");
        var second = await ctx.SendAsync($$"""{"model":"mock-model","input":[{"role":"user","content":"turn two {{m}}"}],"previous_response_id":"{{first.Response["id"]}}"}""");
        var marker = ctx.NewMarker();
        var third = await ctx.SendAsync($$"""
            {"model":"mock-model","previous_response_id":"{{second.Response["id"]}}","instructions":"new rules",
             "input":[{"type":"message","role":"user","content":[{"type":"input_text","text":"turn three {{marker}}"}]}]}
            """);

        Assert.Equal((string?)second.Response["id"], (string?)third.Response["previous_response_id"]);
        Assert.Equal($"Mock reply to: turn three {marker}", OutputText(third.Response));
        var sent = ctx.UpstreamBody(marker);
        if (ctx.IsChat)
        {
            AssertJson(new JsonArray(
                new JsonObject { ["role"] = "system", ["content"] = "new rules" },
                new JsonObject { ["role"] = "user", ["content"] = $"turn one {m}" },
                new JsonObject { ["role"] = "assistant", ["content"] = $"Mock reply to: turn one {m}" },
                new JsonObject { ["role"] = "user", ["content"] = $"turn two {m}" },
                new JsonObject { ["role"] = "assistant", ["content"] = $"Mock reply to: turn two {m}" },
                new JsonObject { ["role"] = "user", ["content"] = $"turn three {marker}" }), sent["messages"]);
        }
        else
        {
            Assert.Equal("new rules", (string?)sent["instructions"]);
            Assert.False(sent.ContainsKey("previous_response_id"));
            Assert.False((bool)sent["store"]!);
            Assert.Equal(
            [
                $"user:turn one {m}", $"assistant:Mock reply to: turn one {m}", $"user:turn two {m}",
                $"assistant:Mock reply to: turn two {m}", $"user:turn three {marker}",
            ], Describe(sent["input"]!.AsArray()));
        }
        return [first.Response, second.Response, third.Response];
    }

    /// <summary>
    /// What the client did not set still appears, as the Open Responses <c>ResponseResource</c> requires: a function
    /// tool without <c>description</c> and <c>strict</c> is echoed with both null, unset penalties are 0, and a penalty
    /// the client set is echoed and reaches the upstream.
    /// </summary>
    private static async Task<List<JsonObject>> SpecDefaultsAsync(ScenarioContext ctx)
    {
        var marker = ctx.NewMarker();
        const string tool = """{"type":"function","name":"lookup","parameters":{"type":"object","properties":{"q":{"type":"string"}}}}""";
        var turn = await ctx.SendAsync($$"""{"model":"mock-model","input":"defaults {{marker}}","tools":[{{tool}}],"presence_penalty":0.25}""");

        var response = turn.Response;
        AssertJson("""[{"type":"function","name":"lookup","parameters":{"type":"object","properties":{"q":{"type":"string"}}},"description":null,"strict":null}]""", response["tools"]);
        Assert.Equal(0.25, (double)response["presence_penalty"]!);
        Assert.Equal(0.0, (double)response["frequency_penalty"]!);
        foreach (var name in new[] { "max_tool_calls", "safety_identifier", "prompt_cache_key", "previous_response_id" })
        {
            Assert.True(response.ContainsKey(name) && response[name] is null, $"{name} should be present and null: {response.ToJsonString()}");
        }
        Assert.Equal(0, (int)response["top_logprobs"]!);
        Assert.False((bool)response["background"]!);

        var sent = ctx.UpstreamBody(marker);
        Assert.Equal(0.25, (double)sent["presence_penalty"]!);
        Assert.False(sent.ContainsKey("frequency_penalty"));
        var sentTool = ctx.IsChat ? sent["tools"]![0]!["function"]!.AsObject() : sent["tools"]![0]!.AsObject();
        Assert.False(sentTool.ContainsKey("strict"), "a strict the client did not send is not invented for the upstream");
        return [response];
    }

    // ---- helpers ----

    public static string OutputText(JsonObject response) => string.Concat(response["output"]!.AsArray()
        .Where(o => (string?)o!["type"] == "message")
        .SelectMany(o => o!["content"]!.AsArray())
        .Where(c => (string?)c!["type"] == "output_text")
        .Select(c => (string?)c!["text"]));

    private static JsonObject Single(JsonObject response, string type)
    {
        var output = response["output"]!.AsArray();
        Assert.True(output.Count == 1 && (string?)output[0]!["type"] == type, $"expected one {type} item, got {output.ToJsonString()}");
        return output[0]!.AsObject();
    }

    private static JsonObject ChatToolCall(string id, string name, string arguments) => new()
    {
        ["id"] = id,
        ["type"] = "function",
        ["function"] = new JsonObject { ["name"] = name, ["arguments"] = arguments },
    };

    private static void AssertEventsInclude(Turn turn, params string[] types)
    {
        if (turn.Events is not { } events)
        {
            return;
        }
        foreach (var type in types)
        {
            Assert.True(events.Contains(type), $"no {type} in {string.Join(", ", events)}");
        }
    }

    private static void AssertJson(string expected, JsonNode? actual) => AssertJson(JsonNode.Parse(expected), actual);

    private static void AssertJson(JsonNode? expected, JsonNode? actual) =>
        Assert.True(JsonNode.DeepEquals(expected, actual), $"expected {expected?.ToJsonString()}\n  actual {actual?.ToJsonString()}");

    /// <summary>Native input items in short form: <c>role:text</c>, <c>function_call:call:name:args</c>, <c>function_call_output:call:output</c>.</summary>
    private static string[] Describe(JsonArray input) => input.Select(item => (string?)item!["type"] switch
    {
        "function_call" => $"function_call:{item["call_id"]}:{item["name"]}:{item["arguments"]}",
        "function_call_output" => $"function_call_output:{item["call_id"]}:{item["output"]}",
        _ => $"{item["role"]}:{MessageText(item["content"])}",
    }).ToArray();

    private static string? MessageText(JsonNode? content) => content switch
    {
        JsonValue v => (string?)v,
        JsonArray parts => string.Concat(parts.Select(p => (string?)p!["text"])),
        _ => null,
    };
}
