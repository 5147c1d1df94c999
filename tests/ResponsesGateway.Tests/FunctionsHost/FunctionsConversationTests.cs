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

    [Fact]
    public async Task RetentionTimer_RemovesAnIdleConversation_AndKeepsAnActiveOne()
    {
        using var client = app.CreateClient();
        var recent = await CreateAsync(client, """{"items":[{"role":"user","content":"recent"}]}""");

        // A conversation idle for 40 days (retention: 30), written into the worker's table by the store itself.
        var store = new ResponsesGateway.Storage.Conversations.TableConversationStore(
            new Azure.Data.Tables.TableClient(app.Azurite.ConnectionString, app.TableName),
            Microsoft.Extensions.Logging.Abstractions.NullLogger<ResponsesGateway.Storage.Conversations.TableConversationStore>.Instance);
        var old = Core.Conversations.ConversationIds.New();
        await store.CreateAsync(new Core.Conversations.StoredConversation
        {
            Id = old,
            Owner = "tenant-a",
            CreatedAt = DateTimeOffset.UtcNow.AddDays(-40).ToUnixTimeSeconds(),
            Metadata = [],
        }, [new JsonObject { ["type"] = "message", ["id"] = "msg_old" + Guid.NewGuid().ToString("N"), ["role"] = "user", ["content"] = "old" }], CancellationToken.None);
        var (before, _) = await SendAsync(client, HttpMethod.Get, $"/v1/conversations/{old}/items");
        Assert.Equal(200, before);

        var result = await app.Host.InvokeTimerAsync("RetentionSweep");
        Assert.True(result.Result.Status == Rpc.StatusResult.Types.Status.Success, $"{result.Result.Exception?.Message}\n{app.Host.Diagnostics}");

        var (after, body) = await SendAsync(client, HttpMethod.Get, $"/v1/conversations/{old}");
        Assert.Equal(404, after);
        AssertError(body, null, null);
        Assert.Equal(["user:recent"], (await ItemsAsync(client, recent)).Select(Describe).ToArray());
    }
}
