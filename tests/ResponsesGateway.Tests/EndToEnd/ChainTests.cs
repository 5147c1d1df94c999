using System.Net;
using System.Text.Json.Nodes;
using ResponsesGateway.Tests.Infrastructure;
using static ResponsesGateway.Tests.Infrastructure.GatewayHttp;

namespace ResponsesGateway.Tests.EndToEnd;

/// <summary>previous_response_id over a Responses upstream with the chain stored in Azurite (invariants 2–5 in docs/architecture.md).</summary>
[Collection(GatewayCollection.Name)]
public sealed class ChainTests(GatewayFixture fixture)
{
    private readonly HttpClient _client = fixture.Gateway.CreateClient();

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ThreeTurnChain_UpstreamReceivesExactlyTheExpandedHistory(bool stream)
    {
        var first = await CreateAsync("""{"model":"mock-model","input":"turn one","instructions":"be brief"}""", stream);
        var second = await CreateAsync($$"""{"model":"mock-model","input":"turn two","previous_response_id":"{{first}}"}""", stream);
        var marker = "turn three " + Guid.NewGuid().ToString("N");
        var third = await CreateAsync($$"""{"model":"mock-model","input":"{{marker}}","previous_response_id":"{{second}}","instructions":"new rules"}""", stream);

        var sent = JsonNode.Parse(fixture.Mock.Requests.Last(r => r.Body.Contains(marker, StringComparison.Ordinal)).Body)!.AsObject();
        Assert.False(sent.ContainsKey("previous_response_id"));
        Assert.False((bool)sent["store"]!);
        Assert.Equal("new rules", (string?)sent["instructions"]); // earlier instructions are not carried over
        var input = sent["input"]!.AsArray();
        Assert.Equal(
            ["user:turn one", "assistant:Mock reply to: turn one", "user:turn two", "assistant:Mock reply to: turn two", $"user:{marker}"],
            input.Select(Describe).ToArray());
        Assert.All(input, item => Assert.Null(item!["id"]));

        using var get = await _client.GetAsync($"/v1/responses/{third}");
        var stored = await ReadObjectAsync(get);
        Assert.Equal(second, (string?)stored["previous_response_id"]);
        Assert.Equal("Mock reply to: " + marker, (string?)stored["output"]![0]!["content"]![0]!["text"]);
    }

    [Fact]
    public async Task Fork_EachChildGetsItsOwnHistory()
    {
        var root = await CreateAsync("""{"model":"mock-model","input":"root"}""");
        var left = await CreateAsync($$"""{"model":"mock-model","input":"left","previous_response_id":"{{root}}"}""");
        var right = await CreateAsync($$"""{"model":"mock-model","input":"right","previous_response_id":"{{root}}"}""");
        var marker = Guid.NewGuid().ToString("N");
        await CreateAsync($$"""{"model":"mock-model","input":"{{marker}}","previous_response_id":"{{right}}"}""");

        var input = JsonNode.Parse(fixture.Mock.Requests.Last(r => r.Body.Contains(marker, StringComparison.Ordinal)).Body)!["input"]!.AsArray();
        Assert.Equal(["user:root", "assistant:Mock reply to: root", "user:right", "assistant:Mock reply to: right", $"user:{marker}"], input.Select(Describe).ToArray());
        Assert.NotEqual(left, right);
    }

    [Fact]
    public async Task ChainingRightAfterTheTerminalEvent_NeverMissesTheParent()
    {
        var previous = await CreateAsync("""{"model":"mock-model","input":"start"}""", stream: true);
        for (var i = 0; i < 100; i++)
        {
            previous = await CreateAsync($$"""{"model":"mock-model","input":"again {{i}}","previous_response_id":"{{previous}}","max_output_tokens":16}""", stream: i % 2 == 0);
        }
    }

