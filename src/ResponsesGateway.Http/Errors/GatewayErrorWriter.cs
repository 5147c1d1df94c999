using System.Text.Json;
using Microsoft.AspNetCore.Http;
using ResponsesGateway.Core.Errors;
using ResponsesGateway.Protocol.Errors;
using ResponsesGateway.Protocol.Serialization;

namespace ResponsesGateway.Http.Errors;

/// <summary>Writes the OpenAI error envelope: the only error body the gateway ever sends (never HTML, never a bare 500).</summary>
internal static class GatewayErrorWriter
{
    public static async Task WriteAsync(HttpContext context, GatewayException error)
    {
        var response = context.Response;
        response.StatusCode = error.StatusCode;
        response.ContentType = "application/json";
        if (error.RetryAfterSeconds is { } seconds)
        {
            response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        var envelope = new ErrorEnvelope(error.Error);
        await JsonSerializer.SerializeAsync(response.Body, envelope, ProtocolJsonContext.Default.ErrorEnvelope, context.RequestAborted);
    }

    public static Task WriteAsync(HttpContext context, int status, string message, string type = ApiErrorTypes.InvalidRequest, string? code = null) =>
        WriteAsync(context, new GatewayException(status, new ApiError(message, type, null, code)));
}
