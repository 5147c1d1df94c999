using System.Buffers;
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
    /// <summary>The events as <see cref="JsonObject"/>s the caller may keep and change (the native adapter passes them on).</summary>
    public static async IAsyncEnumerable<JsonObject> ReadAsync(Stream body, TimeSpan idleTimeout, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var evt in ReadItemsAsync<JsonObject?>(body, idleTimeout, ParseObject, cancellationToken))
        {
            if (evt is not null)
            {
                yield return evt;
            }
        }
    }

    /// <summary>
    /// The events as read-only <see cref="JsonElement"/>s over pooled buffers, for a caller that only reads them (the chat
    /// translator): no node is built. An element is valid until the next one is asked for; nothing of it may be kept.
    /// </summary>
    public static async IAsyncEnumerable<JsonElement> ReadElementsAsync(Stream body, TimeSpan idleTimeout, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var evt in ReadItemsAsync<PooledEvent>(body, idleTimeout, ParsePooled, cancellationToken))
        {
            if (evt.Document is null)
            {
                continue;
            }
            try
            {
                yield return evt.Document.RootElement;
            }
            finally
            {
                evt.Dispose();
            }
        }
    }

    private static async IAsyncEnumerable<T> ReadItemsAsync<T>(Stream body, TimeSpan idleTimeout, SseItemParser<T> parser,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var idle = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        idle.CancelAfter(idleTimeout);
        var items = SseParser.Create(body, parser).EnumerateAsync(idle.Token).GetAsyncEnumerator(idle.Token);
        try
        {
            while (true)
            {
                T item;
                try
                {
                    if (!await items.MoveNextAsync())
                    {
                        yield break;
                    }
                    item = items.Current.Data;
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
                yield return item;
            }
        }
        finally
        {
            await items.DisposeAsync();
        }
    }

    /// <summary>The parser's item callback: one event's data as UTF-8, or null for an event to skip.</summary>
    private static JsonObject? ParseObject(string eventType, ReadOnlySpan<byte> data)
    {
        if (Skip(data))
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
            throw NotJson(e);
        }
    }

    /// <summary>As <see cref="ParseObject"/>, into a document over a rented copy of the bytes (the parser reuses its buffer).</summary>
    private static PooledEvent ParsePooled(string eventType, ReadOnlySpan<byte> data)
    {
        if (Skip(data))
        {
            return default;
        }
        byte[]? rented = null;
        JsonDocument? document = null;
        try
        {
            if (Utf8.IsValid(data))
            {
                rented = ArrayPool<byte>.Shared.Rent(data.Length);
                data.CopyTo(rented);
                document = JsonDocument.Parse(rented.AsMemory(0, data.Length), ProtocolJson.DocumentOptions);
            }
            else
            {
                document = JsonDocument.Parse(Encoding.UTF8.GetString(data), ProtocolJson.DocumentOptions);
            }
            return document.RootElement.ValueKind == JsonValueKind.Object
                ? new PooledEvent(document, rented)
                : throw new JsonException("The JSON value is not an object.");
        }
        catch (Exception e) when (e is JsonException or ArgumentException or InvalidOperationException)
        {
            new PooledEvent(document, rented).Dispose();
            throw NotJson(e);
        }
    }

    private static bool Skip(ReadOnlySpan<byte> data) => IsBlank(data) || data.SequenceEqual("[DONE]"u8);

    private static UpstreamException NotJson(Exception e) =>
        new(UpstreamFailure.StreamInterrupted, "the upstream sent an event that is not JSON.", e);

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

    /// <summary>A parsed event and the rented buffer its document reads; <see cref="Dispose"/> gives both back.</summary>
    private readonly record struct PooledEvent(JsonDocument? Document, byte[]? Rented) : IDisposable
    {
        public void Dispose()
        {
            Document?.Dispose();
            if (Rented is not null)
            {
                ArrayPool<byte>.Shared.Return(Rented);
            }
        }
    }
}
