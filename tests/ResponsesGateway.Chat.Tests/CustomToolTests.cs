using System.Text.Json.Nodes;
using ResponsesGateway.Core.Errors;
using ResponsesGateway.TestSupport;
using ResponsesGateway.Upstreams.Chat.Tests.Infrastructure;
using static ResponsesGateway.Upstreams.Chat.Tests.Infrastructure.Mapping;

namespace ResponsesGateway.Upstreams.Chat.Tests;

/// <summary>
/// Free-form <c>custom</c> tools (Codex's <c>apply_patch</c>) on a Chat Completions upstream: a function tool with one
/// string parameter <c>input</c> on the way out, <c>custom_tool_call</c> items and <c>custom_tool_call_input.*</c>
/// events on the way back, and the history replayed as tool calls with arguments <c>{"input": …}</c>.
/// </summary>
public sealed class CustomToolTests
{
    private const string Grammar = "start: begin_patch hunk+ end_patch\nbegin_patch: \"*** Begin Patch\" LF";

    private const string PatchTool =
        """{"type":"custom","name":"apply_patch","description":"Use apply_patch to edit files.","format":{"type":"grammar","syntax":"lark","definition":"start: begin_patch hunk+ end_patch\nbegin_patch: \"*** Begin Patch\" LF"}}""";

    private const string WeatherTool = """{"type":"function","name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}},"strict":false}""";

    private const string Patch = "*** Begin Patch\n*** Add File: hello.txt\n+Hello \"world\"\n*** End Patch";

    private const string InputSchema = """{"type":"object","properties":{"input":{"type":"string"}},"required":["input"]}""";

    // ---- request ----

    [Fact]
    public void CustomTool_IsAFunctionWithOneStringInput_ItsGrammarInTheDescription()
    {
        var chat = Map($$"""{"model":"m","input":"x","tools":[{{WeatherTool}},{{PatchTool}}]}""");
        var tools = chat["tools"]!.AsArray();
        Assert.Equal(2, tools.Count);
        var function = tools[1]!["function"]!.AsObject();
        Assert.Equal("function", (string?)tools[1]!["type"]);
        Assert.Equal("apply_patch", (string?)function["name"]);
        AssertJson(InputSchema, function["parameters"]);
        Assert.Null(function["strict"]);
        var description = (string)function["description"]!;
        Assert.StartsWith("Use apply_patch to edit files.\n\n", description);
        Assert.Contains("`input`", description);
        Assert.Contains("lark grammar", description);
        Assert.EndsWith(Grammar, description);
    }

    [Theory]
    [InlineData("""{"type":"custom","name":"note"}""")]
    [InlineData("""{"type":"custom","name":"note","format":{"type":"text"}}""")]
    public void CustomTool_WithTextFormat_OnlyAsksForTheRawTextInInput(string tool)
    {
        var function = Map($$"""{"model":"m","input":"x","tools":[{{tool}}]}""")["tools"]![0]!["function"]!;
        AssertJson($$"""{"name":"note","description":"Put the raw text input of this tool in the `input` argument (a plain string, not JSON).","parameters":{{InputSchema}}}""", function);
    }

    [Theory]
    [InlineData("""{"type":"custom","name":"apply_patch"}""", """{"type":"function","function":{"name":"apply_patch"}}""")]
    [InlineData("""{"type":"allowed_tools","mode":"required","tools":[{"type":"custom","name":"apply_patch"}]}""", "\"required\"")]
    public void ToolChoice_Custom_IsTheFunctionOfThatName(string choice, string expected)
    {
        var chat = Map($$"""{"model":"m","input":"x","tools":[{{WeatherTool}},{{PatchTool}}],"tool_choice":{{choice}}}""");
        AssertJson(expected, chat["tool_choice"]);
        if ((string?)JsonNode.Parse(choice)!["type"] == "allowed_tools")
        {
            Assert.Equal(["apply_patch"], chat["tools"]!.AsArray().Select(t => (string)t!["function"]!["name"]!));
        }
    }

