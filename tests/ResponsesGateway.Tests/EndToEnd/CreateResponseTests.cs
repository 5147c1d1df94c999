using System.Text.Json.Nodes;
using ResponsesGateway.Tests.Infrastructure;
using static ResponsesGateway.Tests.Infrastructure.GatewayHttp;

namespace ResponsesGateway.Tests.EndToEnd;

[Collection(GatewayCollection.Name)]
public sealed class CreateResponseTests(GatewayFixture fixture)
{
    private readonly HttpClient _client = fixture.Gateway.CreateClient();

    [Fact]
    public async Task Create_Json_ReturnsCompletedResponseWithGatewayId()
    {
        var (status, body) = await PostAsync(_client, "/v1/responses", """{"model":"mock-model","input":"hello gateway"}""");

        Assert.Equal(200, status);
        Assert.Equal("response", (string?)body["object"]);
        Assert.Equal("completed", (string?)body["status"]);
        var id = (string)body["id"]!;
        Assert.True(Core.Ids.ResponseIds.IsWellFormed(id), id);
        Assert.DoesNotContain("mock", id);
        Assert.True((bool)body["store"]!);
        var text = (string?)body["output"]![0]!["content"]![0]!["text"];
        Assert.Equal("Mock reply to: hello gateway", text);
        Assert.True((int)body["usage"]!["total_tokens"]! > 0);
    }

    [Fact]
    public async Task Create_Stream_EmitsExactEventSequenceAndCloses()
    {
        var stream = await StreamAsync(_client, """{"model":"mock-model","input":"one two","stream":true}""");

        Assert.Equal(
        [
            "response.created", "response.in_progress", "response.output_item.added", "response.content_part.added",
            "response.output_text.delta", "response.output_text.delta", "response.output_text.delta", "response.output_text.delta", "response.output_text.delta",
            "response.output_text.done", "response.content_part.done", "response.output_item.done", "response.completed",
        ], stream.Types);
        EventSequenceChecker.Check(stream);
        Assert.Equal("completed", (string?)stream.Terminal["status"]);
        Assert.Equal("Mock reply to: one two", (string?)stream.Terminal["output"]![0]!["content"]![0]!["text"]);
    }

    [Fact]
    public async Task Create_Stream_IdIsTheSameInEveryEventAndOnGet()
    {
        var stream = await StreamAsync(_client, """{"model":"mock-model","input":"same id","stream":true}""");
        var id = (string)stream.Events[0].Json["response"]!["id"]!;
        EventSequenceChecker.Check(stream, id);

        using var get = await _client.GetAsync($"/v1/responses/{id}");
        var stored = await ReadObjectAsync(get);
        Assert.Equal(200, (int)get.StatusCode);
        Assert.Equal(id, (string?)stored["id"]);
        Assert.True(JsonNode.DeepEquals(stream.Terminal, stored), "GET differs from the terminal event's response");
    }

    [Fact]
    public async Task Create_UnknownFields_ReachUpstreamUnchanged()
    {
        var marker = Guid.NewGuid().ToString("N");
        var (status, _) = await PostAsync(_client, "/v1/responses",
            $$$"""{"model":"mock-model","input":"{{{marker}}}","x_vendor_flag":{"nested":[1,"two",null],"deep":{"a":true}},"service_tier":"flex","prompt_cache_key":"k1"}""");

        Assert.Equal(200, status);
        var sent = fixture.Mock.Requests.Last(r => r.Body.Contains(marker, StringComparison.Ordinal));
        var body = JsonNode.Parse(sent.Body)!.AsObject();
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"nested":[1,"two",null],"deep":{"a":true}}"""), body["x_vendor_flag"]));
        Assert.Equal("flex", (string?)body["service_tier"]);
        Assert.Equal("k1", (string?)body["prompt_cache_key"]);
        Assert.False((bool)body["store"]!); // the gateway owns the state (invariant 4)
        Assert.False(body.ContainsKey("previous_response_id"));
        Assert.DoesNotContain(GatewayHost.KeyA, sent.Headers.GetValueOrDefault("Authorization") ?? "");
    }

    [Fact]
    public async Task Create_ChatStyleNestedFunctionTool_IsFlattenedForTheUpstream()
    {
        var marker = Guid.NewGuid().ToString("N");
        var (status, body) = await PostAsync(_client, "/v1/responses",
            $$$$$"""{"model":"mock-model","input":"{{{{{marker}}}}}","tools":[{"type":"function","function":{"name":"get_weather","description":"d","parameters":{"type":"object","properties":{}}}}]}""");

        Assert.Equal(200, status);
        var sent = JsonNode.Parse(fixture.Mock.Requests.Last(r => r.Body.Contains(marker, StringComparison.Ordinal)).Body)!;
        var tool = sent["tools"]![0]!.AsObject();
        Assert.Equal("get_weather", (string?)tool["name"]);
        Assert.Equal("d", (string?)tool["description"]);
        Assert.False(tool.ContainsKey("function"));
        Assert.Equal("completed", (string?)body["status"]);
    }

    [Fact]
    public async Task Models_ListsConfiguredModels()
    {
        await using var gateway = await fixture.StartGatewayAsync(new Dictionary<string, string?> { ["Upstreams:mock:Models"] = "mock-a,mock-b,gpt-*", ["Upstreams:mock:ModelMap"] = "fast=mock-a" });
        using var client = gateway.CreateClient();
        using var response = await client.GetAsync("/v1/models");
        var body = await ReadObjectAsync(response);

        Assert.Equal("list", (string?)body["object"]);
        Assert.Equal(["fast", "mock-a", "mock-b"], body["data"]!.AsArray().Select(m => (string)m!["id"]!).ToArray());
    }

    [Fact]
    public async Task Create_ModelRename_SendsUpstreamName()
    {
        await using var gateway = await fixture.StartGatewayAsync(new Dictionary<string, string?> { ["Upstreams:mock:Models"] = "none-*", ["Upstreams:mock:ModelMap"] = "fast=mock-renamed" });
        using var client = gateway.CreateClient();
        var marker = Guid.NewGuid().ToString("N");

        var (status, _) = await PostAsync(client, "/v1/responses", $$"""{"model":"fast","input":"{{marker}}"}""");
        var (unknownStatus, unknown) = await PostAsync(client, "/v1/responses", """{"model":"gpt-unknown","input":"x"}""");

        Assert.Equal(200, status);
        Assert.Equal("mock-renamed", (string?)JsonNode.Parse(fixture.Mock.Requests.Last(r => r.Body.Contains(marker, StringComparison.Ordinal)).Body)!["model"]);
        Assert.Equal(404, unknownStatus);
        AssertError(unknown, "model", "model_not_found");
    }
}
