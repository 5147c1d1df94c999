using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace ResponsesGateway.MockUpstream;

/// <summary>OpenAI error envelopes: <c>{"error":{"message","type","param","code"}}</c>.</summary>
internal static class MockErrors
{
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static byte[] Envelope(string message, string type, string? param, string? code)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(buffer, WriterOptions))
        {
            w.WriteStartObject();
            WriteErrorProperty(w, message, type, param, code);
            w.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    public static void WriteErrorProperty(Utf8JsonWriter w, string message, string type, string? param, string? code)
    {
        w.WritePropertyName("error"u8);
        w.WriteStartObject();
        w.WriteString("message"u8, message);
        w.WriteString("type"u8, type);
        w.WriteString("param"u8, param);
        w.WriteString("code"u8, code);
        w.WriteEndObject();
    }

    public static async Task WriteAsync(HttpContext ctx, int status, string message, string type, string? param, string? code, CancellationToken ct)
    {
        var body = Envelope(message, type, param, code);
        var response = ctx.Response;
        response.StatusCode = status;
        response.ContentType = "application/json";
        response.ContentLength = body.Length;
        response.Headers["x-request-id"] = "req_mock";
        if (status == StatusCodes.Status429TooManyRequests)
        {
            response.Headers.RetryAfter = "1";
        }

        await response.BodyWriter.WriteAsync(body, ct).ConfigureAwait(false);
    }

    /// <summary>The <c>error-&lt;status&gt;</c> behaviour: an envelope that looks like what OpenAI sends for that status.</summary>
    public static Task WriteForStatusAsync(HttpContext ctx, int status, string model, CancellationToken ct)
    {
        if (status is < 400 or > 599)
        {
            status = StatusCodes.Status500InternalServerError;
        }

        var (message, type, code) = status switch
        {
            400 => ("Mock upstream: invalid request (behaviour error-400).", "invalid_request_error", "invalid_request"),
            401 => ("Incorrect API key provided: sk-mock***. You can find your API key at https://platform.openai.com/account/api-keys.", "invalid_request_error", "invalid_api_key"),
            403 => ("Mock upstream: you are not allowed to sample from this model (behaviour error-403).", "invalid_request_error", "permission_denied"),
            404 => ($"The model `{model}` does not exist or you do not have access to it.", "invalid_request_error", "model_not_found"),
            408 => ("Mock upstream: request timed out (behaviour error-408).", "invalid_request_error", "timeout"),
            429 => ($"Rate limit reached for {model} in organization org-mock on requests per min (RPM): Limit 3, Used 3, Requested 1. Please try again in 1s. Visit https://platform.openai.com/account/rate-limits to learn more.", "requests", "rate_limit_exceeded"),
            500 => ("The server had an error while processing your request. Sorry about that!", "server_error", (string?)null),
            502 => ("Bad gateway.", "server_error", null),
            503 => ("The engine is currently overloaded, please try again later.", "server_error", null),
            504 => ("Gateway timeout.", "server_error", null),
            < 500 => ($"Mock upstream error {status} (behaviour error-{status}).", "invalid_request_error", null),
            _ => ($"Mock upstream error {status} (behaviour error-{status}).", "server_error", null),
        };

        return WriteAsync(ctx, status, message, type, null, code, ct);
    }
}
