using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Azure.Data.Tables;
using Microsoft.Extensions.DependencyInjection;
using ResponsesGateway.MockUpstream;
using ResponsesGateway.Tests.Infrastructure;
using Xunit.Abstractions;
using static ResponsesGateway.Tests.Infrastructure.GatewayHttp;

namespace ResponsesGateway.Tests.Security;

/// <summary>
/// The hostile-input corpus (<see cref="HostileCorpus"/>) and hostile paths, queries and headers, sent over real HTTP
/// to a gateway with a small body limit, its own mock upstream and its own table (invariant 7 in docs/architecture.md): never a 5xx,
/// every 4xx in the envelope, nothing forwarded or stored for a rejected body, bounded memory, and the gateway still
/// answers afterwards. The memory bound is read from this process's managed heap, so the class runs in the serial
/// memory-measurement collection: tests running alongside would otherwise count their own allocations as its growth.
/// </summary>
[Collection(MemoryMeasurementCollection.Name)]
public sealed class HostileInputTests(GatewayFixture fixture, ITestOutputHelper output) : IAsyncLifetime
{
    private const int Concurrency = 8;

    private MockUpstreamServer _mock = null!;
    private GatewayHost _gateway = null!;

    public async Task InitializeAsync()
    {
        _mock = await MockUpstreamServer.StartAsync(new MockUpstreamOptions { MaxRecordedRequests = 100_000 });
        _gateway = await GatewayHost.StartAsync(fixture.Azurite.ConnectionString, GatewayHost.Upstream("mock", "responses", _mock.BaseUrl),
            new Dictionary<string, string?> { ["Gateway:MaxRequestBodyBytes"] = HostileCorpus.BodyLimit.ToString(System.Globalization.CultureInfo.InvariantCulture) });
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _mock.DisposeAsync();
    }

    [Fact]
    public async Task Corpus_NeverA5xx_RejectsInTheEnvelope_ForwardsAndStoresOnlyWhatItAccepts()
    {
        var corpus = HostileCorpus.Build();
        Assert.True(corpus.Count >= 500, $"corpus has only {corpus.Count} bodies");
        using var client = _gateway.CreateClient();
        await AssertHealthyAsync(client); // warm up, so the memory baseline includes the server's steady state
        var storedBefore = await StoredResponseIdsAsync();
        var upstreamBefore = _mock.Requests.Count;
        var memoryBefore = GC.GetTotalMemory(forceFullCollection: true);

        var failures = new ConcurrentBag<string>();
        var accepted = new ConcurrentDictionary<string, string>();
        await Parallel.ForEachAsync(corpus, new ParallelOptions { MaxDegreeOfParallelism = Concurrency }, async (item, ct) =>
        {
            using var content = item.Chunked ? new ChunkedContent(item.Body) : (HttpContent)new ByteArrayContent(item.Body);
            content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
            using var response = await client.PostAsync("/v1/responses", content, ct);
            var status = (int)response.StatusCode;
            var text = await response.Content.ReadAsStringAsync(ct);
            if (status >= 500)
            {
                failures.Add($"{item.Name}: HTTP {status} {Clip(text)}");
            }
            else if (status >= 400)
            {
                if (EnvelopeProblem(response, text) is { } problem)
                {
                    failures.Add($"{item.Name}: HTTP {status} {problem}");
                }
                if (item.Expect == Expect.Accepted)
                {
                    failures.Add($"{item.Name}: expected to be accepted, got HTTP {status} {Clip(text)}");
                }
            }
            else
            {
                if (item.Expect == Expect.Rejected)
                {
                    failures.Add($"{item.Name}: expected a 4xx, got HTTP {status}");
                }
                if (ResponseId(response, text) is { } id)
                {
                    accepted[id] = item.Name;
                }
                else
                {
                    failures.Add($"{item.Name}: HTTP {status} without a response id: {Clip(text)}");
                }
            }
        });
        Assert.True(failures.IsEmpty, $"{failures.Count} of {corpus.Count} bodies failed:\n" + string.Join("\n", failures.Order(StringComparer.Ordinal)));

        // Exactly one upstream call per accepted body: nothing was forwarded for a rejected one.
        Assert.Equal(accepted.Count, _mock.Requests.Count - upstreamBefore);
        // Exactly the accepted responses are stored.
        var stored = (await StoredResponseIdsAsync()).Except(storedBefore);
        Assert.Equal(accepted.Keys.Order(StringComparer.Ordinal), stored.Order(StringComparer.Ordinal));
        output.WriteLine($"{corpus.Count} bodies: {accepted.Count} accepted, {corpus.Count - accepted.Count} rejected");

        // What was accepted can be read back, listed, replayed and deleted without a 5xx.
        await Parallel.ForEachAsync(accepted, new ParallelOptions { MaxDegreeOfParallelism = Concurrency }, async (pair, ct) =>
        {
            foreach (var (method, path) in new[]
            {
                (HttpMethod.Get, $"/v1/responses/{pair.Key}"), (HttpMethod.Get, $"/v1/responses/{pair.Key}?stream=true"),
                (HttpMethod.Get, $"/v1/responses/{pair.Key}/input_items?limit=100&order=asc"), (HttpMethod.Delete, $"/v1/responses/{pair.Key}"),
            })
            {
                using var response = await client.SendAsync(new HttpRequestMessage(method, path), ct);
                if (response.StatusCode != HttpStatusCode.OK)
                {
                    failures.Add($"{pair.Value}: {method} {path} answered {(int)response.StatusCode} {Clip(await response.Content.ReadAsStringAsync(ct))}");
                }
            }
        });
        Assert.True(failures.IsEmpty, string.Join("\n", failures));

        await AssertHealthyAsync(client);
        var grown = GC.GetTotalMemory(forceFullCollection: true) - memoryBefore;
        output.WriteLine($"managed heap grew by {grown / 1024} KiB");
        // The corpus sends ~40 MiB; retaining it (or a per-request leak) would show up far above this bound.
        Assert.True(grown < 32 * 1024 * 1024, $"managed heap grew by {grown / (1024 * 1024)} MiB");
    }

