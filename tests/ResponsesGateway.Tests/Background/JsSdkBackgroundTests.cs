using System.Text.Json.Nodes;
using ResponsesGateway.Tests.Infrastructure;
using static ResponsesGateway.Tests.Background.BackgroundHttp;

namespace ResponsesGateway.Tests.Background;

/// <summary>
/// Background responses through the official OpenAI JS SDK (<c>tools/js/background-check.mjs</c>): create and poll,
/// a streamed create left midway and resumed with <c>responses.retrieve(…, {stream, starting_after})</c> and with the
/// <c>responses.stream({response_id, starting_after})</c> helper (which checks every event against its snapshot),
/// cancel of a running response, and the error for cancelling one that is not a background response.
/// </summary>
[Collection(BackgroundCollection.Name)]
public sealed class JsSdkBackgroundTests(BackgroundFixture fixture)
{
    [Fact]
    public async Task JsSdk_creates_polls_resumes_and_cancels_background_responses()
    {
        var marker = Marker();
        var abortsBefore = fixture.Mock.AbortedRequests;

        var result = await NodeScript.RunAsync("background-check.mjs", Patience,
            new Uri(fixture.Gateway.BaseUrl, "/v1").ToString(), GatewayHost.KeyA, marker, "mock-stall-30000");

        Assert.True((bool)result["ok"]!, result.ToJsonString());

        var polled = result["polled"]!;
        Assert.Equal("queued", (string?)polled["queued"]!["status"]);
        Assert.True((bool)polled["queued"]!["background"]!);
        Assert.Equal((string?)polled["queued"]!["id"], (string?)polled["final"]!["id"]);
        Assert.Equal("completed", (string?)polled["final"]!["status"]);
        Assert.Equal($"Mock reply to: polled {marker}", (string?)polled["final"]!["text"]);

        // The resumed tail starts right after the last event seen and numbers on densely to the terminal event.
        var resumed = result["resumed"]!;
        var seen = resumed["seen"]!.AsArray().Select(n => (int)n!).ToList();
        Assert.Equal(Enumerable.Range(0, seen.Count), seen);
        var tailSeqs = resumed["tail"]!["seqs"]!.AsArray().Select(n => (int)n!).ToList();
        Assert.Equal(Enumerable.Range(seen[^1] + 1, tailSeqs.Count), tailSeqs);
        Assert.Equal("response.completed", (string?)resumed["tail"]!["types"]!.AsArray()[^1]);
        // The helper replays everything and hands on only what follows starting_after: the same numbers.
        Assert.Equal(tailSeqs, resumed["helper"]!["seqs"]!.AsArray().Select(n => (int)n!).ToList());
        Assert.Equal("completed", (string?)resumed["helper"]!["status"]);
        Assert.Equal($"Mock reply to: resumed {marker}", (string?)resumed["helper"]!["text"]);

        var cancelled = result["cancelled"]!;
        Assert.Equal("in_progress", (string?)cancelled["before"]);
        Assert.Equal("cancelled", (string?)cancelled["cancel"]!["status"]);
        Assert.Equal("cancelled", (string?)cancelled["again"]!["status"]);
        Assert.Equal("cancelled", (string?)cancelled["retrieved"]!["status"]);
        await Eventually.WaitUntilAsync(() => fixture.Mock.AbortedRequests != abortsBefore, Patience);
        Assert.True(fixture.Mock.AbortedRequests > abortsBefore, "the cancelled run's upstream call was not aborted");

        Assert.Equal(400, (int)result["notBackground"]!["status"]!);

        // Every run called the upstream once.
        Assert.Equal(1, fixture.UpstreamCalls($"polled {marker}"));
        Assert.Equal(1, fixture.UpstreamCalls($"resumed {marker}"));
        Assert.Equal(1, fixture.UpstreamCalls($"cancelled {marker}"));
    }
}