    [Fact]
    public async Task UnknownForeignDeletedAndUnstoredIds_AreNotFound()
    {
        var mine = await CreateAsync("""{"model":"mock-model","input":"mine"}""");
        var unstored = await CreateAsync("""{"model":"mock-model","input":"not stored","store":false}""");
        using var other = fixture.Gateway.CreateClient(GatewayHost.KeyB);
        var unknown = "resp_" + new string('a', 64);

        foreach (var id in new[] { unknown, unstored, "resp_short", "not-an-id" })
        {
            await AssertNotFoundEverywhereAsync(_client, id);
        }
        await AssertNotFoundEverywhereAsync(other, mine);

        // The owner still sees it; then deletes it; afterwards it is gone for the owner too.
        using (var get = await _client.GetAsync($"/v1/responses/{mine}"))
        {
            Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        }
        using (var delete = await _client.DeleteAsync($"/v1/responses/{mine}"))
        {
            var body = await ReadObjectAsync(delete);
            Assert.Equal(HttpStatusCode.OK, delete.StatusCode);
            Assert.True(JsonNode.DeepEquals(JsonNode.Parse($$"""{"id":"{{mine}}","object":"response.deleted","deleted":true}"""), body));
        }
        await AssertNotFoundEverywhereAsync(_client, mine);
    }

    [Fact]
    public async Task DeletedParent_KeepsItsChildrenChainable()
    {
        var root = await CreateAsync("""{"model":"mock-model","input":"root to delete"}""");
        var child = await CreateAsync($$"""{"model":"mock-model","input":"child","previous_response_id":"{{root}}"}""");
        using (var delete = await _client.DeleteAsync($"/v1/responses/{root}"))
        {
            Assert.Equal(HttpStatusCode.OK, delete.StatusCode);
        }
        var marker = Guid.NewGuid().ToString("N");
        await CreateAsync($$"""{"model":"mock-model","input":"{{marker}}","previous_response_id":"{{child}}"}""");

        var input = JsonNode.Parse(fixture.Mock.Requests.Last(r => r.Body.Contains(marker, StringComparison.Ordinal)).Body)!["input"]!.AsArray();
        Assert.Equal(5, input.Count);
        await AssertNotFoundEverywhereAsync(_client, root);
    }

    [Fact]
    public async Task InputItems_PaginateInBothOrdersWithCursors()
    {
        var first = await CreateAsync("""{"model":"mock-model","input":[{"role":"user","content":"a"},{"role":"user","content":"b"}]}""");
        var second = await CreateAsync($$"""{"model":"mock-model","input":[{"role":"user","content":"c"},{"type":"message","role":"user","content":[{"type":"input_text","text":"d"}]}],"previous_response_id":"{{first}}"}""");

        var all = await ListAsync(second, "?order=asc&limit=100");
        Assert.Equal(["a", "b", "Mock reply to: b", "c", "d"], all.Data.Select(Text).ToArray());
        Assert.False(all.HasMore);
        Assert.All(all.Data, item => Assert.False(string.IsNullOrEmpty((string?)item["id"])));

        var desc = await ListAsync(second, "");
        Assert.Equal(all.Data.Select(Text).Reverse().ToArray(), desc.Data.Select(Text).ToArray());

        var page1 = await ListAsync(second, "?order=asc&limit=2");
        Assert.Equal(["a", "b"], page1.Data.Select(Text).ToArray());
        Assert.True(page1.HasMore);
        Assert.Equal((string?)page1.Data[1]["id"], page1.LastId);
        var page2 = await ListAsync(second, $"?order=asc&limit=2&after={page1.LastId}");
        Assert.Equal(["Mock reply to: b", "c"], page2.Data.Select(Text).ToArray());
        var page3 = await ListAsync(second, $"?order=asc&limit=2&after={page2.LastId}");
        Assert.Equal(["d"], page3.Data.Select(Text).ToArray());
        Assert.False(page3.HasMore);
        var before = await ListAsync(second, $"?order=asc&limit=2&before={page3.FirstId}");
        Assert.Equal(["Mock reply to: b", "c"], before.Data.Select(Text).ToArray());

        // Ids are stable across reads.
        Assert.Equal(all.Data.Select(i => (string?)i["id"]), (await ListAsync(second, "?order=asc")).Data.Select(i => (string?)i["id"]));

        using var bad = await _client.GetAsync($"/v1/responses/{second}/input_items?limit=101");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        AssertError(await ReadObjectAsync(bad), "limit", "invalid_value");
    }

