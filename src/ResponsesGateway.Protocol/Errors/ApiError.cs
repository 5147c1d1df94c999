using System.Text.Json.Serialization;

namespace ResponsesGateway.Protocol.Errors;

/// <summary>The body of OpenAI's error envelope. All four keys are always written; <c>param</c> and <c>code</c> may be null.</summary>
public sealed record ApiError(
    [property: JsonPropertyName("message")] string Message,
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("param")] string? Param,
    [property: JsonPropertyName("code")] string? Code);

/// <summary><c>{"error":{"message","type","param","code"}}</c>: the only shape a non-2xx body of the gateway has.</summary>
public sealed record ErrorEnvelope([property: JsonPropertyName("error")] ApiError Error);

/// <summary>The <c>type</c> values of <see cref="ApiError"/> the gateway uses.</summary>
public static class ApiErrorTypes
{
    public const string InvalidRequest = "invalid_request_error";
    public const string Server = "server_error";
    public const string RateLimit = "rate_limit_error";

    /// <summary>What OpenAI sends as <c>type</c> when a requests-per-minute limit is hit (<c>tokens</c> for TPM).</summary>
    public const string Requests = "requests";
}
