using System.Text.Json.Nodes;

namespace ResponsesGateway.Tests.Conformance;

/// <summary>
/// Codex CLI over both upstream kinds: its first request as <c>codex exec</c> 0.169 sends it (the shape recorded in the
/// project's notes: developer messages and no <c>instructions</c>, seven flat functions, the <c>multi_agent_v1</c>
/// namespace, <c>web_search</c>, the custom <c>apply_patch</c>, <c>store:false</c>, the encrypted-reasoning include,
/// <c>prompt_cache_key</c>, <c>client_metadata</c>), and a stateless multi-turn loop through a namespaced tool.
/// </summary>
public static partial class Scenarios
{
    private static string Function(string name, string property) =>
        $$$"""{"type":"function","name":"{{{name}}}","description":"{{{name}}} tool.","strict":false,"parameters":{"type":"object","properties":{"{{{property}}}":{"type":"string"}},"required":["{{{property}}}"],"additionalProperties":false}}""";

    private static readonly string AgentsNamespace =
        $$"""{"type":"namespace","name":"multi_agent_v1","description":"Spawn and manage sub-agents.","tools":[{{Function("close_agent", "id")}},{{Function("resume_agent", "id")}},{{Function("send_input", "message")}},{{Function("spawn_agent", "task")}},{{Function("wait_agent", "id")}}]}""";

    private static readonly string[] CodexFunctions = ["exec_command", "write_stdin", "request_user_input", "view_image", "get_goal", "create_goal", "update_goal"];

    /// <summary>The recorded request's body, with <paramref name="marker"/> in the last user message.</summary>
    private static string CodexRequest(string marker) => $$$"""
        {"model":"mock-model",
         "input":[
          {"type":"message","role":"developer","content":[{"type":"input_text","text":"<permissions instructions>Filesystem sandboxing: workspace-write. Approval policy: never.</permissions instructions>"}]},
          {"type":"message","role":"developer","content":[{"type":"input_text","text":"<collaboration_mode>default</collaboration_mode>"}]},
          {"type":"message","role":"user","content":[{"type":"input_text","text":"<environment_context>\n  <cwd>/work/project</cwd>\n  <shell>bash</shell>\n</environment_context>"}]},
          {"type":"message","role":"user","content":[{"type":"input_text","text":"list the files {{{marker}}}"}]}],
         "tools":[{{{string.Join(",", CodexFunctions.Select(f => Function(f, "cmd")))}}},{{{AgentsNamespace}}},
          {"type":"web_search","external_web_access":false},
          {"type":"custom","name":"apply_patch","description":"Use the apply_patch tool to edit files.","format":{"type":"grammar","syntax":"lark","definition":"start: begin_patch hunk+ end_patch"}}],
         "tool_choice":"auto","parallel_tool_calls":true,"reasoning":{"summary":"auto"},"store":false,
         "include":["reasoning.encrypted_content"],"prompt_cache_key":"0199a1b2-c3d4-7e8f-9a0b-1c2d3e4f5a6b",
         "client_metadata":{"session_id":"0199a1b2-c3d4-7e8f-9a0b-1c2d3e4f5a6b","thread_id":"t-1","turn_id":"turn-1","root_turn_id":"turn-1","x-codex-installation-id":"inst-1","x-codex-window-id":"w-1","x-codex-turn-metadata":"{}"}}
        """;

    private static async Task<List<JsonObject>> CodexRequestAsync(ScenarioContext ctx)
    {
        var marker = ctx.NewMarker();
        var request = CodexRequest(marker);
        var turn = await ctx.SendAsync(request);

        var response = turn.Response;
        Assert.Equal("completed", (string?)response["status"]);
        Assert.False((bool)response["store"]!);
        Assert.Equal(10, response["tools"]!.AsArray().Count); // the echo keeps every declared tool, namespace and web_search included
        Assert.Equal($"Mock reply to: list the files {marker}", OutputText(response));

        var sent = ctx.UpstreamBody(marker);
        if (ctx.IsChat)
        {
            var names = sent["tools"]!.AsArray().Select(t => (string)t!["function"]!["name"]!).ToArray();
            Assert.Equal(
                [.. CodexFunctions, "multi_agent_v1__close_agent", "multi_agent_v1__resume_agent", "multi_agent_v1__send_input", "multi_agent_v1__spawn_agent", "multi_agent_v1__wait_agent", "apply_patch"],
                names);
            Assert.Equal(["system", "system", "user", "user"], sent["messages"]!.AsArray().Select(m => (string)m!["role"]!));
            Assert.Equal("auto", (string?)sent["tool_choice"]);
            Assert.True((bool)sent["parallel_tool_calls"]!);
            foreach (var field in new[] { "store", "include", "prompt_cache_key", "client_metadata", "reasoning", "input" })
            {
                Assert.False(sent.ContainsKey(field), $"the chat body carries {field}");
            }
        }
        else
        {
            var client = JsonNode.Parse(request)!.AsObject();
            AssertJson(client["tools"], sent["tools"]);
            AssertJson(client["client_metadata"], sent["client_metadata"]);
            AssertJson(client["input"], sent["input"]);
            Assert.Equal("0199a1b2-c3d4-7e8f-9a0b-1c2d3e4f5a6b", (string?)sent["prompt_cache_key"]);
            Assert.False((bool)sent["store"]!);
            Assert.Contains("reasoning.encrypted_content", sent["include"]!.AsArray().Select(x => (string?)x));
        }
        return [response];
    }

