using System.Text;
using ResponsesGateway.Tests.Infrastructure;
using static ResponsesGateway.Tests.Infrastructure.GatewayHttp;

namespace ResponsesGateway.Tests.EndToEnd;

/// <summary>Every rejected request: a 4xx in the OpenAI envelope naming the field, and nothing sent upstream or stored.</summary>
[Collection(GatewayCollection.Name)]
public sealed class BadInputTests(GatewayFixture fixture)
{
    private readonly HttpClient _client = fixture.Gateway.CreateClient();

    public static TheoryData<string, string?, string?> Cases => new()
    {
        { """{"model":"mock-model","input":"hi""", null, null },
        { "[1,2,3]", null, null },
        { "", null, null },
        { """{"input":"hi"}""", "model", "missing_required_parameter" },
        { """{"model":42,"input":"hi"}""", "model", "invalid_type" },
        { """{"model":"mock-model","input":42}""", "input", "invalid_type" },
        { """{"model":"mock-model","input":[42]}""", "input[0]", "invalid_type" },
        { """{"model":"mock-model","input":[{"role":"robot","content":"x"}]}""", "input[0].role", "invalid_value" },
        { """{"model":"mock-model","input":[{"type":"message","role":"user"}]}""", "input[0].content", "missing_required_parameter" },
        { """{"model":"mock-model","input":[{"type":"function_call_output","output":"x"}]}""", "input[0].call_id", "missing_required_parameter" },
        { """{"model":"mock-model","input":"hi","instructions":["a"]}""", "instructions", "invalid_type" },
        { """{"model":"mock-model","input":"hi","stream":"yes"}""", "stream", "invalid_type" },
        { """{"model":"mock-model","input":"hi","store":1}""", "store", "invalid_type" },
        { """{"model":"mock-model","input":"hi","tools":{}}""", "tools", "invalid_type" },
        { """{"model":"mock-model","input":"hi","tools":[{"type":"function"}]}""", "tools[0].name", "missing_required_parameter" },
        { """{"model":"mock-model","input":"hi","tools":[{"name":"x"}]}""", "tools[0].type", "missing_required_parameter" },
        { """{"model":"mock-model","input":"hi","tool_choice":"sometimes"}""", "tool_choice", "invalid_value" },
        { """{"model":"mock-model","input":"hi","tool_choice":5}""", "tool_choice", "invalid_type" },
        { """{"model":"mock-model","input":"hi","metadata":"x"}""", "metadata", "invalid_type" },
        { """{"model":"mock-model","input":"hi","metadata":{"a":1}}""", "metadata.a", "invalid_type" },
        { """{"model":"mock-model","input":"hi","max_output_tokens":15}""", "max_output_tokens", "integer_below_min_value" },
        { """{"model":"mock-model","input":"hi","max_output_tokens":16.5}""", "max_output_tokens", "invalid_type" },
        { """{"model":"mock-model","input":"hi","temperature":2.5}""", "temperature", "decimal_above_max_value" },
        { """{"model":"mock-model","input":"hi","temperature":-0.1}""", "temperature", "decimal_below_min_value" },
        { """{"model":"mock-model","input":"hi","temperature":"hot"}""", "temperature", "invalid_type" },
        { """{"model":"mock-model","input":"hi","top_p":1.5}""", "top_p", "decimal_above_max_value" },
        { """{"model":"mock-model","input":"hi","text":{"format":{"type":"json_schema"}}}""", "text.format.name", "missing_required_parameter" },
        { """{"model":"mock-model","input":"hi","previous_response_id":"resp/../x"}""", "previous_response_id", "invalid_value" },
        { """{"model":"mock-model","input":"hi","previous_response_id":"resp_x","conversation":"conv_1"}""", "conversation", "mutually_exclusive_parameters" },
        { """{"model":"mock-model","input":"hi","stream_options":{"include_obfuscation":false}}""", "stream_options", "invalid_value" },
        { """{"model":"mock-model","input":"hi","model":"dup"}""", null, null },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Create_BadInput_Returns400NamingTheField(string json, string? param, string? code)
    {
        var before = fixture.Mock.Requests.Count;
        var (status, body) = await PostAsync(_client, "/v1/responses", json);

        Assert.Equal(400, status);
        AssertError(body, param, code);
        Assert.Equal(before, fixture.Mock.Requests.Count);
    }

    [Fact]
    public async Task Create_MetadataTooManyKeys_Returns400()
    {
        var pairs = string.Join(",", Enumerable.Range(0, 17).Select(i => $"\"k{i}\":\"v\""));
        var (status, body) = await PostAsync(_client, "/v1/responses", "{\"model\":\"mock-model\",\"input\":\"hi\",\"metadata\":{" + pairs + "}}");

        Assert.Equal(400, status);
        AssertError(body, "metadata", "object_above_max_properties");
    }

    [Fact]
    public async Task Create_BodyOverLimit_Returns413AndStoresNothing()
    {
        await using var gateway = await fixture.StartGatewayAsync(new Dictionary<string, string?> { ["Gateway:MaxRequestBodyBytes"] = "1024" });
        using var client = gateway.CreateClient();
        var before = fixture.Mock.Requests.Count;

        var (status, body) = await PostAsync(client, "/v1/responses", $$"""{"model":"mock-model","input":"{{new string('x', 2000)}}"}""");

        Assert.Equal(413, status);
        AssertError(body, null, "request_too_large");
        Assert.Equal(before, fixture.Mock.Requests.Count);
    }

    [Fact]
    public async Task Create_DeeplyNestedJson_Returns400()
    {
        var json = "{\"model\":\"mock-model\",\"input\":\"hi\",\"x\":" + new string('[', 10_000) + new string(']', 10_000) + "}";
        var (status, body) = await PostAsync(_client, "/v1/responses", json);

        Assert.Equal(400, status);
        AssertError(body, null, null);
    }

    [Fact]
    public async Task Create_InvalidUtf8_Returns400()
    {
        var bytes = Encoding.UTF8.GetBytes("""{"model":"mock-model","input":"hi """).Concat(new byte[] { 0xC3, 0x28, (byte)'"', (byte)'}' }).ToArray();
        using var response = await _client.PostAsync("/v1/responses", new ByteArrayContent(bytes));

        Assert.Equal(400, (int)response.StatusCode);
        AssertError(await ReadObjectAsync(response), null, null);
    }

    [Theory]
    [InlineData(null, "invalid_api_key")]
    [InlineData("sk-wrong", "invalid_api_key")]
    public async Task Create_WithoutValidKey_Returns401AndNeverEchoesTheKey(string? key, string code)
    {
        using var client = fixture.Gateway.CreateClient(key);
        using var response = await client.PostAsync("/v1/responses", Json("""{"model":"mock-model","input":"hi"}"""));
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal(401, (int)response.StatusCode);
        AssertError(System.Text.Json.Nodes.JsonNode.Parse(text)!.AsObject(), null, code);
        if (key is not null)
        {
            Assert.DoesNotContain(key, text);
        }
    }

    [Fact]
    public async Task UnknownRoute_Returns404Envelope()
    {
        using var response = await _client.GetAsync("/v1/nothing-here");

        Assert.Equal(404, (int)response.StatusCode);
        AssertError(await ReadObjectAsync(response), null, "unknown_url");
    }

    [Theory]
    [InlineData("PUT", "/v1/responses", "POST, GET")]
    [InlineData("DELETE", "/v1/responses", "POST, GET")]
    [InlineData("PATCH", "/v1/responses/resp_abc", "GET, DELETE")]
    [InlineData("POST", "/v1/models", "GET")]
    public async Task WrongMethod_Returns405EnvelopeWithAllow(string method, string path, string allow)
    {
        using var response = await _client.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));

        Assert.Equal(405, (int)response.StatusCode);
        Assert.Equal(allow, string.Join(", ", response.Content.Headers.Allow));
        AssertError(await ReadObjectAsync(response), null, "method_not_allowed");
    }
}