    [Fact]
    public async Task GetStreamReplay_PassesTheSameChecksAsLiveStreams()
    {
        var live = await StreamAsync(_client, """{"model":"mock-reasoning","input":"think then answer","stream":true}""");
        var id = (string)live.Terminal["id"]!;

        using var replayResponse = await _client.GetAsync($"/v1/responses/{id}?stream=true");
        var replay = new SseStream(await replayResponse.Content.ReadAsStringAsync());
        EventSequenceChecker.Check(replay, id);
        Assert.True(JsonNode.DeepEquals(live.Terminal, replay.Terminal));

        using var resumed = await _client.GetAsync($"/v1/responses/{id}?stream=true&starting_after=2");
        var tail = new SseStream(await resumed.Content.ReadAsStringAsync());
        Assert.Equal(3, (int)tail.Events[0].Json["sequence_number"]!);
        Assert.Equal(replay.Types.Skip(3), tail.Types);
    }

    [Fact]
    public async Task LargeInput_StoresChainsAndLists()
    {
        // Base64 of random bytes, like an inline image: it does not compress, so the turn spans several table rows.
        var big = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(4 * 1024 * 1024));
        var first = await CreateAsync($$"""{"model":"mock-model","input":[{"role":"user","content":"big one"},{"role":"user","content":"{{big}}"}]}""");
        var marker = Guid.NewGuid().ToString("N");
        await CreateAsync($$"""{"model":"mock-model","input":"{{marker}}","previous_response_id":"{{first}}"}""");

