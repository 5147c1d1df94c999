using System.Net;
using System.Text.Json.Nodes;
using ResponsesGateway.Core.Errors;
using ResponsesGateway.TestSupport;
using ResponsesGateway.Upstreams.Chat.Tests.Infrastructure;
using static ResponsesGateway.Upstreams.Chat.Tests.Infrastructure.Mapping;

namespace ResponsesGateway.Upstreams.Chat.Tests;

/// <summary>
/// The non-streaming path (a whole <c>chat.completion</c>), its agreement with the stream, and DeepSeek thinking mode
/// across turns, which rejects a tool-call turn sent back without its reasoning (docs/architecture.md, chat rules R4 and R8).
/// </summary>
public sealed class JsonPathAndRoundTripTests
{
    [Fact]
    public async Task Completion_BecomesReasoningThenCall_WithUsage()
    {
        var gateway = new ChatGateway(FakeChatServer.Json(Fixtures.Read("06-deepseek-thinking-tools.completion.json")));
        var response = await gateway.CreateAsync("""{"model":"deepseek-chat","input":"Weather in Paris?"}""");
        SchemaValidator.ValidateResponse(response);
        Assert.Equal(Assert.Single(gateway.Store.Turns).Key, (string?)response["id"]);
        Assert.Equal("completed", (string?)response["status"]);
        var output = response["output"]!.AsArray();
        AssertJson("""{"type":"reasoning","summary":[],"content":[{"type":"reasoning_text","text":"I need the weather for Paris."}]}""", GoldenStreamTests.WithoutId(output[0]!));
        AssertJson("""{"type":"function_call","status":"completed","arguments":"{\"city\":\"Paris\"}","call_id":"call_ds1","name":"get_weather"}""", GoldenStreamTests.WithoutId(output[1]!));
        GoldenStreamTests.AssertUsage(response, input: 60, cached: 0, output: 40, reasoning: 20, total: 100);
        Assert.Null(gateway.SentBody["stream"]);
        Assert.Null(gateway.SentBody["stream_options"]);
    }

    [Fact]
    public async Task JsonAndStream_BuildTheSameOutput()
    {
        var json = await new ChatGateway(FakeChatServer.Json(Fixtures.Read("06-deepseek-thinking-tools.completion.json")))
            .CreateAsync("""{"model":"m","input":"Weather in Paris?"}""");
        var (_, streamed) = await GoldenStreamTests.RunAsync("06-deepseek-thinking-tools");
        AssertJson(new JsonArray(json["output"]!.AsArray().Select(i => GoldenStreamTests.WithoutId(i!)).ToArray()).ToJsonString(),
            new JsonArray(streamed["output"]!.AsArray().Select(i => GoldenStreamTests.WithoutId(i!)).ToArray()));
        AssertJson(json["usage"]!.ToJsonString(), streamed["usage"]);
    }

    [Theory]
    [InlineData("length", "incomplete", "max_output_tokens")]
    [InlineData("content_filter", "incomplete", "content_filter")]
    [InlineData("stop", "completed", null)]
    [InlineData(null, "completed", null)]
    public async Task FinishReason_SetsStatus(string? finish, string status, string? reason)
    {
        var finishJson = finish is null ? "null" : $"\"{finish}\"";
        var gateway = new ChatGateway(FakeChatServer.Json($$"""
            {"id":"c","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"<think>hm</think>Cut"},"finish_reason":{{finishJson}}}]}
            """));
        var response = await gateway.CreateAsync("""{"model":"m","input":"x"}""");
        SchemaValidator.ValidateResponse(response);
        Assert.Equal(status, (string?)response["status"]);
        Assert.Equal(reason, (string?)response["incomplete_details"]?["reason"]);
        Assert.Equal(status == "completed" ? "completed" : "incomplete", (string?)response["output"]![1]!["status"]);
        Assert.Equal("hm", (string?)response["output"]![0]!["content"]![0]!["text"]);
        Assert.Equal("Cut", (string?)response["output"]![1]!["content"]![0]!["text"]);
        Assert.Null(response["usage"]);
    }

    [Fact]
    public async Task Refusal_BecomesARefusalPart()
    {
        var gateway = new ChatGateway(FakeChatServer.Json("""
            {"id":"c","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":null,"refusal":"I can't help with that."},"finish_reason":"stop"}]}
            """));
        var response = await gateway.CreateAsync("""{"model":"m","input":"x"}""");
        SchemaValidator.ValidateResponse(response);
        AssertJson("""[{"type":"refusal","refusal":"I can't help with that."}]""", response["output"]![0]!["content"]);
    }

