using System.Text.Json.Nodes;
using ResponsesGateway.Tests.Infrastructure;

namespace ResponsesGateway.Tests.Conversations;

/// <summary>
/// A conversation through the official OpenAI JS SDK (<c>client.conversations</c>, its items pager and
/// <c>responses.create</c> with <c>conversation</c>) via <c>tools/js/conversations-check.mjs</c>, over both upstream kinds.
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class JsSdkConversationTests(GatewayFixture fixture)
{
    [Theory]
    [InlineData("responses")]
    [InlineData("chat")]
    public async Task JsSdk_DrivesAConversationEndToEnd(string kind)
    {
        await using var chat = kind == "chat" ? await fixture.StartGatewayAsync(kind: "chat") : null;
        var marker = Guid.NewGuid().ToString("N")[..12];

        var result = await RunAsync(chat ?? fixture.Gateway, marker);

        Assert.True((bool)result["ok"]!, result.ToJsonString());
        var id = (string)result["created"]!["id"]!;
        Assert.Equal(marker, (string?)result["created"]!["metadata"]!["topic"]);
        var turns = result["turns"]!.AsArray();
        Assert.Equal(2, turns.Count);
        Assert.All(turns, t =>
        {
            Assert.Equal("completed", (string?)t!["status"]);
            Assert.Equal(id, (string?)t["conversation"]!["id"]);
        });
        Assert.Equal($"Mock reply to: first {marker}", (string?)turns[0]!["text"]);
        Assert.Equal($"Mock reply to: second {marker}", (string?)turns[1]!["text"]);

        var items = result["items"]!.AsArray();
        Assert.Equal(["system:Be brief.", $"user:first {marker}", $"assistant:Mock reply to: first {marker}", $"user:second {marker}", $"assistant:Mock reply to: second {marker}"],
            items.Select(ConversationHttp.Describe).ToArray());
        Assert.Equal(3, (int)result["pages"]!);
        Assert.Equal("user:added", ConversationHttp.Describe(result["item"]));
        Assert.Equal(id, (string?)result["afterDelete"]!["id"]);
        Assert.Equal("updated", (string?)result["updated"]!["metadata"]!["topic"]);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse($$"""{"id":"{{id}}","object":"conversation.deleted","deleted":true}"""), result["deleted"]));
        Assert.Equal(404, (int)result["missing"]!["status"]!);
    }

    private static Task<JsonObject> RunAsync(GatewayHost gateway, string marker) =>
        NodeScript.RunAsync("conversations-check.mjs", TimeSpan.FromSeconds(60), new Uri(gateway.BaseUrl, "/v1").ToString(), GatewayHost.KeyA, marker);
}
