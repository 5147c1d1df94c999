using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;
using ResponsesGateway.Tests.Infrastructure;

namespace ResponsesGateway.Tests.WebSockets;

/// <summary>What one <c>response.create</c> got back: the events of the turn, or the error envelope instead.</summary>
public sealed record SocketTurn(List<JsonObject> Events, JsonObject? Error)
{
    public JsonObject Terminal => Events.Count > 0 ? Events[^1]["response"]!.AsObject() : throw new InvalidOperationException($"no events, error {Error?.ToJsonString()}");

    public string Id => (string)Terminal["id"]!;

    public List<string> Types => Events.Select(e => (string)e["type"]!).ToList();
}

/// <summary>
/// A real <see cref="ClientWebSocket"/> on the gateway's <c>/v1/responses</c>, with the key in the upgrade's
/// Authorization header. Every read is bounded, so a gateway that stops answering fails the test instead of hanging it.
/// </summary>
public sealed class ResponsesSocket : IAsyncDisposable
{
    private static readonly TimeSpan ReadTimeout = TimeSpan.FromSeconds(20);
    private static readonly HashSet<string> Terminals = ["response.completed", "response.incomplete", "response.failed"];

    private ResponsesSocket(ClientWebSocket socket) => Socket = socket;

    public ClientWebSocket Socket { get; }

    public static async Task<ResponsesSocket> ConnectAsync(GatewayHost gateway, string? key = GatewayHost.KeyA)
    {
        var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        if (key is not null)
        {
            socket.Options.SetRequestHeader("Authorization", $"Bearer {key}");
        }
        var uri = new UriBuilder(gateway.BaseUrl) { Scheme = "ws", Path = "/v1/responses" }.Uri;
        using var timeout = new CancellationTokenSource(ReadTimeout);
        await socket.ConnectAsync(uri, timeout.Token);
        return new ResponsesSocket(socket);
    }

    public Task SendAsync(string text) => SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text);

    public async Task SendAsync(byte[] bytes, WebSocketMessageType type)
    {
        using var timeout = new CancellationTokenSource(ReadTimeout);
        await Socket.SendAsync(bytes, type, endOfMessage: true, timeout.Token);
    }

    /// <summary>The next message as JSON; null when the server closed the socket.</summary>
    public async Task<JsonObject?> ReceiveAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? ReadTimeout);
        var buffer = new byte[64 * 1024];
        using var message = new MemoryStream();
        WebSocketReceiveResult result;
        do
        {
            result = await Socket.ReceiveAsync(buffer, cts.Token);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return null;
            }
            Assert.Equal(WebSocketMessageType.Text, result.MessageType);
            message.Write(buffer, 0, result.Count);
        }
        while (!result.EndOfMessage);
        return JsonNode.Parse(message.ToArray())!.AsObject();
    }

    /// <summary>Reads one turn: events up to the terminal one, or a single error envelope.</summary>
    public async Task<SocketTurn> ReadTurnAsync()
    {
        var events = new List<JsonObject>();
        while (true)
        {
            var message = await ReceiveAsync() ?? throw new InvalidOperationException($"closed after {events.Count} events: {Socket.CloseStatus} {Socket.CloseStatusDescription}");
            var type = (string?)message["type"];
            if (type == "error" && message.ContainsKey("status"))
            {
                Assert.Empty(events);
                return new SocketTurn(events, message);
            }
            events.Add(message);
            if (Terminals.Contains(type ?? ""))
            {
                return new SocketTurn(events, null);
            }
        }
    }

    /// <summary>Sends a <c>response.create</c> (the body given, plus <c>type</c>) and reads its turn.</summary>
    public async Task<SocketTurn> CreateAsync(string body)
    {
        var message = JsonNode.Parse(body)!.AsObject();
        message.Insert(0, "type", "response.create");
        await SendAsync(message.ToJsonString());
        return await ReadTurnAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (Socket.State == WebSocketState.Open)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            try
            {
                await Socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token);
            }
            catch (Exception e) when (e is WebSocketException or OperationCanceledException)
            {
                Socket.Abort();
            }
        }
        Socket.Dispose();
    }
}
