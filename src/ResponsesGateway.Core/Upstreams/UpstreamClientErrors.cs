using ResponsesGateway.Core.Errors;
using ResponsesGateway.Protocol.Errors;

namespace ResponsesGateway.Core.Upstreams;

/// <summary>
/// What the client sees of an upstream's 4xx answer (other than 401/403, which blame the gateway). The status and the
/// envelope's <c>type</c>, <c>param</c> and <c>code</c> are kept, since clients branch on them (Codex reads
/// <c>context_length_exceeded</c>, SDKs read the status); the message is the gateway's own. A provider's message names
/// the operator's account (organisation and project ids, quota figures) and every tenant would read it; only an
/// upstream marked <c>PassErrorMessages</c> (one the operator trusts not to do that) has its message passed on.
/// </summary>
public static class UpstreamClientErrors
{
    public static GatewayException From(UpstreamException e, bool passMessage)
    {
        var status = e.StatusCode ?? 400;
        var upstream = UpstreamErrorBody.TryParse(e.Body);
        var type = Bounded(upstream?.Type) ?? ApiErrorTypes.InvalidRequest;
        var param = Bounded(upstream?.Param);
        var code = Bounded(upstream?.Code ?? e.Code);
        var message = passMessage && upstream is not null ? upstream.Message : Message(status, param, e.RetryAfterSeconds);
        return new GatewayException(status, new ApiError(message, type, param, code)) { RetryAfterSeconds = e.RetryAfterSeconds };
    }

    private static string Message(int status, string? param, int? retryAfterSeconds)
    {
        var text = status switch
        {
            400 => "The model provider rejected the request as invalid.",
            404 => "The model provider does not have the model or resource this request needs.",
            408 => "The model provider timed out waiting for the request. Please try again.",
            409 => "The model provider reported a conflict with another request. Please try again.",
            413 => "The request is too large for the model provider.",
            422 => "The model provider could not process the request.",
            // Ends like OpenAI's own 429 message: clients such as Codex read the delay from the text.
            429 => $"The model provider is rate limiting requests. Please try again in {retryAfterSeconds ?? 1}s.",
            _ => "The model provider rejected the request.",
        };
        var where = param is null ? "" : $" The problem is with '{param}'.";
        return $"{text}{where} (HTTP {status} from the upstream.)";
    }

    // The fields kept are short identifiers in every real envelope; an upstream that puts prose into them is clipped.
    private static string? Bounded(string? value) => value is null ? null : GatewayErrors.Clip(value);
}