    [Fact]
    public void History_CustomCallAndOutput_AreAToolCallWithInputArguments_MergedWithTheTurnsOtherCalls()
    {
        var input = new JsonArray(
            new JsonObject { ["role"] = "user", ["content"] = "Add hello.txt and check the weather" },
            new JsonObject { ["type"] = "message", ["role"] = "assistant", ["content"] = new JsonArray(new JsonObject { ["type"] = "output_text", ["text"] = "On it." }) },
            new JsonObject { ["type"] = "custom_tool_call", ["call_id"] = "call_p1", ["name"] = "apply_patch", ["input"] = Patch },
            new JsonObject { ["type"] = "function_call", ["call_id"] = "call_w1", ["name"] = "get_weather", ["arguments"] = """{"city":"Paris"}""" },
            new JsonObject { ["type"] = "custom_tool_call_output", ["call_id"] = "call_p1", ["output"] = "Done!" },
            new JsonObject { ["type"] = "function_call_output", ["call_id"] = "call_w1", ["output"] = "21C" });
        var messages = Messages(new JsonObject { ["model"] = "m", ["input"] = input, ["tools"] = JsonNode.Parse($"[{PatchTool},{WeatherTool}]") }.ToJsonString());
        var arguments = new JsonObject { ["input"] = Patch }.ToJsonString();
        AssertJson(new JsonArray(
            new JsonObject { ["role"] = "user", ["content"] = "Add hello.txt and check the weather" },
            new JsonObject
            {
                ["role"] = "assistant",
                ["content"] = "On it.",
                ["tool_calls"] = new JsonArray(
                    new JsonObject { ["id"] = "call_p1", ["type"] = "function", ["function"] = new JsonObject { ["name"] = "apply_patch", ["arguments"] = arguments } },
                    new JsonObject { ["id"] = "call_w1", ["type"] = "function", ["function"] = new JsonObject { ["name"] = "get_weather", ["arguments"] = """{"city":"Paris"}""" } }),
            },
            new JsonObject { ["role"] = "tool", ["tool_call_id"] = "call_p1", ["content"] = "Done!" },
            new JsonObject { ["role"] = "tool", ["tool_call_id"] = "call_w1", ["content"] = "21C" }).ToJsonString(), messages);
        Assert.Equal(Patch, (string?)JsonNode.Parse(arguments)!["input"]); // the escapes survive the wrapping
    }

    [Fact]
    public void History_CustomCallWithoutOutput_IsDroppedLikeAnyOrphan()
    {
        var messages = Messages("""
            {"model":"m","input":[{"role":"user","content":"x"},{"type":"custom_tool_call","call_id":"call_p1","name":"apply_patch","input":"p"},{"role":"user","content":"y"}]}
            """);
        AssertJson("""[{"role":"user","content":"x"},{"role":"user","content":"y"}]""", messages);
    }

    // ---- bad input ----

    [Theory]
    [InlineData("""{"type":"custom"}""", "tools[1].name", "missing_required_parameter")]
    [InlineData("""{"type":"custom","name":null}""", "tools[1].name", "missing_required_parameter")]
    [InlineData("""{"type":"custom","name":42}""", "tools[1].name", "invalid_type")]
    [InlineData("""{"type":"custom","name":""}""", "tools[1].name", "invalid_value")]
    [InlineData("""{"type":"custom","name":"has space"}""", "tools[1].name", "invalid_value")]
    [InlineData("""{"type":"custom","name":"get_weather"}""", "tools[1].name", "invalid_value")]
    [InlineData("""{"type":"custom","name":"p","description":7}""", "tools[1].description", "invalid_type")]
    [InlineData("""{"type":"custom","name":"p","format":"lark"}""", "tools[1].format", "invalid_type")]
    [InlineData("""{"type":"custom","name":"p","format":{}}""", "tools[1].format.type", "missing_required_parameter")]
    [InlineData("""{"type":"custom","name":"p","format":{"type":"json"}}""", "tools[1].format.type", "invalid_value")]
    [InlineData("""{"type":"custom","name":"p","format":{"type":"grammar","syntax":"lark"}}""", "tools[1].format.definition", "missing_required_parameter")]
    [InlineData("""{"type":"custom","name":"p","format":{"type":"grammar","syntax":"ebnf","definition":"x"}}""", "tools[1].format.syntax", "invalid_value")]
    public async Task MalformedCustomTool_Is400_NamingTheField_BeforeAnyHttpCall(string tool, string param, string code)
    {
        var gateway = new ChatGateway(FakeChatServer.Json(Fixtures.Read("completion-plain.json")));
        var e = await Assert.ThrowsAsync<GatewayException>(() => gateway.StreamAsync($$"""{"model":"m","input":"x","stream":true,"tools":[{{WeatherTool}},{{tool}}]}"""));
        Assert.Equal(400, e.StatusCode);
        Assert.Equal(param, e.Error.Param);
        Assert.Equal(code, e.Error.Code);
        Assert.Equal("invalid_request_error", e.Error.Type);
        Assert.Contains(param, e.Error.Message);
        Assert.Empty(gateway.Server.Requests);
        Assert.Empty(gateway.Store.Turns);
    }