        var sent = JsonNode.Parse(fixture.Mock.Requests.Last(r => r.Body.Contains(marker, StringComparison.Ordinal)).Body)!["input"]!.AsArray();
        Assert.Equal(big, Text(sent[1]));
        var listed = await ListAsync(first, "?order=asc");
        Assert.Equal(big.Length, Text(listed.Data[1]).Length);
    }

    [Fact]
    public async Task ClientDisconnectMidStream_IsStoredIncomplete()
    {
        string id;
        using (var request = new HttpRequestMessage(HttpMethod.Post, "/v1/responses") { Content = Json("""{"model":"mock-stall-20000","input":"leave early","stream":true}""") })
        using (var response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead))
        {
            var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
            var created = "";
            while (!created.StartsWith("data: ", StringComparison.Ordinal))
            {
                created = (await reader.ReadLineAsync())!;
            }
            id = (string)JsonNode.Parse(created["data: ".Length..])!["response"]!["id"]!;
        }

        var stored = await PollAsync(id, s => s != "in_progress");
        Assert.Equal("incomplete", (string?)stored["status"]);
        Assert.Equal("interrupted", (string?)stored["incomplete_details"]?["reason"]);
    }

    [Fact]
    public async Task UpstreamFailureMidStream_IsStoredFailed()
    {
        var stream = await StreamAsync(_client, """{"model":"mock-disconnect-6","input":"a b c d e f","stream":true}""");
        var id = (string)stream.Terminal["id"]!;

        using var get = await _client.GetAsync($"/v1/responses/{id}");
        var stored = await ReadObjectAsync(get);
        Assert.Equal("failed", (string?)stored["status"]);
        Assert.True(JsonNode.DeepEquals(stream.Terminal, stored));
    }

    [Fact]
    public async Task ReasoningItems_KeepTheirEncryptedContentAcrossTheChain()
    {
        var first = await CreateAsync("""{"model":"mock-reasoning","input":"think","reasoning":{"effort":"low"}}""");
        var marker = Guid.NewGuid().ToString("N");
        await CreateAsync($$$"""{"model":"mock-model","input":"{{{marker}}}","previous_response_id":"{{{first}}}","reasoning":{"effort":"low"}}""");

        var sent = JsonNode.Parse(fixture.Mock.Requests.Last(r => r.Body.Contains(marker, StringComparison.Ordinal)).Body)!.AsObject();
        var reasoning = sent["input"]!.AsArray().Single(i => (string?)i!["type"] == "reasoning")!;
        Assert.False(string.IsNullOrEmpty((string?)reasoning["encrypted_content"]));
        Assert.Contains("reasoning.encrypted_content", sent["include"]!.AsArray().Select(x => (string?)x));
    }

    [Fact]
    public async Task StoreFalse_IsNeverStored()
    {
        var id = await CreateAsync("""{"model":"mock-model","input":"ephemeral","store":false}""", stream: true);
        using var get = await _client.GetAsync($"/v1/responses/{id}");
        Assert.Equal(HttpStatusCode.NotFound, get.StatusCode);
    }

    private async Task<JsonObject> PollAsync(string id, Func<string?, bool> done)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (true)
        {
            using var get = await _client.GetAsync($"/v1/responses/{id}");
            if (get.StatusCode == HttpStatusCode.OK)
            {
                var body = await ReadObjectAsync(get);
                if (done((string?)body["status"]))
                {
                    return body;
                }
            }
            Assert.True(DateTime.UtcNow < deadline, $"{id} was not stored in time");
            await Task.Delay(100);
        }
    }

    private async Task<string> CreateAsync(string json, bool stream = false)
    {
        if (stream)
        {
            var body = JsonNode.Parse(json)!.AsObject();
            body["stream"] = true;
            var sse = await StreamAsync(_client, body.ToJsonString());
            Assert.Equal("response.completed", sse.Types[^1]);
            return (string)sse.Terminal["id"]!;
        }
        var (status, response) = await PostAsync(_client, "/v1/responses", json);
        Assert.True(status == 200, response.ToJsonString());
        return (string)response["id"]!;
    }

    private async Task<(List<JsonObject> Data, string? FirstId, string? LastId, bool HasMore)> ListAsync(string id, string query)
    {
        using var response = await _client.GetAsync($"/v1/responses/{id}/input_items{query}");
        var body = await ReadObjectAsync(response);
        Assert.Equal("list", (string?)body["object"]);
        return (body["data"]!.AsArray().Select(n => n!.AsObject()).ToList(), (string?)body["first_id"], (string?)body["last_id"], (bool)body["has_more"]!);
    }

    private static async Task AssertNotFoundEverywhereAsync(HttpClient client, string id)
    {
        using (var get = await client.GetAsync($"/v1/responses/{id}"))
        {
            Assert.Equal(HttpStatusCode.NotFound, get.StatusCode);
            AssertError(await ReadObjectAsync(get), null, null);
        }
        using (var delete = await client.DeleteAsync($"/v1/responses/{id}"))
        {
            Assert.Equal(HttpStatusCode.NotFound, delete.StatusCode);
        }
        using (var items = await client.GetAsync($"/v1/responses/{id}/input_items"))
        {
            Assert.Equal(HttpStatusCode.NotFound, items.StatusCode);
        }
        var (status, body) = await PostAsync(client, "/v1/responses", $$"""{"model":"mock-model","input":"x","previous_response_id":"{{id}}"}""");
        Assert.Equal(400, status);
        AssertError(body, "previous_response_id", "previous_response_not_found");
        Assert.Equal($"Previous response with id '{id}' not found.", (string?)body["error"]!["message"]);
    }

    private static string Describe(JsonNode? item)
    {
        var role = (string?)item!["role"];
        return $"{role}:{Text(item)}";
    }

    private static string Text(JsonNode? item)
    {
        var content = item!["content"];
        return (content is JsonValue ? (string?)content : (string?)content![0]!["text"]) ?? "";
    }
}
