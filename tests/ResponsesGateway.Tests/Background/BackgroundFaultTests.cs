using System.Text.Json.Nodes;
using ResponsesGateway.Tests.Infrastructure;
using static ResponsesGateway.Tests.Background.BackgroundHttp;

namespace ResponsesGateway.Tests.Background;

/// <summary>
/// Faults of background runs: a runner killed mid-run (its run ends failed once the lease expires, the upstream is
/// called once, a redelivered message does not run it again) and poison messages.
/// </summary>
[Collection(BackgroundCollection.Name)]
public sealed class BackgroundFaultTests(BackgroundFixture fixture)
{
    [Fact]
    public async Task A_runner_killed_mid_run_ends_its_run_failed_after_the_lease_and_the_upstream_is_called_once()
    {
        var queueName = "bgk-" + Guid.NewGuid().ToString("N")[..12];
        var settings = fixture.Settings(new Dictionary<string, string?> { ["Background:QueueName"] = queueName, ["Storage:ConnectionString"] = fixture.ConnectionString });
        foreach (var (key, value) in GatewayHost.Upstream("mock", "responses", fixture.Mock.BaseUrl))
        {
            settings[key] = value;
        }
        // The runner is its own process, so it can really die; this instance only takes requests.
        await using var front = await fixture.StartGatewayAsync(new Dictionary<string, string?> { ["Background:QueueName"] = queueName, ["Background:Runner"] = "false" });
        using var client = front.CreateClient();
        var marker = Marker();
        string id;
        await using (var runner = await ServerProcess.StartAsync(settings))
        {
            id = (string)(await CreateAsync(client, "mock-stall-60000", marker))["id"]!;
            var deadline = DateTime.UtcNow + Patience;
            while (fixture.UpstreamCalls(marker) == 0 || (await ResumeUntilDeltaAsync(client, id)) is false)
            {
                Assert.True(DateTime.UtcNow < deadline, "the run did not start: " + runner.Output);
                await Task.Delay(100);
            }
            Assert.Equal("in_progress", (string?)(await GetAsync(client, id))["status"]);
            await runner.KillAsync();
        }

        // Nobody renews the lease now: the next look after it ran out ends the run failed, with what was finished.
        var failed = await PollUntilAsync(client, id, "failed", "completed", "cancelled");
        Assert.Equal("failed", (string?)failed["status"]);
        Assert.Equal("background_worker_lost", (string?)failed["error"]!["code"]);
        Assert.Empty(failed["output"]!.AsArray());
        var stream = await ResumeAsync(client, id);
        Assert.Equal("response.failed", stream.Types[^1]);
        Assert.Equal(Enumerable.Range(0, stream.Events.Count), stream.Events.Select(e => (int)e.Json["sequence_number"]!));
        Assert.Equal("background_worker_lost", (string?)stream.Terminal["error"]!["code"]);

        // The message reappears (its visibility ran out with the dead runner): a live runner takes it, finds the run
        // ended, and deletes it without calling the upstream.
        await using var successor = await fixture.StartGatewayAsync(new Dictionary<string, string?> { ["Background:QueueName"] = queueName });
        var queue = fixture.Queue(queueName);
        var until = DateTime.UtcNow + Patience;
        while ((await queue.GetPropertiesAsync()).Value.ApproximateMessagesCount > 0 && DateTime.UtcNow < until)
        {
            await Task.Delay(200);
        }
        Assert.Equal(0, (await queue.GetPropertiesAsync()).Value.ApproximateMessagesCount);
        Assert.Equal(1, fixture.UpstreamCalls(marker));
        Assert.Equal("failed", (string?)(await GetAsync(client, id))["status"]);
    }

    [Fact]
    public async Task A_message_delivered_too_often_goes_to_the_poison_queue_and_its_queued_run_ends_failed()
    {
        var queueName = "bgp-" + Guid.NewGuid().ToString("N")[..12];
        var marker = Marker();
        string id;
        await using (var idle = await fixture.StartGatewayAsync(new Dictionary<string, string?> { ["Background:QueueName"] = queueName, ["Background:Runner"] = "false" }))
        {
            using var client = idle.CreateClient();
            id = (string)(await CreateAsync(client, "mock-model", marker))["id"]!;
        }
        // Deliveries that never finished (a consumer that kept failing): each receive with no visibility counts one.
        var queue = fixture.Queue(queueName);
        for (var i = 0; i < 3; i++)
        {
            var back = DateTime.UtcNow + Patience;
            while ((await queue.ReceiveMessagesAsync(1, TimeSpan.FromSeconds(1))).Value.Length == 0)
            {
                Assert.True(DateTime.UtcNow < back, "the message did not come back");
                await Task.Delay(200);
            }
        }
        // And one that names no response at all.
        await queue.SendMessageAsync("{\"response_id\":42}");

        await using var runner = await fixture.StartGatewayAsync(new Dictionary<string, string?> { ["Background:QueueName"] = queueName });
        using var runnerClient = runner.CreateClient();
        var failed = await PollUntilAsync(runnerClient, id, "failed", "completed");
        Assert.Equal("failed", (string?)failed["status"]);
        Assert.Equal("background_run_failed", (string?)failed["error"]!["code"]);
        Assert.Equal(0, fixture.UpstreamCalls(marker));

        var poison = fixture.Queue(queueName + "-poison");
        var deadline = DateTime.UtcNow + Patience;
        while ((await poison.GetPropertiesAsync()).Value.ApproximateMessagesCount < 2 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(200);
        }
        var messages = (await poison.PeekMessagesAsync(10)).Value.Select(m => m.Body.ToString()).ToList();
        Assert.Contains(messages, m => m.Contains(id, StringComparison.Ordinal));
        Assert.Contains("{\"response_id\":42}", messages);
        Assert.Equal(0, (await queue.GetPropertiesAsync()).Value.ApproximateMessagesCount);
    }

    /// <summary>True once the run's log holds its first text delta.</summary>
    private static async Task<bool> ResumeUntilDeltaAsync(HttpClient client, string id)
    {
        var current = await GetAsync(client, id);
        if ((string?)current["status"] != "in_progress")
        {
            return false;
        }
        var events = await StreamUntilOpenAsync(client, id);
        return events.Any(e => e.Type == "response.output_text.delta");
    }

    private static async Task<List<SseEvent>> StreamUntilOpenAsync(HttpClient client, string id)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(3));
        var events = new List<SseEvent>();
        try
        {
            using var response = await client.GetAsync($"/v1/responses/{id}?stream=true", HttpCompletionOption.ResponseHeadersRead, cts.Token);
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cts.Token));
            while (await reader.ReadLineAsync(cts.Token) is { } line)
            {
                if (line.StartsWith("data: ", StringComparison.Ordinal))
                {
                    events.Add(new SseEvent(null, line["data: ".Length..]));
                    if (events[^1].Type == "response.output_text.delta")
                    {
                        break;
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        return events;
    }
}
