using System.Text.Json.Nodes;
using ResponsesGateway.Tests.Infrastructure;
using static ResponsesGateway.Tests.Conversations.ConversationHttp;
using static ResponsesGateway.Tests.Infrastructure.GatewayHttp;

namespace ResponsesGateway.Tests.Conversations;

/// <summary><c>item_reference</c> input items are replaced by the stored items they name before the upstream call.</summary>
[Collection(GatewayCollection.Name)]
public sealed class ItemReferenceTests(GatewayFixture fixture)
{
    private readonly HttpClient _client = fixture.Gateway.CreateClient();

    [Fact]
    public async Task WithinAChain_InputAndOutputItemsOfStoredResponsesResolve()
    {
        var first = await TurnAsync(_client, """{"model":"mock-tools","input":"weather?","tools":[{"type":"function","name":"get_weather"}]}""");
        var call = first["output"]!.AsArray().Single(i => (string?)i!["type"] == "function_call")!;
        var (_, inputItems) = await ConversationHttp.SendAsync(_client, HttpMethod.Get, $"/v1/responses/{first["id"]}/input_items");
        var question = (string)inputItems["data"]![0]!["id"]!;
        var marker = Guid.NewGuid().ToString("N");

        var second = await TurnAsync(_client, $$"""
            {"model":"mock-model","previous_response_id":"{{first["id"]}}","input":[
              {"type":"item_reference","id":"{{question}}"},
              {"type":"item_reference","id":"{{call["id"]}}"},
              {"type":"function_call_output","call_id":"{{call["call_id"]}}","output":"sunny {{marker}}"}]}
            """);

        var sent = JsonNode.Parse(fixture.Mock.Requests.Last(r => r.Body.Contains(marker, StringComparison.Ordinal)).Body)!["input"]!.AsArray();
        // The chain (2 items), then the two resolved references (without ids), then the tool output.
        Assert.Equal(["user:weather?", "function_call", "user:weather?", "function_call", "function_call_output"], sent.Select(Describe).ToArray());
        Assert.DoesNotContain(sent, item => (string?)item!["type"] == "item_reference");
        Assert.Equal((string?)call["call_id"], (string?)sent[3]!["call_id"]);
        Assert.Equal((string?)call["arguments"], (string?)sent[3]!["arguments"]);
        Assert.Null(sent[3]!["id"]);

        // What is stored is the resolved item, under a new id.
        var (_, listed) = await ConversationHttp.SendAsync(_client, HttpMethod.Get, $"/v1/responses/{second["id"]}/input_items?order=asc&limit=100");
        var own = listed["data"]!.AsArray().TakeLast(3).ToArray();
        Assert.Equal(["user:weather?", "function_call", "function_call_output"], own.Select(Describe).ToArray());
        Assert.NotEqual((string?)call["id"], (string?)own[1]!["id"]);
    }

    [Fact]
    public async Task WithinAConversation_ItsItemsResolve_AlsoFromOtherTurns()
    {
        var conversation = await CreateAsync(_client, """{"items":[{"role":"user","content":"remember 7"}]}""");
        var remembered = (string)(await ItemsAsync(_client, conversation))[0]!["id"]!;
        var marker = Guid.NewGuid().ToString("N");

        await TurnAsync(_client, $$"""{"model":"mock-model","conversation":"{{conversation}}","input":[{"type":"item_reference","id":"{{remembered}}"},{"role":"user","content":"in {{marker}}"}]}""");
        var inside = JsonNode.Parse(fixture.Mock.Requests.Last(r => r.Body.Contains("in " + marker, StringComparison.Ordinal)).Body)!["input"]!.AsArray();
        Assert.Equal(["user:remember 7", "user:remember 7", $"user:in {marker}"], inside.Select(Describe).ToArray());

        // From a turn outside the conversation, through the item index.
        await TurnAsync(_client, $$"""{"model":"mock-model","input":[{"type":"item_reference","id":"{{remembered}}"},{"role":"user","content":"out {{marker}}"}]}""");
        var outside = JsonNode.Parse(fixture.Mock.Requests.Last(r => r.Body.Contains("out " + marker, StringComparison.Ordinal)).Body)!["input"]!.AsArray();
        Assert.Equal(["user:remember 7", $"user:out {marker}"], outside.Select(Describe).ToArray());

        // Into another conversation, with the Conversations API.
        var other = await CreateAsync(_client, $$"""{"items":[{"type":"item_reference","id":"{{remembered}}"}]}""");
        Assert.Equal(["user:remember 7"], (await ItemsAsync(_client, other)).Select(Describe).ToArray());

        // Once the item is deleted, it is unknown.
        var (deleted, _) = await ConversationHttp.SendAsync(_client, HttpMethod.Delete, $"/v1/conversations/{conversation}/items/{remembered}");
        Assert.Equal(200, deleted);
        var (status, body) = await PostAsync(_client, "/v1/responses", $$"""{"model":"mock-model","input":[{"role":"user","content":"x"},{"type":"item_reference","id":"{{remembered}}"}]}""");
        Assert.Equal(400, status);
        AssertError(body, "input[1].id", "item_not_found");
    }

    [Fact]
    public async Task UnknownForeignAndDeletedIds_Are400NamingTheItem_AndNothingIsSent()
    {
        var mine = await TurnAsync(_client, """{"model":"mock-model","input":"private"}""");
        var myItem = (string)mine["output"]![0]!["id"]!;
        using var other = fixture.Gateway.CreateClient(GatewayHost.KeyB);
        var calls = fixture.Mock.Requests.Count;

        foreach (var (client, id) in new[] { (other, myItem), (_client, "msg_unknown"), (_client, "msg_" + new string('f', 300)), (_client, "a/b#c?d") })
        {
            var (status, body) = await PostAsync(client, "/v1/responses", $$"""{"model":"mock-model","input":[{"role":"user","content":"x"},{"type":"item_reference","id":{{JsonValue.Create(id).ToJsonString()}}}]}""");
            Assert.True(status == 400, $"{id}: {status} {body.ToJsonString()}");
            AssertError(body, "input[1].id", "item_not_found");
            Assert.DoesNotContain("private", body.ToJsonString(), StringComparison.Ordinal);
        }
        Assert.Equal(calls, fixture.Mock.Requests.Count);

        var (deleted, _) = await ConversationHttp.SendAsync(_client, HttpMethod.Delete, $"/v1/responses/{mine["id"]}");
        Assert.Equal(200, deleted);
        var (afterDelete, afterBody) = await PostAsync(_client, "/v1/responses", $$"""{"model":"mock-model","input":[{"type":"item_reference","id":"{{myItem}}"}]}""");
        Assert.Equal(400, afterDelete);
        AssertError(afterBody, "input[0].id", "item_not_found");
    }
}
