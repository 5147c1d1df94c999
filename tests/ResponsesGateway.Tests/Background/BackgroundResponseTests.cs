using System.Text.Json.Nodes;
using ResponsesGateway.Tests.Infrastructure;
using static ResponsesGateway.Tests.Background.BackgroundHttp;

namespace ResponsesGateway.Tests.Background;

/// <summary>
/// Background responses over real HTTP: the gateway answers at once, a queue consumer (the standalone server's, on
/// Azurite's queue) runs the turn, events go to the chain's partition in batches, and GET polls or resumes the stream
/// from any instance with the original sequence numbers.
/// </summary>
[Collection(BackgroundCollection.Name)]
public sealed class BackgroundResponseTests(BackgroundFixture fixture)
{
    [Fact]
    public async Task Json_create_answers_queued_at_once_and_polling_reaches_completed()
    {
        using var client = fixture.Gateway.CreateClient();
        var marker = Marker();
        var queued = await CreateAsync(client, "mock-model", marker);

        Assert.Equal("queued", (string?)queued["status"]);
        Assert.True((bool)queued["background"]!);
        Assert.True((bool)queued["store"]!);
        Assert.Empty(queued["output"]!.AsArray());
        Assert.Null(queued["usage"]);
        var id = (string)queued["id"]!;
        Assert.StartsWith("resp_", id);

        var done = await PollUntilAsync(client, id, "completed", "failed", "cancelled", "incomplete");
        Assert.Equal("completed", (string?)done["status"]);
        Assert.True((bool)done["background"]!);
        Assert.True((bool)done["store"]!);
        Assert.Equal(id, (string?)done["id"]);
        Assert.Equal((long)queued["created_at"]!, (long)done["created_at"]!);
        Assert.Contains($"Mock reply to: {marker}", done["output"]!.ToJsonString());
        Assert.Equal(1, fixture.UpstreamCalls(marker));

        // The upstream was asked for an ordinary turn: not stored there, not in the background there.
        var call = JsonNode.Parse(fixture.Mock.Requests.Last(r => r.Body.Contains(marker, StringComparison.Ordinal)).Body)!;
        Assert.False((bool)call["store"]!);
        Assert.Null(call["background"]);
    }

    [Fact]
    public async Task Stream_create_sends_created_queued_then_the_run_with_dense_sequence_numbers()
    {
        using var client = fixture.Gateway.CreateClient();
        var marker = Marker();
        var stream = await GatewayHttp.StreamAsync(client, $$"""{"model":"mock-model","input":"{{marker}}","background":true,"stream":true}""");

        EventSequenceChecker.Check(stream);
        Assert.Equal(["response.created", "response.queued", "response.in_progress"], stream.Types.Take(3));
        Assert.Equal("response.completed", stream.Types[^1]);
        Assert.Equal(1, stream.Types.Count(t => t == "response.created"));
        Assert.Equal(1, stream.Types.Count(t => t == "response.in_progress"));
        Assert.Equal("queued", (string?)stream.Events[0].Json["response"]!["status"]);
        Assert.Equal("queued", (string?)stream.Events[1].Json["response"]!["status"]);
        Assert.Equal("in_progress", (string?)stream.Events[2].Json["response"]!["status"]);
        Assert.All(stream.Events.Where(e => e.Json["response"] is not null), e => Assert.True((bool)e.Json["response"]!["background"]!));
        Assert.Contains($"Mock reply to: {marker}", stream.Terminal["output"]!.ToJsonString());

        // The stored turn is what the terminal event carried, and a replay is the same stream, event for event.
        var id = (string)stream.Terminal["id"]!;
        var stored = await GetAsync(client, id);
        Assert.Equal("completed", (string?)stored["status"]);
        Assert.Equal(stream.Terminal["output"]!.ToJsonString(), stored["output"]!.ToJsonString());
        var replay = await ResumeAsync(client, id);
        Assert.Equal(stream.Events.Select(e => e.Data), replay.Events.Select(e => e.Data));
        Assert.Equal(1, fixture.UpstreamCalls(marker));
    }

    [Fact]
    public async Task Resume_at_several_starting_after_returns_exactly_the_later_events()
    {
        using var client = fixture.Gateway.CreateClient();
        var marker = Marker();
        var full = await GatewayHttp.StreamAsync(client, $$"""{"model":"mock-model","input":"{{marker}}","background":true,"stream":true}""");
        var id = (string)full.Terminal["id"]!;
        foreach (var after in new[] { -1, 0, 1, 2, 3, full.Events.Count / 2, full.Events.Count - 2 })
        {
            var resumed = await ResumeAsync(client, id, after);
            Assert.Equal(full.Events.Skip(after + 1).Select(e => e.Data), resumed.Events.Select(e => e.Data));
            Assert.Equal(after + 1, (int)resumed.Events[0].Json["sequence_number"]!);
        }
        // After the last event there is nothing more, and the stream ends at once.
        var none = await ResumeAsync(client, id, full.Events.Count - 1);
        Assert.Empty(none.Events);
    }