    [Fact]
    public async Task InBandErrorIn200Body_IsAFailedResponseWithTheUpstreamCodeAndMessage()
    {
        // Like a native upstream's 200 with status "failed", and like response.failed on the streaming path.
        var gateway = new ChatGateway(FakeChatServer.Json("""{"error":{"message":"Model overloaded","type":"server_error","code":"upstream_overloaded"}}"""));
        var response = await gateway.CreateAsync("""{"model":"m","input":"x"}""");
        SchemaValidator.ValidateResponse(response);
        Assert.Equal("failed", (string?)response["status"]);
        AssertJson("""{"code":"upstream_overloaded","message":"Model overloaded"}""", response["error"]);
        Assert.Empty(response["output"]!.AsArray());
    }

    [Fact]
    public async Task UpstreamClientError_KeepsItsStatusAndBody()
    {
        var gateway = new ChatGateway(FakeChatServer.Json("""{"error":{"message":"bad model","type":"invalid_request_error","code":"model_not_found"}}""", HttpStatusCode.NotFound));
        var e = await Assert.ThrowsAsync<GatewayException>(() => gateway.CreateAsync("""{"model":"m","input":"x"}"""));
        Assert.Equal(404, e.StatusCode);
        Assert.Equal("model_not_found", e.Error.Code);
    }

    [Fact]
    public async Task DeepSeekThinking_StoredChain_SendsTheReasoningBackOnTheToolCallTurn()
    {
        var server = FakeChatServer.Sse(Fixtures.Read("06-deepseek-thinking-tools.sse")).ThenJson(Fixtures.Read("completion-plain.json"));
        var gateway = new ChatGateway(server, o => o.ChatSendReasoningContent = true);
        var first = await gateway.StreamAsync("""{"model":"deepseek-reasoner","input":"Weather in Paris?","stream":true,"tools":[{"type":"function","name":"get_weather"}]}""");
        var firstId = (string)first[^1]["response"]!["id"]!;

        await gateway.CreateAsync($$"""
            {"model":"deepseek-reasoner","previous_response_id":"{{firstId}}","tools":[{"type":"function","name":"get_weather"}],
             "input":[{"type":"function_call_output","call_id":"call_ds1","output":"21C, sunny"}]}
            """);
        AssertJson("""
            [{"role":"user","content":"Weather in Paris?"},
             {"role":"assistant","content":null,"reasoning_content":"I need the weather for Paris.","tool_calls":[
               {"id":"call_ds1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},
             {"role":"tool","tool_call_id":"call_ds1","content":"21C, sunny"}]
            """, gateway.SentBody["messages"]);
    }

    [Fact]
    public async Task DeepSeekThinking_Stateless_RoundTripsThroughOurEncryptedContent()
    {
        // Codex-style: store:false, include encrypted_content, and the history replayed without content or ids.
        var server = FakeChatServer.Sse(Fixtures.Read("06-deepseek-thinking-tools.sse")).ThenJson(Fixtures.Read("completion-plain.json"));
        var gateway = new ChatGateway(server, o => o.ChatSendReasoningContent = true);
        var first = await gateway.StreamAsync("""{"model":"m","input":"Weather in Paris?","stream":true,"store":false,"include":["reasoning.encrypted_content"]}""");
        SchemaValidator.ValidateEvents(first);
        var output = first[^1]["response"]!["output"]!.AsArray();
        var reasoning = output[0]!.AsObject();
        Assert.StartsWith("rgw-chat-v1:", (string?)reasoning["encrypted_content"]);
        var added = first.First(e => (string?)e["type"] == "response.output_item.added")["item"]!;
        Assert.Null(added["encrypted_content"]); // only the done item carries it

        var replay = new JsonArray(
            new JsonObject { ["role"] = "user", ["content"] = "Weather in Paris?" },
            new JsonObject { ["type"] = "reasoning", ["summary"] = new JsonArray(), ["encrypted_content"] = reasoning["encrypted_content"]!.DeepClone() },
            new JsonObject { ["type"] = "function_call", ["call_id"] = "call_ds1", ["name"] = "get_weather", ["arguments"] = """{"city":"Paris"}""" },
            new JsonObject { ["type"] = "function_call_output", ["call_id"] = "call_ds1", ["output"] = "21C" });
        await gateway.CreateAsync(new JsonObject { ["model"] = "m", ["store"] = false, ["input"] = replay }.ToJsonString());
        Assert.Equal("I need the weather for Paris.", (string?)gateway.SentBody["messages"]![1]!["reasoning_content"]);
    }
}
