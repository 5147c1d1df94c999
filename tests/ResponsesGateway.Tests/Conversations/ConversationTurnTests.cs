using System.Text.Json.Nodes;
using ResponsesGateway.TestSupport;
using ResponsesGateway.Tests.Infrastructure;
using static ResponsesGateway.Tests.Conversations.ConversationHttp;
using static ResponsesGateway.Tests.Infrastructure.GatewayHttp;

namespace ResponsesGateway.Tests.Conversations;

/// <summary><c>conversation</c> on <c>POST /v1/responses</c>, over a native and a chat upstream, JSON and SSE.</summary>
[Collection(GatewayCollection.Name)]
public sealed class ConversationTurnTests(GatewayFixture fixture)
{
    [Theory]
    [InlineData("responses", false)]
    [InlineData("responses", true)]
    [InlineData("chat", false)]
    [InlineData("chat", true)]
    public async Task MultiTurn_PrependsTheConversationAndAppendsEachTurn(string kind, bool stream)
    {
        await using var chat = kind == "chat" ? await fixture.StartGatewayAsync(kind: "chat") : null;
        using var client = (chat ?? fixture.Gateway).CreateClient();
        var conversation = await CreateAsync(client, """{"items":[{"type":"message","role":"system","content":[{"type":"input_text","text":"Be brief."}]}]}""");
        var marker = Guid.NewGuid().ToString("N")[..8];

        var first = await TurnAsync(client, $$"""{"model":"mock-model","input":"one {{marker}}","conversation":"{{conversation}}"}""", stream);
        var second = await TurnAsync(client, $$$"""{"model":"mock-model","input":[{"role":"user","content":"two {{{marker}}}"}],"conversation":{"id":"{{{conversation}}}"}}""", stream);

        foreach (var response in new[] { first, second })
        {
            Assert.Equal("completed", (string?)response["status"]);
            Assert.True(JsonNode.DeepEquals(new JsonObject { ["id"] = conversation }, response["conversation"]), response.ToJsonString());
            Assert.Null((string?)response["previous_response_id"]);
            OpenResponsesValidator.ValidateResponse(response);
        }
        // What the upstream saw for the second turn: the whole conversation, then the new input; no ids, no 'conversation'.
        var sent = JsonNode.Parse(fixture.Mock.Requests.Last(r => r.Body.Contains("two " + marker, StringComparison.Ordinal)).Body)!.AsObject();
        Assert.False(sent.ContainsKey("conversation"));
        if (kind == "chat")
        {
            Assert.Equal(["system:Be brief.", $"user:one {marker}", $"assistant:Mock reply to: one {marker}", $"user:two {marker}"],
                sent["messages"]!.AsArray().Select(m => $"{m!["role"]}:{(m["content"] is JsonArray parts ? (string?)parts[0]!["text"] : (string?)m["content"])}").ToArray());
        }
        else
        {
            var input = sent["input"]!.AsArray();
            Assert.Equal(["system:Be brief.", $"user:one {marker}", $"assistant:Mock reply to: one {marker}", $"user:two {marker}"], input.Select(Describe).ToArray());
            Assert.All(input, item => Assert.Null(item!["id"]));
            Assert.False((bool)sent["store"]!);
        }

        var items = await ItemsAsync(client, conversation);
        Assert.Equal(["system:Be brief.", $"user:one {marker}", $"assistant:Mock reply to: one {marker}", $"user:two {marker}", $"assistant:Mock reply to: two {marker}"],
            items.Select(Describe).ToArray());
        // The output items keep the ids the client saw in the response.
        Assert.Equal((string?)second["output"]![0]!["id"], (string?)items[^1]!["id"]);
        Assert.All(items, item => Assert.False(string.IsNullOrEmpty((string?)item!["id"])));

        // The turn is a stored response too, echoing its conversation.
        var (status, stored) = await ConversationHttp.SendAsync(client, HttpMethod.Get, $"/v1/responses/{second["id"]}");
        Assert.Equal(200, status);
        Assert.Equal(conversation, (string?)stored["conversation"]!["id"]);
    }

