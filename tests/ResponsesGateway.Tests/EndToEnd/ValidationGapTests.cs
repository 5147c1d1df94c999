using System.Text.Json.Nodes;
using ResponsesGateway.Tests.Infrastructure;
using static ResponsesGateway.Tests.Infrastructure.GatewayHttp;

namespace ResponsesGateway.Tests.EndToEnd;

/// <summary>
/// Fields the validator used to let through or reject wrongly: each rejected body is a 400 naming the field with
/// nothing sent upstream; each accepted one reaches the upstream unchanged; ids echoed in errors are clipped.
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class ValidationGapTests(GatewayFixture fixture)
{
    private readonly HttpClient _client = fixture.Gateway.CreateClient();

    public static TheoryData<string, string, string> Rejected => new()
    {
        { "\"service_tier\":42", "service_tier", "invalid_type" },
        { "\"service_tier\":{\"tier\":\"flex\"}", "service_tier", "invalid_type" },
        { "\"truncation\":true", "truncation", "invalid_type" },
        { "\"truncation\":\"sometimes\"", "truncation", "invalid_value" },
        { "\"prompt\":\"pmpt_123\"", "prompt", "invalid_type" },
        { "\"prompt\":[{\"id\":\"pmpt_123\"}]", "prompt", "invalid_type" },
        { "\"prompt_cache_retention\":24", "prompt_cache_retention", "invalid_type" },
        { "\"safety_identifier\":\"" + new string('s', 129) + "\"", "safety_identifier", "string_above_max_length" },
    };

    [Theory]
    [MemberData(nameof(Rejected))]
    public async Task WrongTypeOrValue_Is400NamingTheField(string field, string param, string code)
    {
        var before = fixture.Mock.Requests.Count;
        var (status, body) = await PostAsync(_client, "/v1/responses", "{\"model\":\"mock-model\",\"input\":\"hi\"," + field + "}");

        Assert.Equal(400, status);
        AssertError(body, param, code);
        Assert.Equal(before, fixture.Mock.Requests.Count);
    }

    public static TheoryData<string, string> Accepted => new()
    {
        { "safety_identifier", "\"" + new string('s', 128) + "\"" },
        { "service_tier", "\"flex\"" },
        { "truncation", "\"auto\"" },
        { "truncation", "\"disabled\"" },
        { "prompt_cache_retention", "\"24h\"" },
        { "prompt", "{\"id\":\"pmpt_123\",\"version\":\"2\",\"variables\":{\"city\":\"Paris\"}}" },
    };

    [Theory]
    [MemberData(nameof(Accepted))]
    public async Task ValidValue_ReachesTheNativeUpstreamUnchanged(string field, string json)
    {
        var (status, body) = await PostAsync(_client, "/v1/responses", "{\"model\":\"mock-model\",\"input\":\"hi\",\"store\":false,\"" + field + "\":" + json + "}");

        Assert.True(status == 200, body.ToJsonString());
        var sent = JsonNode.Parse(fixture.Mock.Requests.Last(r => r.Path.EndsWith("/responses", StringComparison.Ordinal)).Body)!.AsObject();
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(json), sent[field]), sent[field]?.ToJsonString());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Prompt_OnAChatUpstream_Is400UnsupportedParameter(bool stream)
    {
        await using var gateway = await fixture.StartGatewayAsync(kind: "chat");
        using var client = gateway.CreateClient();
        var before = fixture.Mock.Requests.Count;

        var (status, body) = await PostAsync(client, "/v1/responses",
            "{\"model\":\"mock-model\",\"input\":\"hi\",\"stream\":" + (stream ? "true" : "false") + ",\"prompt\":{\"id\":\"pmpt_123\"}}");

        Assert.Equal(400, status);
        AssertError(body, "prompt", "unsupported_parameter");
        Assert.Equal(before, fixture.Mock.Requests.Count);
    }

    [Theory]
    [InlineData("GET", "/v1/responses/{0}")]
    [InlineData("DELETE", "/v1/responses/{0}")]
    [InlineData("GET", "/v1/responses/{0}/input_items")]
    public async Task LongUnknownId_IsClippedInThe404Message(string method, string pathFormat)
    {
        var id = "resp_" + new string('a', 6000);
        using var request = new HttpRequestMessage(new HttpMethod(method), string.Format(System.Globalization.CultureInfo.InvariantCulture, pathFormat, id));
        using var response = await _client.SendAsync(request);
        var body = await ReadObjectAsync(response);

        Assert.Equal(404, (int)response.StatusCode);
        AssertError(body, null, null);
        var message = (string)body["error"]!["message"]!;
        Assert.Contains("resp_aaaa", message, StringComparison.Ordinal);
        Assert.True(message.Length < 120, message);
    }

    [Fact]
    public async Task UnknownIdOfTheGatewaysShape_IsEchoedWhole()
    {
        var id = "resp_" + new string('b', 64); // 69 characters, as the gateway mints them
        using var response = await _client.GetAsync($"/v1/responses/{id}");
        var body = await ReadObjectAsync(response);

        Assert.Equal(404, (int)response.StatusCode);
        Assert.Equal($"Response with id '{id}' not found.", (string?)body["error"]!["message"]);
    }

    [Fact]
    public async Task LongUnknownPreviousResponseId_IsClippedInThe400Message()
    {
        var id = "resp_" + new string('a', 250);
        var (status, body) = await PostAsync(_client, "/v1/responses", $$"""{"model":"mock-model","input":"hi","previous_response_id":"{{id}}"}""");

        Assert.Equal(400, status);
        AssertError(body, "previous_response_id", "previous_response_not_found");
        Assert.True(((string)body["error"]!["message"]!).Length < 120, (string?)body["error"]!["message"]);
    }

    [Fact]
    public async Task LongUnknownCursor_IsClippedInThe400Message()
    {
        var (status, created) = await PostAsync(_client, "/v1/responses", """{"model":"mock-model","input":"hi"}""");
        Assert.Equal(200, status);
        using var response = await _client.GetAsync($"/v1/responses/{(string)created["id"]!}/input_items?after=msg_{new string('b', 3000)}");
        var body = await ReadObjectAsync(response);

        Assert.Equal(400, (int)response.StatusCode);
        AssertError(body, "after", null);
        Assert.True(((string)body["error"]!["message"]!).Length < 150, (string?)body["error"]!["message"]);
    }
}
