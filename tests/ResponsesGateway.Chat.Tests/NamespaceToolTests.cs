using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using ResponsesGateway.Core.Errors;
using ResponsesGateway.Upstreams.Chat.Tests.Infrastructure;
using static ResponsesGateway.Upstreams.Chat.Tests.Infrastructure.Mapping;

namespace ResponsesGateway.Upstreams.Chat.Tests;

/// <summary>
/// Codex's tools on a Chat Completions upstream: <c>namespace</c> tools flattened to <c>ns__name</c> and mapped back
/// to <c>name</c> + <c>namespace</c>; hosted tools dropped or rejected per <c>ChatHostedTools</c>; <c>tool_search</c>
/// dropped with deferred functions offered at once; tools of <c>additional_tools</c> / <c>tool_search_output</c> items
/// hoisted into the chat tools.
/// </summary>
public sealed partial class NamespaceToolTests
{
    private const string AgentsNamespace = """
        {"type":"namespace","name":"multi_agent_v1","description":"Sub-agents.","tools":[
          {"type":"function","name":"spawn_agent","description":"Start an agent.","strict":false,"parameters":{"type":"object","properties":{"task":{"type":"string"}}}},
          {"type":"function","name":"wait_agent","parameters":{"type":"object","properties":{}}},
          {"type":"custom","name":"note","description":"Free text."}]}
        """;

    private const string ExecTool = """{"type":"function","name":"exec_command","parameters":{"type":"object","properties":{"cmd":{"type":"string"}}},"strict":false}""";

    [GeneratedRegex("^[A-Za-z0-9_-]{1,64}$")]
    private static partial Regex ChatName();

    private static List<string> ToolNames(JsonObject chat) => (chat["tools"] as JsonArray ?? []).Select(t => (string)t!["function"]!["name"]!).ToList();

    // ---- namespace, request ----

    [Fact]
    public void Namespace_ChildrenBecomeFlatFunctions_InOrder_DescribedWithTheirNamespace()
    {
        var chat = Map($$"""{"model":"m","input":"x","tools":[{{ExecTool}},{{AgentsNamespace}},{"type":"web_search","external_web_access":false}]}""");
        Assert.Equal(["exec_command", "multi_agent_v1__spawn_agent", "multi_agent_v1__wait_agent", "multi_agent_v1__note"], ToolNames(chat));
        var spawn = chat["tools"]![1]!["function"]!;
        AssertJson("""{"name":"multi_agent_v1__spawn_agent","description":"[multi_agent_v1] Start an agent.","parameters":{"type":"object","properties":{"task":{"type":"string"}}},"strict":false}""", spawn);
        Assert.Equal("[multi_agent_v1] Sub-agents.", (string?)chat["tools"]![2]!["function"]!["description"]);
        // The custom child is a one-string-input function like any custom tool.
        AssertJson("""{"type":"object","properties":{"input":{"type":"string"}},"required":["input"]}""", chat["tools"]![3]!["function"]!["parameters"]);
    }

    [Fact]
    public void Namespace_TooLongOrInvalidOrTakenNames_AreShortenedWithAHash_ValidAndUnique()
    {
        var longNs = new string('n', 50);
        var chat = Map($$"""
            {"model":"m","input":"x","tools":[
              {"type":"function","name":"a__b"},
              {"type":"namespace","name":"a","description":"d","tools":[{"type":"function","name":"b"}]},
              {"type":"namespace","name":"{{longNs}}","description":"d","tools":[{"type":"function","name":"do_something_long"},{"type":"function","name":"do_something_long2"}]},
              {"type":"namespace","name":"mcp.server","description":"d","tools":[{"type":"function","name":"x"}]}]}
            """);
        var names = ToolNames(chat);
        Assert.Equal(5, names.Count);
        Assert.Equal(names.Count, names.Distinct().Count());
        Assert.All(names, n => Assert.Matches(ChatName(), n));
        Assert.Equal("a__b", names[0]); // the plain tool keeps its name
        Assert.StartsWith("a__b_", names[1]);
        Assert.StartsWith(longNs, names[2]);
        Assert.StartsWith("mcp_server__x_", names[4]);
    }

