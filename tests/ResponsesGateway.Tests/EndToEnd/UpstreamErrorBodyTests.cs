using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.AspNetCore.Http;
using ResponsesGateway.Tests.Infrastructure;
using ResponsesGateway.Tests.Reliability;
using ResponsesGateway.Tests.Security;
using static ResponsesGateway.Tests.Infrastructure.GatewayHttp;

namespace ResponsesGateway.Tests.EndToEnd;

/// <summary>
/// An upstream's 4xx body reaches the client as its status, <c>type</c>, <c>param</c> and <c>code</c> with the gateway's
/// own message: the mock's 429 names an organisation and a quota ("org-mock … Limit 3, Used 3") as OpenAI's does. Only
/// an upstream marked <c>PassErrorMessages</c> has its message passed on; the whole body is in the Debug log.
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class UpstreamErrorBodyTests(GatewayFixture fixture)
{
    // Words of the mock's error messages (src/ResponsesGateway.MockUpstream/MockErrors.cs) that must not reach a client.
    private static readonly string[] UpstreamWords = ["org-mock", "Limit 3", "Used 3", "Mock upstream", "behaviour", "platform.openai.com"];

    public static TheoryData<string, int, string, string?, string, bool> Behaviours => new()
    {
        // model, status, type, code, words of the gateway's message, stream
        { "mock-error-400", 400, "invalid_request_error", "invalid_request", "rejected the request as invalid", false },
        { "mock-error-400", 400, "invalid_request_error", "invalid_request", "rejected the request as invalid", true },
        { "mock-error-404", 404, "invalid_request_error", "model_not_found", "does not have the model", false },
        { "mock-error-408", 408, "invalid_request_error", "timeout", "timed out", false },
        { "mock-error-422", 422, "invalid_request_error", null, "could not process", false },
        { "mock-error-429", 429, "requests", "rate_limit_exceeded", "Please try again in 1s.", false },
        { "mock-error-429", 429, "requests", "rate_limit_exceeded", "Please try again in 1s.", true },
    };

    [Theory]
    [MemberData(nameof(Behaviours))]
    public async Task Upstream4xx_KeepsStatusTypeAndCode_InTheGatewaysWords(string model, int status, string type, string? code, string words, bool stream)
    {
        var logs = new CapturingLoggerProvider();
        await using var gateway = await StartAsync(logs, passErrorMessages: false);
        using var client = gateway.CreateClient();

        using var response = await client.PostAsync("/v1/responses", Json($$"""{"model":"{{model}}","input":"x","stream":{{(stream ? "true" : "false")}}}"""));
        var body = await ReadObjectAsync(response);

        Assert.Equal(status, (int)response.StatusCode);
        AssertError(body, null, code, type);
        var message = (string)body["error"]!["message"]!;
        Assert.Contains(words, message, StringComparison.Ordinal);
        Assert.Contains($"HTTP {status}", message, StringComparison.Ordinal);
        foreach (var word in UpstreamWords)
        {
            Assert.DoesNotContain(word, body.ToJsonString(), StringComparison.Ordinal);
        }
        if (status == 429)
        {
            Assert.Equal(TimeSpan.FromSeconds(1), response.Headers.RetryAfter?.Delta);
        }
        // The operator still has the upstream's own words, at Debug.
        Assert.Contains(logs.Entries, e => e.StartsWith("Debug ", StringComparison.Ordinal) && e.Contains($"answered {status}", StringComparison.Ordinal)
            && e.Contains("\"error\"", StringComparison.Ordinal));
        Assert.DoesNotContain(logs.Entries, e => !e.StartsWith("Debug ", StringComparison.Ordinal) && e.Contains("\"error\":{", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Upstream4xx_ParamIsKept()
    {
        await using var upstream = await AnsweringAsync(400, """{"error":{"message":"Invalid 'input[0]' for org-secret","type":"invalid_request_error","param":"input[0]","code":"invalid_value"}}""");
        await using var gateway = await GatewayHost.StartAsync(fixture.Azurite.ConnectionString, GatewayHost.Upstream("scripted", "responses", upstream.BaseUrl));
        using var client = gateway.CreateClient();

        var (status, body) = await PostAsync(client, "/v1/responses", """{"model":"m","input":"x"}""");

        Assert.Equal(400, status);
        AssertError(body, "input[0]", "invalid_value");
        Assert.DoesNotContain("org-secret", body.ToJsonString(), StringComparison.Ordinal);
        Assert.Contains("'input[0]'", (string?)body["error"]!["message"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Upstream4xx_WithPassErrorMessages_ForwardsTheUpstreamsMessage()
    {
        await using var gateway = await StartAsync(new CapturingLoggerProvider(), passErrorMessages: true);
        using var client = gateway.CreateClient();

        var (status, body) = await PostAsync(client, "/v1/responses", """{"model":"mock-error-429","input":"x"}""");

        Assert.Equal(429, status);
        AssertError(body, null, "rate_limit_exceeded", "requests");
        Assert.Contains("org-mock", (string?)body["error"]!["message"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Upstream4xx_NotJson_IsTheGatewaysEnvelope()
    {
        await using var upstream = await AnsweringAsync(409, "<html>conflict in project proj_secret</html>");
        await using var gateway = await GatewayHost.StartAsync(fixture.Azurite.ConnectionString, GatewayHost.Upstream("scripted", "responses", upstream.BaseUrl),
            new Dictionary<string, string?> { ["Upstreams:scripted:PassErrorMessages"] = "true" });
        using var client = gateway.CreateClient();

        var (status, body) = await PostAsync(client, "/v1/responses", """{"model":"m","input":"x"}""");

        Assert.Equal(409, status);
        AssertError(body, null, null);
        Assert.DoesNotContain("proj_secret", body.ToJsonString(), StringComparison.Ordinal);
    }

    private async Task<ScriptedUpstream> AnsweringAsync(int status, string body)
    {
        var upstream = await ScriptedUpstream.StartAsync(fixture.Mock.BaseUrl);
        upstream.Default = async context =>
        {
            context.Response.StatusCode = status;
            context.Response.ContentType = body.StartsWith('{') ? "application/json" : "text/html";
            await context.Response.WriteAsync(body);
        };
        return upstream;
    }

    private Task<GatewayHost> StartAsync(CapturingLoggerProvider logs, bool passErrorMessages) =>
        GatewayHost.StartAsync(fixture.Azurite.ConnectionString, GatewayHost.Upstream("mock", "responses", fixture.Mock.BaseUrl),
            new Dictionary<string, string?>
            {
                ["Gateway:UpstreamMaxRetries"] = "0", // 408 and 429 would be retried first
                ["Upstreams:mock:PassErrorMessages"] = passErrorMessages ? "true" : "false",
                ["Logging:LogLevel:Default"] = "Debug",
                ["Logging:Console:LogLevel:Default"] = "None",
            },
            services => services.AddSingleton<ILoggerProvider>(logs));
}
