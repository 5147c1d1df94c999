using System.Diagnostics;
using System.Text.Json.Nodes;
using ResponsesGateway.Tests.Infrastructure;
using static ResponsesGateway.Tests.Infrastructure.GatewayHttp;
using static ResponsesGateway.Tests.Reliability.FaultGateway;

namespace ResponsesGateway.Tests.Reliability;

/// <summary>
/// Every mock misbehaviour, through both upstream kinds, JSON and SSE: each request ends within its time limits, with
/// either an error envelope or a well-formed answer. Nothing hangs, nothing is an HTML page or a cut connection.
/// </summary>
[Collection(UpstreamFaultCollection.Name)]
public sealed class NoHangTests(GatewayFixture fixture)
{
    private static readonly string[] Models =
    [
        "mock-model", "mock-error-500", "mock-error-503", "mock-error-429", "mock-error-401", "mock-error-400", "mock-slow-60000",
        "mock-stall-60000", "mock-disconnect-0", "mock-disconnect-3", "mock-malformed-sse", "mock-truncated-json", "mock-oversized-event",
        "mock-inband-error", "mock-length", "mock-content-filter", "mock-tools", "mock-parallel-tools", "mock-text-and-tools",
        "mock-reasoning", "mock-think-tags", "mock-echo",
    ];

    // Each limit short, so the longest path (a JSON body that never comes) ends at the total limit.
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(2.5);

    [Theory]
    [InlineData("responses", false)]
    [InlineData("responses", true)]
    [InlineData("chat", false)]
    [InlineData("chat", true)]
    public async Task NoMockBehaviour_HangsARequest(string kind, bool stream)
    {
        var settings = FastRetries(retries: 1)
            .With("Gateway:UpstreamMaxRetryDelaySeconds", "0.5") // Retry-After: 1 is then answered at once
            .With("Gateway:UpstreamFirstByteTimeoutSeconds", "1")
            .With("Gateway:UpstreamIdleTimeoutSeconds", "1")
            .With("Gateway:RequestTimeoutSeconds", Limit.TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await using var gateway = await fixture.StartGatewayAsync(settings, kind);
        using var client = Client(gateway);

        var outcomes = await Task.WhenAll(Models.Select(model => RunAsync(client, model, stream)));

        var problems = outcomes.Where(o => o.Problem is not null).Select(o => $"{o.Model}: {o.Problem}").ToList();
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    private static async Task<(string Model, string? Problem)> RunAsync(HttpClient client, string model, bool stream)
    {
        var watch = Stopwatch.StartNew();
        try
        {
            using var response = await client.PostAsync("/v1/responses", Json($$"""{"model":"{{model}}","input":"a b c d e","stream":{{(stream ? "true" : "false")}}}"""));
            var text = await response.Content.ReadAsStringAsync();
            // The total limit, plus one retry delay and the time to write the failure.
            if (watch.Elapsed > Limit + TimeSpan.FromSeconds(2))
            {
                return (model, $"took {watch.Elapsed.TotalSeconds:0.0} s");
            }
            var status = (int)response.StatusCode;
            var media = response.Content.Headers.ContentType?.MediaType;
            if (status != 200)
            {
                var error = media == "application/json" ? JsonNode.Parse(text)?["error"] as JsonObject : null;
                return error is not null && status is >= 400 and < 600 && error.ContainsKey("code") ? (model, null) : (model, $"HTTP {status} {media}: {text}");
            }
            if (stream)
            {
                var events = new SseStream(text);
                EventSequenceChecker.Check(events);
                return (model, null);
            }
            var body = JsonNode.Parse(text)!.AsObject();
            return body["status"] is not null && ((string?)body["id"])!.StartsWith("resp_", StringComparison.Ordinal) ? (model, null) : (model, $"200 without a Response: {text}");
        }
        catch (Exception e)
        {
            return (model, $"{e.GetType().Name}: {e.Message} after {watch.Elapsed.TotalSeconds:0.0} s");
        }
    }
}
