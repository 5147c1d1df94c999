using System.ClientModel;
using System.Net;
using System.Text.Json.Nodes;
using ResponsesGateway.Tests.Infrastructure;
using static ResponsesGateway.Tests.Infrastructure.GatewayHttp;

namespace ResponsesGateway.Tests.EndToEnd;

/// <summary>
/// <c>POST /v1/responses/compact</c> and compaction items over real HTTP: passed through on a native upstream,
/// emulated on a chat upstream (the mock summarises), the sealed item replayed in a later create, foreign or tampered
/// items refused; and the <c>x-gateway-dropped-tools</c> header of a chat upstream.
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class CompactTests(GatewayFixture fixture)
{
    private const string Path = "/v1/responses/compact";

    [Fact]
    public async Task Native_IsPassedThrough_WithOnlyTheFieldsCompactTakes()
    {
        using var client = fixture.Gateway.CreateClient();
        var marker = Guid.NewGuid().ToString("N");
        var (status, body) = await PostAsync(client, Path, $$"""
            {"model":"mock-model","store":true,"stream":false,"prompt_cache_key":"k","tools":[],"input":[{"role":"user","content":"build it {{marker}}"},{"type":"message","role":"assistant","content":[{"type":"output_text","text":"done"}]}]}
            """);
        Assert.Equal(200, status);
        Assert.Equal("response.compaction", (string?)body["object"]);
        Assert.Equal(["message", "compaction"], body["output"]!.AsArray().Select(i => (string)i!["type"]!));
        var sent = fixture.Mock.Requests.Single(r => r.Body.Contains(marker, StringComparison.Ordinal));
        Assert.Equal("/v1/responses/compact", sent.Path);
        Assert.Equal(["model", "input", "prompt_cache_key"], JsonNode.Parse(sent.Body)!.AsObject().Select(p => p.Key).ToArray());
    }

    [Fact]
    public async Task Chat_CompactThenContinue_TheSummaryIsReplayedInFrontOfTheHistory()
    {
        await using var gateway = await fixture.StartGatewayAsync(new Dictionary<string, string?> { ["Gateway:CompactionKey"] = "an-e2e-test-compaction-key-0123456789" }, kind: "chat");
        using var client = gateway.CreateClient();
        var marker = Guid.NewGuid().ToString("N");
        var (status, compacted) = await PostAsync(client, Path, $$"""
            {"model":"mock-model","input":[{"role":"user","content":"build it {{marker}}"},{"type":"message","role":"assistant","content":[{"type":"output_text","text":"done"}]}]}
            """);
        Assert.Equal(200, status);
        Assert.Equal("response.compaction", (string?)compacted["object"]);
        var output = compacted["output"]!.AsArray();
        Assert.Equal(["message", "compaction"], output.Select(i => (string)i!["type"]!));
        Assert.Equal($"build it {marker}", (string?)output[0]!["content"]![0]!["text"]);
        var summarising = JsonNode.Parse(fixture.Mock.Requests.Single(r => r.Body.Contains(marker, StringComparison.Ordinal)).Body)!;
        Assert.Contains("compacting this conversation", (string?)summarising["messages"]!.AsArray()[^1]!["content"], StringComparison.Ordinal);

        // Codex's next request: the compacted window, then a new message.
        var marker2 = Guid.NewGuid().ToString("N");
        var next = new JsonArray(output.Select(i => i!.DeepClone()).Append(JsonNode.Parse($$"""{"role":"user","content":"next {{marker2}}"}""")).ToArray());
        (status, var response) = await PostAsync(client, "/v1/responses", new JsonObject { ["model"] = "mock-model", ["input"] = next }.ToJsonString());
        Assert.Equal(200, status);
        Assert.Equal("completed", (string?)response["status"]);
        var sent = JsonNode.Parse(fixture.Mock.Requests.Single(r => r.Body.Contains(marker2, StringComparison.Ordinal)).Body)!["messages"]!.AsArray();
        Assert.Equal(3, sent.Count);
        Assert.Equal("system", (string?)sent[0]!["role"]);
        Assert.StartsWith("Summary of the earlier part of this conversation", (string?)sent[0]!["content"]);
        Assert.Contains("Mock reply to:", (string?)sent[0]!["content"], StringComparison.Ordinal); // the mock's "summary"
        Assert.Equal($"build it {marker}", (string?)sent[1]!["content"]);
        Assert.Equal($"next {marker2}", (string?)sent[2]!["content"]);
    }

    [Fact]
    public async Task Chat_TamperedOrForeignCompaction_Is400_NothingSentNothingStored()
    {
        await using var gateway = await fixture.StartGatewayAsync(new Dictionary<string, string?> { ["Gateway:CompactionKey"] = "an-e2e-test-compaction-key-0123456789" }, kind: "chat");
        using var client = gateway.CreateClient();
        var (_, compacted) = await PostAsync(client, Path, """{"model":"mock-model","input":"hello"}""");
        var content = (string)compacted["output"]![1]!["encrypted_content"]!;
        var tampered = content[..^2] + (content[^2] == 'A' ? "B" : "A") + content[^1];
        await using var other = await fixture.StartGatewayAsync(new Dictionary<string, string?> { ["Gateway:CompactionKey"] = "another-gateways-compaction-key-987654" }, kind: "chat");
        using var otherClient = other.CreateClient();

        foreach (var (c, value) in new[] { (client, tampered), (client, "gAAAAABopenai-ciphertext"), (otherClient, content) })
        {
            var marker = Guid.NewGuid().ToString("N");
            var (status, body) = await PostAsync(c, "/v1/responses", $$"""
                {"model":"mock-model","stream":true,"input":[{"role":"user","content":"hello {{marker}}"},{"type":"compaction","encrypted_content":"{{value}}"}]}
                """);
            Assert.Equal(400, status);
            AssertError(body, "input[1].encrypted_content", "invalid_encrypted_content");
            Assert.DoesNotContain(fixture.Mock.Requests, r => r.Body.Contains(marker, StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task Chat_CompactionTriggerInAChain_TheNextTurnSendsTheSummaryInsteadOfTheOldTurns()
    {
        await using var gateway = await fixture.StartGatewayAsync(kind: "chat");
        using var client = gateway.CreateClient();
        var marker = Guid.NewGuid().ToString("N");
        var (_, first) = await PostAsync(client, "/v1/responses", $$"""{"model":"mock-model","input":"first {{marker}}"}""");
        var (status, compacted) = await PostAsync(client, "/v1/responses", $$"""{"model":"mock-model","previous_response_id":"{{first["id"]}}","input":[{"type":"compaction_trigger"}]}""");
        Assert.Equal(200, status);
        Assert.Equal("completed", (string?)compacted["status"]);
        Assert.Equal("compaction", (string?)compacted["output"]!.AsArray().Single()!["type"]);

        var marker2 = Guid.NewGuid().ToString("N");
        (status, var third) = await PostAsync(client, "/v1/responses", $$"""{"model":"mock-model","previous_response_id":"{{compacted["id"]}}","input":"third {{marker2}}"}""");
        Assert.Equal(200, status);
        var sent = JsonNode.Parse(fixture.Mock.Requests.Single(r => r.Body.Contains(marker2, StringComparison.Ordinal)).Body)!["messages"]!.AsArray();
        Assert.Equal(["system", "user", "user"], sent.Select(m => (string)m!["role"]!));
        Assert.StartsWith("Summary of the earlier part of this conversation", (string?)sent[0]!["content"]);
        Assert.Equal($"first {marker}", (string?)sent[1]!["content"]);
        Assert.Equal($"third {marker2}", (string?)sent[2]!["content"]);
        Assert.DoesNotContain(sent, m => (string?)m!["role"] == "assistant"); // the first answer is in the summary now

        // The stored input keeps the trigger; input_items lists it.
        using var items = await client.GetAsync($"/v1/responses/{compacted["id"]}/input_items");
        var list = await ReadObjectAsync(items);
        Assert.Equal("compaction_trigger", (string?)list["data"]![0]!["type"]);
    }

    [Theory]
    [InlineData("responses")]
    [InlineData("chat")]
    public async Task PreviousResponseId_TheChainIsCompacted(string kind)
    {
        await using var gateway = await fixture.StartGatewayAsync(kind: kind);
        using var client = gateway.CreateClient();
        var marker = Guid.NewGuid().ToString("N");
        var (_, first) = await PostAsync(client, "/v1/responses", $$"""{"model":"mock-model","input":"first {{marker}}"}""");
        var (status, compacted) = await PostAsync(client, Path, $$"""{"model":"mock-model","previous_response_id":"{{first["id"]}}","input":"second"}""");
        Assert.Equal(200, status);
        var users = compacted["output"]!.AsArray().Where(i => (string?)i!["role"] == "user").Select(i => (string)i!["content"]![0]!["text"]!).ToList();
        Assert.Equal([$"first {marker}", "second"], users);
    }

    [Theory]
    [InlineData("responses")]
    [InlineData("chat")]
    public async Task BadInput_IsTheCreateEndpointsError(string kind)
    {
        await using var gateway = await fixture.StartGatewayAsync(kind: kind);
        using var client = gateway.CreateClient();
        var (status, body) = await PostAsync(client, Path, "{\"model\":");
        Assert.Equal(400, status);
        AssertError(body, null, null);
        (status, body) = await PostAsync(client, Path, """{"input":"x"}""");
        Assert.Equal(400, status);
        AssertError(body, "model", "missing_required_parameter");
        (status, body) = await PostAsync(client, Path, """{"model":"mock-model","input":[{"type":"message","role":"robot","content":"x"}]}""");
        Assert.Equal(400, status);
        AssertError(body, "input[0].role", "invalid_value");
        (status, body) = await PostAsync(client, Path, """{"model":"mock-model","input":"x","previous_response_id":"resp_doesnotexist0000000000000000"}""");
        Assert.Equal(400, status);
        AssertError(body, "previous_response_id", "previous_response_not_found");
        (status, body) = await PostAsync(client, Path, """{"model":"mock-error-503","input":"x"}""");
        Assert.Equal(502, status);
        using var anonymous = gateway.CreateClient(key: null);
        using var unauthorized = await anonymous.PostAsync(Path, Json("""{"model":"mock-model","input":"x"}"""));
        Assert.Equal(HttpStatusCode.Unauthorized, unauthorized.StatusCode);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Chat_DroppedHostedTools_AreNamedInTheResponseHeader(bool stream)
    {
        await using var gateway = await fixture.StartGatewayAsync(kind: "chat");
        using var client = gateway.CreateClient();
        using var response = await client.PostAsync("/v1/responses", Json($$"""
            {"model":"mock-model","input":"hi","stream":{{(stream ? "true" : "false")}},"tools":[{"type":"web_search","external_web_access":false},{"type":"image_generation"},{"type":"function","name":"f"}]}
            """));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("web_search, image_generation", string.Join(",", response.Headers.GetValues("x-gateway-dropped-tools")));
        await response.Content.ReadAsStringAsync();

        using var plain = await client.PostAsync("/v1/responses", Json("""{"model":"mock-model","input":"hi","tools":[{"type":"function","name":"f"}]}"""));
        Assert.False(plain.Headers.Contains("x-gateway-dropped-tools"));

        await using var rejecting = await fixture.StartGatewayAsync(new Dictionary<string, string?> { ["Upstreams:mock:ChatHostedTools"] = "reject" }, kind: "chat");
        using var rejectingClient = rejecting.CreateClient();
        var (status, body) = await PostAsync(rejectingClient, "/v1/responses", """{"model":"mock-model","input":"hi","tools":[{"type":"web_search"}]}""");
        Assert.Equal(400, status);
        AssertError(body, "tools[0]", "unsupported_tool");
    }

    [Fact]
    public async Task OfficialDotNetSdk_CompactsThroughTheGateway()
    {
        await using var gateway = await fixture.StartGatewayAsync(kind: "chat");
        var sdk = new OpenAI.Responses.ResponsesClient(new ApiKeyCredential(GatewayHost.KeyA),
            new OpenAI.Responses.ResponsesClientOptions { Endpoint = new Uri(gateway.BaseUrl, "/v1") });
        var result = await sdk.CompactResponseAsync(BinaryContent.Create(BinaryData.FromString("""{"model":"mock-model","input":"hello"}""")), "application/json");
        var body = JsonNode.Parse(result.GetRawResponse().Content.ToString())!;
        Assert.Equal("response.compaction", (string?)body["object"]);
        Assert.Equal("compaction", (string?)body["output"]!.AsArray()[^1]!["type"]);
    }
}
