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
    /// Seconds the running turns get to finish when the host stops (new turns get 503 meanwhile); the streams still
    /// open after that end with <c>response.failed</c> (<c>server_shutting_down</c>). Keep it below the platform's
    /// grace period (the host's own shutdown timeout is raised to cover it).
    /// </summary>
    public double ShutdownDrainSeconds { get; set; } = 20;

    /// <summary>
    /// Key of the HMAC that seals the <c>compaction</c> items a chat upstream's compaction emulation returns, so that a
    /// replayed item is known to be this gateway's own summary (never text a client made up). Any string of 32+
    /// characters; every instance must share it. Empty: a random key per process (compactions do not survive a restart
    /// or reach another instance; a warning is logged).
    /// </summary>
    public string CompactionKey { get; set; } = "";

    /// <summary>The instruction a chat upstream is given to summarise a conversation for compaction (README).</summary>
    public string CompactionPrompt { get; set; } = DefaultCompactionPrompt;

    public const string DefaultCompactionPrompt =
        "You are compacting this conversation so that it can continue in a fresh context window. Write a summary "
        + "that another assistant can pick up from without the earlier messages: the user's goals and constraints, "
        + "decisions made, facts and results learned (file names, commands, errors, tool results that still matter), "
        + "what has been done, and what remains to do next. Be complete but concise. Answer with the summary only.";

    /// <summary>
    /// Seconds a WebSocket connection (standalone server) may stay open; then it gets a
    /// <c>websocket_connection_limit_reached</c> error and is closed, after the turn in flight. The specification's
    /// limit is 60 minutes.
    /// </summary>
    public double WebSocketConnectionLimitSeconds { get; set; } = 3600;

    /// <summary>
    /// Largest expanded history of one request, in bytes: the stored turns from the root of the chain to
    /// <c>previous_response_id</c>. A longer one is refused with 400 before it is decoded or sent upstream, so a few
    /// huge chains cannot take the process's memory.
    /// </summary>
    public long MaxChainBytes { get; set; } = 64L * 1024 * 1024;
}
