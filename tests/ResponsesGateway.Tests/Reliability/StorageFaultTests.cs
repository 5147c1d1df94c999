using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using ResponsesGateway.Tests.Infrastructure;
using static ResponsesGateway.Tests.Infrastructure.GatewayHttp;
using static ResponsesGateway.Tests.Reliability.FaultGateway;

namespace ResponsesGateway.Tests.Reliability;

/// <summary>
/// Table storage going away: a <c>store:true</c> response is never reported <c>completed</c> unless it is stored, a dead
/// store is reported within seconds, and everything the client saw completed can be fetched and chained afterwards.
/// </summary>
[Collection(SerialReliabilityCollection.Name)]
public sealed class StorageFaultTests(OutageFixture fixture) : IAsyncLifetime
{
    public Task InitializeAsync() => fixture.EnsureAzuriteAsync();

    public Task DisposeAsync() => fixture.EnsureAzuriteAsync();

    [Fact]
    public async Task StoreDown_NothingIsReportedCompletedThatWasNotStored()
    {
        await using var gateway = await fixture.StartGatewayAsync();
        using var client = Client(gateway);
        var before = await UpstreamFaultTests.CreateCompletedAsync(client, """{"model":"mock-model","input":"before the outage"}""", stream: true);

        await fixture.Azurite.StopAsync();

        // JSON: the answer exists, but it is not stored, so it is not returned as if it were.
        (int Status, JsonObject Body) json = default;
        var elapsed = await TimeAsync(async () => json = await PostAsync(client, "/v1/responses", """{"model":"mock-model","input":"x"}"""));
        Assert.Equal(503, json.Status);
        AssertError(json.Body!, null, "storage_unavailable", "server_error");
        Assert.True(elapsed < TimeSpan.FromSeconds(5), $"a dead store took {elapsed.TotalSeconds:0.0} s to report");

        // SSE: the stream had started, so it ends with response.failed storage_unavailable, well formed.
        var stream = await StreamAsync(client, """{"model":"mock-model","input":"y","stream":true}""");
        EventSequenceChecker.Check(stream);
        Assert.Equal("response.failed", stream.Types[^1]);
        Assert.Equal("storage_unavailable", (string?)stream.Terminal["error"]!["code"]);
        Assert.DoesNotContain("response.completed", stream.Types);

        // A chain cannot be read: 503 before anything streams.
        var chained = await PostAsync(client, "/v1/responses", $$"""{"model":"mock-model","input":"z","previous_response_id":"{{before}}","stream":true}""");
        Assert.Equal(503, chained.Status);
        AssertError(chained.Body, null, "storage_unavailable", "server_error");

        // GET: 503, not 404: the response may well exist.
        using (var get = await client.GetAsync($"/v1/responses/{before}"))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, get.StatusCode);
        }

        // store:false needs no store.
        var unstored = await PostAsync(client, "/v1/responses", """{"model":"mock-model","input":"x","store":false}""");
        Assert.Equal(200, unstored.Status);

        await fixture.Azurite.RestartAsync();

        Assert.Equal("completed", await UpstreamFaultTests.StoredStatusAsync(client, before));
        var failedId = (string)stream.Terminal["id"]!;
        using (var missing = await client.GetAsync($"/v1/responses/{failedId}"))
        {
            Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode); // reported failed, and indeed not stored
        }
    }

    [Fact]
    public async Task StoreRestartedEmpty_TheTableIsCreatedAgain()
    {
        // An emulator that forgets everything on restart: the table this gateway created is gone.
        await using var azurite = await TestSupport.AzuriteServer.StartAsync();
        await using var gateway = await GatewayHost.StartAsync(azurite.ConnectionString, GatewayHost.Upstream("mock", "responses", fixture.Mock.BaseUrl));
        using var client = Client(gateway);
        await UpstreamFaultTests.CreateCompletedAsync(client, """{"model":"mock-model","input":"before"}""", stream: false);

        await azurite.RestartAsync();

        var after = await UpstreamFaultTests.CreateCompletedAsync(client, """{"model":"mock-model","input":"after"}""", stream: true);
        Assert.Equal("completed", await UpstreamFaultTests.StoredStatusAsync(client, after));
    }

    [Fact]
    public async Task StoreRestartUnderLoad_EveryCompletedResponseCanBeFetchedAndChained()
    {
        await using var gateway = await fixture.StartGatewayAsync();
        using var client = Client(gateway);
        var outcomes = new ConcurrentBag<Outcome>();
        var clock = Stopwatch.StartNew();
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(10));

        var workers = Enumerable.Range(0, 8).Select(w => Task.Run(async () =>
        {
            string? previous = null;
            for (var i = 0; !stop.IsCancellationRequested; i++)
            {
                var outcome = await StreamOnceAsync(client, w, i, i % 4 == 0 ? null : previous, clock);
                outcomes.Add(outcome);
                previous = outcome.Completed ? outcome.Id : previous;
            }
        })).ToList();

        await Task.Delay(TimeSpan.FromSeconds(2.5));
        var down = clock.Elapsed;
        await fixture.Azurite.StopAsync();
        await Task.Delay(TimeSpan.FromSeconds(3));
        await fixture.Azurite.RestartAsync();
        var up = clock.Elapsed;
        await Task.WhenAll(workers);

        var all = outcomes.ToList();
        var unexpected = all.Where(o => o.Problem is not null).Select(o => $"{o.Id} at {o.At.TotalSeconds:0.0} s: {o.Problem}").ToList();
        Assert.True(unexpected.Count == 0, $"outage {down.TotalSeconds:0.0}-{up.TotalSeconds:0.0} s:\n" + string.Join("\n", unexpected));
        var completed = all.Where(o => o.Completed).ToList();
        Assert.Contains(completed, o => o.At < down);
        Assert.Contains(completed, o => o.At > up);
        Assert.Contains(all, o => o.StorageUnavailable); // the outage was seen, or this test proved nothing

        // Every response the client saw completed is stored, whether it finished before, during or after the outage.
        using var limit = new SemaphoreSlim(8);
        var checks = completed.Select(async (o, index) =>
        {
            await limit.WaitAsync();
            try
            {
                var stored = await UpstreamFaultTests.StoredAsync(client, o.Id);
                Assert.Equal("completed", (string?)stored["status"]);
                Assert.Equal(o.Id, (string?)stored["id"]);
                if (index % 4 == 0)
                {
                    var (status, body) = await PostAsync(client, "/v1/responses", $$"""{"model":"mock-model","input":"next","previous_response_id":"{{o.Id}}"}""");
                    Assert.True(status == 200, $"chaining on {o.Id}: HTTP {status} {body.ToJsonString()}");
                }
            }
            finally
            {
                limit.Release();
            }
        });
        await Task.WhenAll(checks);
    }

    private static async Task<Outcome> StreamOnceAsync(HttpClient client, int worker, int turn, string? previous, Stopwatch clock)
    {
        var body = new JsonObject { ["model"] = "mock-model", ["input"] = $"worker {worker} turn {turn}", ["stream"] = true };
        if (previous is not null)
        {
            body["previous_response_id"] = previous;
        }
        try
        {
            using var response = await client.PostAsync("/v1/responses", Json(body));
            var text = await response.Content.ReadAsStringAsync();
            if (response.StatusCode == HttpStatusCode.ServiceUnavailable)
            {
                var code = (string?)JsonNode.Parse(text)?["error"]?["code"];
                return new Outcome("", clock.Elapsed, false, code == "storage_unavailable", code == "storage_unavailable" ? null : $"503 {text}");
            }
            if (response.StatusCode != HttpStatusCode.OK)
            {
                return new Outcome("", clock.Elapsed, false, false, $"HTTP {(int)response.StatusCode} {text}");
            }
            var stream = new SseStream(text);
            EventSequenceChecker.Check(stream);
            var id = (string)stream.Terminal["id"]!;
            return stream.Types[^1] switch
            {
                "response.completed" => new Outcome(id, clock.Elapsed, true, false, null),
                "response.failed" when (string?)stream.Terminal["error"]?["code"] == "storage_unavailable" => new Outcome(id, clock.Elapsed, false, true, null),
                var other => new Outcome(id, clock.Elapsed, false, false, $"{other} {stream.Terminal["error"]?.ToJsonString()}"),
            };
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or Xunit.Sdk.XunitException)
        {
            return new Outcome("", clock.Elapsed, false, false, $"{e.GetType().Name}: {e.Message}");
        }
    }

    private sealed record Outcome(string Id, TimeSpan At, bool Completed, bool StorageUnavailable, string? Problem);
}
