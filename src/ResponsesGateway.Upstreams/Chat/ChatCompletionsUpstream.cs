using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using ResponsesGateway.Core.Upstreams;
using ResponsesGateway.Protocol.Serialization;
using ResponsesGateway.Upstreams.Http;
using ResponsesGateway.Upstreams.Sse;

namespace ResponsesGateway.Upstreams.Chat;

/// <summary>
/// An upstream that only speaks <c>{BaseUrl}/chat/completions</c> (DeepSeek, vLLM, llama.cpp, Ollama, most hosted
/// vendors). Requests are translated by <see cref="ChatRequestMapper"/>; answers, streamed or not, go through one
/// <see cref="ChatStreamTranslator"/>, so both paths produce the same items.
/// </summary>
internal sealed partial class ChatCompletionsUpstream : IUpstream
{
    private readonly Uri _url;
    private readonly UpstreamHttp _http;
    private readonly ChatCapabilities _capabilities;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;

    /// <summary>Names the hosted tools removed from the request (<see cref="ChatToolPlan"/>).</summary>
    public const string DroppedToolsHeader = "x-gateway-dropped-tools";

    public ChatCompletionsUpstream(string name, Uri baseUrl, UpstreamHttp http, ChatCapabilities capabilities, ILogger logger, TimeProvider? time = null)
    {
        Name = name;
        _url = new Uri(baseUrl.ToString().TrimEnd('/') + "/chat/completions");
        _http = http;
        _capabilities = capabilities;
        _logger = logger;
        _time = time ?? TimeProvider.System;
    }

    public string Name { get; }

    public async Task<JsonObject> CreateAsync(UpstreamRequest request, CancellationToken cancellationToken)
    {
        if (EndsWithCompactionTrigger(request))
        {
            return await CompactTurnAsync(request, cancellationToken);
        }
        // Mapped before the call: a tool the upstream cannot run is the client's 400, not an upstream failure.
        var plan = Plan(request);
        var body = ChatRequestMapper.Map(request, plan, _capabilities, Name, stream: false, _logger);
        ChatLog.Calling(_logger, Name, request.ResponseId, false);
        using var response = await _http.SendAsync(_url, ProtocolJson.ToUtf8(body), stream: false, cancellationToken);
        var bytes = await _http.ReadBodyAsync(response, cancellationToken);
        JsonObject completion;
        try
        {
            completion = ProtocolJson.ParseObject(bytes);
        }
        catch (Exception e) when (e is JsonException or ArgumentException or InvalidOperationException)
        {
            throw new UpstreamException(UpstreamFailure.StreamInterrupted, "the upstream's answer is not a JSON object.", e);
        }
        return ChatResponseMapper.Map(completion, NewTranslator(request, plan));
    }

    public async IAsyncEnumerable<JsonObject> StreamAsync(UpstreamRequest request, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (EndsWithCompactionTrigger(request))
        {
            await foreach (var evt in StreamCompactTurnAsync(request, cancellationToken))
            {
                yield return evt;
            }
            yield break;
        }
        var plan = Plan(request);
        var body = ChatRequestMapper.Map(request, plan, _capabilities, Name, stream: true, _logger);
        ChatLog.Calling(_logger, Name, request.ResponseId, true);
        using var response = await _http.SendAsync(_url, ProtocolJson.ToUtf8(body), stream: true, cancellationToken);
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        await foreach (var evt in Translate(NewTranslator(request, plan), stream, _http.IdleTimeout, cancellationToken))
        {
            yield return evt;
        }
    }

    /// <summary>
    /// No chat server counts tokens without generating: the chat body this request would send is counted here
    /// (<see cref="ChatTokenCounter"/>), so the same tool and history translation is what gets measured.
    /// </summary>
    public Task<JsonObject> CountInputTokensAsync(UpstreamRequest request, CancellationToken cancellationToken)
    {
        var body = ChatRequestMapper.Map(request, Plan(request), _capabilities, Name, stream: false, _logger);
        return Task.FromResult(new JsonObject { ["object"] = "response.input_tokens", ["input_tokens"] = ChatTokenCounter.Count(body) });
    }

    /// <summary>
    /// Chat chunks from an SSE body → Responses events. The stream ends when the body ends: <c>[DONE]</c> is skipped by
    /// the reader and not required, since several servers close without it. Exposed for the golden tests.
    /// </summary>
    internal static async IAsyncEnumerable<JsonObject> Translate(ChatStreamTranslator translator, Stream body, TimeSpan idleTimeout,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        foreach (var evt in translator.Start())
        {
            yield return evt;
        }
        // Each chunk is read in place (pooled, valid until the next one); the translator copies out what it keeps.
        await foreach (var chunk in SseEventReader.ReadElementsAsync(body, idleTimeout, cancellationToken))
        {
            foreach (var evt in translator.OnChunk(chunk))
            {
                yield return evt;
            }
        }
        foreach (var evt in translator.Finish())
        {
            yield return evt;
        }
    }

    private ChatStreamTranslator NewTranslator(UpstreamRequest request, ChatToolPlan plan) => new(request, _capabilities, Name, _logger, _time, plan);

    /// <summary>The request's tools in chat terms; the hosted tools it drops are logged and named in a response header.</summary>
    private ChatToolPlan Plan(UpstreamRequest request)
    {
        var plan = ChatToolPlan.Build(request.Body, _capabilities, Name);
        if (plan.Dropped.Count > 0)
        {
            var dropped = string.Join(", ", plan.Dropped);
            ChatLog.DroppedHostedTools(_logger, dropped, request.ResponseId, Name);
            request.Original.ResponseHeaders[DroppedToolsHeader] = dropped;
        }
        else
        {
            request.Original.ResponseHeaders.Remove(DroppedToolsHeader); // an earlier attempt on another upstream set it
        }
        return plan;
    }
}
