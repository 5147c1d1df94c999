using System.Text.Json.Nodes;
using ResponsesGateway.Core.Errors;
using ResponsesGateway.Upstreams.Chat.Tests.Infrastructure;
using static ResponsesGateway.Upstreams.Chat.Tests.Infrastructure.Mapping;

namespace ResponsesGateway.Upstreams.Chat.Tests;

/// <summary>Responses body → Chat Completions body: every request rule of the chat translation (docs/architecture.md, chat rules R1–R7) as the mapper applies it.</summary>
public sealed class RequestMappingTests
{
    [Theory]
    [InlineData("04-parallel-tool-calls")]
    [InlineData("05-replayed-reasoning")]
    [InlineData("09-unknown-items")]
    public async Task Request_Fixture_SendsExpectedChatBody(string fixture)
    {
        // Through the real pipeline: the exact body that reaches /chat/completions.
        var gateway = new ChatGateway(FakeChatServer.Json(Fixtures.Read("completion-plain.json")));
        var response = await gateway.CreateAsync(Fixtures.Read(fixture + ".request.json"));
        Assert.Equal("completed", (string?)response["status"]);
        AssertJson(Fixtures.Read(fixture + ".chat.json"), gateway.SentBody);
    }

    [Fact]
    public void Instructions_BecomeTheFirstMessage_InTheProfileRole()
    {
        const string Request = """{"model":"m","instructions":"Be brief.","input":[{"role":"system","content":"S"},{"role":"developer","content":"D"},{"role":"user","content":"U"}]}""";
        AssertJson("""[{"role":"system","content":"Be brief."},{"role":"system","content":"S"},{"role":"system","content":"D"},{"role":"user","content":"U"}]""", Messages(Request));
        AssertJson("""[{"role":"developer","content":"Be brief."},{"role":"developer","content":"S"},{"role":"developer","content":"D"},{"role":"user","content":"U"}]""",
            Messages(Request, ChatCapabilities.Default with { SystemRole = "developer" }));
    }

    [Fact]
    public void StringInput_IsOneUserMessage()
    {
        AssertJson("""[{"role":"user","content":"Hello"}]""", Messages("""{"model":"m","input":"Hello"}"""));
    }

    [Fact]
    public void ContentParts_MapToChatParts()
    {
        var messages = Messages("""
            {"model":"m","input":[{"role":"user","content":[
              {"type":"input_text","text":"Look:"},
              {"type":"input_image","image_url":"https://example.com/a.png"},
              {"type":"input_image","image_url":"data:image/png;base64,AAAA","detail":"low"},
              {"type":"input_file","file_id":"file-1"},
              {"type":"input_file","file_data":"data:application/pdf;base64,JVBE","filename":"a.pdf"}]}]}
            """);
        AssertJson("""
            [{"role":"user","content":[
              {"type":"text","text":"Look:"},
              {"type":"image_url","image_url":{"url":"https://example.com/a.png","detail":"auto"}},
              {"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA","detail":"low"}},
              {"type":"file","file":{"file_id":"file-1"}},
              {"type":"file","file":{"file_data":"data:application/pdf;base64,JVBE","filename":"a.pdf"}}]}]
            """, messages);
    }

    [Fact]
    public void UserTextParts_StaySeparate_AssistantTextIsJoined()
    {
        var messages = Messages("""
            {"model":"m","input":[
              {"role":"user","content":[{"type":"input_text","text":"a"},{"type":"input_text","text":"b"}]},
              {"type":"message","role":"assistant","content":[{"type":"output_text","text":"x","annotations":[]},{"type":"output_text","text":"y"}]}]}
            """);
        AssertJson("""[{"role":"user","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]},{"role":"assistant","content":"x\ny"}]""", messages);
    }

    [Fact]
    public void ImageByFileId_Is400_NamingThePart()
    {
        var e = Assert.Throws<GatewayException>(() => Map("""{"model":"m","input":[{"role":"user","content":[{"type":"input_text","text":"x"},{"type":"input_image","file_id":"file-9"}]}]}"""));
        Assert.Equal(400, e.StatusCode);
        Assert.Equal("input[0].content[1].image_url", e.Error.Param);
    }

