using System.Net;
using System.Text.Json.Nodes;
using ResponsesGateway.TestSupport;
using ResponsesGateway.Tests.Infrastructure;
using static ResponsesGateway.Tests.Infrastructure.GatewayHttp;

namespace ResponsesGateway.Tests.Conformance;

/// <summary>
/// Issue 4's conformance suite over real HTTP, once per upstream kind (<see cref="NativeConformanceTests"/>,
/// <see cref="ChatConformanceTests"/>). Each scenario of <see cref="Scenarios"/> runs on three paths:
/// 1. JSON (<c>stream:false</c>): OpenAPI-valid Response, parsed by the official .NET SDK;
/// "Valid" is against both OpenAI's OpenAPI document (<see cref="SchemaValidator"/>) and the Open Responses one
/// (<see cref="OpenResponsesValidator"/>);
/// 2. SSE (<c>stream:true</c>): <see cref="EventSequenceChecker"/>, every event and the terminal Response OpenAPI-valid,
///    every event parsed by the .NET SDK; its final Responses must equal the JSON path's; the stored Response (GET)
///    equals the terminal one, and it and its replay (GET ?stream=true) are valid too;
/// 3. the official JS SDK's <c>responses.stream()</c> helper (<c>tools/js/stream-check.mjs</c>): accepted, and its
///    <c>finalResponse()</c> equal to the JSON path's.
/// "Equal" is modulo what legitimately differs between two requests: ids (response, item, call), timestamps, and the
/// input token count (the mock counts the request bytes, and a streamed request carries more of them).
/// </summary>
public abstract class ConformanceSuite(ConformanceFixture fixture)
{
    protected abstract string Kind { get; }

    private GatewayHost Gateway => fixture.Gateway(Kind);

    [Fact]
    public Task PlainText() => RunAsync("plain-text");

    [Fact]
    public Task ToolCallRoundTrip() => RunAsync("tool-round-trip");

    [Fact]
    public Task ParallelToolCalls() => RunAsync("parallel-tools");

    [Fact]
    public Task CustomTool_RoundTrip() => RunAsync("custom-tool");

    [Fact]
    public Task Reasoning() => RunAsync("reasoning");

    [Fact]
    public Task ThinkTags() => RunAsync("think-tags");

    [Fact]
    public Task StructuredOutput_ReachesTheUpstream() => RunAsync("structured-output");

    [Fact]
    public Task MaxOutputTokens_IsIncomplete() => RunAsync("max-output-tokens");

    [Fact]
    public Task ContentFilter_IsIncomplete() => RunAsync("content-filter");

    [Fact]
    public Task UpstreamHttpError_StatusMapping() => RunAsync("upstream-http-error");

    [Fact]
    public Task UpstreamInBandError_IsFailedWithTheUpstreamsCodeAndMessage() => RunAsync("inband-error");

    [Fact]
    public Task Chain_UpstreamReceivesExactlyTheExpandedHistory() => RunAsync("chain");

    [Fact]
    public Task CodexRequest_RecordedShape_IsServed() => RunAsync("codex-request");

    [Fact]
    public Task NamespaceToolLoop_StatelessLikeCodex() => RunAsync("namespace-tool-loop");

    [Fact]
    public Task CompactionTrigger_IsOneCompactionItem() => RunAsync("compaction-trigger");

    [Fact]
    public Task SpecDefaults_UnsetFieldsAndToolStrictArePresent() => RunAsync("spec-defaults");

    [Theory]
    [MemberData(nameof(Scenarios.Names), MemberType = typeof(Scenarios))]
    public async Task JsSdkStreamHelper_AcceptsTheStreamAndAgreesWithJson(string scenario)
    {
        var json = Context(new JsonPath(Gateway));
        await using var helper = new JsHelperPath(Gateway);
        var js = Context(helper);
        AssertSameResults(json, await Scenarios.All[scenario](json), js, await Scenarios.All[scenario](js));
        Assert.Equal(helper.AnyFailed ? 1 : 0, await helper.CloseAsync());
    }

