using System.Text.Json.Nodes;
using ResponsesGateway.Tests.Infrastructure;
using static ResponsesGateway.Tests.Background.BackgroundHttp;

namespace ResponsesGateway.Tests.Background;

/// <summary>
/// Where background responses meet conversations and item references: a background turn on a conversation reads the
/// conversation when it runs and appends to it when it ends; the items of a background turn can be referenced like
/// those of any stored turn.
/// </summary>
[Collection(BackgroundCollection.Name)]
public sealed class BackgroundConversationTests(BackgroundFixture fixture)
{
    [Fact]
    public async Task A_background_turn_on_a_conversation_reads_it_and_appends_its_items_when_it_ends()
    {
        using var client = fixture.Gateway.CreateClient();
        var marker = Marker();
        var conversation = await CreateConversationAsync(client, $$"""{"items":[{"type":"message","role":"user","content":"earlier-{{marker}}"}]}""");

        var queued = await CreateAsync(client, "mock-model", marker, $$""","conversation":"{{conversation}}" """);
        Assert.Equal("queued", (string?)queued["status"]);
        Assert.Equal(conversation, (string?)queued["conversation"]?["id"]);
        var done = await PollUntilAsync(client, (string)queued["id"]!, "completed", "failed", "cancelled", "incomplete");
        Assert.Equal("completed", (string?)done["status"]);
        Assert.Equal(conversation, (string?)done["conversation"]?["id"]);

        // The upstream saw the conversation's item before the turn's input, once.
        var call = JsonNode.Parse(fixture.Mock.Requests.Single(r => r.Body.Contains(marker, StringComparison.Ordinal) && r.Body.Contains("earlier-", StringComparison.Ordinal)).Body)!;
        var input = call["input"]!.AsArray().Select(i => i!.ToJsonString()).ToList();
        Assert.Equal(2, input.Count);
        Assert.Contains($"earlier-{marker}", input[0]);
        Assert.Contains(marker, input[1]);
        Assert.DoesNotContain("earlier-", input[1]);

        // The conversation holds the earlier item, then the turn's input and its output, in order.
        var items = await ItemsAsync(client, conversation);
        Assert.Equal(3, items.Count);
        Assert.Contains($"earlier-{marker}", items[0].ToJsonString());
        Assert.Equal("user", (string?)items[1]["role"]);
        Assert.Contains(marker, items[1].ToJsonString());
        Assert.Equal("assistant", (string?)items[2]["role"]);
        Assert.Equal((string?)done["output"]![0]!["id"], (string?)items[2]["id"]);
    }

    [Fact]
    public async Task A_background_turn_on_an_unknown_or_foreign_conversation_is_404_and_queues_nothing()
    {
        using var owner = fixture.Gateway.CreateClient();
        using var stranger = fixture.Gateway.CreateClient(GatewayHost.KeyB);
        var marker = Marker();
        var conversation = await CreateConversationAsync(owner, "{}");

        foreach (var (client, id) in new[] { (stranger, conversation), (owner, "conv_" + new string('0', 48)) })
        {
            var (status, body) = await GatewayHttp.PostAsync(client, "/v1/responses",
                $$"""{"model":"mock-model","input":"{{marker}}","background":true,"conversation":"{{id}}"}""");
            Assert.Equal(404, status);
            GatewayHttp.AssertError(body, "conversation", "conversation_not_found");
        }
        await Task.Delay(500);
        Assert.Equal(0, fixture.UpstreamCalls(marker));
        Assert.Empty(await ItemsAsync(owner, conversation));
    }

    [Fact]
    public async Task A_background_turn_cancelled_while_queued_appends_nothing_to_its_conversation()
    {
        var marker = Marker();
        await using var idle = await fixture.StartGatewayAsync(new Dictionary<string, string?> { ["Background:Runner"] = "false", ["Background:QueueName"] = "bgc-" + marker });
        using var client = idle.CreateClient();
        var conversation = await CreateConversationAsync(client, "{}");
        var id = (string)(await CreateAsync(client, "mock-model", marker, $$""","conversation":{"id":"{{conversation}}"}"""))["id"]!;

        var (status, cancelled) = await CancelAsync(client, id);
        Assert.Equal(200, status);
        Assert.Equal("cancelled", (string?)cancelled["status"]);
        Assert.Empty(await ItemsAsync(client, conversation));
        Assert.Equal(0, fixture.UpstreamCalls(marker));
    }

    [Fact]
    public async Task The_items_of_a_finished_background_response_can_be_referenced_by_id()
    {
        using var client = fixture.Gateway.CreateClient();
        using var stranger = fixture.Gateway.CreateClient(GatewayHost.KeyB);
        var marker = Marker();
        var id = (string)(await CreateAsync(client, "mock-model", marker))["id"]!;
        var done = await PollUntilAsync(client, id, "completed");
        var itemId = (string)done["output"]![0]!["id"]!;

        var follow = Marker();
        var (status, body) = await GatewayHttp.PostAsync(client, "/v1/responses",
            $$"""{"model":"mock-model","input":[{"type":"item_reference","id":"{{itemId}}"},{"role":"user","content":"{{follow}}"}]}""");
        Assert.True(status == 200, body.ToJsonString());
        var call = fixture.Mock.Requests.Last(r => r.Body.Contains(follow, StringComparison.Ordinal)).Body;
        Assert.Contains($"Mock reply to: {marker}", call);
        Assert.DoesNotContain("item_reference", call);

        // Another key cannot reach it.
        (status, body) = await GatewayHttp.PostAsync(stranger, "/v1/responses",
            $$"""{"model":"mock-model","input":[{"type":"item_reference","id":"{{itemId}}"}]}""");
        Assert.Equal(400, status);
        GatewayHttp.AssertError(body, "input[0].id", "item_not_found");
    }

    private static async Task<string> CreateConversationAsync(HttpClient client, string body)
    {
        var (status, conversation) = await GatewayHttp.PostAsync(client, "/v1/conversations", body);
        Assert.True(status == 200, conversation.ToJsonString());
        return (string)conversation["id"]!;
    }

    private static async Task<List<JsonObject>> ItemsAsync(HttpClient client, string conversation)
    {
        using var response = await client.GetAsync($"/v1/conversations/{conversation}/items?order=asc&limit=100");
        var body = await GatewayHttp.ReadObjectAsync(response);
        Assert.True(response.IsSuccessStatusCode, body.ToJsonString());
        return body["data"]!.AsArray().Select(i => i!.AsObject()).ToList();
    }
}