    [Fact]
    public void ToolCallsOfOneTurn_AreOneAssistantMessage_FollowedByTheirOutputsInCallOrder()
    {
        // Outputs arrive in the opposite order of the calls; chat wants them in call order right after the calls.
        var messages = Messages("""
            {"model":"m","input":[
              {"type":"function_call","call_id":"c1","name":"f","arguments":"{}"},
              {"type":"function_call","call_id":"c2","name":"g","arguments":"{\"a\":1}"},
              {"type":"function_call_output","call_id":"c2","output":"two"},
              {"type":"function_call_output","call_id":"c1","output":"one"}]}
            """);
        AssertJson("""
            [{"role":"assistant","content":null,"tool_calls":[
               {"id":"c1","type":"function","function":{"name":"f","arguments":"{}"}},
               {"id":"c2","type":"function","function":{"name":"g","arguments":"{\"a\":1}"}}]},
             {"role":"tool","tool_call_id":"c1","content":"one"},
             {"role":"tool","tool_call_id":"c2","content":"two"}]
            """, messages);
    }

    [Fact]
    public void OrphanCall_WithoutOutput_IsDropped()
    {
        var messages = Messages("""
            {"model":"m","input":[{"role":"user","content":"hi"},
              {"type":"function_call","call_id":"c1","name":"f","arguments":"{}"},
              {"type":"function_call","call_id":"c2","name":"g","arguments":"{}"},
              {"type":"function_call_output","call_id":"c2","output":"ok"}]}
            """);
        AssertJson("""
            [{"role":"user","content":"hi"},
             {"role":"assistant","content":null,"tool_calls":[{"id":"c2","type":"function","function":{"name":"g","arguments":"{}"}}]},
             {"role":"tool","tool_call_id":"c2","content":"ok"}]
            """, messages);
    }

    [Fact]
    public void OrphanOutput_WithUnknownCall_IsDropped_NeverGuessed()
    {
        var messages = Messages("""
            {"model":"m","tools":[{"type":"function","name":"f"}],"input":[{"role":"user","content":"hi"},
              {"type":"function_call_output","call_id":"nobody","output":"lost"},{"role":"user","content":"again"}]}
            """);
        AssertJson("""[{"role":"user","content":"hi"},{"role":"user","content":"again"}]""", messages);
    }

    [Fact]
    public void OutputSeparatedFromItsCall_ReEmitsTheCallRightBeforeIt()
    {
        var messages = Messages("""
            {"model":"m","input":[
              {"type":"function_call","call_id":"c1","name":"f","arguments":"{}"},
              {"role":"user","content":"meanwhile"},
              {"type":"function_call_output","call_id":"c1","output":"done"}]}
            """);
        AssertJson("""
            [{"role":"user","content":"meanwhile"},
             {"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{}"}}]},
             {"role":"tool","tool_call_id":"c1","content":"done"}]
            """, messages);
    }

    [Fact]
    public void ToolOutputWithImage_IsAListOfParts()
    {
        var messages = Messages("""
            {"model":"m","input":[{"type":"function_call","call_id":"c1","name":"shot","arguments":"{}"},
              {"type":"function_call_output","call_id":"c1","output":[{"type":"input_text","text":"see"},{"type":"input_image","image_url":"https://x/y.png"}]}]}
            """);
        AssertJson("""[{"type":"text","text":"see"},{"type":"image_url","image_url":{"url":"https://x/y.png","detail":"auto"}}]""", messages[1]!["content"]);
    }

    [Fact]
    public void ReplayedReasoning_IsDroppedByDefault_AndSentBackWhenTheProfileSaysSo()
    {
        var request = Fixtures.Read("05-replayed-reasoning.request.json");
        Assert.DoesNotContain("reasoning_content", Map(request).ToJsonString());
        var messages = Messages(request, ChatCapabilities.Default with { SendReasoningContent = true });
        // The foreign ciphertext is never sent; the summary text is what there is.
        AssertJson("""{"role":"assistant","content":"4","reasoning_content":"Simple arithmetic."}""", messages[1]);
        Assert.DoesNotContain("gAAAA", messages.ToJsonString());
        var openRouter = Messages(request, ChatCapabilities.Default with { SendReasoningContent = true, ReasoningField = "reasoning" });
        AssertJson("""{"role":"assistant","content":"4","reasoning":"Simple arithmetic."}""", openRouter[1]);
    }