    [Fact]
    public void FunctionNamedLikeAnEarlierCustomTool_Is400()
    {
        var e = Assert.Throws<GatewayException>(() => Map($$"""{"model":"m","input":"x","tools":[{{PatchTool}},{"type":"function","name":"apply_patch"}]}"""));
        Assert.Equal(400, e.StatusCode);
        Assert.Equal("tools[1].name", e.Error.Param);
    }

    // ---- answer ----

    [Fact]
    public async Task JsonAnswer_CallToACustomTool_IsACustomToolCallWithTheUnwrappedInput()
    {
        var completion = Completion(
            ToolCall("call_p1", "apply_patch", new JsonObject { ["input"] = Patch }.ToJsonString()),
            ToolCall("call_w1", "get_weather", """{"city":"Paris"}"""));
        var gateway = new ChatGateway(FakeChatServer.Json(completion));
        var response = await gateway.CreateAsync($$"""{"model":"m","input":"patch it","tools":[{{PatchTool}},{{WeatherTool}}]}""");
        SchemaValidator.ValidateResponse(response);
        Assert.Equal("completed", (string?)response["status"]);
        var output = response["output"]!.AsArray();
        Assert.Equal(2, output.Count);
        Assert.StartsWith("ctc_", (string?)output[0]!["id"]);
        AssertJson(new JsonObject
        {
            ["type"] = "custom_tool_call",
            ["status"] = "completed",
            ["call_id"] = "call_p1",
            ["name"] = "apply_patch",
            ["input"] = Patch,
        }.ToJsonString(), GoldenStreamTests.WithoutId(output[0]!));
        // A function of the same request stays a function call.
        AssertJson("""{"type":"function_call","status":"completed","arguments":"{\"city\":\"Paris\"}","call_id":"call_w1","name":"get_weather"}""", GoldenStreamTests.WithoutId(output[1]!));
        Assert.Equal("apply_patch", (string?)gateway.SentBody["tools"]![0]!["function"]!["name"]);
    }

    [Theory]
    [InlineData("*** Begin Patch\n*** End Patch")] // the model ignored the schema: not JSON at all
    [InlineData("""{"patch":"*** Begin Patch"}""")] // JSON, but no input key
    [InlineData("""{"input":42}""")] // input is not a string
    [InlineData("""["*** Begin Patch"]""")] // not an object
    [InlineData("")] // no arguments at all
    public async Task MalformedArguments_FallBackToTheRawArgumentsString(string arguments)
    {
        var gateway = new ChatGateway(FakeChatServer.Json(Completion(ToolCall("call_p1", "apply_patch", arguments))));
        var response = await gateway.CreateAsync($$"""{"model":"m","input":"patch it","tools":[{{PatchTool}}]}""");
        SchemaValidator.ValidateResponse(response);
        var call = response["output"]!.AsArray().Single()!;
        Assert.Equal("custom_tool_call", (string?)call["type"]);
        Assert.Equal(arguments, (string?)call["input"]);

        // The same through the stream: one delta (none when empty), then done, with the raw text.
        var stream = new ChatGateway(FakeChatServer.Sse(Sse(
            """{"role":"assistant","tool_calls":[{"index":0,"id":"call_p1","type":"function","function":{"name":"apply_patch","arguments":""}}]}""",
            new JsonObject { ["tool_calls"] = new JsonArray(new JsonObject { ["index"] = 0, ["function"] = new JsonObject { ["arguments"] = arguments } }) }.ToJsonString())));
        var events = await stream.StreamAsync($$"""{"model":"m","input":"patch it","stream":true,"tools":[{{PatchTool}}]}""");
        EventSequenceChecker.Check(events);
        SchemaValidator.ValidateEvents(events);
        Assert.Equal(arguments, (string?)events.Single(e => (string?)e["type"] == "response.custom_tool_call_input.done")["input"]);
        Assert.Equal(arguments.Length == 0 ? 0 : 1, events.Count(e => (string?)e["type"] == "response.custom_tool_call_input.delta"));
    }

