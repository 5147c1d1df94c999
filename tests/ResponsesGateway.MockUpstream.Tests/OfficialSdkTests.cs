using System.ClientModel;
using OpenAI;
using OpenAI.Chat;
using OpenAI.Responses;

namespace ResponsesGateway.MockUpstream.Tests;

/// <summary>The official OpenAI .NET SDK must be able to consume everything the mock emits.</summary>
public sealed class OfficialSdkTests(ServerFixture fx) : IClassFixture<ServerFixture>
{
    private ResponsesClient Responses() =>
        new(new ApiKeyCredential("sk-mock"), new ResponsesClientOptions { Endpoint = fx.Server.BaseUrl });

    private ChatClient Chat(string model) =>
        new(model, new ApiKeyCredential("sk-mock"), new OpenAIClientOptions { Endpoint = fx.Server.BaseUrl });

    [Fact]
    public async Task Responses_json_is_readable_by_the_sdk()
    {
        var options = new CreateResponseOptions("gpt-test", [ResponseItem.CreateUserMessageItem("Hello SDK")])
        {
            Instructions = "Be brief.",
            Temperature = 0.25f,
        };
        ResponseResult result = await Responses().CreateResponseAsync(options);
        Assert.Equal("Mock reply to: Hello SDK", result.GetOutputText());
        Assert.Equal(ResponseStatus.Completed, result.Status);
        Assert.Equal(0.25f, result.Temperature);
        Assert.True(result.Usage.TotalTokenCount > 0);
    }

    [Fact]
    public async Task Responses_stream_is_readable_by_the_sdk()
    {
        var options = new CreateResponseOptions("mock-reasoning", [ResponseItem.CreateUserMessageItem("Hello SDK")]) { StreamingEnabled = true };
        var text = "";
        ResponseResult? final = null;
        await foreach (var update in await Responses().CreateResponseStreamingAsync(options))
        {
            switch (update)
            {
                case StreamingResponseOutputTextDeltaUpdate delta:
                    text += delta.Delta;
                    break;
                case StreamingResponseCompletedUpdate completed:
                    final = completed.Response;
                    break;
            }
        }

        Assert.Equal("Mock reply to: Hello SDK", text);
        Assert.NotNull(final);
        Assert.Equal(text, final.GetOutputText());
        var reasoning = Assert.IsType<ReasoningResponseItem>(final.OutputItems[0]);
        Assert.False(string.IsNullOrEmpty(reasoning.EncryptedContent));
        Assert.True(final.Usage.OutputTokenDetails.ReasoningTokenCount > 0);
    }

    [Fact]
    public async Task Responses_function_call_stream_is_readable_by_the_sdk()
    {
        var options = new CreateResponseOptions("mock-parallel-tools", [ResponseItem.CreateUserMessageItem("weather?")]) { StreamingEnabled = true };
        options.Tools.Add(ResponseTool.CreateFunctionTool("get_city_weather", BinaryData.FromString("""{"type":"object","properties":{"location":{"type":"string"}}}"""), false));
        ResponseResult? final = null;
        await foreach (var update in await Responses().CreateResponseStreamingAsync(options))
        {
            if (update is StreamingResponseCompletedUpdate completed)
            {
                final = completed.Response;
            }
        }

        Assert.NotNull(final);
        var calls = final.OutputItems.OfType<FunctionCallResponseItem>().ToList();
        Assert.Equal(2, calls.Count);
        Assert.All(calls, c => Assert.Equal("get_city_weather", c.FunctionName));
        Assert.Equal("""{"location":"Tokyo"}""", calls[1].FunctionArguments.ToString());
    }

    [Fact]
    public async Task Chat_stream_with_tool_calls_is_readable_by_the_sdk()
    {
        var tool = ChatTool.CreateFunctionTool("get_weather", "weather", BinaryData.FromString("""{"type":"object","properties":{"location":{"type":"string"}}}"""));
        var options = new ChatCompletionOptions { Tools = { tool } };
        var args = new Dictionary<int, string>();
        ChatFinishReason? finish = null;
        ChatTokenUsage? usage = null;
        await foreach (var update in Chat("mock-parallel-tools").CompleteChatStreamingAsync([new UserChatMessage("weather?")], options))
        {
            foreach (var call in update.ToolCallUpdates)
            {
                args[call.Index] = args.GetValueOrDefault(call.Index, "") + call.FunctionArgumentsUpdate?.ToString();
            }

            finish ??= update.FinishReason;
            usage ??= update.Usage;
        }

        Assert.Equal(ChatFinishReason.ToolCalls, finish);
        Assert.Equal("""{"location":"Paris"}""", args[0]);
        Assert.Equal("""{"location":"Tokyo"}""", args[1]);
        Assert.NotNull(usage);
    }

    [Fact]
    public async Task Chat_json_is_readable_by_the_sdk()
    {
        ChatCompletion completion = await Chat("gpt-test").CompleteChatAsync([new UserChatMessage("Hello SDK")]);
        Assert.Equal("Mock reply to: Hello SDK", completion.Content[0].Text);
        Assert.Equal(ChatFinishReason.Stop, completion.FinishReason);
        Assert.True(completion.Usage.TotalTokenCount > 0);
    }
}