    [Fact]
    public void ReplayedReasoning_PrefersRawContent_ThenOurEnvelope()
    {
        var envelope = ReasoningEnvelope.Wrap("raw thoughts");
        var messages = Messages($$"""
            {"model":"m","input":[{"role":"user","content":"q"},
              {"type":"reasoning","summary":[],"encrypted_content":"{{envelope}}"},
              {"type":"function_call","call_id":"c1","name":"f","arguments":"{}"},
              {"type":"function_call_output","call_id":"c1","output":"r"},
              {"type":"reasoning","summary":[{"type":"summary_text","text":"sum"}],"content":[{"type":"reasoning_text","text":"exact"}]},
              {"type":"message","role":"assistant","content":[{"type":"output_text","text":"answer"}]}]}
            """, ChatCapabilities.Default with { SendReasoningContent = true });
        Assert.Equal("raw thoughts", (string?)messages[1]!["reasoning_content"]);
        Assert.NotNull(messages[1]!["tool_calls"]);
        Assert.Equal("exact", (string?)messages[3]!["reasoning_content"]);
    }

    [Fact]
    public void ReasoningEffort_FollowsTheProfile()
    {
        const string Request = """{"model":"m","input":"x","reasoning":{"effort":"high","summary":"auto"}}""";
        Assert.Equal("high", (string?)Map(Request)["reasoning_effort"]);
        Assert.Null(Map(Request, ChatCapabilities.Default with { SendReasoningEffort = false })["reasoning_effort"]);
        Assert.Null(Map("""{"model":"m","input":"x","reasoning":null}""")["reasoning_effort"]);
    }

    [Fact]
    public void MaxOutputTokens_UsesTheProfileField()
    {
        const string Request = """{"model":"m","input":"x","max_output_tokens":256}""";
        Assert.Equal(256, (int?)Map(Request)["max_tokens"]);
        var openAi = Map(Request, ChatCapabilities.Default with { MaxTokensField = "max_completion_tokens" });
        Assert.Equal(256, (int?)openAi["max_completion_tokens"]);
        Assert.Null(openAi["max_tokens"]);
    }

    [Fact]
    public void TextFormat_BecomesResponseFormat()
    {
        AssertJson("""{"type":"json_schema","json_schema":{"name":"answer","schema":{"type":"object"},"strict":true}}""",
            Map("""{"model":"m","input":"x","text":{"format":{"type":"json_schema","name":"answer","schema":{"type":"object"},"strict":true}}}""")["response_format"]);
        AssertJson("""{"type":"json_object"}""", Map("""{"model":"m","input":"x","text":{"format":{"type":"json_object"}}}""")["response_format"]);
        Assert.Null(Map("""{"model":"m","input":"x","text":{"format":{"type":"text"},"verbosity":"low"}}""")["response_format"]);
        AssertJson("""{"type":"json_object"}""", Map("""{"model":"m","input":"x","text":{"format":{"type":"json_schema","name":"a","schema":{}}}}""",
            ChatCapabilities.Default with { JsonSchema = false })["response_format"]);
    }

    [Fact]
    public void FunctionTools_BecomeChatTools()
    {
        var chat = Map("""
            {"model":"m","input":"x","tools":[
              {"type":"function","name":"a"},
              {"type":"function","name":"b","description":"B","parameters":{"properties":{"x":{"type":"string"}}},"strict":true},
              {"type":"function","function":{"name":"c","parameters":{"type":"object","properties":{}}}}]}
            """);
        AssertJson("""
            [{"type":"function","function":{"name":"a","parameters":{"properties":{},"type":"object"}}},
             {"type":"function","function":{"name":"b","description":"B","parameters":{"properties":{"x":{"type":"string"}},"type":"object"},"strict":true}},
             {"type":"function","function":{"name":"c","parameters":{"type":"object","properties":{}}}}]
            """, chat["tools"]);
    }

    [Theory]
    [InlineData("\"auto\"", "\"auto\"")]
    [InlineData("\"none\"", "\"none\"")]
    [InlineData("\"required\"", "\"required\"")]
    [InlineData("""{"type":"auto"}""", "\"auto\"")]
    [InlineData("""{"type":"required"}""", "\"required\"")]
    [InlineData("""{"type":"function","name":"b"}""", """{"type":"function","function":{"name":"b"}}""")]
    [InlineData("""{"type":"function","function":{"name":"b"}}""", """{"type":"function","function":{"name":"b"}}""")]
    public void ToolChoice_EveryForm(string choice, string expected)
    {
        var chat = Map($$"""{"model":"m","input":"x","tools":[{"type":"function","name":"a"},{"type":"function","name":"b"}],"tool_choice":{{choice}}}""");
        AssertJson(expected, chat["tool_choice"]);
        Assert.Equal(2, chat["tools"]!.AsArray().Count);
    }

