using ResponsesGateway.Protocol.Errors;

namespace ResponsesGateway.Core.Errors;

/// <summary>
/// A failure the client should see as an OpenAI error envelope with <see cref="StatusCode"/>. Built through
/// <see cref="GatewayErrors"/>; the HTTP edge is the only place that turns it into a response.
/// </summary>
public sealed class GatewayException : Exception
{
    public GatewayException(int statusCode, ApiError error, Exception? inner = null)
        : base(error.Message, inner)
    {
        StatusCode = statusCode;
        Error = error;
    }

    public int StatusCode { get; }

    public ApiError Error { get; }

    /// <summary>Seconds for a <c>Retry-After</c> header, when the failure is a rate limit.</summary>
    public int? RetryAfterSeconds { get; init; }
}
