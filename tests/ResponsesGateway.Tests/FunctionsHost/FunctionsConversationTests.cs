using System.Text.Json.Nodes;
using ResponsesGateway.Tests.Conversations;
using static ResponsesGateway.Tests.Conversations.ConversationHttp;
using static ResponsesGateway.Tests.Infrastructure.GatewayHttp;

namespace ResponsesGateway.Tests.FunctionsHost;

/// <summary>The Conversations API through the real Functions worker under the stand-in host: every conversation route.</summary>
[Collection(FunctionsAppCollection.Name)]
public sealed class FunctionsConversationTests(FunctionsAppFixture app)
{
    [Fact]
    public async Task Conversation_RoundTripsThroughEveryFunction()
    {
        using var client = app.CreateClient();
        var (status, created) = await PostAsync(client, "/v1/conversations", """{"metadata":{"host":"functions"},"items":[{"role":"system","content":"Be brief."}]}""");
        Assert.True(status == 200, $"{status} {created.ToJsonString()}\n{app.Host.Diagnostics}");
        var id = (string)created["id"]!;

        var turn = await TurnAsync(client, $$"""{"model":"mock-model","input":"through functions","conversation":"{{id}}"}""");
        Assert.Equal(id, (string?)turn["conversation"]!["id"]);
        var sse = await StreamAsync(client, $$"""{"model":"mock-model","input":"streamed","conversation":{"id":"{{id}}"},"stream":true}""");
        Assert.Equal("response.completed", sse.Types[^1]);

        var items = await ItemsAsync(client, id);
        Assert.Equal(["system:Be brief.", "user:through functions", "assistant:Mock reply to: through functions", "user:streamed", "assistant:Mock reply to: streamed"],
            items.Select(Describe).ToArray());

        var (addStatus, added) = await SendAsync(client, HttpMethod.Post, $"/v1/conversations/{id}/items", """{"items":[{"role":"user","content":"added"}]}""");
        Assert.Equal(200, addStatus);
        var itemId = (string)added["data"]![0]!["id"]!;
        var (getItem, item) = await SendAsync(client, HttpMethod.Get, $"/v1/conversations/{id}/items/{itemId}");
        Assert.Equal(200, getItem);
        Assert.Equal("user:added", Describe(item));
        var (deleteItem, conversation) = await SendAsync(client, HttpMethod.Delete, $"/v1/conversations/{id}/items/{itemId}");
        Assert.Equal(200, deleteItem);
        Assert.Equal("conversation", (string?)conversation["object"]);

        var (updateStatus, updated) = await SendAsync(client, HttpMethod.Post, $"/v1/conversations/{id}", """{"metadata":{"host":"still functions"}}""");
        Assert.Equal(200, updateStatus);
        var (getStatus, got) = await SendAsync(client, HttpMethod.Get, $"/v1/conversations/{id}");
        Assert.Equal(200, getStatus);
        Assert.True(JsonNode.DeepEquals(updated, got));

        using (var foreign = app.CreateClient(FunctionsAppFixture.KeyB))
        {
            var (foreignStatus, foreignBody) = await SendAsync(foreign, HttpMethod.Get, $"/v1/conversations/{id}/items");
            Assert.Equal(404, foreignStatus);
            AssertError(foreignBody, null, null);
        }
        using (var put = await client.PutAsync($"/v1/conversations/{id}/items", Json("{}")))
        {
            Assert.Equal(405, (int)put.StatusCode);
        }

        var (deleteStatus, deleted) = await SendAsync(client, HttpMethod.Delete, $"/v1/conversations/{id}");
        Assert.Equal(200, deleteStatus);
        Assert.True((bool)deleted["deleted"]!);
        var (gone, _) = await SendAsync(client, HttpMethod.Get, $"/v1/conversations/{id}");
        Assert.Equal(404, gone);
    }
}