    [Fact]
    public void History_NamespacedCall_IsReplayedUnderItsFlatName()
    {
        var messages = Messages($$"""
            {"model":"m","tools":[{{AgentsNamespace}}],"input":[
              {"role":"user","content":"go"},
              {"type":"function_call","call_id":"call_1","name":"spawn_agent","namespace":"multi_agent_v1","arguments":"{\"task\":\"t\"}"},
              {"type":"custom_tool_call","call_id":"call_2","name":"note","namespace":"multi_agent_v1","input":"hi"},
              {"type":"function_call_output","call_id":"call_1","output":"started"},
              {"type":"custom_tool_call_output","call_id":"call_2","output":"noted"}]}
            """);
        AssertJson("""
            [{"role":"user","content":"go"},
             {"role":"assistant","content":null,"tool_calls":[
               {"id":"call_1","type":"function","function":{"name":"multi_agent_v1__spawn_agent","arguments":"{\"task\":\"t\"}"}},
               {"id":"call_2","type":"function","function":{"name":"multi_agent_v1__note","arguments":"{\"input\":\"hi\"}"}}]},
             {"role":"tool","tool_call_id":"call_1","content":"started"},
             {"role":"tool","tool_call_id":"call_2","content":"noted"}]
            """, messages);
    }

    [Theory]
    [InlineData("""{"type":"function","name":"spawn_agent","namespace":"multi_agent_v1"}""", """{"type":"function","function":{"name":"multi_agent_v1__spawn_agent"}}""")]
    [InlineData("""{"type":"custom","name":"note","namespace":"multi_agent_v1"}""", """{"type":"function","function":{"name":"multi_agent_v1__note"}}""")]
    [InlineData("""{"type":"function","name":"exec_command"}""", """{"type":"function","function":{"name":"exec_command"}}""")]
    public void ToolChoice_NamingANamespacedTool_NamesItsFlatFunction(string choice, string expected)
    {
        var chat = Map($$"""{"model":"m","input":"x","tools":[{{ExecTool}},{{AgentsNamespace}}],"tool_choice":{{choice}}}""");
        AssertJson(expected, chat["tool_choice"]);
    }

    [Fact]
    public void ToolChoice_AllowedTools_ANamespaceAllowsItsChildren()
    {
        var chat = Map($$"""{"model":"m","input":"x","tools":[{{ExecTool}},{{AgentsNamespace}}],"tool_choice":{"type":"allowed_tools","mode":"auto","tools":[{"type":"namespace","name":"multi_agent_v1"}]} }""");
        Assert.Equal(["multi_agent_v1__spawn_agent", "multi_agent_v1__wait_agent", "multi_agent_v1__note"], ToolNames(chat));
        Assert.Equal("auto", (string?)chat["tool_choice"]);
    }

    // ---- namespace, answer ----

    private static string CallTranscript(params (string Id, string Name, string Arguments)[] calls)
    {
        var lines = new List<string>();
        for (var i = 0; i < calls.Length; i++)
        {
            var call = new JsonObject { ["index"] = i, ["id"] = calls[i].Id, ["type"] = "function", ["function"] = new JsonObject { ["name"] = calls[i].Name, ["arguments"] = calls[i].Arguments } };
            lines.Add(Chunk(new JsonObject { ["tool_calls"] = new JsonArray(call) }, null));
        }
        lines.Add(Chunk(new JsonObject(), "tool_calls"));
        return string.Concat(lines.Select(l => $"data: {l}\n\n")) + "data: [DONE]\n\n";

        static string Chunk(JsonObject delta, string? finish) => new JsonObject
        {
            ["id"] = "chatcmpl-1", ["object"] = "chat.completion.chunk", ["created"] = 1, ["model"] = "m",
            ["choices"] = new JsonArray(new JsonObject { ["index"] = 0, ["delta"] = delta, ["finish_reason"] = finish }),
        }.ToJsonString();
    }