    [Fact]
    public async Task StreamedAnswer_EmitsCustomToolCallInputEvents_InOrder()
    {
        var (events, response) = await GoldenStreamTests.RunAsync("13-custom-tool",
            $$"""{"model":"m","input":"Add hello.txt, then weather","stream":true,"tools":[{{PatchTool}},{{WeatherTool}}]}""");
        Assert.Equal(Fixtures.ExpectedEvents("13-custom-tool.events"), Fixtures.Summarize(events));

        var added = events.Single(e => (string?)e["type"] == "response.output_item.added" && (int?)e["output_index"] == 1);
        var id = (string)added["item"]!["id"]!;
        Assert.StartsWith("ctc_", id);
        AssertJson("""{"type":"custom_tool_call","status":"in_progress","call_id":"call_p1","name":"apply_patch","input":""}""", GoldenStreamTests.WithoutId(added["item"]!));

        // The input is sent whole once the call closes: one delta with the unescaped text, then done with the same.
        var delta = events.Single(e => (string?)e["type"] == "response.custom_tool_call_input.delta");
        var done = events.Single(e => (string?)e["type"] == "response.custom_tool_call_input.done");
        AssertJson(new JsonObject { ["type"] = "response.custom_tool_call_input.delta", ["item_id"] = id, ["output_index"] = 1, ["delta"] = Patch, ["sequence_number"] = (int)delta["sequence_number"]! }.ToJsonString(), delta);
        AssertJson(new JsonObject { ["type"] = "response.custom_tool_call_input.done", ["item_id"] = id, ["output_index"] = 1, ["input"] = Patch, ["sequence_number"] = (int)delta["sequence_number"]! + 1 }.ToJsonString(), done);

        var output = response["output"]!.AsArray();
        Assert.Equal(["message", "custom_tool_call", "function_call"], output.Select(o => (string?)o!["type"]));
        AssertJson(new JsonObject { ["id"] = id, ["type"] = "custom_tool_call", ["status"] = "completed", ["call_id"] = "call_p1", ["name"] = "apply_patch", ["input"] = Patch }.ToJsonString(), output[1]);
        Assert.Equal("""{"city":"Paris"}""", (string?)output[2]!["arguments"]);
    }

    [Fact]
    public async Task StreamedAnswer_WithoutTheCustomTool_IsAnOrdinaryFunctionCall()
    {
        // Same transcript, but apply_patch is a function tool of this request: nothing is unwrapped.
        var (events, response) = await GoldenStreamTests.RunAsync("13-custom-tool",
            $$"""{"model":"m","input":"x","stream":true,"tools":[{"type":"function","name":"apply_patch","parameters":{"type":"object"},"strict":false},{{WeatherTool}}]}""");
        Assert.DoesNotContain(events, e => ((string?)e["type"])!.StartsWith("response.custom_tool_call_input", StringComparison.Ordinal));
        var call = response["output"]![1]!;
        Assert.Equal("function_call", (string?)call["type"]);
        Assert.Equal(Patch, (string?)JsonNode.Parse((string)call["arguments"]!)!["input"]);
    }

    [Fact]
    public async Task IncompleteStream_ClosesTheCustomCallIncomplete_WithWhatArrived()
    {
        // finish_reason length mid-arguments: the truncated JSON is not an object, so the raw fragment is the input.
        var gateway = new ChatGateway(FakeChatServer.Sse(Sse(
            """{"role":"assistant","tool_calls":[{"index":0,"id":"call_p1","type":"function","function":{"name":"apply_patch","arguments":"{\"input\":\"*** Begin"}}]}""",
            null, "length")));
        var events = await gateway.StreamAsync($$"""{"model":"m","input":"x","stream":true,"tools":[{{PatchTool}}]}""");
        EventSequenceChecker.Check(events);
        SchemaValidator.ValidateEvents(events);
        Assert.Equal("response.incomplete", (string?)events[^1]["type"]);
        var call = events[^1]["response"]!["output"]![0]!;
        Assert.Equal("incomplete", (string?)call["status"]);
        Assert.Equal("""{"input":"*** Begin""", (string?)call["input"]);
    }

