using System.Text.Json.Nodes;

namespace ResponsesGateway.Core.Upstreams;

/// <summary>
/// One upstream provider, spoken to in the Responses grammar whatever its own protocol. Implementations throw
/// <see cref="UpstreamException"/> for every failure, so the pipeline maps failures in one place.
/// </summary>
public interface IUpstream
{
    /// <summary>The configured name, used in logs and errors (never a URL or a key).</summary>
    string Name { get; }

    /// <summary>Non-streaming call: returns the upstream's Response object.</summary>
    Task<JsonObject> CreateAsync(UpstreamRequest request, CancellationToken cancellationToken);

    /// <summary>
    /// Streaming call: yields Responses stream events (each a JSON object with <c>type</c>) and ends after the terminal
    /// lifecycle event. Failures before the first event (connect, status) are thrown from the first <c>MoveNextAsync</c>.
    /// </summary>
    IAsyncEnumerable<JsonObject> StreamAsync(UpstreamRequest request, CancellationToken cancellationToken);

    /// <summary><c>POST /v1/responses/input_tokens</c> for the same body: <c>{"object":"response.input_tokens","input_tokens":N}</c>.</summary>
    Task<JsonObject> CountInputTokensAsync(UpstreamRequest request, CancellationToken cancellationToken);

    /// <summary><c>POST /v1/responses/compact</c> for the same body: a <c>response.compaction</c> object.</summary>
    Task<JsonObject> CompactAsync(UpstreamRequest request, CancellationToken cancellationToken);
}