    [Fact]
    public async Task Stream_CallOfAFlatName_IsAnItemWithTheChildsNameAndNamespace_InEveryEventAndTheStoredResponse()
    {
        var gateway = new ChatGateway(FakeChatServer.Sse(CallTranscript(
            ("call_1", "multi_agent_v1__spawn_agent", """{"task":"t"}"""), ("call_2", "multi_agent_v1__note", """{"input":"hello"}"""), ("call_3", "exec_command", "{}"))));
        var events = await gateway.StreamAsync($$"""{"model":"m","input":"x","stream":true,"tools":[{{ExecTool}},{{AgentsNamespace}}]}""");

        var done = events.Where(e => (string?)e["type"] == "response.output_item.done").Select(e => e["item"]!.AsObject()).ToList();
        Assert.Equal(3, done.Count);
        Assert.Equal(("function_call", "spawn_agent", "multi_agent_v1"), ((string)done[0]["type"]!, (string)done[0]["name"]!, (string?)done[0]["namespace"]));
        Assert.Equal("""{"task":"t"}""", (string?)done[0]["arguments"]);
        Assert.Equal(("custom_tool_call", "note", "multi_agent_v1"), ((string)done[1]["type"]!, (string)done[1]["name"]!, (string?)done[1]["namespace"]));
        Assert.Equal("hello", (string?)done[1]["input"]);
        Assert.Equal("exec_command", (string?)done[2]["name"]);
        Assert.False(done[2].ContainsKey("namespace")); // a plain tool's call has no namespace key, as OpenAI sends it

        var added = events.First(e => (string?)e["type"] == "response.output_item.added")["item"]!;
        Assert.Equal(("spawn_agent", "multi_agent_v1"), ((string)added["name"]!, (string?)added["namespace"]));
        Assert.Equal("spawn_agent", (string?)events.First(e => (string?)e["type"] == "response.function_call_arguments.done")["name"]);
        var final = events[^1]["response"]!["output"]!.AsArray();
        Assert.True(JsonNode.DeepEquals(new JsonArray(done.Select(d => (JsonNode)d.DeepClone()).ToArray()), final));
        var stored = gateway.Store.Turns.Single().Value.Response["output"]!;
        Assert.Equal("multi_agent_v1", (string?)stored[0]!["namespace"]);
    }

    [Fact]
    public async Task Stream_ACallOfAChildsOwnNameWithoutItsPrefix_IsMappedToItsNamespace_WhenUnambiguous()
    {
        var twoNamespaces = $$"""[{{AgentsNamespace}},{"type":"namespace","name":"other","description":"d","tools":[{"type":"function","name":"wait_agent"}]}]""";
        var gateway = new ChatGateway(FakeChatServer.Sse(CallTranscript(("call_1", "spawn_agent", "{}"), ("call_2", "wait_agent", "{}"), ("call_3", "made_up", "{}"))));
        var events = await gateway.StreamAsync($$"""{"model":"m","input":"x","stream":true,"tools":{{twoNamespaces}}}""");
        var done = events.Where(e => (string?)e["type"] == "response.output_item.done").Select(e => e["item"]!).ToList();
        Assert.Equal(("spawn_agent", "multi_agent_v1"), ((string)done[0]["name"]!, (string?)done[0]["namespace"]));
        Assert.Equal(("wait_agent", null), ((string)done[1]["name"]!, (string?)done[1]["namespace"])); // two namespaces have it: left as called
        Assert.Equal(("made_up", null), ((string)done[2]["name"]!, (string?)done[2]["namespace"]));
    }

    [Fact]
    public async Task Json_CallOfAFlatName_IsMappedBackToo()
    {
        var completion = """
            {"id":"c","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"finish_reason":"tool_calls","message":{"role":"assistant","content":null,
             "tool_calls":[{"id":"call_1","type":"function","function":{"name":"multi_agent_v1__wait_agent","arguments":"{}"}}]}}],
             "usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}
            """;
        var gateway = new ChatGateway(FakeChatServer.Json(completion));
        var response = await gateway.CreateAsync($$"""{"model":"m","input":"x","tools":[{{AgentsNamespace}}]}""");
        var call = response["output"]![0]!;
        Assert.Equal(("function_call", "wait_agent", "multi_agent_v1"), ((string)call["type"]!, (string)call["name"]!, (string?)call["namespace"]));
    }

    // ---- hosted tools, tool_search, hoisted tools ----