    // ---- history round trip ----

    [Fact]
    public async Task SecondTurn_WithCustomToolCallOutput_AfterPreviousResponseId_ReplaysTheCall()
    {
        var server = FakeChatServer.Sse(Fixtures.Read("13-custom-tool.sse")).ThenJson(Fixtures.Read("completion-plain.json"));
        var gateway = new ChatGateway(server);
        var tools = $"[{PatchTool},{WeatherTool}]";
        var first = await gateway.StreamAsync($$"""{"model":"m","input":"Add hello.txt, then weather","stream":true,"tools":{{tools}}}""");
        EventSequenceChecker.Check(first);
        var firstId = (string)first[^1]["response"]!["id"]!;
        var stored = gateway.Store.Turns[firstId].Response;
        Assert.Equal("custom_tool_call", (string?)stored["output"]![1]!["type"]);

        var second = await gateway.CreateAsync($$"""
            {"model":"m","previous_response_id":"{{firstId}}","tools":{{tools}},
             "input":[{"type":"custom_tool_call_output","call_id":"call_p1","output":"Done!"},
                      {"type":"function_call_output","call_id":"call_w1","output":[{"type":"input_text","text":"21C"}]}]}
            """);
        Assert.Equal("completed", (string?)second["status"]);
        AssertJson(new JsonArray(
            new JsonObject { ["role"] = "user", ["content"] = "Add hello.txt, then weather" },
            new JsonObject
            {
                ["role"] = "assistant",
                ["content"] = "Applying the patch.",
                ["tool_calls"] = new JsonArray(
                    new JsonObject { ["id"] = "call_p1", ["type"] = "function", ["function"] = new JsonObject { ["name"] = "apply_patch", ["arguments"] = new JsonObject { ["input"] = Patch }.ToJsonString() } },
                    new JsonObject { ["id"] = "call_w1", ["type"] = "function", ["function"] = new JsonObject { ["name"] = "get_weather", ["arguments"] = """{"city":"Paris"}""" } }),
            },
            new JsonObject { ["role"] = "tool", ["tool_call_id"] = "call_p1", ["content"] = "Done!" },
            new JsonObject { ["role"] = "tool", ["tool_call_id"] = "call_w1", ["content"] = "21C" }).ToJsonString(), gateway.SentBody["messages"]);
        Assert.Equal(2, gateway.Server.Requests.Count);
    }

    // ---- helpers ----

    private static JsonObject ToolCall(string id, string name, string arguments) => new()
    {
        ["id"] = id,
        ["type"] = "function",
        ["function"] = new JsonObject { ["name"] = name, ["arguments"] = arguments },
    };

    private static string Completion(params JsonObject[] calls) => new JsonObject
    {
        ["id"] = "chatcmpl-1",
        ["object"] = "chat.completion",
        ["created"] = 1700000000,
        ["model"] = "upstream-model",
        ["choices"] = new JsonArray(new JsonObject
        {
            ["index"] = 0,
            ["message"] = new JsonObject { ["role"] = "assistant", ["content"] = null, ["tool_calls"] = new JsonArray(calls.Select(c => (JsonNode)c).ToArray()) },
            ["finish_reason"] = "tool_calls",
        }),
        ["usage"] = new JsonObject { ["prompt_tokens"] = 10, ["completion_tokens"] = 5, ["total_tokens"] = 15 },
    }.ToJsonString();

    /// <summary>A chat SSE transcript: one chunk per delta (null skips), then the finish chunk and [DONE].</summary>
    private static string Sse(string first, string? second, string finish = "tool_calls")
    {
        var chunks = new[] { first, second }.OfType<string>()
            .Select(d => $$"""{"id":"c","object":"chat.completion.chunk","created":1,"model":"u","choices":[{"index":0,"delta":{{d}},"finish_reason":null}]}""")
            .Append($$"""{"id":"c","object":"chat.completion.chunk","created":1,"model":"u","choices":[{"index":0,"delta":{},"finish_reason":"{{finish}}"}]}""");
        return string.Concat(chunks.Select(c => "data: " + c + "\n\n")) + "data: [DONE]\n\n";
    }
}
