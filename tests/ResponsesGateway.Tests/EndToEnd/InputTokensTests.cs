using System.ClientModel;
using System.Net;
using System.Text.Json.Nodes;
using ResponsesGateway.Tests.Infrastructure;
using static ResponsesGateway.Tests.Infrastructure.GatewayHttp;

namespace ResponsesGateway.Tests.EndToEnd;

/// <summary>
/// <c>POST /v1/responses/input_tokens</c> over real HTTP: passed through to a native upstream (create-only fields left
/// out), estimated from the translated chat body on a chat upstream (no upstream call), the chain expanded first, and
/// the create body's validation and errors.
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class InputTokensTests(GatewayFixture fixture)
{
    private const string Path = "/v1/responses/input_tokens";

    private readonly HttpClient _client = fixture.Gateway.CreateClient();

    [Fact]
    public async Task Native_IsPassedThrough_WithoutCreateOnlyFields()
    {
        var marker = Guid.NewGuid().ToString("N");
        var (status, body) = await PostAsync(_client, Path, $$"""{"model":"mock-model","input":"Tell me a joke {{marker}}","store":true,"stream":true,"metadata":{"a":"b"},"instructions":"be brief"}""");

        Assert.Equal(200, status);
        Assert.Equal(["object", "input_tokens"], body.Select(p => p.Key).ToArray());
        Assert.Equal("response.input_tokens", (string?)body["object"]);
        Assert.True((int)body["input_tokens"]! > 0);
        var sent = fixture.Mock.Requests.Single(r => r.Body.Contains(marker, StringComparison.Ordinal));
        Assert.Equal("/v1/responses/input_tokens", sent.Path);
        var sentBody = JsonNode.Parse(sent.Body)!.AsObject();
        Assert.Equal(["model", "input", "instructions"], sentBody.Select(p => p.Key).ToArray());
    }

    [Fact]
    public async Task Chat_IsEstimatedLocally_GrowsWithTheInput_AndCountsTools()
    {
        await using var chat = await fixture.StartGatewayAsync(kind: "chat");
        using var client = chat.CreateClient();
        var marker = Guid.NewGuid().ToString("N");
        var requestsBefore = fixture.Mock.Requests.Count(r => r.Body.Contains(marker, StringComparison.Ordinal));

        var (status, small) = await PostAsync(client, Path, $$"""{"model":"mock-model","input":"Tell me a joke. {{marker}}"}""");
        Assert.Equal(200, status);
        Assert.Equal(["object", "input_tokens"], small.Select(p => p.Key).ToArray());
        var few = (int)small["input_tokens"]!;
        Assert.InRange(few, 10, 40); // 7 words and a 32-hex marker, plus message framing

        var long_ = string.Join(' ', Enumerable.Repeat("word", 500));
        var (_, large) = await PostAsync(client, Path, $$"""{"model":"mock-model","input":"{{long_}} {{marker}}"}""");
        Assert.InRange((int)large["input_tokens"]!, few + 450, few + 600);

        var (_, withTools) = await PostAsync(client, Path, $$"""
            {"model":"mock-model","input":"Tell me a joke. {{marker}}","tools":[{"type":"function","name":"get_weather","description":"Current weather for a city.","parameters":{"type":"object","properties":{"city":{"type":"string"} } } }]}
            """);
        Assert.True((int)withTools["input_tokens"]! > few + 10);
        Assert.Equal(requestsBefore, fixture.Mock.Requests.Count(r => r.Body.Contains(marker, StringComparison.Ordinal)));
    }

    [Theory]
    [InlineData("responses")]
    [InlineData("chat")]
    public async Task PreviousResponseId_TheChainIsCountedToo(string kind)
    {
        await using var gateway = await fixture.StartGatewayAsync(kind: kind);
        using var client = gateway.CreateClient();
        var (_, first) = await PostAsync(client, "/v1/responses", """{"model":"mock-model","input":"a first question that is quite long, so that the chain is worth counting"}""");
        var (_, alone) = await PostAsync(client, Path, """{"model":"mock-model","input":"and then?"}""");
        var (status, chained) = await PostAsync(client, Path, $$"""{"model":"mock-model","input":"and then?","previous_response_id":"{{first["id"]}}"}""");
        Assert.Equal(200, status);
        Assert.True((int)chained["input_tokens"]! > (int)alone["input_tokens"]! + 10, $"{chained} vs {alone}");
    }

    [Theory]
    [InlineData("responses")]
    [InlineData("chat")]
    public async Task BadInput_IsTheCreateEndpointsError(string kind)
    {
        await using var gateway = await fixture.StartGatewayAsync(new Dictionary<string, string?> { ["Gateway:MaxRequestBodyBytes"] = "100000" }, kind: kind);
        using var client = gateway.CreateClient();

        var (status, body) = await PostAsync(client, Path, """{"model":"mock-model","input":""");
        Assert.Equal(400, status);
        AssertError(body, null, null);

        (status, body) = await PostAsync(client, Path, """{"input":"x"}""");
        Assert.Equal(400, status);
        AssertError(body, "model", "missing_required_parameter");

        (status, body) = await PostAsync(client, Path, """{"model":"mock-model","input":42}""");
        Assert.Equal(400, status);
        AssertError(body, "input", "invalid_type");

        (status, body) = await PostAsync(client, Path, """{"model":"mock-model","input":"x","previous_response_id":"resp_doesnotexist0000000000000000"}""");
        Assert.Equal(400, status);
        AssertError(body, "previous_response_id", "previous_response_not_found");

        using var anonymous = gateway.CreateClient(key: null);
        using var unauthorized = await anonymous.PostAsync(Path, Json("""{"model":"mock-model","input":"x"}"""));
        Assert.Equal(HttpStatusCode.Unauthorized, unauthorized.StatusCode);

        using var big = await client.PostAsync(Path, Json($$"""{"model":"mock-model","input":"{{new string('x', 200_000)}}"}"""));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, big.StatusCode);
    }

    [Fact]
    public async Task Chat_ForeignTypes_InTools_AreTheChatMappersErrors()
    {
        await using var chat = await fixture.StartGatewayAsync(kind: "chat");
        using var client = chat.CreateClient();
        var (status, body) = await PostAsync(client, Path, """{"model":"mock-model","input":"x","tools":[{"type":"mcp","server_label":"a","server_url":"https://a"}]}""");
        Assert.Equal(400, status);
        AssertError(body, "tools[0]", "unsupported_tool");
    }

    [Theory]
    [InlineData("responses")]
    [InlineData("chat")]
    public async Task OfficialDotNetSdk_ReadsTheCount(string kind)
    {
        await using var gateway = await fixture.StartGatewayAsync(kind: kind);
        var sdk = new OpenAI.Responses.ResponsesClient(new ApiKeyCredential(GatewayHost.KeyA),
            new OpenAI.Responses.ResponsesClientOptions { Endpoint = new Uri(gateway.BaseUrl, "/v1") });
        var result = await sdk.GetInputTokenCountAsync(BinaryContent.Create(BinaryData.FromString("""{"model":"mock-model","input":"Tell me a joke."}""")), "application/json");
        var body = JsonNode.Parse(result.GetRawResponse().Content.ToString())!;
        Assert.Equal("response.input_tokens", (string?)body["object"]);
        Assert.True((int)body["input_tokens"]! > 0);
    }
}