    [Fact]
    public async Task StoreFalse_StillAppendsToTheConversation_ButStoresNoResponse()
    {
        using var client = fixture.Gateway.CreateClient();
        var conversation = await CreateAsync(client);

        var response = await TurnAsync(client, $$"""{"model":"mock-model","input":"ephemeral","conversation":"{{conversation}}","store":false}""", stream: false);

        Assert.Equal(["user:ephemeral", "assistant:Mock reply to: ephemeral"], (await ItemsAsync(client, conversation)).Select(Describe).ToArray());
        var (status, _) = await ConversationHttp.SendAsync(client, HttpMethod.Get, $"/v1/responses/{response["id"]}");
        Assert.Equal(404, status);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task FailedTurns_AppendNothing(bool stream)
    {
        using var client = fixture.Gateway.CreateClient();
        var conversation = await CreateAsync(client, """{"items":[{"role":"user","content":"before"}]}""");

        var (status, body) = await PostAsync(client, "/v1/responses", $$"""{"model":"mock-error-503","input":"fails","conversation":"{{conversation}}","stream":{{(stream ? "true" : "false")}}}""");
        Assert.Equal(502, status);
        AssertError(body, null, "upstream_error", "server_error");
        var broken = await StreamAsync(client, $$"""{"model":"mock-disconnect-5","input":"cut","conversation":"{{conversation}}","stream":true}""");
        Assert.Equal("response.failed", broken.Types[^1]);

        Assert.Equal(["user:before"], (await ItemsAsync(client, conversation)).Select(Describe).ToArray());
    }

    [Fact]
    public async Task BadConversationValues_AreRejectedBeforeTheUpstream()
    {
        using var client = fixture.Gateway.CreateClient();
        var conversation = await CreateAsync(client);
        var calls = fixture.Mock.Requests.Count;

        foreach (var (value, status, param, code) in new (string, int, string, string)[]
        {
            ("42", 400, "conversation", "invalid_type"),
            ("[]", 400, "conversation", "invalid_type"),
            ("{}", 400, "conversation.id", "missing_required_parameter"),
            ("""{"id":5}""", 400, "conversation.id", "invalid_type"),
            ("\"conv_1\"", 404, "conversation", "conversation_not_found"),
            ("\"\"", 404, "conversation", "conversation_not_found"),
            ("\"conv_" + new string('0', 48) + "\"", 404, "conversation", "conversation_not_found"),
            ($$"""{"id":"{{conversation}}x"}""", 404, "conversation", "conversation_not_found"),
        })
        {
            var (actual, body) = await PostAsync(client, "/v1/responses", $$"""{"model":"mock-model","input":"hi","conversation":{{value}}}""");
            Assert.True(actual == status, $"{value}: {actual} {body.ToJsonString()}");
            AssertError(body, param, code);
        }
        var (both, bothBody) = await PostAsync(client, "/v1/responses", $$"""{"model":"mock-model","input":"hi","conversation":"{{conversation}}","previous_response_id":"resp_x"}""");
        Assert.Equal(400, both);
        AssertError(bothBody, "conversation", "mutually_exclusive_parameters");

        Assert.Equal(calls, fixture.Mock.Requests.Count);
        Assert.Empty(await ItemsAsync(client, conversation));
    }

    [Fact]
    public async Task RacingTurns_AllAppend_EachTurnContiguous()
    {
        using var client = fixture.Gateway.CreateClient();
        var conversation = await CreateAsync(client);
        const int turns = 8;

        var responses = await Task.WhenAll(Enumerable.Range(0, turns).Select(i =>
            TurnAsync(client, $$"""{"model":"mock-model","input":"racer {{i}}","conversation":"{{conversation}}"}""", stream: i % 2 == 0)));

        Assert.All(responses, r => Assert.Equal("completed", (string?)r["status"]));
        var items = (await ItemsAsync(client, conversation)).Select(Describe).ToList();
        Assert.Equal(2 * turns, items.Count);
        for (var at = 0; at < items.Count; at += 2)
        {
            // Each turn's input item is followed by that turn's own output item: appends never interleave.
            Assert.StartsWith("user:racer ", items[at], StringComparison.Ordinal);
            Assert.Equal("assistant:Mock reply to: " + items[at]["user:".Length..], items[at + 1]);
        }
        Assert.Equal(Enumerable.Range(0, turns).Select(i => $"user:racer {i}").Order(), items.Where(i => i.StartsWith("user:", StringComparison.Ordinal)).Order());
    }

    [Fact]
    public async Task DeletedConversation_IsErased_AndTurnsOnItAre404()
    {
        using var client = fixture.Gateway.CreateClient();
        var conversation = await CreateAsync(client, """{"metadata":{"a":"b"},"items":[{"role":"user","content":"to erase"}]}""");
        await TurnAsync(client, $$"""{"model":"mock-model","input":"more","conversation":"{{conversation}}"}""", stream: false);
        Assert.NotEmpty(await ConversationTables.PartitionAsync(fixture.Gateway, conversation));

        var (status, _) = await ConversationHttp.SendAsync(client, HttpMethod.Delete, $"/v1/conversations/{conversation}");
        Assert.Equal(200, status);

        Assert.Empty(await ConversationTables.PartitionAsync(fixture.Gateway, conversation));
        var (turn, body) = await PostAsync(client, "/v1/responses", $$"""{"model":"mock-model","input":"again","conversation":"{{conversation}}"}""");
        Assert.Equal(404, turn);
        AssertError(body, "conversation", "conversation_not_found");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ConversationDeletedWhileATurnRuns_TheTurnIsNotStored_AndSaysWhy(bool stream)
    {
        using var client = fixture.Gateway.CreateClient();
        var conversation = await CreateAsync(client, """{"items":[{"role":"user","content":"soon gone"}]}""");
        var marker = Guid.NewGuid().ToString("N");

        // mock-slow-1500 waits before answering: the conversation is deleted while the upstream works.
        var turn = Task.Run(async () =>
        {
            using var response = await client.PostAsync("/v1/responses",
                Json($$"""{"model":"mock-slow-1500","input":"late {{marker}}","conversation":"{{conversation}}","stream":{{(stream ? "true" : "false")}}}"""));
            return ((int)response.StatusCode, await response.Content.ReadAsStringAsync());
        });
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (!fixture.Mock.Requests.Any(r => r.Body.Contains(marker, StringComparison.Ordinal)))
        {
            Assert.True(waited.Elapsed < TimeSpan.FromSeconds(10), "the upstream was never called");
            await Task.Delay(10);
        }
        var (deleted, _) = await ConversationHttp.SendAsync(client, HttpMethod.Delete, $"/v1/conversations/{conversation}");
        Assert.Equal(200, deleted);

        var (status, text) = await turn;
        if (stream)
        {
            Assert.Equal(200, status);
            var sse = new SseStream(text);
            Assert.Equal("response.failed", sse.Types[^1]);
            Assert.Equal("conversation_not_found", (string?)sse.Terminal["error"]!["code"]);
            var (get, _) = await ConversationHttp.SendAsync(client, HttpMethod.Get, $"/v1/responses/{sse.Terminal["id"]}");
            Assert.Equal(404, get); // reported failed, and indeed not stored
        }
        else
        {
            Assert.True(status == 404, text);
            AssertError(JsonNode.Parse(text)!.AsObject(), "conversation", "conversation_not_found");
        }
        Assert.Empty(await ConversationTables.PartitionAsync(fixture.Gateway, conversation));
    }

    [Fact]
    public async Task ConversationOverMaxChainBytes_IsRefusedBeforeTheUpstream()
    {
        await using var gateway = await fixture.StartGatewayAsync(new Dictionary<string, string?> { ["Gateway:MaxChainBytes"] = "4096" });
        using var client = gateway.CreateClient();
        var big = new string('x', 3000);
        var conversation = await CreateAsync(client, $$"""{"items":[{"role":"user","content":"{{big}}"},{"role":"user","content":"{{big}}"}]}""");
        var calls = fixture.Mock.Requests.Count;

        var (status, body) = await PostAsync(client, "/v1/responses", $$"""{"model":"mock-model","input":"hi","conversation":"{{conversation}}"}""");
        Assert.Equal(400, status);
        AssertError(body, "conversation", "context_length_exceeded");
        var (list, listBody) = await ConversationHttp.SendAsync(client, HttpMethod.Get, $"/v1/conversations/{conversation}/items");
        Assert.Equal(400, list);
        AssertError(listBody, "conversation", "context_length_exceeded");
        Assert.Equal(calls, fixture.Mock.Requests.Count);
    }

    private static async Task<JsonObject> TurnAsync(HttpClient client, string json, bool stream)
    {
        if (!stream)
        {
            return await ConversationHttp.TurnAsync(client, json);
        }
        var sse = await StreamAsync(client, json[..^1] + ",\"stream\":true}");
        Assert.Equal("response.completed", sse.Types[^1]);
        Assert.Equal(sse.Terminal["id"]?.ToString(), sse.Events[0].Json["response"]!["id"]?.ToString());
        return sse.Terminal;
    }
}