    /// <summary>Method, path, the status expected (0: any 4xx), and whether Kestrel answers it itself (empty body, no envelope).</summary>
    public static TheoryData<string, string, int, bool> HostilePaths()
    {
        var data = new TheoryData<string, string, int, bool>();
        var known = "{known}";
        foreach (var id in HostileCorpus.BadIds.Where(i => i.Length is > 0 and < 2000))
        {
            var escaped = Uri.EscapeDataString(id);
            // Kestrel refuses a NUL in the path (%00) with its own 400 before routing.
            var (status, kestrel) = id.Contains('\0', StringComparison.Ordinal) ? (400, true) : (404, false);
            data.Add("GET", $"/v1/responses/{escaped}", status, kestrel);
            data.Add("DELETE", $"/v1/responses/{escaped}", status, kestrel);
            data.Add("GET", $"/v1/responses/{escaped}/input_items", status, kestrel);
            data.Add("GET", $"/v1/responses/{escaped}?stream=true&starting_after=0", status, kestrel);
            data.Add("GET", $"/v1/conversations/{escaped}", status, kestrel);
            data.Add("DELETE", $"/v1/conversations/{escaped}", status, kestrel);
            data.Add("GET", $"/v1/conversations/{escaped}/items", status, kestrel);
            data.Add("GET", $"/v1/conversations/{escaped}/items/{escaped}", status, kestrel);
            data.Add("DELETE", $"/v1/conversations/{escaped}/items/{escaped}", status, kestrel);
        }
        foreach (var query in new[] { "limit=0", "limit=101", "limit=-1", "limit=1e2", "limit=+5", "limit=%205", "limit=99999999999999999999", "limit=", "limit=1&limit=2",
            "limit=%D9%A3", "order=DESC", "order=", "order=asc&order=desc", "order=%00" })
        {
            data.Add("GET", $"/v1/responses/{known}/input_items?{query}", 400, false);
        }
        foreach (var query in new[] { "after=nope", "before=nope", $"after={new string('a', 4000)}", "after=%00", "after=msg_%27%20or%20%271%27%3D%271" })
        {
            data.Add("GET", $"/v1/responses/{known}/input_items?{query}", 400, false);
        }
        foreach (var query in new[] { "starting_after=abc", "starting_after=-2", "starting_after=2147483648", "starting_after=1.5", "starting_after=", "starting_after=1&starting_after=2" })
        {
            data.Add("GET", $"/v1/responses/{known}?stream=true&{query}", 400, false);
        }
        foreach (var (method, path) in new[] { ("PUT", "/v1/responses"), ("PATCH", $"/v1/responses/{known}"), ("POST", $"/v1/responses/{known}"),
            ("GET", "/v1/responses"), ("GET", "/v1/responses/"), ("GET", "/v1//responses"), ("GET", "/v1/responses/a/b/c"), ("GET", "/%2e%2e/%2e%2e/etc/passwd") })
        {
            data.Add(method, path, 0, false); // any 4xx: routing decides between 404 and 405
        }
        data.Add("GET", $"/v1/responses/{new string('a', 6000)}", 404, false);
        data.Add("GET", $"/v1/responses/{known}?x={new string('a', 9000)}", 414, true); // request line over Kestrel's 8 KiB
        return data;
    }

