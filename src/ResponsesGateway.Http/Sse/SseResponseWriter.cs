using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using ResponsesGateway.Core.Pipeline;
using ResponsesGateway.Protocol.Serialization;

namespace ResponsesGateway.Http.Sse;

/// <summary>
/// Writes Responses events as SSE: <c>event:</c> equal to the type, one-line JSON <c>data:</c>, a flush per event, no
/// buffering or compression, and a <c>: keep-alive</c> comment whenever nothing was written for the keep-alive
/// interval (the Functions front end cuts HTTP responses idle for about 230 s). Headers go out with the first event,
/// so failures before it can still be ordinary HTTP errors. The caller closes the response after the terminal event.
/// </summary>
internal sealed class SseResponseWriter : IResponseEventSink, IAsyncDisposable
{
    private static readonly byte[] EventPrefix = "event: "u8.ToArray();
    private static readonly byte[] DataPrefix = "\ndata: "u8.ToArray();
    private static readonly byte[] EventEnd = "\n\n"u8.ToArray();
    private static readonly byte[] KeepAliveComment = ": keep-alive\n\n"u8.ToArray();
    private static readonly JsonEncodedText TypeProperty = JsonEncodedText.Encode("type");
    private static readonly JsonEncodedText SequenceProperty = JsonEncodedText.Encode("sequence_number");

    private readonly HttpContext _context;
    private readonly TimeSpan _keepAlive;
    private readonly SemaphoreSlim _lock = new(1, 1);
    private readonly ArrayBufferWriter<byte> _buffer = new(4096);
    private readonly CancellationTokenSource _stop = new();
    private Task? _keepAliveLoop;
    private long _lastWriteTimestamp;
    private Utf8JsonWriter? _json;

    public SseResponseWriter(HttpContext context, TimeSpan keepAlive)
    {
        _context = context;
        _keepAlive = keepAlive;
    }

    public bool Started { get; private set; }

    public async ValueTask WriteAsync(JsonObject streamEvent, int sequenceNumber, CancellationToken cancellationToken)
    {
        var type = (string?)streamEvent["type"] ?? "message";
        _buffer.ResetWrittenCount();
        _buffer.Write(EventPrefix);
        Encoding.UTF8.GetBytes(type, _buffer);
        _buffer.Write(DataPrefix);
        // One writer per stream, reset per event; the event's properties are written as they are, with the gateway's
        // sequence_number put second, so no event is copied just to number it.
        _json ??= new Utf8JsonWriter(_buffer, new JsonWriterOptions { SkipValidation = true });
        _json.Reset(_buffer);
        _json.WriteStartObject();
        _json.WriteString(TypeProperty, type);
        _json.WriteNumber(SequenceProperty, sequenceNumber);
        ProtocolJson.WritePropertiesExcept(_json, streamEvent, "type", "sequence_number");
        _json.WriteEndObject();
        _json.Flush();
        _buffer.Write(EventEnd);
        await SendAsync(_buffer.WrittenMemory, cancellationToken);
    }

    private async ValueTask SendAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken)
    {
        try
        {
            // A free lock is taken even when the token has just been cancelled: the pipeline checked the token before
            // numbering this event, so an event it numbered is sent (or the client is gone), never silently dropped.
            if (!_lock.Wait(0))
            {
                await _lock.WaitAsync(cancellationToken);
            }
        }
        catch (OperationCanceledException e) when (_context.RequestAborted.IsCancellationRequested)
        {
            throw new ClientDisconnectedException(e);
        }
        try
        {
            if (!Started)
            {
                await StartAsync(cancellationToken);
            }
            await _context.Response.Body.WriteAsync(bytes, cancellationToken);
            await _context.Response.Body.FlushAsync(cancellationToken);
            _lastWriteTimestamp = Environment.TickCount64;
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException || (e is OperationCanceledException && _context.RequestAborted.IsCancellationRequested))
        {
            throw new ClientDisconnectedException(e);
        }
        finally
        {
            _lock.Release();
        }
    }

    /// <summary>Commits the response (200, SSE headers) before the first event: a stream that waits for events shows its headers at once.</summary>
    public async ValueTask EnsureStartedAsync(CancellationToken cancellationToken)
    {
        await _lock.WaitAsync(cancellationToken);
        try
        {
            if (!Started)
            {
                await StartAsync(cancellationToken);
                await _context.Response.Body.FlushAsync(cancellationToken);
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException || (e is OperationCanceledException && _context.RequestAborted.IsCancellationRequested))
        {
            throw new ClientDisconnectedException(e);
        }
        finally
        {
            _lock.Release();
        }
    }

    private async Task StartAsync(CancellationToken cancellationToken)
    {
        var response = _context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "text/event-stream; charset=utf-8";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
        _context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        await response.StartAsync(cancellationToken);
        Started = true;
        _lastWriteTimestamp = Environment.TickCount64;
        _keepAliveLoop = KeepAliveAsync(_stop.Token);
    }

    private async Task KeepAliveAsync(CancellationToken stop)
    {
        // Ticks at a quarter of the interval so a comment goes out at most 25% late, without a timer per write.
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(Math.Max(50, _keepAlive.TotalMilliseconds / 4)));
        try
        {
            while (await timer.WaitForNextTickAsync(stop))
            {
                if (Environment.TickCount64 - Interlocked.Read(ref _lastWriteTimestamp) < _keepAlive.TotalMilliseconds)
                {
                    continue;
                }
                try
                {
                    await SendAsync(KeepAliveComment, stop);
                }
                catch (ClientDisconnectedException)
                {
                    return;
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Stopped: the stream is over.
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        if (_keepAliveLoop is not null)
        {
            await _keepAliveLoop;
        }
        _stop.Dispose();
        _lock.Dispose();
        _json?.Dispose();
    }
}
