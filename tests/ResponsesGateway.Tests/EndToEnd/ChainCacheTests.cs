using System.Collections.Concurrent;
using System.Net;
using System.Text.Json.Nodes;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using Microsoft.Extensions.DependencyInjection;
using ResponsesGateway.Core.Options;
using ResponsesGateway.Core.Pipeline;
using ResponsesGateway.Tests.Infrastructure;
using static ResponsesGateway.Tests.Infrastructure.GatewayHttp;

namespace ResponsesGateway.Tests.EndToEnd;

/// <summary>
/// The in-memory chain context (Gateway:ChainCacheMegabytes): continuing a chain this process knows costs one point
/// read, the upstream sees exactly what the partition read would have given it, and a delete made by another
/// instance of the gateway is honoured at once.
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class ChainCacheTests(GatewayFixture fixture)
{
    [Fact]
    public async Task CachedAndUncachedInstances_SendTheSameHistory_WithOneStorageRequestEach()
    {
        var table = "c" + Guid.NewGuid().ToString("N")[..20];
        var cachedLog = new ConcurrentQueue<string>();
        var uncachedLog = new ConcurrentQueue<string>();
        await using var cached = await StartAsync(table, cachedLog);
        await using var uncached = await StartAsync(table, uncachedLog, new() { ["Gateway:ChainCacheMegabytes"] = "0" });
        using var client = cached.CreateClient();
        using var other = uncached.CreateClient();

        string? previous = null;
        for (var i = 0; i < 30; i++)
        {
            previous = await CreateAsync(client, $"turn {i}", previous, stream: i % 3 == 0);
        }

        var fromCache = await ContinueAsync(client, cachedLog, previous!);
        var fromTable = await ContinueAsync(other, uncachedLog, previous!);

        Assert.Equal(60, fromCache.Input.Count);
        Assert.True(JsonNode.DeepEquals(fromCache.Input, fromTable.Input), "the cached and the stored history differ");
        Assert.Equal("user:turn 0", Describe(fromCache.Input[0]));
        Assert.Equal("assistant:Mock reply to: turn 29", Describe(fromCache.Input[59]));
        Assert.All(fromCache.Input, item => Assert.Null(item!["id"]));
        // One storage request each: a point read of the parent's head row on the instance that holds the chain,
        // the one partition query on the instance that does not.
        var read = Assert.Single(fromCache.StorageRequests);
        Assert.Contains("RowKey=", read, StringComparison.Ordinal);
        Assert.DoesNotContain("$filter", read, StringComparison.Ordinal);
        var query = Assert.Single(fromTable.StorageRequests);
        Assert.Contains("$filter", query, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DeleteOnAnotherInstance_MakesTheCachedParentNotFound()
    {
        var table = "c" + Guid.NewGuid().ToString("N")[..20];
        await using var first = await StartAsync(table, new ConcurrentQueue<string>());
        await using var second = await StartAsync(table, new ConcurrentQueue<string>());
        using var a = first.CreateClient();
        using var b = second.CreateClient();
        var root = await CreateAsync(a, "root", null);
        var child = await CreateAsync(a, "child", root);

        // The second instance has never seen the chain: it reads it from the table, then deletes the child.
        var grandchild = await CreateAsync(b, "from the other instance", child);
        using (var delete = await b.DeleteAsync($"/v1/responses/{child}"))
        {
            Assert.Equal(HttpStatusCode.OK, delete.StatusCode);
        }

        var (status, body) = await PostAsync(a, "/v1/responses", $$"""{"model":"mock-model","input":"again","previous_response_id":"{{child}}"}""");
        Assert.Equal(400, status); // OpenAI answers an unknown previous_response_id with 400
        AssertError(body, "previous_response_id", "previous_response_not_found");
        // Its ancestors and descendants stay usable, as without the cache.
        Assert.StartsWith("resp_", await CreateAsync(a, "from the root", root), StringComparison.Ordinal);
        Assert.StartsWith("resp_", await CreateAsync(a, "from the grandchild", grandchild), StringComparison.Ordinal);
    }

    [Fact]
    public async Task CachedChain_IsStillIsolatedPerKey()
    {
        using var a = fixture.Gateway.CreateClient(GatewayHost.KeyA);
        using var b = fixture.Gateway.CreateClient(GatewayHost.KeyB);
        var mine = await CreateAsync(a, "mine", null);

        var (status, body) = await PostAsync(b, "/v1/responses", $$"""{"model":"mock-model","input":"theirs","previous_response_id":"{{mine}}"}""");

        Assert.Equal(400, status); // OpenAI answers an unknown previous_response_id with 400
        AssertError(body, "previous_response_id", "previous_response_not_found");
    }

    [Fact]
    public void Cache_ServesOnlyWholeChainsOfTheOwner()
    {
        var cache = new ChainCache(1024 * 1024);
        cache.Add("r1", "alice", null, "[1]"u8.ToArray());
        cache.Add("r2", "alice", "r1", "[2]"u8.ToArray());
        cache.Add("r4", "alice", "r3", "[4]"u8.ToArray()); // r3 never cached

        Assert.Equal(["[1]", "[2]"], cache.TryGetChain("alice", "r2")!.Select(b => System.Text.Encoding.UTF8.GetString(b)));
        Assert.Null(cache.TryGetChain("bob", "r2"));
        Assert.Null(cache.TryGetChain("alice", "r4"));
        Assert.Null(cache.TryGetChain("alice", "unknown"));
    }

    [Fact]
    public void Cache_StaysWithinItsBudget_OldestFirst()
    {
        var cache = new ChainCache(10 * 1024);
        var context = new byte[1000];
        for (var i = 0; i < 100; i++)
        {
            cache.Add("r" + i, "alice", null, context);
        }

        Assert.InRange(cache.Bytes, 1, 10 * 1024);
        Assert.InRange(cache.Count, 1, 10);
        Assert.NotNull(cache.TryGetChain("alice", "r99"));
        Assert.Null(cache.TryGetChain("alice", "r0"));
        var off = new ChainCache(0);
        off.Add("r", "alice", null, context);
        Assert.False(off.Enabled);
        Assert.Null(off.TryGetChain("alice", "r"));
    }

    [Fact]
    public void NegativeBudget_FailsTheStart()
    {
        var options = new GatewayOptions { ChainCacheMegabytes = -1, ApiKeys = { ["a"] = "sk-a" } };
        var result = new GatewayOptionsValidator().Validate(null, options);
        Assert.True(result.Failed);
        Assert.Contains("Gateway:ChainCacheMegabytes", result.FailureMessage, StringComparison.Ordinal);
    }

    private Task<GatewayHost> StartAsync(string table, ConcurrentQueue<string> storageLog, Dictionary<string, string?>? extra = null)
    {
        var settings = new Dictionary<string, string?>(extra ?? []) { ["Storage:TableName"] = table };
        return GatewayHost.StartAsync(fixture.Azurite.ConnectionString, GatewayHost.Upstream("mock", "responses", fixture.Mock.BaseUrl), settings, services =>
        {
            // The same table client the gateway builds, with every storage request it sends written down.
            var options = new TableClientOptions();
            options.AddPolicy(new RequestLog(storageLog), HttpPipelinePosition.PerCall);
            services.AddSingleton(new TableClient(fixture.Azurite.ConnectionString, table, options));
        });
    }

    private async Task<(JsonArray Input, List<string> StorageRequests)> ContinueAsync(HttpClient client, ConcurrentQueue<string> storageLog, string previous)
    {
        var marker = Guid.NewGuid().ToString("N");
        storageLog.Clear();
        var (status, body) = await PostAsync(client, "/v1/responses", $$"""{"model":"mock-model","input":"{{marker}}","previous_response_id":"{{previous}}","store":false}""");
        Assert.True(status == 200, body.ToJsonString());
        var requests = storageLog.ToList();
        var input = JsonNode.Parse(fixture.Mock.Requests.Last(r => r.Body.Contains(marker, StringComparison.Ordinal)).Body)!["input"]!.AsArray();
        Assert.Equal("user:" + marker, Describe(input[^1]));
        input.RemoveAt(input.Count - 1);
        return (input, requests);
    }

    private static async Task<string> CreateAsync(HttpClient client, string text, string? previous, bool stream = false)
    {
        var body = new JsonObject { ["model"] = "mock-model", ["input"] = text };
        if (previous is not null)
        {
            body["previous_response_id"] = previous;
        }
        if (stream)
        {
            body["stream"] = true;
            var sse = await StreamAsync(client, body.ToJsonString());
            Assert.Equal("response.completed", sse.Types[^1]);
            return (string)sse.Terminal["id"]!;
        }
        var (status, response) = await PostAsync(client, "/v1/responses", body.ToJsonString());
        Assert.True(status == 200, response.ToJsonString());
        return (string)response["id"]!;
    }

    private static string Describe(JsonNode? item)
    {
        var content = item!["content"];
        var text = content is JsonArray parts ? (string?)parts[0]!["text"] : (string?)content;
        return $"{(string?)item["role"]}:{text}";
    }

    private sealed class RequestLog(ConcurrentQueue<string> log) : HttpPipelineSynchronousPolicy
    {
        public override void OnSendingRequest(HttpMessage message) => log.Enqueue(message.Request.Method + " " + Uri.UnescapeDataString(message.Request.Uri.ToString()));
    }
}
