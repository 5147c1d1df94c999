using System.Buffers;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using ResponsesGateway.Core.Errors;

namespace ResponsesGateway.Http.Endpoints;

/// <summary>Reads a request body into memory up to the configured limit; one byte more is a 413.</summary>
internal static class RequestBodyReader
{
    public static async Task<byte[]> ReadAsync(HttpRequest request, long limit, CancellationToken cancellationToken)
    {
        // The server's own limit would answer with a bare 413; ours answers in the envelope. Lifted before the
        // declared-length check too: with the server's limit in force, a body refused here would make the server
        // abort the connection while it discards the unread rest (the Functions worker's Kestrel stops at 30 MB),
        // and a proxy in front (the Functions host) would answer with its own error instead of our 413.
        var sizeFeature = request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>();
        if (sizeFeature is { IsReadOnly: false })
        {
            sizeFeature.MaxRequestBodySize = null;
        }
        if (request.ContentLength is { } declared && declared > limit)
        {
            throw GatewayErrors.BodyTooLarge(limit);
        }
        var initial = (int)Math.Min(request.ContentLength ?? 16 * 1024, limit + 1);
        var buffer = new ArrayBufferWriter<byte>(Math.Max(initial, 256));
        try
        {
            while (true)
            {
                var memory = buffer.GetMemory(16 * 1024);
                var read = await request.Body.ReadAsync(memory, cancellationToken);
                if (read == 0)
                {
                    break;
                }
                buffer.Advance(read);
                if (buffer.WrittenCount > limit)
                {
                    throw GatewayErrors.BodyTooLarge(limit);
                }
            }
        }
        catch (BadHttpRequestException e)
        {
            // The server's verdict on the framing (bad chunk data, a body cut short, the minimum data rate): the
            // client's error, answered in the envelope and logged as a rejection, not as the gateway's own failure.
            throw e.StatusCode switch
            {
                StatusCodes.Status408RequestTimeout => GatewayErrors.BodyTimeout(),
                StatusCodes.Status413PayloadTooLarge => GatewayErrors.BodyTooLarge(limit),
                _ => GatewayErrors.UnreadableBody(e.Message),
            };
        }
        return buffer.WrittenSpan.ToArray();
    }
}
