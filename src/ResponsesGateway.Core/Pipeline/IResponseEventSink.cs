using System.Text.Json.Nodes;

namespace ResponsesGateway.Core.Pipeline;

/// <summary>
/// Where a streamed response goes: the HTTP edge implements it as an SSE writer. The first write commits the
/// response (status 200 and headers); failures before it still become ordinary HTTP errors.
/// </summary>
public interface IResponseEventSink
{
    /// <summary>
    /// Writes one event and flushes it to the client. The sink puts <paramref name="sequenceNumber"/> right after the
    /// event's <c>type</c> (where OpenAI puts it) and ignores any <c>sequence_number</c> the event carries, so the
    /// pipeline never rebuilds an event just to number it.
    /// </summary>
    ValueTask WriteAsync(JsonObject streamEvent, int sequenceNumber, CancellationToken cancellationToken);
}