    [Fact]
    public async Task ClientCancellation_TheUpstreamSeesTheAbortAndTheResponseIsStoredIncomplete()
    {
        var marker = Guid.NewGuid().ToString("N");
        var abortsBefore = fixture.Mock.AbortedRequests;
        string id;
        using (var client = Gateway.CreateClient())
        using (var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15)))
        using (var request = new HttpRequestMessage(HttpMethod.Post, "/v1/responses") { Content = Json($$"""{"model":"mock-stall-20000","input":"leave early {{marker}}","stream":true}""") })
        using (var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(timeout.Token));
            // Read up to the first text delta: the mock stalls right after it, so the upstream call is in flight.
            var types = new List<string>();
            string? created = null;
            while (!types.Contains("response.output_text.delta"))
            {
                var line = await reader.ReadLineAsync(timeout.Token) ?? throw new InvalidOperationException($"stream ended after {string.Join(", ", types)}");
                if (line.StartsWith("data: ", StringComparison.Ordinal))
                {
                    created ??= line;
                    types.Add((string)JsonNode.Parse(line["data: ".Length..])!["type"]!);
                }
            }
            id = (string)JsonNode.Parse(created!["data: ".Length..])!["response"]!["id"]!;
        } // disposed mid-stream: the connection is dropped (GatewayHost clients never drain)

        await Eventually.WaitUntilAsync(() => fixture.Mock.AbortedRequests > abortsBefore, TimeSpan.FromSeconds(10));
        Assert.True(fixture.Mock.AbortedRequests > abortsBefore, "the mock upstream did not see the gateway abort its call");
        Assert.Contains(fixture.Mock.Requests, r => r.Body.Contains(marker, StringComparison.Ordinal));

        var stored = await PollStoredAsync(id);
        Assert.Equal("incomplete", (string?)stored["status"]);
        Assert.Equal("interrupted", (string?)stored["incomplete_details"]?["reason"]);
        // "interrupted" is the gateway's own reason for a client-cut stream (README; the spec's enum only has
        // max_output_tokens and content_filter): everything else must match the schema.
        var schemaCopy = (JsonObject)stored.DeepClone();
        schemaCopy["incomplete_details"]!["reason"] = "max_output_tokens";
        SchemaValidator.ValidateResponse(schemaCopy);
        OpenResponsesValidator.ValidateResponse(stored);
        Assert.All(stored["output"]!.AsArray(), item => Assert.NotEqual("in_progress", (string?)item!["status"]));

        // The official .NET SDK reads the stored incomplete response.
        var sdk = new OpenAI.Responses.ResponsesClient(new System.ClientModel.ApiKeyCredential(GatewayHost.KeyA),
            new OpenAI.Responses.ResponsesClientOptions { Endpoint = new Uri(Gateway.BaseUrl, "/v1") });
        OpenAI.Responses.ResponseResult result = await sdk.GetResponseAsync(id);
        Assert.Equal(OpenAI.Responses.ResponseStatus.Incomplete, result.Status);
    }

    private ScenarioContext Context(IResponsePath path) => new(Kind, path, fixture.Mock);

    private async Task RunAsync(string scenario)
    {
        var json = Context(new JsonPath(Gateway));
        var sse = Context(new SsePath(Gateway));
        AssertSameResults(json, await Scenarios.All[scenario](json), sse, await Scenarios.All[scenario](sse));
    }

    private static void AssertSameResults(ScenarioContext jsonRun, List<JsonObject> expected, ScenarioContext run, List<JsonObject> actual)
    {
        var what = run.Path.Name switch
        {
            "js" => "JS helper's finalResponse()",
            "sse" => "SSE terminal response",
            var other => other,
        };
        Assert.Equal(expected.Count, actual.Count);
        for (var i = 0; i < expected.Count; i++)
        {
            var e = Comparable(expected[i], jsonRun.Markers);
            var a = Comparable(actual[i], run.Markers);
            Assert.True(JsonNode.DeepEquals(e, a), $"turn {i}: the {what} differs from the JSON path's result\n json: {e.ToJsonString()}\n{what}: {a.ToJsonString()}");
        }
    }

    /// <summary>A Response without what two separate requests may differ in: ids, timestamps, input token counts, markers.</summary>
    private static JsonObject Comparable(JsonObject response, List<string> markers)
    {
        var text = response.ToJsonString();
        for (var i = 0; i < markers.Count; i++)
        {
            text = text.Replace(markers[i], $"<marker{i}>", StringComparison.Ordinal);
        }
        var copy = JsonNode.Parse(text)!.AsObject();
        foreach (var name in new[] { "id", "created_at", "completed_at", "previous_response_id" })
        {
            copy.Remove(name);
        }
        if (copy["usage"] is JsonObject usage)
        {
            usage.Remove("input_tokens");
            usage.Remove("input_tokens_details");
            usage.Remove("total_tokens");
        }
        foreach (var item in copy["output"] as JsonArray ?? [])
        {
            (item as JsonObject)?.Remove("id");
            (item as JsonObject)?.Remove("call_id");
        }
        return copy;
    }

    private async Task<JsonObject> PollStoredAsync(string id)
    {
        using var client = Gateway.CreateClient();
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (true)
        {
            using var get = await client.GetAsync($"/v1/responses/{id}");
            if (get.StatusCode == HttpStatusCode.OK)
            {
                var body = await ReadObjectAsync(get);
                if ((string?)body["status"] != "in_progress")
                {
                    return body;
                }
            }
            Assert.True(DateTime.UtcNow < deadline, $"{id} is still not stored as finished");
            await Task.Delay(100);
        }
    }
}

[Collection(ConformanceCollection.Name)]
public sealed class NativeConformanceTests(ConformanceFixture fixture) : ConformanceSuite(fixture)
{
    protected override string Kind => UpstreamKinds.Native;
}

[Collection(ConformanceCollection.Name)]
public sealed class ChatConformanceTests(ConformanceFixture fixture) : ConformanceSuite(fixture)
{
    protected override string Kind => UpstreamKinds.Chat;
}
