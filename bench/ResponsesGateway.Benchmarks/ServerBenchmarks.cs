using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json.Nodes;
using BenchmarkDotNet.Attributes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using ResponsesGateway.Core.Options;
using ResponsesGateway.Core.Routing;
using ResponsesGateway.Core.Storage;
using ResponsesGateway.Core.Upstreams;
using ResponsesGateway.Server;

namespace ResponsesGateway.Benchmarks;

/// <summary>
/// The whole HTTP edge, in-process: <see cref="GatewayApp.Build"/> on Kestrel at 127.0.0.1:0 with an in-memory
/// upstream (the mock's recorded reply) and a no-op store, called over loopback by an HttpClient. The SSE writer is
/// internal, so it is priced as "the same reply streamed vs returned as JSON"; the Stub* rows give the in-memory
/// upstream's own share so it can be taken out.
/// </summary>
[MemoryDiagnoser]
public class ServerBenchmarks
{
    private WebApplication _app = null!;
    private HttpClient _client = null!;
    private StubUpstream _stub = null!;
    private byte[] _json = null!;
    private byte[] _sse = null!;

    public static int EventsPerStream { get; private set; }

    [GlobalSetup]
    public void Setup()
    {
        var replies = Recorded.FromMockAsync(
        [
            ("json", "/responses", $$"""{"model":"mock-model","input":"{{Recorded.Input}}","store":false}"""),
            ("sse", "/responses", $$"""{"model":"mock-model","input":"{{Recorded.Input}}","store":false,"stream":true}"""),
        ]).GetAwaiter().GetResult();
        _stub = new StubUpstream(replies["json"], Recorded.DataLines(replies["sse"]));
        EventsPerStream = _stub.Events.Count;
        var settings = new Dictionary<string, string?>
        {
            ["Gateway:ApiKeys:bench"] = "sk-bench-key-0123456789",
            ["Upstreams:stub:BaseUrl"] = "http://127.0.0.1:9/v1",
            ["Storage:ConnectionString"] = "UseDevelopmentStorage=true",
            ["Urls"] = "http://127.0.0.1:0",
            // Per-request Information logs would be counted too; they are priced by the load harness instead.
            ["Logging:LogLevel:Default"] = "Warning",
        };
        _app = GatewayApp.Build([], config => config.AddInMemoryCollection(settings), services =>
        {
            services.AddSingleton(new UpstreamRouter([new UpstreamRegistration("stub", new UpstreamOptions { BaseUrl = "http://127.0.0.1:9/v1" }, _stub)]));
            services.AddSingleton<IResponseStore, NullStore>();
        });
        _app.StartAsync().GetAwaiter().GetResult();
        var address = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        _client = new HttpClient { BaseAddress = new Uri(address) };
        _client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "sk-bench-key-0123456789");
        _json = Encoding.UTF8.GetBytes($$"""{"model":"mock-model","input":"{{Recorded.Input}}","store":false}""");
        _sse = Encoding.UTF8.GetBytes($$"""{"model":"mock-model","input":"{{Recorded.Input}}","store":false,"stream":true}""");
        // Fail early if the edge does not answer as expected.
        if (!Post(_sse).GetAwaiter().GetResult().Contains("response.completed", StringComparison.Ordinal) || !Post(_json).GetAwaiter().GetResult().Contains("\"completed\"", StringComparison.Ordinal))
        {
            throw new InvalidOperationException("the in-process gateway did not answer as expected");
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _client.Dispose();
        _app.StopAsync().GetAwaiter().GetResult();
        _app.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }

    [Benchmark(Description = "POST /v1/responses JSON, in-process server")]
    public Task<string> ServerJson() => Post(_json);

    [Benchmark(Description = "POST /v1/responses SSE, in-process server")]
    public Task<string> ServerSse() => Post(_sse);

    [Benchmark(Description = "in-memory upstream alone, JSON")]
    public Task<JsonObject> StubJson() => _stub.CreateAsync(null!, CancellationToken.None);

    [Benchmark(Description = "in-memory upstream alone, SSE events")]
    public async Task<int> StubEvents()
    {
        var n = 0;
        await foreach (var _ in _stub.StreamAsync(null!, CancellationToken.None))
        {
            n++;
        }
        return n;
    }

    private async Task<string> Post(byte[] body)
    {
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var response = await _client.PostAsync("/v1/responses", content);
        return await response.Content.ReadAsStringAsync();
    }

    /// <summary>Answers with the recorded reply, parsed afresh each time (the pipeline mutates what it gets).</summary>
    private sealed class StubUpstream(byte[] json, List<byte[]> events) : IUpstream
    {
        public List<byte[]> Events { get; } = events;

        public string Name => "stub";

        public Task<JsonObject> CreateAsync(UpstreamRequest request, CancellationToken cancellationToken) =>
            Task.FromResult(JsonNode.Parse(json)!.AsObject());

        public async IAsyncEnumerable<JsonObject> StreamAsync(UpstreamRequest request, [EnumeratorCancellation] CancellationToken cancellationToken)
        {
            foreach (var e in Events)
            {
                await Task.CompletedTask;
                yield return JsonNode.Parse(e)!.AsObject();
            }
        }

        // The benchmark measures creates only; these routes are not on its path.
        public Task<JsonObject> CountInputTokensAsync(UpstreamRequest request, CancellationToken cancellationToken) =>
            throw new NotSupportedException();

        public Task<JsonObject> CompactAsync(UpstreamRequest request, CancellationToken cancellationToken) =>
            throw new NotSupportedException();
    }

    private sealed class NullStore : IResponseStore
    {
        public Task SaveAsync(StoredResponse response, CancellationToken cancellationToken) => Task.CompletedTask;

        public Task<StoredResponse?> GetAsync(string owner, string id, CancellationToken cancellationToken) => Task.FromResult<StoredResponse?>(null);

        public Task<IReadOnlyList<StoredResponse>?> GetChainAsync(string owner, string id, CancellationToken cancellationToken) => Task.FromResult<IReadOnlyList<StoredResponse>?>(null);

        public Task<bool> DeleteAsync(string owner, string id, CancellationToken cancellationToken) => Task.FromResult(false);

        public Task<int> SweepAsync(DateTimeOffset cutoff, CancellationToken cancellationToken) => Task.FromResult(0);
    }
}
