using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using ResponsesGateway.Core.Upstreams;
using ResponsesGateway.Protocol.Serialization;
using ResponsesGateway.Protocol.Streaming;
using ResponsesGateway.Upstreams.Http;
using ResponsesGateway.Upstreams.Sse;

namespace ResponsesGateway.Upstreams.Responses;

/// <summary>
/// An upstream that speaks <c>/v1/responses</c> itself (OpenAI, Azure OpenAI, vLLM, Ollama…). The body goes out as the
/// client sent it, unknown fields included; the events come back as the upstream sent them.
/// </summary>
internal sealed partial class ResponsesUpstream : IUpstream
{
    // The fields each endpoint takes (OpenAI rejects unknown ones there): create-only fields such as store, stream,
    // include or metadata are not sent.
    private static readonly string[] InputTokenFields =
        ["model", "input", "instructions", "tools", "tool_choice", "text", "reasoning", "truncation", "parallel_tool_calls"];
    private static readonly string[] CompactFields =
        ["model", "input", "instructions", "prompt_cache_key", "prompt_cache_retention", "service_tier"];

    private readonly Uri _url;
    private readonly Uri _inputTokensUrl;
    private readonly Uri _compactUrl;
    private readonly UpstreamHttp _http;
    private readonly ILogger _logger;

    public ResponsesUpstream(string name, Uri baseUrl, UpstreamHttp http, ILogger logger)
    {
        Name = name;
        _url = new Uri(baseUrl.ToString().TrimEnd('/') + "/responses");
        _inputTokensUrl = new Uri(_url + "/input_tokens");
        _compactUrl = new Uri(_url + "/compact");
        _http = http;
        _logger = logger;
    }

    public string Name { get; }

    public Task<JsonObject> CreateAsync(UpstreamRequest request, CancellationToken cancellationToken)
    {
        Log.Calling(_logger, Name, request.ResponseId, false);
        return PostAsync(_url, Prepare(request, stream: false), cancellationToken);
    }

    public Task<JsonObject> CountInputTokensAsync(UpstreamRequest request, CancellationToken cancellationToken) =>
        PostAsync(_inputTokensUrl, Select(request.Body, InputTokenFields), cancellationToken);

    public Task<JsonObject> CompactAsync(UpstreamRequest request, CancellationToken cancellationToken) =>
        PostAsync(_compactUrl, Select(request.Body, CompactFields), cancellationToken);

    private static byte[] Select(JsonObject body, string[] fields)
    {
        var selected = new JsonObject();
        foreach (var field in fields)
        {
            if (body.TryGetPropertyValue(field, out var value))
            {
                selected[field] = value?.DeepClone();
            }
        }
        return ProtocolJson.ToUtf8(selected);
    }

    private async Task<JsonObject> PostAsync(Uri url, byte[] body, CancellationToken cancellationToken)
    {
        using var response = await _http.SendAsync(url, body, stream: false, cancellationToken);
        var bytes = await _http.ReadBodyAsync(response, cancellationToken);
        try
        {
            return ProtocolJson.ParseObject(bytes);
        }
        catch (Exception e) when (e is JsonException or ArgumentException or InvalidOperationException)
        {
            throw new UpstreamException(UpstreamFailure.StreamInterrupted, "the upstream's answer is not a JSON object.", e);
        }
    }

    public async IAsyncEnumerable<JsonObject> StreamAsync(UpstreamRequest request, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        Log.Calling(_logger, Name, request.ResponseId, true);
        using var response = await _http.SendAsync(_url, Prepare(request, stream: true), stream: true, cancellationToken);
        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
        await foreach (var evt in SseEventReader.ReadAsync(body, _http.IdleTimeout, cancellationToken))
        {
            var type = (string?)evt["type"];
            if (type == StreamEventTypes.Error)
            {
                throw InBandError(evt);
            }
            yield return evt;
            if (StreamEventTypes.IsTerminal(type))
            {
                // Disposing the response here closes the connection right away, as the client's stream is about to close too.
                yield break;
            }
        }
    }

    /// <summary>
    /// The wire body. With <c>store:false</c> upstream, reasoning can only continue through <c>encrypted_content</c>:
    /// ask for it whenever reasoning is configured, and drop replayed reasoning items that lack it (the upstream would
    /// reject them as unknown ids).
    /// </summary>
    private static byte[] Prepare(UpstreamRequest request, bool stream)
    {
        var body = request.Body;
        body["stream"] = stream;
        if (body["input"] is JsonArray input)
        {
            for (var i = input.Count - 1; i >= 0; i--)
            {
                if (input[i] is JsonObject item && (string?)item["type"] == "reasoning" && item["encrypted_content"] is null && item["id"] is null)
                {
                    input.RemoveAt(i);
                }
            }
        }
        if (body["reasoning"] is JsonObject)
        {
            var include = body["include"] as JsonArray ?? [];
            if (!include.Any(x => (string?)x == "reasoning.encrypted_content"))
            {
                include.Add((JsonNode)"reasoning.encrypted_content");
            }
            body["include"] = include;
        }
        return ProtocolJson.ToUtf8(body);
    }

    // OpenAI sends the error event flat ({code,message}) or nested ({error:{...}}); accept both.
    private static UpstreamException InBandError(JsonObject evt)
    {
        var error = evt["error"] as JsonObject ?? evt;
        var message = error["message"] is JsonValue m && m.TryGetValue<string>(out var text) ? text : "The upstream reported an error.";
        var code = error["code"] is JsonValue c && c.TryGetValue<string>(out var value) ? value : "server_error";
        return new UpstreamException(UpstreamFailure.InBandError, message) { Code = code };
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 2001, Level = LogLevel.Debug, Message = "Calling Responses upstream {Upstream} for {ResponseId} (stream={Stream})")]
        public static partial void Calling(ILogger logger, string upstream, string responseId, bool stream);
    }
}
