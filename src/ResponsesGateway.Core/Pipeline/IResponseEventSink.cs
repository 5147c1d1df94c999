using System.Text.Json.Nodes;

namespace ResponsesGateway.Core.Pipeline;

/// <summary>
/// Where a streamed response goes: the HTTP edge implements it as an SSE writer. The first write commits the
/// response (status 200 and headers); failures before it still become ordinary HTTP errors.
/// </summary>
public interface IResponseEventSink
{
    /// <summary>Writes one complete event (with its <c>sequence_number</c>) and flushes it to the client.</summary>
    ValueTask WriteAsync(JsonObject streamEvent, CancellationToken cancellationToken);
}
