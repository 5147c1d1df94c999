using System.Text;
using System.Text.Json.Nodes;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Logging.Abstractions;
using ResponsesGateway.Core.Options;
using ResponsesGateway.Core.Requests;
using ResponsesGateway.Core.Upstreams;
using ResponsesGateway.Upstreams;

namespace ResponsesGateway.Benchmarks;

/// <summary>
/// The upstream adapters through their public factory (<see cref="UpstreamFactory.Create"/>): the native Responses
/// adapter and the Chat Completions adapter (request mapping + the chat translator), each reading the same reply
/// recorded from the mock through an in-memory handler. Chat minus native is the price of the translation.
/// </summary>
[MemoryDiagnoser]
public class UpstreamBenchmarks
{
    private IUpstream _native = null!;
    private IUpstream _chat = null!;
    private byte[] _nativeRequest = null!;
    private byte[] _chatRequest = null!;

    [GlobalSetup]
    public void Setup()
    {
        var messages = $$"""{"model":"chat-model","messages":[{"role":"user","content":"{{Recorded.Input}}"}]""";
        var replies = Recorded.FromMockAsync(
        [
            ("native-json", "/responses", $$"""{"model":"mock-model","input":"{{Recorded.Input}}","store":false}"""),
            ("native-sse", "/responses", $$"""{"model":"mock-model","input":"{{Recorded.Input}}","store":false,"stream":true}"""),
            ("chat-json", "/chat/completions", messages + "}"),
            ("chat-sse", "/chat/completions", messages + ""","stream":true,"stream_options":{"include_usage":true}}"""),
        ]).GetAwaiter().GetResult();
        var gateway = new GatewayOptions();
        _native = UpstreamFactory.Create("native", new UpstreamOptions { Kind = "responses", BaseUrl = "http://127.0.0.1:9/v1" }, gateway,
            new HttpClient(new ReplayHandler(replies["native-json"], replies["native-sse"])), NullLoggerFactory.Instance);
        _chat = UpstreamFactory.Create("chat", new UpstreamOptions { Kind = "chat", BaseUrl = "http://127.0.0.1:9/v1" }, gateway,
            new HttpClient(new ReplayHandler(replies["chat-json"], replies["chat-sse"])), NullLoggerFactory.Instance);
        _nativeRequest = Encoding.UTF8.GetBytes($$"""{"model":"mock-model","input":"{{Recorded.Input}}","store":false,"stream":true}""");
        _chatRequest = Encoding.UTF8.GetBytes($$"""{"model":"chat-model","input":"{{Recorded.Input}}","store":false,"stream":true}""");
        EventsPerStream = StreamNative().GetAwaiter().GetResult();
    }

    public static int EventsPerStream { get; private set; }

    [Benchmark(Description = "native adapter, SSE")]
    public Task<int> StreamNative() => CountAsync(_native, _nativeRequest);

    [Benchmark(Description = "chat adapter + translator, SSE")]
    public Task<int> StreamChat() => CountAsync(_chat, _chatRequest);

    [Benchmark(Description = "native adapter, JSON")]
    public Task<JsonObject> JsonNative() => _native.CreateAsync(NewRequest(_nativeRequest, stream: false), CancellationToken.None);

    [Benchmark(Description = "chat adapter + translator, JSON")]
    public Task<JsonObject> JsonChat() => _chat.CreateAsync(NewRequest(_chatRequest, stream: false), CancellationToken.None);

    private static async Task<int> CountAsync(IUpstream upstream, byte[] body)
    {
        var n = 0;
        await foreach (var _ in upstream.StreamAsync(NewRequest(body, stream: true), CancellationToken.None))
        {
            n++;
        }
        return n;
    }

    // What the pipeline hands an adapter: the validated request, its body with store:false, a gateway id.
    private static UpstreamRequest NewRequest(byte[] body, bool stream)
    {
        var request = CreateResponseRequestParser.Parse(body);
        var upstreamBody = (JsonObject)request.Body.DeepClone();
        upstreamBody["stream"] = stream;
        return new UpstreamRequest(upstreamBody, request, "resp_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", 1_700_000_000);
    }
}
