using System.Buffers;
using System.Net.WebSockets;
using System.Text.Json;
using System.Text.Json.Nodes;
using ResponsesGateway.Core.Errors;
using ResponsesGateway.Core.Pipeline;
using ResponsesGateway.Protocol.Serialization;

namespace ResponsesGateway.Http.WebSockets;

/// <summary>
/// Sends Responses events as WebSocket text messages: the same JSON objects as the SSE <c>data:</c> lines (the
/// gateway's <c>sequence_number</c> second), one message each, and the WebSocket <c>error</c> envelope. Only the
/// connection's turn loop sends, one message at a time, which is all <see cref="WebSocket"/> allows; its keep-alive
/// pings are sent by the socket itself.
/// </summary>
internal sealed class WebSocketEventSink(WebSocket socket, CancellationToken connectionGone) : IResponseEventSink, IDisposable
{
    private static readonly JsonEncodedText TypeProperty = JsonEncodedText.Encode("type");
    private static readonly JsonEncodedText SequenceProperty = JsonEncodedText.Encode("sequence_number");

    private readonly ArrayBufferWriter<byte> _buffer = new(4096);
    private Utf8JsonWriter? _json;

    /// <summary>Whether an event of the current turn has been sent (then a failure can no longer be an error envelope alone).</summary>
    public bool TurnStarted { get; private set; }

    public void StartTurn() => TurnStarted = false;

    public async ValueTask WriteAsync(JsonObject streamEvent, int sequenceNumber, CancellationToken cancellationToken)
    {
        var writer = Writer();
        writer.WriteStartObject();
        writer.WriteString(TypeProperty, (string?)streamEvent["type"] ?? "");
        writer.WriteNumber(SequenceProperty, sequenceNumber);
        ProtocolJson.WritePropertiesExcept(writer, streamEvent, "type", "sequence_number");
        writer.WriteEndObject();
        TurnStarted = true;
        await SendAsync(cancellationToken);
    }

    /// <summary>
    /// The WebSocket-mode error envelope, <c>{"type":"error","status","error":{"type","code","message","param"}}</c>.
    /// <c>code</c> is never null there: an error without its own code carries its type.
    /// </summary>
    public async ValueTask WriteErrorAsync(GatewayException error, CancellationToken cancellationToken)
    {
        var writer = Writer();
        writer.WriteStartObject();
        writer.WriteString(TypeProperty, "error");
        writer.WriteNumber("status"u8, error.StatusCode);
        writer.WriteStartObject("error"u8);
        writer.WriteString("type"u8, error.Error.Type);
        writer.WriteString("code"u8, error.Error.Code ?? error.Error.Type);
        writer.WriteString("message"u8, error.Error.Message);
        if (error.Error.Param is { } param)
        {
            writer.WriteString("param"u8, param);
        }
        else
        {
            writer.WriteNull("param"u8);
        }
        writer.WriteEndObject();
        writer.WriteEndObject();
        await SendAsync(cancellationToken);
    }

    private Utf8JsonWriter Writer()
    {
        _buffer.ResetWrittenCount();
        _json ??= new Utf8JsonWriter(_buffer, new JsonWriterOptions { SkipValidation = true });
        _json.Reset(_buffer);
        return _json;
    }

    private async ValueTask SendAsync(CancellationToken cancellationToken)
    {
        _json!.Flush();
        try
        {
            await socket.SendAsync(_buffer.WrittenMemory, WebSocketMessageType.Text, endOfMessage: true, cancellationToken);
        }
        // A cancelled send is the client leaving only when the connection is gone; otherwise (the turn's own time limit)
        // it stays a cancellation, as the pipeline tells the two apart.
        catch (Exception e) when (e is WebSocketException or ObjectDisposedException or IOException || (e is OperationCanceledException && connectionGone.IsCancellationRequested))
        {
            throw new ClientDisconnectedException(e);
        }
    }

    public void Dispose() => _json?.Dispose();
}
