using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging.Abstractions;
using ResponsesGateway.Core.Requests;
using ResponsesGateway.Core.Upstreams;

namespace ResponsesGateway.Upstreams.Chat.Tests.Infrastructure;

/// <summary>Runs <see cref="ChatRequestMapper"/> on a client body validated the way the gateway validates it.</summary>
internal static class Mapping
{
    public static JsonObject Map(string requestJson, ChatCapabilities? capabilities = null, bool stream = false)
    {
        var original = CreateResponseRequestParser.Validate(JsonNode.Parse(requestJson)!.AsObject());
        var body = (JsonObject)original.Body.DeepClone();
        body["store"] = false;
        var request = new UpstreamRequest(body, original, "resp_test", 1_700_000_000);
        return ChatRequestMapper.Map(request, capabilities ?? ChatCapabilities.Default, "deepseek-test", stream, NullLogger.Instance);
    }

    public static JsonArray Messages(string requestJson, ChatCapabilities? capabilities = null) => Map(requestJson, capabilities)["messages"]!.AsArray();

    public static void AssertJson(string expected, JsonNode? actual) =>
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(expected), actual), $"expected {JsonNode.Parse(expected)!.ToJsonString()}\n  actual {actual?.ToJsonString()}");
}