    [Theory]
    [InlineData("""{"type":"web_search","external_web_access":false}""", "web_search")]
    [InlineData("""{"type":"web_search_preview"}""", "web_search_preview")]
    [InlineData("""{"type":"file_search","vector_store_ids":["vs_1"]}""", "file_search")]
    [InlineData("""{"type":"code_interpreter","container":{"type":"auto"}}""", "code_interpreter")]
    [InlineData("""{"type":"image_generation"}""", "image_generation")]
    [InlineData("""{"type":"computer_use_preview","environment":"browser","display_width":1,"display_height":1}""", "computer_use_preview")]
    public async Task HostedTool_ByDefault_IsDropped_AndNamedInTheResponseHeader(string tool, string type)
    {
        var gateway = new ChatGateway(FakeChatServer.Json(Fixtures.Read("completion-plain.json")));
        var request = Core.Requests.CreateResponseRequestParser.Validate(JsonNode.Parse($$"""{"model":"m","input":"x","tools":[{{ExecTool}},{{tool}},{{tool}}]}""")!.AsObject());
        var response = await gateway.CreateAsync(request);
        Assert.Equal("completed", (string?)response["status"]);
        Assert.Equal(["exec_command"], ToolNames(gateway.SentBody));
        Assert.Equal(type, request.ResponseHeaders["x-gateway-dropped-tools"]);
        // The echo keeps what the client declared.
        Assert.Equal(3, response["tools"]!.AsArray().Count);
    }

    [Fact]
    public async Task OnlyHostedTools_TheChatBodyHasNoToolsAtAll()
    {
        var gateway = new ChatGateway(FakeChatServer.Json(Fixtures.Read("completion-plain.json")));
        await gateway.CreateAsync("""{"model":"m","input":"x","tools":[{"type":"web_search"}],"tool_choice":"auto","parallel_tool_calls":true}""");
        Assert.Null(gateway.SentBody["tools"]);
        Assert.Null(gateway.SentBody["tool_choice"]);
        Assert.Null(gateway.SentBody["parallel_tool_calls"]);
    }

    [Theory]
    [InlineData("""{"type":"mcp","server_label":"x","server_url":"https://x"}""", "mcp")]
    [InlineData("""{"type":"local_shell"}""", "local_shell")]
    [InlineData("""{"type":"shell"}""", "shell")]
    public async Task Mcp_AndClientTools_AreStill400_WhenHostedToolsAreDropped(string tool, string type)
    {
        var gateway = new ChatGateway(FakeChatServer.Json(Fixtures.Read("completion-plain.json")));
        var e = await Assert.ThrowsAsync<GatewayException>(() => gateway.CreateAsync($$"""{"model":"m","input":"x","tools":[{"type":"web_search"},{{tool}}]}"""));
        Assert.Equal(400, e.StatusCode);
        Assert.Equal("tools[1]", e.Error.Param);
        Assert.Equal("unsupported_tool", e.Error.Code);
        Assert.Contains($"'{type}'", e.Error.Message);
        Assert.Empty(gateway.Server.Requests);
        Assert.Empty(gateway.Store.Turns);
    }

    [Fact]
    public void ChatHostedTools_OutsideItsSet_FailsAtStartup()
    {
        var e = Assert.Throws<InvalidOperationException>(() => ChatCapabilities.From("x", new Core.Options.UpstreamOptions { ChatHostedTools = "ignore" }));
        Assert.Contains("Upstreams:x:ChatHostedTools", e.Message);
    }

    [Fact]
    public void ToolSearch_IsDropped_DeferredFunctionsAreOfferedAtOnce_AndFoundToolsAreHoisted()
    {
        var chat = Map("""
            {"model":"m","tools":[{"type":"tool_search"},{"type":"function","name":"later","defer_loading":true,"parameters":{"type":"object","properties":{} } },
              {"type":"namespace","name":"crm","description":"CRM.","tools":[{"type":"function","name":"find","defer_loading":true}]}],
             "input":[{"role":"user","content":"x"},
              {"type":"tool_search_call","call_id":"ts_1","arguments":{"query":"mail"},"execution":"client","status":"completed"},
              {"type":"tool_search_output","call_id":"ts_1","execution":"client","status":"completed","tools":[
                {"type":"function","name":"send_mail","parameters":{"type":"object","properties":{}}},{"type":"function","name":"later"}]}]}
            """);
        Assert.Equal(["later", "crm__find", "send_mail"], ToolNames(chat));
        Assert.All(chat["tools"]!.AsArray(), t => Assert.Null(t!["function"]!["defer_loading"]));
        AssertJson("""[{"role":"user","content":"x"}]""", chat["messages"]);
    }

