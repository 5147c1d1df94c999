using System.Buffers;
using System.Net.WebSockets;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using ResponsesGateway.Core.Auth;
using ResponsesGateway.Core.Errors;
using ResponsesGateway.Core.Options;
using ResponsesGateway.Core.Pipeline;
using ResponsesGateway.Core.Requests;
using ResponsesGateway.Http.Limits;
using ResponsesGateway.Protocol.Serialization;

namespace ResponsesGateway.Http.WebSockets;

/// <summary>
/// One WebSocket connection in WebSocket mode (README, "WebSocket mode"): each <c>response.create</c> message runs
/// one streamed turn through the same pipeline as SSE, one at a time, in the order received.
/// <para>
/// Two loops: one receives and queues messages, so that a client closing or dropping the socket mid-turn is seen at
/// once (the turn is then stored <c>incomplete</c>, as over SSE); the other runs the turns. The connection's recent
/// responses (<see cref="ConnectionChains"/>) let <c>store:false</c> chains continue on this socket. Every failure
/// the client can act on is an <c>error</c> envelope on the socket, never a silent close.
/// </para>
/// </summary>
internal sealed partial class ResponsesWebSocketSession(
    WebSocket socket, Tenant tenant, ResponsesService responses, TenantRequestLimiter limiter, GatewayOptions options, ILogger logger)
{
    /// <summary>Responses of this connection a later turn can continue from: the specification asks for the most recent one.</summary>
    internal const int RecentResponses = 16;

    /// <summary>Messages received while a turn runs; beyond this the receiving loop stops reading (TCP back-pressure).</summary>
    private const int QueuedMessages = 16;

    private static readonly TimeSpan CloseTimeout = TimeSpan.FromSeconds(5);

    private static readonly string[] HttpOnlyFields = ["stream", "stream_options", "background"];

    public async Task RunAsync(CancellationToken requestAborted)
    {
        // One token for the connection: cancelled when the client closes or drops it, or the server stops.
        using var gone = CancellationTokenSource.CreateLinkedTokenSource(requestAborted);
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(options.WebSocketConnectionLimitSeconds));
        using var sink = new WebSocketEventSink(socket, gone.Token);
        var messages = Channel.CreateBounded<Incoming>(new BoundedChannelOptions(QueuedMessages) { SingleReader = true, SingleWriter = true });
        var receiving = ReceiveAsync(messages.Writer, gone);
        var chains = new ConnectionChains(RecentResponses);
        var closeStatus = WebSocketCloseStatus.NormalClosure;
        try
        {
            while (true)
            {
                if (limit.IsCancellationRequested)
                {
                    Log.LimitReached(logger, tenant.Name);
                    await sink.WriteErrorAsync(LimitReached(), gone.Token);
                    closeStatus = WebSocketCloseStatus.PolicyViolation;
                    break;
                }
                Incoming message;
                try
                {
                    if (!await messages.Reader.WaitToReadAsync(limit.Token) || !messages.Reader.TryRead(out message))
                    {
                        break; // the client closed, or the connection is gone
                    }
                }
                catch (OperationCanceledException) when (limit.IsCancellationRequested)
                {
                    continue;
                }
                await TurnAsync(message, sink, chains, gone.Token);
            }
        }
        catch (ClientDisconnectedException)
        {
            Log.ClientGone(logger, tenant.Name);
        }
        catch (Exception e)
        {
            // A turn failed after its first event in a way the pipeline did not end itself: never pretend it ended well.
            Log.Unhandled(logger, e);
            socket.Abort();
        }
        await CloseAsync(closeStatus, receiving);
    }

    /// <summary>Runs one message: a turn, or an error envelope saying why not.</summary>
    private async Task TurnAsync(Incoming message, WebSocketEventSink sink, ConnectionChains chains, CancellationToken gone)
    {
        if (message.Rejected is { } rejected)
        {
            await sink.WriteErrorAsync(rejected, gone);
            return;
        }
        sink.StartTurn();
        string? previous = null;
        try
        {
            var request = ParseCreate(message.Text!);
            previous = request.PreviousResponseId;
            // A permit per turn, held for the whole turn: an idle socket does not count as a request in flight.
            using var permit = limiter.Acquire(tenant);
            await responses.StreamAsync(tenant, request, sink, chains, gone);
        }
        catch (GatewayException e) when (!sink.TurnStarted)
        {
            // A continuation that failed evicts what it continued from (the specification's rule for WebSocket mode).
            if (previous is not null)
            {
                chains.Evict(previous);
            }
            Log.Rejected(logger, e.StatusCode, e.Error.Code);
            await sink.WriteErrorAsync(e, gone);
        }
        catch (Exception e) when (e is ClientDisconnectedException || (e is OperationCanceledException && gone.IsCancellationRequested))
        {
            throw new ClientDisconnectedException(e);
        }
        catch (Exception e) when (!sink.TurnStarted)
        {
            Log.Unhandled(logger, e);
            await sink.WriteErrorAsync(GatewayErrors.Internal(), gone);
        }
    }

    /// <summary>
    /// A <c>response.create</c> message: the create body plus <c>type</c>, without the HTTP-only streaming fields. The
    /// body is then validated exactly as <c>POST /v1/responses</c> validates it.
    /// </summary>
    internal static CreateResponseRequest ParseCreate(byte[] text)
    {
        JsonObject message;
        try
        {
            message = System.Text.Unicode.Utf8.IsValid(text) ? ProtocolJson.ParseObject(text) : throw MalformedMessage();
        }
        catch (Exception e) when (e is JsonException or ArgumentException or InvalidOperationException)
        {
            throw MalformedMessage();
        }
        switch (message["type"])
        {
            case null:
                throw GatewayErrors.MissingParameter("type");
            case JsonValue type when type.GetValueKind() == JsonValueKind.String:
                var name = (string)type!;
                if (name != "response.create")
                {
                    throw GatewayErrors.InvalidValue("type",
                        $"'{(name.Length <= 64 ? name : name[..64] + "…")}'. The only message a client sends in WebSocket mode is 'response.create'.",
                        "unknown_message_type");
                }
                break;
            default:
                throw GatewayErrors.InvalidType("type", "a string", JsonKinds.Describe(message["type"]));
        }
        foreach (var field in HttpOnlyFields)
        {
            if (message.ContainsKey(field))
            {
                throw GatewayErrors.InvalidRequest(
                    $"'{field}' belongs to HTTP streaming and must not be sent in a WebSocket 'response.create' message: every turn on the socket streams.",
                    field, "unsupported_parameter");
            }
        }
        var request = CreateResponseRequestParser.Parse(text);
        request.Body.Remove("type"); // a message field, not a create field: the upstream never sees it
        return request;
    }

    private static GatewayException MalformedMessage() => GatewayErrors.InvalidRequest(
        "The message is not a JSON object. WebSocket mode takes one JSON object per text message: {\"type\":\"response.create\", ...the create body}.",
        param: null, "invalid_json");

    private static GatewayException LimitReached() => new(400, new Protocol.Errors.ApiError(
        "This WebSocket connection reached its time limit. Open a new connection and continue with previous_response_id (store:true) or the full input.",
        Protocol.Errors.ApiErrorTypes.InvalidRequest, null, "websocket_connection_limit_reached"));

    /// <summary>Receives whole text messages into the queue, each at most <c>MaxRequestBodyBytes</c>; ends when the client closes or drops the socket.</summary>
    private async Task ReceiveAsync(ChannelWriter<Incoming> messages, CancellationTokenSource gone)
    {
        var chunk = ArrayPool<byte>.Shared.Rent(16 * 1024);
        var message = new ArrayBufferWriter<byte>(16 * 1024);
        try
        {
            while (true)
            {
                message.ResetWrittenCount();
                var tooLarge = false;
                ValueWebSocketReceiveResult result;
                do
                {
                    result = await socket.ReceiveAsync(chunk.AsMemory(), gone.Token);
                    if (result.MessageType == WebSocketMessageType.Close)
                    {
                        return;
                    }
                    // An oversized message is read to its end and dropped, so the next one starts at a message boundary.
                    tooLarge |= message.WrittenCount + result.Count > options.MaxRequestBodyBytes;
                    if (!tooLarge)
                    {
                        message.Write(chunk.AsSpan(0, result.Count));
                    }
                }
                while (!result.EndOfMessage);

                var incoming = tooLarge ? new Incoming(null, GatewayErrors.BodyTooLarge(options.MaxRequestBodyBytes))
                    : result.MessageType == WebSocketMessageType.Binary ? new Incoming(null, GatewayErrors.InvalidRequest(
                        "WebSocket mode takes JSON text messages; a binary message was received.", null, "invalid_message"))
                    : new Incoming(message.WrittenSpan.ToArray(), null);
                await messages.WriteAsync(incoming, gone.Token);
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or ObjectDisposedException or IOException)
        {
            // Dropped, aborted or shut down: the connection is gone, and so is the turn in flight.
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
            messages.TryComplete();
            // A close frame mid-turn is a client leaving, like a dropped socket: the turn in flight ends interrupted.
            await gone.CancelAsync();
        }
    }

    /// <summary>Sends the close frame (answering the client's, or starting the handshake) and waits, bounded, for the receiving loop to end.</summary>
    private async Task CloseAsync(WebSocketCloseStatus status, Task receiving)
    {
        using var timeout = new CancellationTokenSource(CloseTimeout);
        if (socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
        {
            try
            {
                await socket.CloseOutputAsync(status, status == WebSocketCloseStatus.PolicyViolation ? "websocket_connection_limit_reached" : null, timeout.Token);
            }
            catch (Exception e) when (e is WebSocketException or OperationCanceledException or ObjectDisposedException or IOException)
            {
                socket.Abort();
            }
        }
        try
        {
            await receiving.WaitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            // A client that never answers the close frame is dropped.
            socket.Abort();
            await receiving;
        }
    }

    /// <summary>A received message: its bytes, or why it is refused before parsing.</summary>
    private readonly record struct Incoming(byte[]? Text, GatewayException? Rejected);

    private static partial class Log
    {
        [LoggerMessage(EventId = 5101, Level = LogLevel.Information, Message = "WebSocket turn rejected with {StatusCode} ({Code})")]
        public static partial void Rejected(ILogger logger, int statusCode, string? code);

        [LoggerMessage(EventId = 5102, Level = LogLevel.Debug, Message = "WebSocket client of tenant {Tenant} went away")]
        public static partial void ClientGone(ILogger logger, string tenant);

        [LoggerMessage(EventId = 5103, Level = LogLevel.Information, Message = "WebSocket connection of tenant {Tenant} reached its time limit")]
        public static partial void LimitReached(ILogger logger, string tenant);

        [LoggerMessage(EventId = 5104, Level = LogLevel.Error, Message = "Unhandled failure on a WebSocket connection")]
        public static partial void Unhandled(ILogger logger, Exception exception);
    }
}