    [Fact]
    public void ToolChoice_AllowedTools_NarrowsTheToolList()
    {
        var chat = Map("""
            {"model":"m","input":"x","tools":[{"type":"function","name":"a"},{"type":"function","name":"b"}],
             "tool_choice":{"type":"allowed_tools","mode":"required","tools":[{"type":"function","name":"b"}]}}
            """);
        Assert.Equal("required", (string?)chat["tool_choice"]);
        Assert.Equal(["b"], chat["tools"]!.AsArray().Select(t => (string)t!["function"]!["name"]!));
    }

    [Fact]
    public void ToolChoice_HostedTool_Is400()
    {
        var e = Assert.Throws<GatewayException>(() => Map("""{"model":"m","input":"x","tools":[{"type":"function","name":"a"}],"tool_choice":{"type":"file_search"}}"""));
        Assert.Equal(400, e.StatusCode);
        Assert.Equal("tool_choice", e.Error.Param);
    }

    [Fact]
    public void ToolChoiceAndParallelToolCalls_AreOnlySentWithTools()
    {
        var without = Map("""{"model":"m","input":"x","tool_choice":"auto","parallel_tool_calls":false}""");
        Assert.Null(without["tool_choice"]);
        Assert.Null(without["parallel_tool_calls"]);
        Assert.Null(without["tools"]);
        const string WithTools = """{"model":"m","input":"x","tools":[{"type":"function","name":"a"}],"parallel_tool_calls":false}""";
        Assert.False((bool)Map(WithTools)["parallel_tool_calls"]!);
        Assert.Null(Map(WithTools, ChatCapabilities.Default with { ParallelToolCalls = false })["parallel_tool_calls"]);
    }

    [Fact]
    public void SamplingAndUser_ArePassed_UnsupportedFieldsAreNot()
    {
        var chat = Map("""
            {"model":"m","input":"x","temperature":0.2,"top_p":0.9,"safety_identifier":"user-123","store":true,"include":["reasoning.encrypted_content"],
             "truncation":"auto","metadata":{"k":"v"},"prompt_cache_key":"p","service_tier":"auto","top_logprobs":2}
            """);
        AssertJson("""{"model":"m","messages":[{"role":"user","content":"x"}],"temperature":0.2,"top_p":0.9,"user":"user-123"}""", chat);
        Assert.Equal("u", (string?)Map("""{"model":"m","input":"x","user":"u","safety_identifier":"s"}""")["user"]);
    }

    [Fact]
    public void Streaming_AsksForUsage()
    {
        AssertJson("""{"model":"m","messages":[{"role":"user","content":"x"}],"stream":true,"stream_options":{"include_usage":true}}""",
            Map("""{"model":"m","input":"x","stream":true}""", stream: true));
    }

    [Theory]
    [InlineData("""{"type":"web_search_preview"}""")]
    [InlineData("""{"type":"web_search"}""")]
    [InlineData("""{"type":"file_search","vector_store_ids":["vs_1"]}""")]
    [InlineData("""{"type":"code_interpreter","container":{"type":"auto"}}""")]
    [InlineData("""{"type":"computer_use_preview","environment":"browser","display_width":1,"display_height":1}""")]
    [InlineData("""{"type":"image_generation"}""")]
    [InlineData("""{"type":"mcp","server_label":"x","server_url":"https://x"}""")]
    [InlineData("""{"type":"local_shell"}""")]
    public async Task BuiltInTool_WithChatHostedToolsReject_Is400_NamingToolAndUpstream_BeforeAnyHttpCall(string tool)
    {
        var type = (string)JsonNode.Parse(tool)!["type"]!;
        var gateway = new ChatGateway(FakeChatServer.Json(Fixtures.Read("completion-plain.json")), o => o.ChatHostedTools = "reject");
        var e = await Assert.ThrowsAsync<GatewayException>(() => gateway.StreamAsync($$"""{"model":"m","input":"x","stream":true,"tools":[{"type":"function","name":"a"},{{tool}}]}"""));
        Assert.Equal(400, e.StatusCode);
        Assert.Equal("tools[1]", e.Error.Param);
        Assert.Contains($"'{type}'", e.Error.Message);
        Assert.Contains("'chat-test'", e.Error.Message);
        Assert.Empty(gateway.Server.Requests);
        Assert.Empty(gateway.Store.Turns);
    }
}
