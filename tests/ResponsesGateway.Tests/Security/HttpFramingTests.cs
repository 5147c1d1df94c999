using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ResponsesGateway.Tests.Infrastructure;
using static ResponsesGateway.Tests.Infrastructure.GatewayHttp;

namespace ResponsesGateway.Tests.Security;

/// <summary>
/// Requests whose HTTP framing is broken, sent byte by byte over a raw socket with a valid key: a bad chunk header,
/// a body shorter than its <c>Content-Length</c>, a body that stops arriving, a body that trickles. Each is the
/// client's error in the envelope (400, or 408 for the timeouts), nothing goes upstream, and the log has an
/// Information line without a stack trace (was: 500 and an <c>fail</c> entry with the server's stack).
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class HttpFramingTests(GatewayFixture fixture) : IAsyncLifetime
{
    private readonly CapturingLoggerProvider _logs = new();
    private GatewayHost _gateway = null!;

    public async Task InitializeAsync() =>
        _gateway = await GatewayHost.StartAsync(fixture.Azurite.ConnectionString, GatewayHost.Upstream("mock", "responses", fixture.Mock.BaseUrl),
            new Dictionary<string, string?> { ["Logging:LogLevel:Default"] = "Information", ["Logging:Console:LogLevel:Default"] = "None" },
            services => services.AddSingleton<ILoggerProvider>(_logs));

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    [Fact]
    public async Task BadChunkHeader_Is400()
    {
        var (status, body) = await ExchangeAsync(Head("Transfer-Encoding: chunked"), async socket => await SendAsync(socket, "zz\r\n"));

        Assert.Equal(400, status);
        AssertError(body, null, "invalid_request_body");
        Assert.Contains("chunk", (string?)body["error"]!["message"], StringComparison.OrdinalIgnoreCase);
        AssertLoggedAsRejection(400);
    }

    [Fact]
    public async Task BodyShorterThanContentLength_ThenFin_EndsQuietly()
    {
        // HTTP/1.1 has no half-close: Kestrel takes the client's FIN for a disconnect and aborts the request, usually
        // before the body read reports the short body, so there is nobody left to answer. What matters is what the
        // gateway does with it: no upstream call, nothing stored, no 500 and no stack in the log (was: a fail entry
        // with BadHttpRequestException "Unexpected end of request content", then a reset). If the read does win the
        // race, the answer is the 400 envelope.
        var upstreamBefore = fixture.Mock.Requests.Count;
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await socket.ConnectAsync(_gateway.BaseUrl.Host, _gateway.BaseUrl.Port, timeout.Token);
        await SendAsync(socket, Head("Content-Length: 100") + "{\"model\":\"mock-model\",");
        socket.Shutdown(SocketShutdown.Send);

        var received = new MemoryStream();
        var buffer = new byte[8192];
        try
        {
            int read;
            while ((read = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token)) > 0)
            {
                received.Write(buffer, 0, read);
            }
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
        {
        }
        var text = Encoding.UTF8.GetString(received.ToArray());
        if (text.Length > 0)
        {
            var (status, _, body) = TryParse(text) ?? throw new Xunit.Sdk.XunitException($"incomplete answer: {text}");
            Assert.Equal(400, status);
            AssertError(JsonNode.Parse(body)!.AsObject(), null, "invalid_request_body");
        }
        await Task.Delay(200); // the server's side of the request finishes after the connection closes
        Assert.Equal(upstreamBefore, fixture.Mock.Requests.Count);
        AssertNothingLoud();
    }

    [Fact]
    public async Task PartialBodyThenSilence_Is408()
    {
        var watch = Stopwatch.StartNew();
        var (status, body) = await ExchangeAsync(Head("Content-Length: 100"), async socket => await SendAsync(socket, "{\"model\":\"mock-model\","));

        Assert.Equal(408, status);
        AssertError(body, null, "request_timeout");
        // Kestrel's minimum request body data rate (240 bytes/s after a 5 s grace period) decides when.
        Assert.InRange(watch.Elapsed, TimeSpan.FromSeconds(4), TimeSpan.FromSeconds(15));
        AssertLoggedAsRejection(408);
    }

    [Fact]
    public async Task ChunkedBodyAtOneBytePerTwoSeconds_Is408()
    {
        using var stop = new CancellationTokenSource();
        var (status, body) = await ExchangeAsync(Head("Transfer-Encoding: chunked"), socket =>
        {
            // Keeps trickling in the background until the answer is read.
            _ = Task.Run(async () =>
            {
                try
                {
                    while (!stop.IsCancellationRequested)
                    {
                        await SendAsync(socket, "1\r\n{\r\n");
                        await Task.Delay(TimeSpan.FromSeconds(2), stop.Token);
                    }
                }
                catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException)
                {
                }
            });
            return Task.CompletedTask;
        });
        await stop.CancelAsync();

        Assert.Equal(408, status);
        AssertError(body, null, "request_timeout");
        AssertLoggedAsRejection(408);
    }

    [Fact]
    public async Task ValidRequestOverTheSameRawPath_Is200()
    {
        // The helper itself is sound: a well-framed body over the same socket code is answered normally.
        const string json = "{\"model\":\"mock-model\",\"input\":\"hi\",\"store\":false}";
        var (status, body) = await ExchangeAsync(Head($"Content-Length: {json.Length}"), async socket => await SendAsync(socket, json));

        Assert.Equal(200, status);
        Assert.Equal("completed", (string?)body["status"]);
    }

    private string Head(string framing) =>
        $"POST /v1/responses HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {GatewayHost.KeyA}\r\nContent-Type: application/json\r\n{framing}\r\n\r\n";

    /// <summary>Sends the head, lets <paramref name="body"/> write (or not), and reads the whole answer (the gateway closes these connections).</summary>
    private async Task<(int Status, JsonObject Body)> ExchangeAsync(string head, Func<Socket, Task> body)
    {
        var upstreamBefore = fixture.Mock.Requests.Count;
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await socket.ConnectAsync(_gateway.BaseUrl.Host, _gateway.BaseUrl.Port, timeout.Token);
        await SendAsync(socket, head);
        await body(socket);

        var received = new MemoryStream();
        var buffer = new byte[8192];
        int read;
        (int Status, string Head, string Body)? answer = null;
        while ((read = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token)) > 0)
        {
            received.Write(buffer, 0, read);
            if ((answer = TryParse(Encoding.UTF8.GetString(received.ToArray()))) is not null)
            {
                break;
            }
        }
        Assert.True(answer is not null, $"no complete HTTP answer: '{Encoding.UTF8.GetString(received.ToArray())}'; log:\n{string.Join("\n", _logs.Entries)}");
        var (status, headers, text) = answer.Value;
        Assert.Contains("Content-Type: application/json", headers, StringComparison.OrdinalIgnoreCase);
        if (status != 200)
        {
            Assert.Equal(upstreamBefore, fixture.Mock.Requests.Count);
        }
        return (status, JsonNode.Parse(text)!.AsObject());
    }

    /// <summary>The status, head and decoded body once a whole answer is in (by Content-Length or chunked framing); null before.</summary>
    private static (int Status, string Head, string Body)? TryParse(string text)
    {
        var split = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        if (split < 0)
        {
            return null;
        }
        var head = text[..split];
        var rest = text[(split + 4)..];
        var status = int.Parse(text.AsSpan(9, 3), System.Globalization.CultureInfo.InvariantCulture);
        var lines = head.Split("\r\n");
        if (lines.FirstOrDefault(h => h.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase)) is { } length)
        {
            var count = int.Parse(length["Content-Length:".Length..].Trim(), System.Globalization.CultureInfo.InvariantCulture);
            return Encoding.UTF8.GetByteCount(rest) >= count ? (status, head, rest) : null;
        }
        var body = new StringBuilder();
        while (true)
        {
            var end = rest.IndexOf("\r\n", StringComparison.Ordinal);
            if (end < 0)
            {
                return null;
            }
            var size = Convert.ToInt32(rest[..end], 16);
            if (size == 0)
            {
                return (status, head, body.ToString());
            }
            if (rest.Length < end + 2 + size + 2)
            {
                return null;
            }
            body.Append(rest, end + 2, size);
            rest = rest[(end + 2 + size + 2)..];
        }
    }

    private static async Task SendAsync(Socket socket, string text) => await socket.SendAsync(Encoding.ASCII.GetBytes(text), SocketFlags.None);

    private void AssertLoggedAsRejection(int status)
    {
        var entries = _logs.Entries.ToList();
        Assert.Contains(entries, e => e.StartsWith("Information ", StringComparison.Ordinal) && e.Contains($"rejected with {status}", StringComparison.Ordinal));
        AssertNothingLoud();
    }

    private void AssertNothingLoud()
    {
        var entries = _logs.Entries.ToList();
        var loud = entries.Where(e => e.StartsWith("Error ", StringComparison.Ordinal) || e.StartsWith("Critical ", StringComparison.Ordinal) || e.StartsWith("Warning ", StringComparison.Ordinal)).ToList();
        Assert.True(loud.Count == 0, string.Join("\n", loud));
        var stacks = entries.Where(e => e.Contains("   at ", StringComparison.Ordinal)).ToList();
        Assert.True(stacks.Count == 0, string.Join("\n", stacks));
    }
}
