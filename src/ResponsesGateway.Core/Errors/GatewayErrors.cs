using ResponsesGateway.Protocol.Errors;

namespace ResponsesGateway.Core.Errors;

/// <summary>Factories for every error the gateway itself produces, worded like OpenAI's own.</summary>
public static class GatewayErrors
{
    public static GatewayException InvalidRequest(string message, string? param, string? code = null) =>
        new(400, new ApiError(message, ApiErrorTypes.InvalidRequest, param, code));

    public static GatewayException MalformedJson() => InvalidRequest(
        "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. "
        + "The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)",
        param: null);

    public static GatewayException MissingParameter(string param) =>
        InvalidRequest($"Missing required parameter: '{param}'.", param, "missing_required_parameter");

    public static GatewayException InvalidType(string param, string expected, string got) =>
        InvalidRequest($"Invalid type for '{param}': expected {expected}, but got {got} instead.", param, "invalid_type");

    public static GatewayException InvalidValue(string param, string message, string code = "invalid_value") =>
        InvalidRequest($"Invalid '{param}': {message}", param, code);

    public static GatewayException BodyTooLarge(long limit) => new(413, new ApiError(
        $"The request body is larger than the limit of {limit} bytes.", ApiErrorTypes.InvalidRequest, null, "request_too_large"));

    /// <summary>The body broke HTTP's framing (a bad chunk header, fewer bytes than <c>Content-Length</c>): the client's fault, a 400.</summary>
    public static GatewayException UnreadableBody(string detail) => InvalidRequest(
        $"The request body could not be read: {detail} (HINT: the body must match its Content-Length or be validly chunked.)", param: null, "invalid_request_body");

    /// <summary>The body arrived too slowly (the server's minimum data rate) or stopped arriving: a 408, so the client may retry.</summary>
    public static GatewayException BodyTimeout() => new(408, new ApiError(
        "Reading the request body timed out: it arrived too slowly or stopped arriving. Please send the whole body promptly and try again.",
        ApiErrorTypes.InvalidRequest, null, "request_timeout"));

    public static GatewayException MissingApiKey() => new(401, new ApiError(
        "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
        ApiErrorTypes.InvalidRequest, null, "invalid_api_key"));

    // The key is never echoed, not even masked: a partial key still narrows a brute-force search.
    public static GatewayException InvalidApiKey() => new(401, new ApiError(
        "Incorrect API key provided.", ApiErrorTypes.InvalidRequest, null, "invalid_api_key"));

    public static GatewayException ModelNotFound(string model) => new(404, new ApiError(
        $"The model `{model}` does not exist or you do not have access to it.", ApiErrorTypes.InvalidRequest, "model", "model_not_found"));

    // Ids come from the URL or the body unvalidated, so only an id of the shape the gateway mints (69 characters) is
    // echoed whole; anything else is clipped: a 6,000-character id must not come back whole in the message.
    public static GatewayException ResponseNotFound(string id) => new(404, new ApiError(
        $"Response with id '{EchoId(id)}' not found.", ApiErrorTypes.InvalidRequest, null, null));

    public static GatewayException PreviousResponseNotFound(string id) => new(400, new ApiError(
        $"Previous response with id '{EchoId(id)}' not found.", ApiErrorTypes.InvalidRequest, "previous_response_id", "previous_response_not_found"));

    public static GatewayException ChainTooLarge(string id, long limitBytes) => new(400, new ApiError(
        $"The conversation history of previous response '{id}' is larger than this gateway's limit of {(limitBytes >= 1024 * 1024 ? $"{limitBytes / (1024 * 1024.0):0.#} MiB" : $"{limitBytes} bytes")}. "
        + "Start a new conversation, or continue from an earlier response.", ApiErrorTypes.InvalidRequest, "previous_response_id", "context_length_exceeded"));

    public static GatewayException NotFound(string message) => new(404, new ApiError(
        message, ApiErrorTypes.InvalidRequest, null, null));

    public static GatewayException UpstreamUnauthorized(string upstream, int status) => new(502, new ApiError(
        $"The upstream '{upstream}' rejected the gateway's credentials (HTTP {status}). The gateway's upstream key or identity is misconfigured; this is not a problem with your API key.",
        ApiErrorTypes.Server, null, "upstream_auth_failed"));

    public static GatewayException UpstreamUnreachable(string upstream) => new(502, new ApiError(
        $"The gateway could not connect to the upstream '{upstream}'.", ApiErrorTypes.Server, null, "upstream_unreachable"));

    public static GatewayException UpstreamBadGateway(string upstream, string detail, string code = "upstream_error") => new(502, new ApiError(
        $"The upstream '{upstream}' failed: {detail}", ApiErrorTypes.Server, null, code));

    public static GatewayException UpstreamTimeout(string upstream) => new(504, new ApiError(
        $"The upstream '{upstream}' did not answer in time.", ApiErrorTypes.Server, null, "upstream_timeout"));

    /// <summary>503 while the host drains before stopping; <c>Retry-After</c> sends the client (or its load balancer) elsewhere.</summary>
    public static GatewayException ShuttingDown() => new(503, new ApiError(
        "The server is shutting down and takes no new requests. Please try again.", ApiErrorTypes.Server, null, "server_shutting_down")) { RetryAfterSeconds = 1 };

    public static GatewayException StorageUnavailable() => new(503, new ApiError(
        "The response store is unavailable; the response was not stored. Please try again later.", ApiErrorTypes.Server, null, "storage_unavailable"));

    /// <summary>
    /// 429 in OpenAI's rate-limit shape (<c>type: requests</c>, <c>code: rate_limit_exceeded</c>). The message ends with
    /// "Please try again in Ns." because clients such as Codex read the delay from the text, besides <c>Retry-After</c>.
    /// </summary>
    public static GatewayException RateLimited(string what, int retryAfterSeconds) => new(429, new ApiError(
        $"Rate limit reached for this API key on {what}. Please try again in {retryAfterSeconds}s.",
        ApiErrorTypes.Requests, null, "rate_limit_exceeded")) { RetryAfterSeconds = retryAfterSeconds };

    /// <summary>
    /// A client-supplied value as echoed in an error message: at most <see cref="MaxEchoedChars"/> characters, then an
    /// ellipsis. Errors are logged and shown to people; the full value helps neither.
    /// </summary>
    public static string Clip(string value) => value.Length <= MaxEchoedChars ? value : value[..MaxEchoedChars] + "…";

    public const int MaxEchoedChars = 64;

    private static string EchoId(string id) => Ids.ResponseIds.IsWellFormed(id) ? id : Clip(id);

    public static GatewayException Internal() => new(500, new ApiError(
        "The server had an error while processing your request.", ApiErrorTypes.Server, null, null));
}