    [Fact]
    public void AdditionalTools_AreHoisted_Deduplicated_NamespacesFlattened_AndAddNoMessage()
    {
        var chat = Map($$"""
            {"model":"m","tools":[{{ExecTool}}],
             "input":[{"type":"additional_tools","role":"developer","tools":[{{ExecTool}},{{AgentsNamespace}},{"type":"web_search"}]},
                      {"role":"user","content":"x"},
                      {"type":"additional_tools","role":"developer","tools":[{{AgentsNamespace}},{"type":"custom","name":"apply_patch"}]}]}
            """);
        Assert.Equal(["exec_command", "multi_agent_v1__spawn_agent", "multi_agent_v1__wait_agent", "multi_agent_v1__note", "apply_patch"], ToolNames(chat));
        AssertJson("""[{"role":"user","content":"x"}]""", chat["messages"]);
    }

    [Fact]
    public async Task AdditionalTools_ACallOfAHoistedNamespacedTool_IsMappedBack()
    {
        var gateway = new ChatGateway(FakeChatServer.Sse(CallTranscript(("call_1", "multi_agent_v1__spawn_agent", "{}"))));
        var events = await gateway.StreamAsync($$"""{"model":"m","stream":true,"input":[{"type":"additional_tools","role":"developer","tools":[{{AgentsNamespace}}]},{"role":"user","content":"x"}]}""");
        var item = events.Last(e => (string?)e["type"] == "response.output_item.done")["item"]!;
        Assert.Equal(("spawn_agent", "multi_agent_v1"), ((string)item["name"]!, (string?)item["namespace"]));
        // The item stays in the stored input (input_items lists it).
        Assert.Equal("additional_tools", (string?)gateway.Store.Turns.Single().Value.InputItems[0]!["type"]);
    }

    // ---- bad input ----

    [Theory]
    [InlineData("""{"type":"namespace","description":"d","tools":[]}""", "tools[1].name", "missing_required_parameter")]
    [InlineData("""{"type":"namespace","name":5,"tools":[]}""", "tools[1].name", "invalid_type")]
    [InlineData("""{"type":"namespace","name":"has space","tools":[]}""", "tools[1].name", "invalid_value")]
    [InlineData("""{"type":"namespace","name":"n"}""", "tools[1].tools", "missing_required_parameter")]
    [InlineData("""{"type":"namespace","name":"n","tools":{}}""", "tools[1].tools", "invalid_type")]
    [InlineData("""{"type":"namespace","name":"n","tools":["f"]}""", "tools[1].tools[0]", "invalid_type")]
    [InlineData("""{"type":"namespace","name":"n","tools":[{"type":"web_search"}]}""", "tools[1].tools[0].type", "invalid_value")]
    [InlineData("""{"type":"namespace","name":"n","tools":[{"type":"function"}]}""", "tools[1].tools[0].name", "missing_required_parameter")]
    [InlineData("""{"type":"namespace","name":"n","tools":[{"type":"function","name":"a b"}]}""", "tools[1].tools[0].name", "invalid_value")]
    [InlineData("""{"type":"namespace","name":"n","tools":[{"type":"function","name":"f","parameters":[]}]}""", "tools[1].tools[0].parameters", "invalid_type")]
    [InlineData("""{"type":"namespace","name":"n","tools":[{"type":"function","name":"f"},{"type":"custom","name":"f"}]}""", "tools[1].tools[1].name", "invalid_value")]
    [InlineData("""{"type":"namespace","name":"n","tools":[{"type":"custom","name":"p","format":"lark"}]}""", "tools[1].tools[0].format", "invalid_type")]
    public async Task MalformedNamespace_Is400_NamingTheField_BeforeAnyHttpCall(string tool, string param, string code)
    {
        var gateway = new ChatGateway(FakeChatServer.Json(Fixtures.Read("completion-plain.json")));
        var e = await Assert.ThrowsAsync<GatewayException>(() => gateway.StreamAsync($$"""{"model":"m","input":"x","stream":true,"tools":[{{ExecTool}},{{tool}}]}"""));
        Assert.Equal(400, e.StatusCode);
        Assert.Equal(param, e.Error.Param);
        Assert.Equal(code, e.Error.Code);
        Assert.Equal("invalid_request_error", e.Error.Type);
        Assert.Empty(gateway.Server.Requests);
        Assert.Empty(gateway.Store.Turns);
    }
}