    [Theory]
    [MemberData(nameof(HostilePaths))]
    public async Task HostileIdsQueriesAndMethods_AreAnswered4xx(string method, string path, int expected, bool byKestrel)
    {
        using var client = _gateway.CreateClient();
        if (path.Contains("{known}", StringComparison.Ordinal))
        {
            var (status, created) = await PostAsync(client, "/v1/responses", """{"model":"mock-model","input":[{"role":"user","content":"a"},{"role":"user","content":"b"}]}""");
            Assert.Equal(200, status);
            path = path.Replace("{known}", (string)created["id"]!, StringComparison.Ordinal);
        }
        var upstreamBefore = _mock.Requests.Count;

        using var response = await client.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));
        var text = await response.Content.ReadAsStringAsync();

        var actual = (int)response.StatusCode;
        Assert.True(actual is >= 400 and < 500, $"{method} {path[..Math.Min(path.Length, 120)]}: HTTP {actual} {Clip(text)}");
        if (expected != 0)
        {
            Assert.Equal(expected, actual);
        }
        // Kestrel answers some requests itself, before any application code runs, with an empty body.
        if (byKestrel)
        {
            Assert.Equal("", text);
        }
        else
        {
            Assert.Null(EnvelopeProblem(response, text));
        }
        Assert.Equal(upstreamBefore, _mock.Requests.Count);
        await AssertHealthyAsync(client);
    }

    public static TheoryData<string, int> HostileHeaders() => new()
    {
        // Kestrel's defaults (MaxRequestHeadersTotalSize 32 KiB, MaxRequestHeaderCount 100) answer 431 with an empty body.
        { "huge authorization", 431 },
        { "huge other header", 431 },
        { "many headers", 431 },
        // Below Kestrel's limits the gateway itself answers, in the envelope.
        { "long wrong key", 401 },
        { "basic scheme", 401 },
        { "bearer without key", 401 },
        { "two authorization headers", 401 },
        { "no authorization", 401 },
        { "key with trailing junk", 401 },
    };

    [Theory]
    [MemberData(nameof(HostileHeaders))]
    public async Task HostileHeaders_AreAnswered4xxAndNothingIsForwarded(string name, int expected)
    {
        using var client = _gateway.CreateClient(key: null);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/responses") { Content = Json("""{"model":"mock-model","input":"hi"}""") };
        var headers = request.Headers;
        switch (name)
        {
            case "huge authorization": headers.TryAddWithoutValidation("Authorization", "Bearer " + new string('k', 40_000)); break;
            case "huge other header": headers.TryAddWithoutValidation("Authorization", "Bearer " + GatewayHost.KeyA); headers.TryAddWithoutValidation("X-Big", new string('x', 40_000)); break;
            case "many headers":
                headers.TryAddWithoutValidation("Authorization", "Bearer " + GatewayHost.KeyA);
                for (var i = 0; i < 150; i++)
                {
                    headers.TryAddWithoutValidation($"X-H{i}", "v");
                }
                break;
            case "long wrong key": headers.TryAddWithoutValidation("Authorization", "Bearer " + new string('k', 20_000)); break;
            case "basic scheme": headers.TryAddWithoutValidation("Authorization", "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("a:" + GatewayHost.KeyA))); break;
            case "bearer without key": headers.TryAddWithoutValidation("Authorization", "Bearer"); break;
            case "two authorization headers": headers.TryAddWithoutValidation("Authorization", ["Bearer " + GatewayHost.KeyA, "Bearer " + GatewayHost.KeyB]); break;
            case "key with trailing junk": headers.TryAddWithoutValidation("Authorization", "Bearer " + GatewayHost.KeyA + "x"); break;
        }
        var upstreamBefore = _mock.Requests.Count;

        using var response = await client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal(expected, (int)response.StatusCode);
        if (expected == 431)
        {
            Assert.Equal("", text);
        }
        else
        {
            Assert.Null(EnvelopeProblem(response, text));
            Assert.DoesNotContain(GatewayHost.KeyA, text, StringComparison.Ordinal);
        }
        Assert.Equal(upstreamBefore, _mock.Requests.Count);
        using var healthy = _gateway.CreateClient();
        await AssertHealthyAsync(healthy);
    }

    private async Task<List<string>> StoredResponseIdsAsync()
    {
        var table = _gateway.Services.GetRequiredService<TableClient>();
        var ids = new List<string>();
        try
        {
            await foreach (var row in table.QueryAsync<TableEntity>(select: ["PartitionKey", "RowKey"]))
            {
                // Head rows of chain partitions (32 hex digits); the item index's rows are keyed by item ids, which may look alike.
                if (row.PartitionKey.Length == 32 && row.RowKey.StartsWith("resp_", StringComparison.Ordinal) && !row.RowKey.Contains('~', StringComparison.Ordinal))
                {
                    ids.Add(row.RowKey);
                }
            }
        }
        catch (Azure.RequestFailedException e) when (e.Status == 404)
        {
            // no table yet: nothing stored
        }
        return ids;
    }

    private static async Task AssertHealthyAsync(HttpClient client)
    {
        var (status, body) = await PostAsync(client, "/v1/responses", """{"model":"mock-model","input":"still alive?"}""");
        Assert.Equal(200, status);
        Assert.Equal("completed", (string?)body["status"]);
    }

    /// <summary>Null when the body is OpenAI's envelope with exactly its four keys; else what is wrong.</summary>
    internal static string? EnvelopeProblem(HttpResponseMessage response, string text)
    {
        if (response.Content.Headers.ContentType?.MediaType != "application/json")
        {
            return $"content type {response.Content.Headers.ContentType}: {Clip(text)}";
        }
        JsonObject? error;
        try
        {
            error = JsonNode.Parse(text)?["error"] as JsonObject;
        }
        catch (System.Text.Json.JsonException)
        {
            return "not JSON: " + Clip(text);
        }
        if (error is null || !error.Select(p => p.Key).SequenceEqual(["message", "type", "param", "code"]))
        {
            return "not the envelope: " + Clip(text);
        }
        return string.IsNullOrWhiteSpace((string?)error["message"]) || string.IsNullOrWhiteSpace((string?)error["type"]) ? "empty message or type: " + Clip(text) : null;
    }

    private static string? ResponseId(HttpResponseMessage response, string text)
    {
        if (response.Content.Headers.ContentType?.MediaType == "text/event-stream")
        {
            var first = new SseStream(text).Events.FirstOrDefault();
            return first is null ? null : (string?)first.Json["response"]?["id"];
        }
        return (string?)JsonNode.Parse(text)?["id"];
    }

    private static string Clip(string text) => text.Length <= 300 ? text : text[..300] + "…";

    /// <summary>A body sent with <c>Transfer-Encoding: chunked</c> (no Content-Length), so only reading it can find its size.</summary>
    private sealed class ChunkedContent(byte[] body) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            for (var at = 0; at < body.Length; at += 8192)
            {
                await stream.WriteAsync(body.AsMemory(at, Math.Min(8192, body.Length - at)));
            }
        }

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }
}
