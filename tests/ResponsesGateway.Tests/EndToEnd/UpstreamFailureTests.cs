using System.Net;
using System.Text.Json.Nodes;
using LoopbackPorts = ResponsesGateway.TestSupport.LoopbackPorts;
using ResponsesGateway.Tests.Infrastructure;
using static ResponsesGateway.Tests.Infrastructure.GatewayHttp;

namespace ResponsesGateway.Tests.EndToEnd;

/// <summary>How upstream failures reach the client (issue: upstream 4xx as is, 401/403 → 502, connect → 502, timeout → 504).</summary>
[Collection(GatewayCollection.Name)]
public sealed class UpstreamFailureTests(GatewayFixture fixture)
{
    private readonly HttpClient _client = fixture.Gateway.CreateClient();

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Upstream400_IsForwardedWithItsEnvelope(bool stream)
    {
        using var response = await _client.PostAsync("/v1/responses", Json($$"""{"model":"mock-error-400","input":"x","stream":{{(stream ? "true" : "false")}}}"""));
        var body = await ReadObjectAsync(response);

        Assert.Equal(400, (int)response.StatusCode);
        Assert.Equal("invalid_request_error", (string?)body["error"]!["type"]);
    }

    [Fact]
    public async Task Upstream429_KeepsStatusAndRetryAfter()
    {
        using var response = await _client.PostAsync("/v1/responses", Json("""{"model":"mock-error-429","input":"x"}"""));

        Assert.Equal(429, (int)response.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(1), response.Headers.RetryAfter?.Delta);
        Assert.NotNull((await ReadObjectAsync(response))["error"]);
    }

    [Theory]
    [InlineData("mock-error-401")]
    [InlineData("mock-error-403")]
    public async Task UpstreamAuthFailure_Is502ThatBlamesTheGateway(string model)
    {
        var (status, body) = await PostAsync(_client, "/v1/responses", $$"""{"model":"{{model}}","input":"x"}""");

        Assert.Equal(502, status);
        AssertError(body, null, "upstream_auth_failed", "server_error");
        Assert.Contains("gateway", (string?)body["error"]!["message"], StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData("mock-error-500")]
    [InlineData("mock-error-503")]
    public async Task Upstream5xx_Is502(string model)
    {
        var (status, body) = await PostAsync(_client, "/v1/responses", $$"""{"model":"{{model}}","input":"x","stream":true}""");

        Assert.Equal(502, status);
        AssertError(body, null, "upstream_error", "server_error");
    }

    [Fact]
    public async Task ConnectionRefused_Is502()
    {
        var port = LoopbackPorts.Free();
        await using var gateway = await fixture.StartGatewayAsync(upstream: new Uri($"http://127.0.0.1:{port}/v1"));
        using var client = gateway.CreateClient();

        var (status, body) = await PostAsync(client, "/v1/responses", """{"model":"mock-model","input":"x"}""");

        Assert.Equal(502, status);
        AssertError(body, null, "upstream_unreachable", "server_error");
    }

    [Fact]
    public async Task SlowFirstByte_Is504()
    {
        await using var gateway = await fixture.StartGatewayAsync(new Dictionary<string, string?> { ["Gateway:UpstreamFirstByteTimeoutSeconds"] = "0.5" });
        using var client = gateway.CreateClient();

        var (status, body) = await PostAsync(client, "/v1/responses", """{"model":"mock-slow-3000","input":"x","stream":true}""");

        Assert.Equal(504, status);
        AssertError(body, null, "upstream_timeout", "server_error");
    }

    [Fact]
    public async Task UpstreamSilence_SendsKeepAliveComments()
    {
        await using var gateway = await fixture.StartGatewayAsync(new Dictionary<string, string?> { ["Gateway:KeepAliveSeconds"] = "0.3" });
        using var client = gateway.CreateClient();

        var stream = await StreamAsync(client, """{"model":"mock-stall-1500","input":"wait for it","stream":true}""");

        Assert.True(stream.Comments >= 2, $"expected keep-alive comments, got {stream.Comments}");
        Assert.Contains(": keep-alive\n\n", stream.Raw);
        EventSequenceChecker.Check(stream);
        Assert.Equal("completed", (string?)stream.Terminal["status"]);
    }

    [Fact]
    public async Task UpstreamBreaksMidStream_EndsWithWellFormedFailedEvent()
    {
        var stream = await StreamAsync(_client, """{"model":"mock-disconnect-5","input":"a b c d e f g h","stream":true}""");

        EventSequenceChecker.Check(stream);
        Assert.Equal("response.failed", stream.Types[^1]);
        Assert.Equal("failed", (string?)stream.Terminal["status"]);
        Assert.NotNull(stream.Terminal["error"]?["message"]);
    }

    [Fact]
    public async Task UpstreamInBandError_EndsWithFailedCarryingItsCode()
    {
        var stream = await StreamAsync(_client, """{"model":"mock-inband-error","input":"x","stream":true}""");

        EventSequenceChecker.Check(stream);
        Assert.Equal("failed", (string?)stream.Terminal["status"]);
        Assert.Equal("server_error", (string?)stream.Terminal["error"]!["code"]);
    }

    [Fact]
    public async Task ClientDisconnect_CancelsTheUpstreamCall()
    {
        var aborted = fixture.Mock.AbortedRequests;
        using (var request = new HttpRequestMessage(HttpMethod.Post, "/v1/responses") { Content = Json("""{"model":"mock-stall-20000","input":"long wait","stream":true}""") })
        using (var response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            await using var body = await response.Content.ReadAsStreamAsync();
            var buffer = new byte[256];
            Assert.True(await body.ReadAsync(buffer) > 0);
        }
        Assert.True(await fixture.Mock.WaitForAbortAsync(TimeSpan.FromSeconds(10)) || fixture.Mock.AbortedRequests > aborted,
            "the mock upstream did not see the gateway abort its call");
    }
}
