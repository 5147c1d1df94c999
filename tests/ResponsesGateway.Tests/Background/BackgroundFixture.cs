using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Azure.Storage.Queues;
using ResponsesGateway.MockUpstream;
using ResponsesGateway.TestSupport;
using ResponsesGateway.Tests.Infrastructure;

namespace ResponsesGateway.Tests.Background;

/// <summary>
/// Azurite's table and queue services, the mock upstream, and a gateway that consumes the background queue, with
/// short lease, batch and poll times so that runs and fault tests end in seconds. Other instances on the same table
/// and queue (a second gateway, one without a runner) come from <see cref="StartGatewayAsync"/>.
/// </summary>
public sealed class BackgroundFixture : IAsyncLifetime
{
    public AzuriteServer Azurite { get; private set; } = null!;

    public AzuriteServer Queues { get; private set; } = null!;

    public MockUpstreamServer Mock { get; private set; } = null!;

    public GatewayHost Gateway { get; private set; } = null!;

    public string TableName { get; } = "bg" + Guid.NewGuid().ToString("N")[..16];

    public string QueueName { get; } = "bg-" + Guid.NewGuid().ToString("N")[..16];

    public string ConnectionString => Azurite.ConnectionStringWithQueue(Queues);

    public async Task InitializeAsync()
    {
        var azurite = AzuriteServer.StartAsync();
        var queues = AzuriteServer.StartQueueAsync();
        var mock = MockUpstreamServer.StartAsync();
        Azurite = await azurite;
        Queues = await queues;
        Mock = await mock;
        Gateway = await StartGatewayAsync();
    }

    /// <summary>Settings of every instance of this fixture; <paramref name="extra"/> wins.</summary>
    public Dictionary<string, string?> Settings(IDictionary<string, string?>? extra = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Storage:TableName"] = TableName,
            ["Background:Runner"] = "true",
            ["Background:QueueName"] = QueueName,
            ["Background:LeaseSeconds"] = "3",
            ["Background:EventBatchSize"] = "4",
            ["Background:EventBatchMilliseconds"] = "100",
            ["Background:PollMilliseconds"] = "200",
            ["Background:MaxDequeueCount"] = "3",
            ["Gateway:KeepAliveSeconds"] = "1",
        };
        foreach (var (key, value) in extra ?? new Dictionary<string, string?>())
        {
            settings[key] = value;
        }
        return settings;
    }

    public Task<GatewayHost> StartGatewayAsync(IDictionary<string, string?>? extra = null) =>
        GatewayHost.StartAsync(ConnectionString, GatewayHost.Upstream("mock", "responses", Mock.BaseUrl), Settings(extra));

    public QueueClient Queue(string? name = null) =>
        new(ConnectionString, name ?? QueueName, new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 });

    /// <summary>Upstream calls whose input carried <paramref name="marker"/>.</summary>
    public int UpstreamCalls(string marker) => Mock.Requests.Count(r => r.Path.EndsWith("/responses", StringComparison.Ordinal) && r.Body.Contains(marker, StringComparison.Ordinal));

    public async Task DisposeAsync()
    {
        await Gateway.DisposeAsync();
        await Mock.DisposeAsync();
        await Queues.DisposeAsync();
        await Azurite.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class BackgroundCollection : ICollectionFixture<BackgroundFixture>
{
    public const string Name = "background";
}

/// <summary>HTTP helpers for background responses.</summary>
public static class BackgroundHttp
{
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    public static string Marker() => "bg-" + Guid.NewGuid().ToString("N")[..12];

    public static async Task<JsonObject> CreateAsync(HttpClient client, string model, string input, string extra = "")
    {
        var (status, body) = await GatewayHttp.PostAsync(client, "/v1/responses",
            $$"""{"model":"{{model}}","input":"{{input}}","background":true{{extra}}}""");
        Assert.True(status == 200, body.ToJsonString());
        return body;
    }

    public static async Task<JsonObject> GetAsync(HttpClient client, string id)
    {
        using var response = await client.GetAsync($"/v1/responses/{id}");
        var body = await GatewayHttp.ReadObjectAsync(response);
        Assert.True(response.IsSuccessStatusCode, body.ToJsonString());
        return body;
    }

    /// <summary>Polls GET until the status is one of <paramref name="statuses"/>.</summary>
    public static async Task<JsonObject> PollUntilAsync(HttpClient client, string id, params string[] statuses)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (true)
        {
            var body = await GetAsync(client, id);
            if (statuses.Contains((string?)body["status"]))
            {
                return body;
            }
            Assert.True(DateTime.UtcNow < deadline, $"still {(string?)body["status"]} after {Patience}: {body.ToJsonString()}");
            await Task.Delay(100);
        }
    }

    /// <summary>GET ?stream=true (&amp;starting_after=N), read to its end.</summary>
    public static async Task<SseStream> ResumeAsync(HttpClient client, string id, int? startingAfter = null)
    {
        var query = startingAfter is { } n ? $"&starting_after={n}" : "";
        using var cts = new CancellationTokenSource(Patience);
        using var response = await client.GetAsync($"/v1/responses/{id}?stream=true{query}", HttpCompletionOption.ResponseHeadersRead, cts.Token);
        var text = await response.Content.ReadAsStringAsync(cts.Token);
        Assert.True(response.IsSuccessStatusCode, text);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        return new SseStream(text);
    }

    /// <summary>
    /// Opens a streaming background create and reads events until <paramref name="until"/> says stop; then drops the
    /// connection. Returns the events read.
    /// </summary>
    public static async Task<List<SseEvent>> StreamUntilAsync(HttpClient client, string body, Func<SseEvent, bool> until)
    {
        using var cts = new CancellationTokenSource(Patience);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/responses") { Content = GatewayHttp.Json(body) };
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cts.Token);
        Assert.True(response.IsSuccessStatusCode);
        await using var stream = await response.Content.ReadAsStreamAsync(cts.Token);
        using var reader = new StreamReader(stream);
        var events = new List<SseEvent>();
        var block = new List<string>();
        while (await reader.ReadLineAsync(cts.Token) is { } line)
        {
            if (line.Length > 0)
            {
                block.Add(line);
                continue;
            }
            var data = block.Where(l => l.StartsWith("data: ", StringComparison.Ordinal)).Select(l => l["data: ".Length..]).ToList();
            var name = block.FirstOrDefault(l => l.StartsWith("event: ", StringComparison.Ordinal))?["event: ".Length..];
            block.Clear();
            if (data.Count == 0)
            {
                continue; // a keep-alive comment
            }
            var evt = new SseEvent(name, string.Concat(data));
            events.Add(evt);
            if (until(evt))
            {
                break;
            }
        }
        return events;
    }

    public static async Task<(int Status, JsonObject Body)> CancelAsync(HttpClient client, string id)
    {
        using var response = await client.PostAsync($"/v1/responses/{id}/cancel", null);
        return ((int)response.StatusCode, await GatewayHttp.ReadObjectAsync(response));
    }
}
