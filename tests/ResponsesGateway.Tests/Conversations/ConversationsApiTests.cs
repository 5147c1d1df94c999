using System.Text.Json.Nodes;
using ResponsesGateway.Tests.Infrastructure;
using static ResponsesGateway.Tests.Conversations.ConversationHttp;
using static ResponsesGateway.Tests.Infrastructure.GatewayHttp;

namespace ResponsesGateway.Tests.Conversations;

/// <summary>The Conversations API over real HTTP against Azurite: CRUD, items, paging, isolation and bad input.</summary>
[Collection(GatewayCollection.Name)]
public sealed class ConversationsApiTests(GatewayFixture fixture)
{
    private readonly HttpClient _client = fixture.Gateway.CreateClient();

    [Fact]
    public async Task Create_Get_Update_Delete_HaveOpenAIsShapes()
    {
        var (status, created) = await PostAsync(_client, "/v1/conversations",
            """{"metadata":{"topic":"test"},"items":[{"type":"message","role":"system","content":[{"type":"input_text","text":"You are a helpful assistant."}]}]}""");

        Assert.Equal(200, status);
        Assert.Equal(["id", "object", "created_at", "metadata"], created.Select(p => p.Key).ToArray());
        var id = (string)created["id"]!;
        Assert.Matches("^conv_[0-9a-f]{48}$", id);
        Assert.Equal("conversation", (string?)created["object"]);
        Assert.InRange((long)created["created_at"]!, DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 60, DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 5);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"topic":"test"}"""), created["metadata"]));

        var (getStatus, got) = await SendAsync(_client, HttpMethod.Get, $"/v1/conversations/{id}");
        Assert.Equal(200, getStatus);
        Assert.True(JsonNode.DeepEquals(created, got), got.ToJsonString() + " vs " + created.ToJsonString());

        var (updateStatus, updated) = await SendAsync(_client, HttpMethod.Post, $"/v1/conversations/{id}", """{"metadata":{"topic":"changed","k":"v"}}""");
        Assert.Equal(200, updateStatus);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"topic":"changed","k":"v"}"""), updated["metadata"]));
        Assert.Equal((long)created["created_at"]!, (long)updated["created_at"]!);
        var (_, reread) = await SendAsync(_client, HttpMethod.Get, $"/v1/conversations/{id}");
        Assert.True(JsonNode.DeepEquals(updated, reread));

        var items = await ItemsAsync(_client, id);
        var item = Assert.Single(items)!.AsObject();
        Assert.Equal(["content", "id", "role", "status", "type"], item.Select(p => p.Key).Order(StringComparer.Ordinal).ToArray());
        Assert.StartsWith("msg_", (string?)item["id"]);
        Assert.Equal("completed", (string?)item["status"]);
        Assert.Equal("system:You are a helpful assistant.", Describe(item));

        var (deleteStatus, deleted) = await SendAsync(_client, HttpMethod.Delete, $"/v1/conversations/{id}");
        Assert.Equal(200, deleteStatus);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse($$"""{"id":"{{id}}","object":"conversation.deleted","deleted":true}"""), deleted));
        foreach (var (method, path) in Paths(id, (string)item["id"]!))
        {
            var (gone, body) = await SendAsync(_client, method, path, Body(method, path));
            Assert.True(gone == 404, $"{method} {path}: {gone}");
            AssertError(body, null, null);
        }
        var (again, _) = await SendAsync(_client, HttpMethod.Get, $"/v1/conversations/{id}");
        Assert.Equal(404, again);
    }

    [Fact]
    public async Task EmptyBody_AndNullMetadata_MakeAnEmptyConversation()
    {
        using var response = await _client.PostAsync("/v1/conversations", null);
        var body = await ReadObjectAsync(response);
        Assert.Equal(200, (int)response.StatusCode);
        Assert.True(JsonNode.DeepEquals(new JsonObject(), body["metadata"]));

        var id = await CreateAsync(_client, """{"metadata":null,"items":null}""");
        Assert.Empty(await ItemsAsync(_client, id));
        var (status, cleared) = await SendAsync(_client, HttpMethod.Post, $"/v1/conversations/{id}", """{"metadata":null}""");
        Assert.Equal(200, status);
        Assert.True(JsonNode.DeepEquals(new JsonObject(), cleared["metadata"]));
    }

    [Fact]
    public async Task Items_AddListGetDelete_WithCursorPaging()
    {
        var id = await CreateAsync(_client, """{"items":[{"role":"user","content":"one"}]}""");
        var (status, added) = await SendAsync(_client, HttpMethod.Post, $"/v1/conversations/{id}/items",
            """{"items":[{"role":"assistant","content":"two"},{"type":"message","role":"user","content":[{"type":"input_text","text":"three"}]},{"type":"function_call","call_id":"c1","name":"f","arguments":"{}"},{"type":"function_call_output","call_id":"c1","output":"42"}]}""");

        Assert.Equal(200, status);
        Assert.Equal("list", (string?)added["object"]);
        var addedItems = added["data"]!.AsArray();
        Assert.Equal(["assistant:two", "user:three", "function_call", "function_call_output"], addedItems.Select(Describe).ToArray());
        Assert.Equal((string?)addedItems[0]!["id"], (string?)added["first_id"]);
        Assert.Equal((string?)addedItems[^1]!["id"], (string?)added["last_id"]);
        Assert.False((bool)added["has_more"]!);
        Assert.Equal("output_text", (string?)addedItems[0]!["content"]![0]!["type"]);

        var all = await ItemsAsync(_client, id);
        Assert.Equal(["user:one", "assistant:two", "user:three", "function_call", "function_call_output"], all.Select(Describe).ToArray());
        var ids = all.Select(i => (string)i!["id"]!).ToArray();
        Assert.Equal(ids.Length, ids.Distinct().Count());

        // Newest first by default; pages of 2 with 'after' walk every item once.
        var seen = new List<string>();
        string? after = null;
        bool more;
        do
        {
            var (pageStatus, page) = await SendAsync(_client, HttpMethod.Get, $"/v1/conversations/{id}/items?limit=2" + (after is null ? "" : "&after=" + after));
            Assert.Equal(200, pageStatus);
            var data = page["data"]!.AsArray();
            seen.AddRange(data.Select(i => (string)i!["id"]!));
            more = (bool)page["has_more"]!;
            after = (string?)page["last_id"];
            Assert.Equal((string?)data[0]!["id"], (string?)page["first_id"]);
        }
        while (more);
        Assert.Equal(ids.Reverse(), seen);

        var (itemStatus, item) = await SendAsync(_client, HttpMethod.Get, $"/v1/conversations/{id}/items/{ids[2]}");
        Assert.True(itemStatus == 200, item.ToJsonString());
        Assert.True(JsonNode.DeepEquals(all[2], item));

        var (deleteStatus, conversation) = await SendAsync(_client, HttpMethod.Delete, $"/v1/conversations/{id}/items/{ids[2]}");
        Assert.Equal(200, deleteStatus);
        Assert.Equal("conversation", (string?)conversation["object"]);
        Assert.Equal(id, (string?)conversation["id"]);
        Assert.Equal(["user:one", "assistant:two", "function_call", "function_call_output"], (await ItemsAsync(_client, id)).Select(Describe).ToArray());
        var (goneStatus, gone) = await SendAsync(_client, HttpMethod.Get, $"/v1/conversations/{id}/items/{ids[2]}");
        Assert.Equal(404, goneStatus);
        AssertError(gone, null, null);
        var (deleteAgain, _) = await SendAsync(_client, HttpMethod.Delete, $"/v1/conversations/{id}/items/{ids[2]}");
        Assert.Equal(404, deleteAgain);
    }

    [Fact]
    public async Task AnotherKey_SeesEveryConversationPathAsNotFound()
    {
        var id = await CreateAsync(_client, """{"metadata":{"owner":"a"},"items":[{"role":"user","content":"secret"}]}""");
        var itemId = (string)(await ItemsAsync(_client, id))[0]!["id"]!;
        using var other = fixture.Gateway.CreateClient(GatewayHost.KeyB);

        foreach (var (method, path) in Paths(id, itemId))
        {
            var (status, body) = await SendAsync(other, method, path, Body(method, path));
            Assert.True(status == 404, $"{method} {path}: {status} {body.ToJsonString()}");
            AssertError(body, null, null);
            Assert.DoesNotContain("secret", body.ToJsonString(), StringComparison.Ordinal);
        }
        var (turn, turnBody) = await PostAsync(other, "/v1/responses", $$"""{"model":"mock-model","input":"hi","conversation":"{{id}}"}""");
        Assert.Equal(404, turn);
        AssertError(turnBody, "conversation", "conversation_not_found");

        // Untouched for its owner.
        var (_, mine) = await SendAsync(_client, HttpMethod.Get, $"/v1/conversations/{id}");
        Assert.Equal("a", (string?)mine["metadata"]!["owner"]);
        Assert.Equal(["user:secret"], (await ItemsAsync(_client, id)).Select(Describe).ToArray());
    }

    [Theory]
    [InlineData("/v1/conversations/conv_1")]
    [InlineData("/v1/conversations/resp_00000000000000000000000000000000")]
    [InlineData("/v1/conversations/conv_000000000000000000000000000000000000000000000000")]
    public async Task UnknownIds_AreNotFound(string path)
    {
        var (status, body) = await SendAsync(_client, HttpMethod.Get, path);
        Assert.Equal(404, status);
        AssertError(body, null, null);
        (status, body) = await SendAsync(_client, HttpMethod.Get, path + "/items");
        Assert.Equal(404, status);
        (status, body) = await SendAsync(_client, HttpMethod.Post, path + "/items", """{"items":[{"role":"user","content":"x"}]}""");
        Assert.Equal(404, status);
    }

    public static TheoryData<string, string, string?, string?> BadCreateBodies => new()
    {
        { "{", "", null, null },
        { "[]", "", null, null },
        { "\"x\"", "", null, null },
        { """{"metadata":"x"}""", "metadata", "metadata", "invalid_type" },
        { """{"metadata":{"k":1}}""", "", "metadata.k", "invalid_type" },
        { """{"metadata":{"k":null}}""", "", "metadata.k", "invalid_type" },
        { "{\"metadata\":{" + string.Join(",", Enumerable.Range(0, 17).Select(i => $"\"k{i}\":\"v\"")) + "}}", "", "metadata", "object_above_max_properties" },
        { "{\"metadata\":{\"" + new string('k', 65) + "\":\"v\"}}", "", "metadata", "string_above_max_length" },
        { "{\"metadata\":{\"k\":\"" + new string('v', 513) + "\"}}", "", "metadata.k", "string_above_max_length" },
        { """{"items":"x"}""", "", "items", "invalid_type" },
        { """{"items":{}}""", "", "items", "invalid_type" },
        { "{\"items\":[" + string.Join(",", Enumerable.Repeat("{\"role\":\"user\",\"content\":\"x\"}", 21)) + "]}", "", "items", "array_above_max_length" },
        { """{"items":[42]}""", "", "items[0]", "invalid_type" },
        { """{"items":[{"role":"user","content":"ok"},{"role":"robot","content":"x"}]}""", "", "items[1].role", "invalid_value" },
        { """{"items":[{"type":"message","role":"user"}]}""", "", "items[0].content", "missing_required_parameter" },
        { """{"items":[{"type":"item_reference"}]}""", "", "items[0].id", "missing_required_parameter" },
        { """{"items":[{"type":"item_reference","id":"msg_nope"}]}""", "", "items[0].id", "item_not_found" },
        { """{"bogus":1}""", "", "bogus", "unknown_parameter" },
    };

    [Theory]
    [MemberData(nameof(BadCreateBodies))]
    public async Task BadCreateBodies_Are400_AndStoreNothing(string json, string _, string? param, string? code)
    {
        var before = await CountRowsAsync();
        var (status, body) = await PostAsync(_client, "/v1/conversations", json);

        Assert.Equal(400, status);
        AssertError(body, param, code);
        Assert.Equal(before, await CountRowsAsync());
    }

    [Fact]
    public async Task BadItemsAndUpdateBodies_Are400_AndChangeNothing()
    {
        var id = await CreateAsync(_client, """{"metadata":{"k":"v"},"items":[{"role":"user","content":"keep"}]}""");
        foreach (var (json, param, code) in new (string, string?, string?)[]
        {
            ("{", null, null),
            ("{}", "items", "missing_required_parameter"),
            ("""{"items":[]}""", "items", "empty_array"),
            ("""{"items":5}""", "items", "invalid_type"),
            ("{\"items\":[" + string.Join(",", Enumerable.Repeat("{\"role\":\"user\",\"content\":\"x\"}", 21)) + "]}", "items", "array_above_max_length"),
            ("""{"items":[{"role":"user","content":7}]}""", "items[0].content", "invalid_type"),
            ("""{"items":[{"type":"item_reference","id":"fc_unknown"}]}""", "items[0].id", "item_not_found"),
        })
        {
            var (status, body) = await SendAsync(_client, HttpMethod.Post, $"/v1/conversations/{id}/items", json);
            Assert.True(status == 400, $"{json}: {status} {body.ToJsonString()}");
            AssertError(body, param, code);
        }
        foreach (var (json, param, code) in new (string, string?, string?)[]
        {
            ("{}", "metadata", "missing_required_parameter"),
            ("""{"metadata":[]}""", "metadata", "invalid_type"),
            ("{\"metadata\":{\"k\":\"" + new string('v', 513) + "\"}}", "metadata.k", "string_above_max_length"),
            ("""{"metadata":{},"items":[]}""", "items", "unknown_parameter"),
        })
        {
            var (status, body) = await SendAsync(_client, HttpMethod.Post, $"/v1/conversations/{id}", json);
            Assert.True(status == 400, $"{json}: {status} {body.ToJsonString()}");
            AssertError(body, param, code);
        }
        foreach (var query in new[] { "limit=0", "limit=101", "limit=x", "order=up", "after=msg_nope" })
        {
            var (status, body) = await SendAsync(_client, HttpMethod.Get, $"/v1/conversations/{id}/items?{query}");
            Assert.True(status == 400, $"{query}: {status}");
            Assert.Equal(query.Split('=')[0], (string?)body["error"]!["param"]);
        }

        var (_, conversation) = await SendAsync(_client, HttpMethod.Get, $"/v1/conversations/{id}");
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"k":"v"}"""), conversation["metadata"]));
        Assert.Equal(["user:keep"], (await ItemsAsync(_client, id)).Select(Describe).ToArray());
    }

    [Fact]
    public async Task OversizedBodies_Are413_AndStoreNothing()
    {
        await using var gateway = await fixture.StartGatewayAsync(new Dictionary<string, string?> { ["Gateway:MaxRequestBodyBytes"] = "2048" });
        using var client = gateway.CreateClient();
        var id = await CreateAsync(client, """{"items":[{"role":"user","content":"small"}]}""");
        var big = new string('x', 4096);

        foreach (var (method, path, json) in new[]
        {
            (HttpMethod.Post, "/v1/conversations", $$"""{"items":[{"role":"user","content":"{{big}}"}]}"""),
            (HttpMethod.Post, $"/v1/conversations/{id}/items", $$"""{"items":[{"role":"user","content":"{{big}}"}]}"""),
            (HttpMethod.Post, $"/v1/conversations/{id}", "{\"metadata\":{\"k\":\"" + big + "\"}}"),
        })
        {
            var (status, body) = await SendAsync(client, method, path, json);
            Assert.True(status == 413, $"{path}: {status}");
            AssertError(body, null, "request_too_large");
        }
        Assert.Equal(["user:small"], (await ItemsAsync(client, id)).Select(Describe).ToArray());
        Assert.Equal(2, (await ConversationTables.PartitionAsync(gateway, id)).Count);
    }

    [Fact]
    public async Task WrongMethodsAndMissingKey_AnswerInTheEnvelope()
    {
        var id = await CreateAsync(_client);
        using var put = await _client.PutAsync($"/v1/conversations/{id}", Json("{}"));
        Assert.Equal(405, (int)put.StatusCode);
        Assert.Equal("GET, POST, DELETE", put.Content.Headers.Allow.Count > 0 ? string.Join(", ", put.Content.Headers.Allow) : string.Join(", ", put.Headers.GetValues("Allow")));
        using var getList = await _client.GetAsync("/v1/conversations");
        Assert.Equal(405, (int)getList.StatusCode);

        using var anonymous = fixture.Gateway.CreateClient(key: null);
        var (status, body) = await SendAsync(anonymous, HttpMethod.Get, $"/v1/conversations/{id}");
        Assert.Equal(401, status);
        AssertError(body, null, "invalid_api_key");
    }

    private static string? Body(HttpMethod method, string path) =>
        method != HttpMethod.Post ? null : path.EndsWith("/items", StringComparison.Ordinal) ? """{"items":[{"role":"user","content":"x"}]}""" : """{"metadata":{"owner":"b"}}""";

    private static (HttpMethod, string)[] Paths(string id, string itemId) =>
    [
        (HttpMethod.Get, $"/v1/conversations/{id}"),
        (HttpMethod.Post, $"/v1/conversations/{id}"),
        (HttpMethod.Get, $"/v1/conversations/{id}/items"),
        (HttpMethod.Post, $"/v1/conversations/{id}/items"),
        (HttpMethod.Get, $"/v1/conversations/{id}/items/{itemId}"),
        (HttpMethod.Delete, $"/v1/conversations/{id}/items/{itemId}"),
        (HttpMethod.Delete, $"/v1/conversations/{id}"),
    ];

    private async Task<int> CountRowsAsync()
    {
        var table = ConversationTables.Of(fixture.Gateway);
        var count = 0;
        try
        {
            await foreach (var _ in table.QueryAsync<Azure.Data.Tables.TableEntity>(select: ["PartitionKey"]))
            {
                count++;
            }
        }
        catch (Azure.RequestFailedException e) when (e.Status == 404)
        {
        }
        return count;
    }
}
