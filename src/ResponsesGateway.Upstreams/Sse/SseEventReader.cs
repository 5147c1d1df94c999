using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Unicode;
using ResponsesGateway.Core.Upstreams;
using ResponsesGateway.Protocol.Serialization;

namespace ResponsesGateway.Upstreams.Sse;

/// <summary>
/// Reads an upstream SSE body as JSON objects, one per <c>data:</c> event, with an idle timeout between events.
/// <c>[DONE]</c>, blank data and comments are skipped; a broken body or non-JSON data is an <see cref="UpstreamFailure.StreamInterrupted"/>.
/// Each event is parsed straight from the parser's UTF-8 buffer: no string of the payload is made on the way.
/// </summary>
internal static class SseEventReader
{
    public static async IAsyncEnumerable<JsonObject> ReadAsync(Stream body, TimeSpan idleTimeout, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var idle = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        idle.CancelAfter(idleTimeout);
        var items = SseParser.Create<JsonObject?>(body, ParseEvent).EnumerateAsync(idle.Token).GetAsyncEnumerator(idle.Token);
        try
        {
            while (true)
            {
                JsonObject? evt;
                try
                {
                    if (!await items.MoveNextAsync())
                    {
                        yield break;
                    }
                    evt = items.Current.Data;
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
                if (evt is not null)
                {
                    yield return evt;
                }
            }
        }
        finally
        {
            await items.DisposeAsync();
        }
    }

    /// <summary>The parser's item callback: one event's data as UTF-8, or null for an event to skip.</summary>
    private static JsonObject? ParseEvent(string eventType, ReadOnlySpan<byte> data)
    {
        if (IsBlank(data) || data.SequenceEqual("[DONE]"u8))
        {
            return null;
        }
        try
        {
            // Invalid UTF-8 read as bytes would only fail later, when a string is taken out of the node; decoding it
            // first turns the bad bytes into U+FFFD, as the text reader always did.
            return Utf8.IsValid(data) ? ProtocolJson.ParseObject(data) : ProtocolJson.ParseObject(Encoding.UTF8.GetString(data));
        }
        catch (Exception e) when (e is JsonException or ArgumentException or InvalidOperationException)
        {
            throw new UpstreamException(UpstreamFailure.StreamInterrupted, "the upstream sent an event that is not JSON.", e);
        }
    }

    /// <summary><see cref="string.IsNullOrWhiteSpace"/> of the decoded text, without decoding it (a JSON event stops at its first byte).</summary>
    private static bool IsBlank(ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty)
        {
            Rune.DecodeFromUtf8(data, out var rune, out var consumed);
            if (!Rune.IsWhiteSpace(rune))
            {
                return false;
            }
            data = data[consumed..];
        }
        return true;
    }
}
