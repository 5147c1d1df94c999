using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using ResponsesGateway.Http.Endpoints;
using ResponsesGateway.Tests.Infrastructure;

namespace ResponsesGateway.Tests.WebSockets;

/// <summary>The transport around WebSocket mode: keep-alive pings on the wire, and the Functions host's answer to an upgrade.</summary>
[Collection(GatewayCollection.Name)]
public sealed class WebSocketTransportTests(GatewayFixture fixture)
{
    [Fact]
    public async Task IdleSocket_IsPingedAfterKeepAliveSeconds()
    {
        await using var gateway = await fixture.StartGatewayAsync(new Dictionary<string, string?> { ["Gateway:KeepAliveSeconds"] = "0.3" });
        // A hand-made upgrade on a raw TCP connection, so the frames the server sends are seen as they are
        // (ClientWebSocket answers pings itself and never shows them).
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(gateway.BaseUrl.Host, gateway.BaseUrl.Port);
        var stream = tcp.GetStream();
        var handshake = $"GET /v1/responses HTTP/1.1\r\nHost: {gateway.BaseUrl.Authority}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
            $"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nAuthorization: Bearer {GatewayHost.KeyA}\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(handshake));

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var headers = new StringBuilder();
        var one = new byte[1];
        while (!headers.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal))
        {
            Assert.Equal(1, await stream.ReadAsync(one, timeout.Token));
            headers.Append((char)one[0]);
        }
        Assert.StartsWith("HTTP/1.1 101", headers.ToString(), StringComparison.Ordinal);

        var started = DateTime.UtcNow;
        Assert.Equal(1, await stream.ReadAsync(one, timeout.Token));
        var opcode = one[0] & 0x0F;
        // 0x9: a ping (with a keep-alive timeout the server expects a pong); 0xA: an unsolicited pong heartbeat.
        Assert.True(opcode is 0x9 or 0xA, $"the first frame of an idle socket has opcode 0x{opcode:X}");
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task FunctionsHandler_AnswersAnUpgradeWith426AndAnEnvelope()
    {
        // The handler the Functions trigger "ResponsesWebSocket" calls (the Functions host itself cannot run here).
        var endpoints = fixture.Gateway.Services.GetRequiredService<ResponsesEndpoints>();

        var upgrade = Context(upgrade: true);
        await endpoints.WebSocketUnavailableAsync(upgrade);
        Assert.Equal(426, upgrade.Response.StatusCode);
        Assert.Equal("application/json", upgrade.Response.ContentType);
        var error = Body(upgrade)["error"]!.AsObject();
        Assert.Equal(["message", "type", "param", "code"], error.Select(p => p.Key));
        Assert.Equal("websocket_not_supported", (string?)error["code"]);
        Assert.Contains("standalone server", (string?)error["message"], StringComparison.Ordinal);

        var plain = Context(upgrade: false);
        await endpoints.WebSocketUnavailableAsync(plain);
        Assert.Equal(404, plain.Response.StatusCode);
        Assert.Equal("unknown_url", (string?)Body(plain)["error"]!["code"]);
    }

    private static DefaultHttpContext Context(bool upgrade)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = "GET";
        context.Request.Path = "/v1/responses";
        if (upgrade)
        {
            context.Request.Headers.Upgrade = "websocket";
            context.Request.Headers.Connection = "Upgrade";
        }
        context.Response.Body = new MemoryStream();
        return context;
    }

    private static JsonObject Body(DefaultHttpContext context) =>
        JsonNode.Parse(((MemoryStream)context.Response.Body).ToArray())!.AsObject();
}