    [Fact]
    public async Task A_client_that_leaves_mid_run_resumes_on_another_instance_and_tails_to_the_end()
    {
        // Instance B consumes nothing: every event it serves was written by A's runner into storage.
        await using var other = await fixture.StartGatewayAsync(new Dictionary<string, string?> { ["Background:Runner"] = "false" });
        using var client = fixture.Gateway.CreateClient();
        using var otherClient = other.CreateClient();
        // Warm: a cold instance's first request can take seconds on a loaded machine, longer than the stall.
        using (await otherClient.GetAsync("/v1/models"))
        {
        }
        var marker = Marker();
        var seen = await StreamUntilAsync(client, $$"""{"model":"mock-stall-6000","input":"{{marker}}","background":true,"stream":true}""",
            e => e.Type == "response.output_text.delta");
        var id = (string)seen[0].Json["response"]!["id"]!;
        var last = (int)seen[^1].Json["sequence_number"]!;

        // The run goes on without a client: B's GET shows it in progress with nothing finished yet.
        var during = await GetAsync(otherClient, id);
        Assert.Equal("in_progress", (string?)during["status"]);
        Assert.Empty(during["output"]!.AsArray());

        var rest = await ResumeAsync(otherClient, id, last);
        Assert.Equal(last + 1, (int)rest.Events[0].Json["sequence_number"]!);
        Assert.Equal("response.completed", rest.Types[^1]);
        Assert.True(rest.Comments > 0, "no keep-alive while the run stalled");
        var whole = new SseStream(string.Concat(seen.Select(e => $"event: {e.EventName}\ndata: {e.Data}\n\n")) + rest.Raw);
        EventSequenceChecker.Check(whole, id);
        var replay = await ResumeAsync(otherClient, id);
        Assert.Equal(whole.Events.Select(e => e.Data), replay.Events.Select(e => e.Data));
        Assert.Equal(1, fixture.UpstreamCalls(marker));
    }

    [Fact]
    public async Task Cancel_while_streaming_aborts_the_upstream_call_and_stores_cancelled()
    {
        using var client = fixture.Gateway.CreateClient();
        var marker = Marker();
        var seen = await StreamUntilAsync(client, $$"""{"model":"mock-stall-30000","input":"{{marker}}","background":true,"stream":true}""",
            e => e.Type == "response.output_text.delta");
        var id = (string)seen[0].Json["response"]!["id"]!;
        // The abort counter may hold earlier tests' aborts: count from here.
        var abortsBefore = fixture.Mock.AbortedRequests;
        var (status, cancelled) = await CancelAsync(client, id);
        Assert.Equal(200, status);
        Assert.Equal("cancelled", (string?)cancelled["status"]);
        Assert.Equal(id, (string?)cancelled["id"]);
        Assert.True((bool)cancelled["background"]!);
        Assert.Null(cancelled["usage"]);

        await Eventually.WaitUntilAsync(() => fixture.Mock.AbortedRequests != abortsBefore, Patience);
        Assert.True(fixture.Mock.AbortedRequests > abortsBefore, "the upstream call was not aborted");

        Assert.Equal("cancelled", (string?)(await GetAsync(client, id))["status"]);
        var again = await CancelAsync(client, id);
        Assert.Equal(200, again.Status);
        Assert.Equal("cancelled", (string?)again.Body["status"]);
        // A resumed stream ends (there is no more to come) instead of waiting for the stalled upstream.
        var resumed = await ResumeAsync(client, id, (int)seen[^1].Json["sequence_number"]!);
        Assert.DoesNotContain("response.completed", resumed.Types);
        Assert.Equal(1, fixture.UpstreamCalls(marker));
    }

    [Fact]
    public async Task Cancel_while_queued_never_calls_the_upstream_even_when_a_runner_comes_later()
    {
        var marker = Marker();
        string id;
        await using (var idle = await fixture.StartGatewayAsync(new Dictionary<string, string?> { ["Background:Runner"] = "false", ["Background:QueueName"] = "bgq-" + marker }))
        {
            using var client = idle.CreateClient();
            id = (string)(await CreateAsync(client, "mock-model", marker))["id"]!;
            Assert.Equal("queued", (string?)(await GetAsync(client, id))["status"]);
            var (status, cancelled) = await CancelAsync(client, id);
            Assert.Equal(200, status);
            Assert.Equal("cancelled", (string?)cancelled["status"]);
            Assert.Empty(cancelled["output"]!.AsArray());
        }
        // A runner on that queue finds the run cancelled and leaves it.
        await using var runner = await fixture.StartGatewayAsync(new Dictionary<string, string?> { ["Background:QueueName"] = "bgq-" + marker });
        var queue = fixture.Queue("bgq-" + marker);
        var deadline = DateTime.UtcNow + Patience;
        while ((await queue.GetPropertiesAsync()).Value.ApproximateMessagesCount > 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }
        Assert.Equal(0, (await queue.GetPropertiesAsync()).Value.ApproximateMessagesCount);
        using var runnerClient = runner.CreateClient();
        Assert.Equal("cancelled", (string?)(await GetAsync(runnerClient, id))["status"]);
        Assert.Equal(0, fixture.UpstreamCalls(marker));
    }