    /// <summary>
    /// Codex's loop with <c>store:false</c>: the model calls a namespaced function, the client replays the call item it
    /// received and sends the <c>function_call_output</c>, the model answers. Chat: the call comes back as
    /// <c>spawn_agent</c> in namespace <c>multi_agent_v1</c>, and the next chat body carries the flattened name in the
    /// assistant's tool call followed by the tool message. Native: the namespaced tools reach the upstream untouched.
    /// </summary>
    private static async Task<List<JsonObject>> NamespaceToolLoopAsync(ScenarioContext ctx)
    {
        var marker = ctx.NewMarker();
        // Without close_agent: the mock calls the first chat function, here the namespace's resume_agent, flattened.
        var ordered = $"[{AgentsNamespace.Replace(Function("close_agent", "id") + ",", "", StringComparison.Ordinal)},{Function("exec_command", "cmd")}]";
        if (!ctx.IsChat)
        {
            var native = await ctx.SendAsync($$"""{"model":"mock-model","store":false,"input":"delegate {{marker}}","tools":{{ordered}}}""");
            Assert.Equal("completed", (string?)native.Response["status"]);
            AssertJson(JsonNode.Parse(ordered), ctx.UpstreamBody(marker)["tools"]);
            return [native.Response];
        }

        var first = await ctx.SendAsync($$"""{"model":"mock-tools","store":false,"input":[{"type":"message","role":"user","content":"delegate {{marker}}"}],"tools":{{ordered}}}""");
        Assert.Equal("completed", (string?)first.Response["status"]);
        var call = Single(first.Response, "function_call");
        Assert.Equal("resume_agent", (string?)call["name"]);
        Assert.Equal("multi_agent_v1", (string?)call["namespace"]);
        Assert.Equal("""{"location":"Paris"}""", (string?)call["arguments"]);
        var callId = (string)call["call_id"]!;
        AssertEventsInclude(first, "response.function_call_arguments.delta", "response.function_call_arguments.done");
        var firstTools = ctx.UpstreamBody(marker)["tools"]!.AsArray().Select(t => (string)t!["function"]!["name"]!).ToArray();
        Assert.Equal(["multi_agent_v1__resume_agent", "multi_agent_v1__send_input", "multi_agent_v1__spawn_agent", "multi_agent_v1__wait_agent", "exec_command"], firstTools);

        // The next request replays the whole conversation, the call item exactly as it was received.
        var marker2 = ctx.NewMarker();
        var input = new JsonArray(
            JsonNode.Parse($$"""{"type":"message","role":"user","content":"delegate {{marker}}"}"""),
            call.DeepClone(),
            new JsonObject { ["type"] = "function_call_output", ["call_id"] = callId, ["output"] = $"agent started {marker2}" });
        var second = await ctx.SendAsync(new JsonObject { ["model"] = "mock-tools", ["store"] = false, ["input"] = input, ["tools"] = JsonNode.Parse(ordered) }.ToJsonString());
        Assert.Equal("completed", (string?)second.Response["status"]);
        Assert.Equal($"Mock reply to: delegate {marker}", OutputText(second.Response));

        var sent = ctx.UpstreamBody(marker2);
        AssertJson(new JsonArray(
            new JsonObject { ["role"] = "user", ["content"] = $"delegate {marker}" },
            new JsonObject
            {
                ["role"] = "assistant",
                ["content"] = null,
                ["tool_calls"] = new JsonArray(ChatToolCall(callId, "multi_agent_v1__resume_agent", """{"location":"Paris"}""")),
            },
            new JsonObject { ["role"] = "tool", ["tool_call_id"] = callId, ["content"] = $"agent started {marker2}" }), sent["messages"]);
        Assert.Equal(firstTools, sent["tools"]!.AsArray().Select(t => (string)t!["function"]!["name"]!).ToArray());
        return [first.Response, second.Response];
    }

    /// <summary>
    /// A <c>compaction_trigger</c> item ending a chained turn. Chat: one summarising call, and the turn's only output item
    /// is a <c>compaction</c> item (created/in_progress/added/done/completed), accepted by both SDKs. Native: the item
    /// reaches the upstream as sent.
    /// </summary>
    private static async Task<List<JsonObject>> CompactionTriggerAsync(ScenarioContext ctx)
    {
        var marker = ctx.NewMarker();
        var first = await ctx.SendAsync($$"""{"model":"mock-model","input":"build a landing page {{marker}}"}""");
        var marker2 = ctx.NewMarker();
        var second = await ctx.SendAsync($$"""{"model":"mock-model","previous_response_id":"{{first.Response["id"]}}","input":[{"type":"compaction_trigger"}],"metadata":{"m":"{{marker2}}"} }""");
        Assert.Equal("completed", (string?)second.Response["status"]);
        if (!ctx.IsChat)
        {
            Assert.Equal("compaction_trigger", (string?)ctx.UpstreamBody(marker2)["input"]!.AsArray()[^1]!["type"]);
            return [first.Response, second.Response];
        }
        var item = Single(second.Response, "compaction");
        Assert.StartsWith("cmp_", (string?)item["id"]);
        Assert.StartsWith("rgw-cmp-v1.", (string?)item["encrypted_content"]);
        if (second.Events is { } events)
        {
            Assert.Equal(["response.created", "response.in_progress", "response.output_item.added", "response.output_item.done", "response.completed"], events);
        }
        return [first.Response, second.Response];
    }
}
