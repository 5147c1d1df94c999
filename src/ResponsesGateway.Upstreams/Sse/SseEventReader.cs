using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using ResponsesGateway.Core.Upstreams;
using ResponsesGateway.Protocol.Serialization;

namespace ResponsesGateway.Upstreams.Sse;

/// <summary>
/// Reads an upstream SSE body as JSON objects, one per <c>data:</c> event, with an idle timeout between events.
/// <c>[DONE]</c> and comments are skipped; a broken body or non-JSON data is an <see cref="UpstreamFailure.StreamInterrupted"/>.
/// </summary>
internal static class SseEventReader
{
    public static async IAsyncEnumerable<JsonObject> ReadAsync(Stream body, TimeSpan idleTimeout, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var idle = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        idle.CancelAfter(idleTimeout);
        var items = SseParser.Create(body).EnumerateAsync(idle.Token).GetAsyncEnumerator(idle.Token);
        try
        {
            while (true)
            {
                SseItem<string> item;
                try
                {
                    if (!await items.MoveNextAsync())
                    {
                        yield break;
                    }
                    item = items.Current;
                }
                catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
                {
                    throw new UpstreamException(UpstreamFailure.Timeout, $"no event for {idleTimeout.TotalSeconds:0.#} seconds.", e);
                }
                catch (Exception e) when (e is IOException or HttpRequestException)
                {
                    throw new UpstreamException(UpstreamFailure.StreamInterrupted, "the connection broke.", e);
                }
                idle.CancelAfter(idleTimeout);
                var data = item.Data;
                if (string.IsNullOrWhiteSpace(data) || data == "[DONE]")
                {
                    continue;
                }
                JsonObject evt;
                try
                {
                    evt = ProtocolJson.ParseObject(data);
                }
                catch (Exception e) when (e is JsonException or ArgumentException or InvalidOperationException)
                {
                    throw new UpstreamException(UpstreamFailure.StreamInterrupted, "the upstream sent an event that is not JSON.", e);
                }
                yield return evt;
            }
        }
        finally
        {
            await items.DisposeAsync();
        }
    }
}