    [Fact]
    public async Task Cancel_of_a_finished_response_returns_it_unchanged()
    {
        using var client = fixture.Gateway.CreateClient();
        var id = (string)(await CreateAsync(client, "mock-model", Marker()))["id"]!;
        var done = await PollUntilAsync(client, id, "completed");
        var (status, body) = await CancelAsync(client, id);
        Assert.Equal(200, status);
        Assert.Equal(done.ToJsonString(), body.ToJsonString());
    }

    [Fact]
    public async Task Another_key_gets_404_on_get_stream_and_cancel_and_cannot_cancel()
    {
        using var owner = fixture.Gateway.CreateClient();
        using var stranger = fixture.Gateway.CreateClient(Infrastructure.GatewayHost.KeyB);
        var marker = Marker();
        var id = (string)(await CreateAsync(owner, "mock-stall-2000", marker))["id"]!;

        using (var get = await stranger.GetAsync($"/v1/responses/{id}"))
        {
            Assert.Equal(404, (int)get.StatusCode);
            GatewayHttp.AssertError(await GatewayHttp.ReadObjectAsync(get), null, null);
        }
        using (var stream = await stranger.GetAsync($"/v1/responses/{id}?stream=true&starting_after=0"))
        {
            Assert.Equal(404, (int)stream.StatusCode);
        }
        var (status, body) = await CancelAsync(stranger, id);
        Assert.Equal(404, status);
        GatewayHttp.AssertError(body, null, null);

        Assert.Equal("completed", (string?)(await PollUntilAsync(owner, id, "completed", "cancelled", "failed"))["status"]);
    }

    [Fact]
    public async Task Bad_input_gets_the_envelope_and_stores_nothing()
    {
        using var client = fixture.Gateway.CreateClient();
        var marker = Marker();
        var (status, body) = await GatewayHttp.PostAsync(client, "/v1/responses", $$"""{"model":"mock-model","input":"{{marker}}","background":true,"store":false}""");
        Assert.Equal(400, status);
        GatewayHttp.AssertError(body, "background", "invalid_value");

        (status, body) = await GatewayHttp.PostAsync(client, "/v1/responses", $$"""{"model":"mock-model","input":"{{marker}}","background":"yes"}""");
        Assert.Equal(400, status);
        GatewayHttp.AssertError(body, "background", "invalid_type");

        (status, body) = await GatewayHttp.PostAsync(client, "/v1/responses", $$"""{"model":"mock-model","input":"{{marker}}","background":true,"previous_response_id":"resp_{{new string('0', 64)}}"}""");
        Assert.Equal(400, status);
        GatewayHttp.AssertError(body, "previous_response_id", "previous_response_not_found");

        (status, body) = await GatewayHttp.PostAsync(client, "/v1/responses", "{\"model\":\"mock-model\",\"background\":true,");
        Assert.Equal(400, status);
        GatewayHttp.AssertError(body, null, null);

        await Task.Delay(500);
        Assert.Equal(0, fixture.UpstreamCalls(marker));

        // Cancel: unknown, malformed, and a response that is not a background one.
        (status, body) = await CancelAsync(client, "resp_" + new string('a', 64));
        Assert.Equal(404, status);
        GatewayHttp.AssertError(body, null, null);
        (status, body) = await CancelAsync(client, "not-an-id");
        Assert.Equal(404, status);
        GatewayHttp.AssertError(body, null, null);
        (status, body) = await CancelAsync(client, new string('x', 5000));
        Assert.Equal(404, status);
        Assert.True(body.ToJsonString().Length < 1000);
        var (_, plain) = await GatewayHttp.PostAsync(client, "/v1/responses", """{"model":"mock-model","input":"not in the background"}""");
        (status, body) = await CancelAsync(client, (string)plain["id"]!);
        Assert.Equal(400, status);
        GatewayHttp.AssertError(body, null, "invalid_request");
        Assert.Equal("completed", (string?)(await GetAsync(client, (string)plain["id"]!))["status"]);

        using var wrongMethod = await client.GetAsync($"/v1/responses/{plain["id"]}/cancel");
        Assert.Equal(405, (int)wrongMethod.StatusCode);
        Assert.Equal("POST", wrongMethod.Content.Headers.Allow.Single());
        using var noKey = fixture.Gateway.CreateClient(key: null);
        using var unauthorized = await noKey.PostAsync($"/v1/responses/{plain["id"]}/cancel", null);
        Assert.Equal(401, (int)unauthorized.StatusCode);
    }
}
