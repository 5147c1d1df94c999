using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ResponsesGateway.MockUpstream;
using ResponsesGateway.Tests.Infrastructure;
using Xunit.Abstractions;
using static ResponsesGateway.Tests.Infrastructure.GatewayHttp;

namespace ResponsesGateway.Tests.Security;

/// <summary>
/// Design invariant 8 for logs: a full gateway run at Trace level through every path (create JSON and SSE, chains,
/// GET, replay, input_items, DELETE, bad input, bad and foreign keys, upstream failures, an upstream that refuses the
/// gateway's key) and not one log message, structured value, scope or exception text contains a client or upstream key.
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class SecretLeakTests(GatewayFixture fixture, ITestOutputHelper output)
{
    private const string UpstreamKey = "sk-upstream-7d2f9c41e8b3a6d5";
    private const string WrongUpstreamKey = "sk-upstream-wrong-3a8e1f6c0b9d";
    private const string WrongClientKey = "sk-client-wrong-5d1e9b7a2c4f";

    [Fact]
    public async Task FullRun_NoKeyInAnyLogMessageScopeOrException()
    {
        await using var mock = await MockUpstreamServer.StartAsync(new MockUpstreamOptions { RequiredApiKey = UpstreamKey });
        var logs = new CapturingLoggerProvider();
        var upstreams = GatewayHost.Upstream("mock", "responses", mock.BaseUrl, apiKey: UpstreamKey);
        foreach (var (key, value) in GatewayHost.Upstream("badkey", "responses", mock.BaseUrl, models: "wrongkey-*", apiKey: WrongUpstreamKey))
        {
            upstreams[key] = value;
        }
        foreach (var (key, value) in GatewayHost.Upstream("chat", "chat", mock.BaseUrl, models: "chat-*", apiKey: UpstreamKey))
        {
            upstreams[key] = value;
        }
        var settings = new Dictionary<string, string?>
        {
            ["Logging:LogLevel:Default"] = "Trace",
            ["Logging:Console:LogLevel:Default"] = "None", // everything goes to the capture, nothing floods the console
        };
        await using (var gateway = await GatewayHost.StartAsync(fixture.Azurite.ConnectionString, upstreams, settings, services => services.AddSingleton<ILoggerProvider>(logs)))
        {
            await ExerciseEveryPathAsync(gateway);
        }

        var entries = logs.Entries.ToList();
        output.WriteLine($"{entries.Count} log entries captured");
        Assert.True(entries.Count > 50, $"only {entries.Count} log entries: is the capture wired?");
        Assert.Contains(entries, e => e.Contains("ResponsesGateway.", StringComparison.Ordinal));
        Assert.Contains(entries, e => e.Contains("upstream", StringComparison.OrdinalIgnoreCase)); // the failures were logged
        foreach (var secret in new[] { GatewayHost.KeyA, GatewayHost.KeyB, WrongClientKey, UpstreamKey, WrongUpstreamKey })
        {
            var leaks = entries.Where(e => e.Contains(secret, StringComparison.Ordinal)).ToList();
            Assert.True(leaks.Count == 0, $"'{secret}' appears in {leaks.Count} log entries, e.g.:\n{string.Join("\n", leaks.Take(3))}");
        }
    }

    private static async Task ExerciseEveryPathAsync(GatewayHost gateway)
    {
        using var a = gateway.CreateClient(GatewayHost.KeyA);
        using var b = gateway.CreateClient(GatewayHost.KeyB);
        using var wrong = gateway.CreateClient(WrongClientKey);
        using var none = gateway.CreateClient(key: null);
        // The client pastes its key into the input: bodies must not be logged either.
        var leakyInput = $"my key is {GatewayHost.KeyA} and theirs {UpstreamKey}";

        var (status, first) = await PostAsync(a, "/v1/responses", $$"""{"model":"mock-model","input":"{{leakyInput}}"}""");
        Assert.Equal(200, status);
        var id = (string)first["id"]!;
        var streamed = await StreamAsync(a, $$"""{"model":"mock-reasoning","input":"{{leakyInput}}","stream":true,"previous_response_id":"{{id}}"}""");
        var child = (string)streamed.Events[0].Json["response"]!["id"]!;
        Assert.Equal(200, (await PostAsync(a, "/v1/responses", $$"""{"model":"mock-tools","input":"x","previous_response_id":"{{child}}","tools":[{"type":"function","name":"f"}]}""")).Status);
        Assert.Equal(200, (await PostAsync(a, "/v1/responses", $$"""{"model":"chat-model","input":"{{leakyInput}}"}""")).Status);
        await StreamAsync(a, """{"model":"chat-reasoning","input":"via chat","stream":true}""");

        foreach (var path in new[] { $"/v1/responses/{child}", $"/v1/responses/{child}?stream=true", $"/v1/responses/{child}/input_items", "/v1/models" })
        {
            using var ok = await a.GetAsync(path);
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }
        using (var foreign = await b.GetAsync($"/v1/responses/{child}"))
        {
            Assert.Equal(HttpStatusCode.NotFound, foreign.StatusCode);
        }
        using (var deleted = await a.DeleteAsync($"/v1/responses/{id}"))
        {
            Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
        }

        // Errors: bad bodies, bad and missing keys, a foreign chain, and every kind of upstream failure.
        foreach (var (client, body) in new[]
        {
            (a, "{not json " + GatewayHost.KeyA), (a, """{"model":"mock-model","input":42}"""), (wrong, """{"model":"mock-model","input":"hi"}"""),
            (none, """{"model":"mock-model","input":"hi"}"""), (b, $$"""{"model":"mock-model","input":"hi","previous_response_id":"{{child}}"}"""),
            (a, """{"model":"mock-error-503","input":"hi"}"""), (a, """{"model":"mock-error-401","input":"hi"}"""), (a, """{"model":"mock-error-429","input":"hi"}"""),
            (a, """{"model":"wrongkey-model","input":"hi"}"""), (a, """{"model":"wrongkey-model","input":"hi","stream":true}"""),
            (a, """{"model":"mock-disconnect-3","input":"hi","stream":true}"""), (a, """{"model":"mock-inband-error","input":"hi","stream":true}"""),
            (a, """{"model":"mock-malformed-sse","input":"hi","stream":true}"""), (a, """{"model":"mock-truncated-json","input":"hi"}"""),
            (a, """{"model":"chat-error-500","input":"hi"}"""), (a, """{"model":"chat-inband-error","input":"hi","stream":true}"""),
        })
        {
            using var response = await client.PostAsync("/v1/responses", Json(body));
            var text = await response.Content.ReadAsStringAsync();
            Assert.True((int)response.StatusCode is >= 200 and < 600, text);
            foreach (var secret in new[] { GatewayHost.KeyA, GatewayHost.KeyB, WrongClientKey, UpstreamKey, WrongUpstreamKey })
            {
                Assert.DoesNotContain(secret, text, StringComparison.Ordinal); // nor in what the client gets back
            }
        }
    }
}
