namespace ResponsesGateway.Core.Options;

/// <summary>
/// Settings of the gateway itself, bound from the <c>Gateway</c> configuration section
/// (<c>Gateway__ApiKeys__team-a</c> in app settings and environment variables).
/// </summary>
public sealed class GatewayOptions
{
    public const string SectionName = "Gateway";

    /// <summary>
    /// Client keys by name. The name is the tenant: every stored response belongs to the name of the key that created it.
    /// </summary>
    public Dictionary<string, string> ApiKeys { get; set; } = new(StringComparer.Ordinal);

    /// <summary>
    /// Client keys by name, given as the hex SHA-256 of the key instead of the key itself, so the plain key never has
    /// to sit in app settings. Same tenant semantics as <see cref="ApiKeys"/>; a name may appear in both (rotation).
    /// </summary>
    public Dictionary<string, string> ApiKeyHashes { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Requests one key may have in flight at once (streams included); more get 429. 0: unlimited.</summary>
    public int MaxConcurrentRequestsPerKey { get; set; }

    /// <summary>Requests one key may start per minute (a token bucket: bursts up to this many); more get 429. 0: unlimited.</summary>
    public int RequestsPerMinutePerKey { get; set; }

    /// <summary>Largest request body accepted, in bytes; larger bodies get 413.</summary>
    public long MaxRequestBodyBytes { get; set; } = 32 * 1024 * 1024;

    /// <summary>Seconds of upstream silence after which an SSE comment keeps the connection alive.</summary>
    public double KeepAliveSeconds { get; set; } = 15;

    /// <summary>Seconds allowed to open a connection to an upstream.</summary>
    public double UpstreamConnectTimeoutSeconds { get; set; } = 10;

    /// <summary>Seconds allowed between sending the upstream request and its response headers.</summary>
    public double UpstreamFirstByteTimeoutSeconds { get; set; } = 300;

    /// <summary>Seconds of silence allowed between two upstream stream events.</summary>
    public double UpstreamIdleTimeoutSeconds { get; set; } = 300;

    /// <summary>Upper bound for one whole request, streaming included.</summary>
    public double RequestTimeoutSeconds { get; set; } = 1800;

    /// <summary>
    /// Retries of an upstream call that failed before anything reached the client: connect failures, 408, 429 and 5xx.
    /// 0 turns retries off. A stream that has sent an event is never retried.
    /// </summary>
    public int UpstreamMaxRetries { get; set; } = 2;

    /// <summary>First retry delay in seconds; later retries back off exponentially, with jitter.</summary>
    public double UpstreamRetryDelaySeconds { get; set; } = 0.5;

    /// <summary>
    /// Longest wait before a retry, in seconds: caps the back-off and the upstream's <c>Retry-After</c>. An upstream
    /// that asks for a longer wait is not retried: the client gets its 429 and <c>Retry-After</c> right away.
    /// </summary>
    public double UpstreamMaxRetryDelaySeconds { get; set; } = 5;

    /// <summary>
    /// Largest single upstream SSE event, in bytes. A bigger one fails the stream with <c>response.failed</c> instead of
    /// being buffered without limit. Leaves room for <c>response.completed</c> repeating a whole large answer.
    /// </summary>
    public int UpstreamMaxEventBytes { get; set; } = 16 * 1024 * 1024;

    /// <summary>
    /// Memory, in MiB, for the context of recently stored or read turns, so that continuing a chain reads one row
    /// instead of every earlier turn. 0: every chain is read from storage.
    /// </summary>
    public int ChainCacheMegabytes { get; set; } = 64;

    /// <summary>
    /// Largest expanded history of one request, in bytes: the stored turns from the root of the chain to
    /// <c>previous_response_id</c>. A longer one is refused with 400 before it is decoded or sent upstream, so a few
    /// huge chains cannot take the process's memory.
    /// </summary>
    public long MaxChainBytes { get; set; } = 64L * 1024 * 1024;
}
