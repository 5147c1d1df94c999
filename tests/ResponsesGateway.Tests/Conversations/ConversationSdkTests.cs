using System.ClientModel;
using System.ClientModel.Primitives;
using System.Text.Json.Nodes;
using OpenAI.Conversations;
using OpenAI.Responses;
using ResponsesGateway.Tests.Infrastructure;

#pragma warning disable OPENAI001 // the SDK's Conversations client and conversation options are marked experimental

namespace ResponsesGateway.Tests.Conversations;

/// <summary>The official OpenAI .NET SDK's <see cref="ConversationClient"/> and <see cref="ResponsesClient"/> drive a conversation end to end.</summary>
[Collection(GatewayCollection.Name)]
public sealed class ConversationSdkTests(GatewayFixture fixture)
{
    [Theory]
    [InlineData("responses")]
    [InlineData("chat")]
    public async Task Sdk_ConversationLifecycle_OverBothUpstreamKinds(string kind)
    {
        await using var chat = kind == "chat" ? await fixture.StartGatewayAsync(kind: "chat") : null;
        var gateway = chat ?? fixture.Gateway;
        var endpoint = new Uri(gateway.BaseUrl, "/v1");
        var conversations = new ConversationClient(new ApiKeyCredential(GatewayHost.KeyA), new ConversationClientOptions { Endpoint = endpoint });
        var responses = new ResponsesClient(new ApiKeyCredential(GatewayHost.KeyA), new ResponsesClientOptions { Endpoint = endpoint });

        var created = Parse(await conversations.CreateConversationAsync(BinaryContent.Create(BinaryData.FromString(
            """{"metadata":{"topic":"test"},"items":[{"type":"message","role":"system","content":[{"type":"input_text","text":"You are a helpful assistant."}]}]}"""))));
        var id = (string)created["id"]!;
        Assert.Equal("conversation", (string?)created["object"]);

        // Three turns through the typed Responses client, the conversation named by the options.
        var replies = new List<string>();
        foreach (var question in new[] { "Tell me a joke.", "Another one.", "Thanks." })
        {
            var options = new CreateResponseOptions("mock-model", [ResponseItem.CreateUserMessageItem(question)])
            {
                ConversationOptions = new ResponseConversationOptions(id),
            };
            ResponseResult response = await responses.CreateResponseAsync(options);
            Assert.Equal(ResponseStatus.Completed, response.Status);
            Assert.Equal(id, response.ConversationOptions?.ConversationId);
            replies.Add(response.GetOutputText());
        }
        Assert.Equal(["Mock reply to: Tell me a joke.", "Mock reply to: Another one.", "Mock reply to: Thanks."], replies);

        // The SDK's pager walks every item, newest first, two at a time.
        var items = new List<JsonObject>();
        await foreach (var page in conversations.GetConversationItemsAsync(id, limit: 2, order: null, after: null, include: null, options: null).GetRawPagesAsync())
        {
            var body = JsonNode.Parse(page.GetRawResponse().Content.ToString())!.AsObject();
            Assert.InRange(body["data"]!.AsArray().Count, 1, 2);
            items.AddRange(body["data"]!.AsArray().Select(i => i!.AsObject()));
        }
        Assert.Equal(7, items.Count);
        Assert.Equal("You are a helpful assistant.", (string?)items[^1]["content"]![0]!["text"]);
        Assert.Equal("Mock reply to: Thanks.", (string?)items[0]["content"]![0]!["text"]);

        var added = Parse(await conversations.CreateConversationItemsAsync(id, BinaryContent.Create(BinaryData.FromString(
            """{"items":[{"type":"message","role":"user","content":[{"type":"input_text","text":"added"}]}]}""")), include: null, options: null));
        var addedId = (string)added["data"]![0]!["id"]!;
        var item = Parse(await conversations.GetConversationItemAsync(id, addedId, include: null, options: null));
        Assert.Equal("added", (string?)item["content"]![0]!["text"]);
        var afterDelete = Parse(await conversations.DeleteConversationItemAsync(id, addedId, options: null));
        Assert.Equal(id, (string?)afterDelete["id"]);

        var updated = Parse(await conversations.UpdateConversationAsync(id, BinaryContent.Create(BinaryData.FromString("""{"metadata":{"topic":"done"}}""")), options: null));
        Assert.Equal("done", (string?)updated["metadata"]!["topic"]);
        var fetched = Parse(await conversations.GetConversationAsync(id, options: null));
        Assert.Equal("done", (string?)fetched["metadata"]!["topic"]);

        var deleted = Parse(await conversations.DeleteConversationAsync(id, options: null));
        Assert.True((bool)deleted["deleted"]!);
        var missing = await Assert.ThrowsAsync<ClientResultException>(() => conversations.GetConversationAsync(id, options: null));
        Assert.Equal(404, missing.Status);
    }

    private static JsonObject Parse(ClientResult result)
    {
        Assert.Equal(200, result.GetRawResponse().Status);
        return JsonNode.Parse(result.GetRawResponse().Content.ToString())!.AsObject();
    }
}
