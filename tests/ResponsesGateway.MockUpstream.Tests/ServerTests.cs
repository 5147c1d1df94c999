using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using static ResponsesGateway.MockUpstream.Tests.TestHelpers;

namespace ResponsesGateway.MockUpstream.Tests;

public sealed class ServerTests
{
    [Fact]
    public async Task Base_url_is_loopback_v1_without_trailing_slash()
    {
        await using var server = await StartAsync();
        Assert.Equal("127.0.0.1", server.BaseUrl.Host);
        Assert.True(server.BaseUrl.Port > 0);
        Assert.Equal("/v1", server.BaseUrl.AbsolutePath);
        Assert.False(server.BaseUrl.ToString().EndsWith('/'));
    }

    [Fact]
    public async Task Models_lists_mock_models()
    {
        await using var server = await StartAsync();
        using var client = Client(server);
        var json = JsonDocument.Parse(await client.GetStringAsync("models")).RootElement;
        Assert.Equal("list", json.GetProperty("object").GetString());
        Assert.Contains(json.GetProperty("data").EnumerateArray(), m => m.GetProperty("id").GetString() == "mock-model");
        Assert.All(json.GetProperty("data").EnumerateArray(), m => Assert.Equal("model", m.GetProperty("object").GetString()));
    }

    [Fact]
    public async Task Unknown_path_is_404_and_bad_json_is_400()
    {
        await using var server = await StartAsync();
        using var client = Client(server);
        using var notFound = await client.SendAsync(Post("nope", "{}"));
        Assert.Equal(HttpStatusCode.NotFound, notFound.StatusCode);
        Assert.True(JsonDocument.Parse(await notFound.Content.ReadAsStringAsync()).RootElement.TryGetProperty("error", out _));

        using var bad = await client.SendAsync(Post("responses", "{not json"));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        var error = JsonDocument.Parse(await bad.Content.ReadAsStringAsync()).RootElement.GetProperty("error");
        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
    }

    [Fact]
    public async Task Required_api_key_rejects_missing_and_wrong_keys()
    {
        await using var server = await StartAsync(new MockUpstreamOptions { RequiredApiKey = "sk-test-key" });
        using var client = Client(server);

        foreach (var key in new[] { null, "sk-wrong-key-123" })
        {
            using var response = await client.SendAsync(Post("responses", ResponsesBody(), apiKey: key));
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error");
            Assert.Equal("invalid_api_key", error.GetProperty("code").GetString());
            Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
            Assert.Equal(JsonValueKind.Null, error.GetProperty("param").ValueKind);
        }

        using var ok = await client.SendAsync(Post("chat/completions", ChatBody(), apiKey: "sk-test-key"));
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.Equal(3, server.Requests.Count);
    }

    [Fact]
    public async Task Requests_are_recorded_in_order_and_bounded()
    {
        await using var server = await StartAsync(new MockUpstreamOptions { MaxRecordedRequests = 2 });
        using var client = Client(server);
        using var request = Post("responses", ResponsesBody(input: "\"one\""));
        request.Headers.Add("X-Custom", "abc");
        (await client.SendAsync(request)).Dispose();
        (await client.SendAsync(Post("chat/completions", ChatBody()))).Dispose();
        (await client.GetAsync("models")).Dispose();

        var requests = server.Requests;
        Assert.Equal(2, requests.Count);
        Assert.Equal("POST", requests[0].Method);
        Assert.Equal("/v1/chat/completions", requests[0].Path);
        Assert.Equal(ChatBody(), requests[0].Body);
        Assert.Equal("GET", requests[1].Method);
        Assert.Equal("/v1/models", requests[1].Path);
        Assert.Same(requests[1], server.LastRequest);

        server.ClearRequests();
        Assert.Empty(server.Requests);
        Assert.Null(server.LastRequest);

        using var second = Post("responses", ResponsesBody());
        second.Headers.Add("X-Custom", "abc");
        (await client.SendAsync(second)).Dispose();
        Assert.Equal("abc", server.LastRequest!.Headers["x-custom"]);
        Assert.StartsWith("application/json", server.LastRequest.Headers["Content-Type"]);
    }

    [Fact]
    public async Task Client_abort_is_counted()
    {
        await using var server = await StartAsync(new MockUpstreamOptions { TokenDelay = TimeSpan.FromMilliseconds(100) });
        using var client = Client(server);
        Assert.Equal(0, server.AbortedRequests);

        var response = await client.SendAsync(Post("responses", ResponsesBody(stream: true)), HttpCompletionOption.ResponseHeadersRead);
        using (var reader = new StreamReader(await response.Content.ReadAsStreamAsync()))
        {
            Assert.Equal("response.created", (await ReadEventAsync(reader))!.Type);
            Assert.Equal("response.in_progress", (await ReadEventAsync(reader))!.Type);
        }

        response.Dispose();
        Assert.True(await server.WaitForAbortAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(1, server.AbortedRequests);
        Assert.False(await server.WaitForAbortAsync(TimeSpan.FromMilliseconds(200)));
    }

    [Fact]
    public async Task Cancelled_read_on_a_default_http_client_is_counted()
    {
        // Long gaps, so the stream is still running when the read is cancelled even on a loaded machine.
        await using var server = await StartAsync(new MockUpstreamOptions { TokenDelay = TimeSpan.FromMilliseconds(1000) });
        using var client = new HttpClient { BaseAddress = new Uri(server.BaseUrl + "/") };
        using var response = await client.SendAsync(Post("chat/completions", ChatBody(stream: true)), HttpCompletionOption.ResponseHeadersRead);
        await using var stream = await response.Content.ReadAsStreamAsync();
        var buffer = new byte[64 * 1024];
        Assert.True(await stream.ReadAsync(buffer) > 0);
        using var cts = new CancellationTokenSource();
        var pending = stream.ReadAsync(buffer, cts.Token).AsTask();
        await cts.CancelAsync();
        try
        {
            while (await pending > 0)
            {
                pending = stream.ReadAsync(buffer, cts.Token).AsTask();
            }
        }
        catch (OperationCanceledException)
        {
        }

        Assert.True(await server.WaitForAbortAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task Client_abort_during_slow_first_byte_is_counted()
    {
        await using var server = await StartAsync();
        using var client = Client(server);
        using var cts = new CancellationTokenSource();
        var sending = client.SendAsync(Post("chat/completions", ChatBody(model: "mock-slow-5000")), cts.Token);

        // Cancel only once the mock holds the request: a fixed timer could fire before a cold connection reaches
        // the server on a loaded machine, and then there is nothing to abort.
        var waited = Stopwatch.StartNew();
        while (server.LastRequest is null && waited.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(10);
        }

        Assert.NotNull(server.LastRequest);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => sending);
        Assert.True(await server.WaitForAbortAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task Mock_initiated_disconnect_and_completed_streams_are_not_counted()
    {
        await using var server = await StartAsync();
        using var client = Client(server);
        var (_, events, _) = await PostSseAsync(client, "responses", ResponsesBody(stream: true));
        Assert.Equal("response.completed", events[^1].Type);
        using var aborted = await client.SendAsync(Post("responses", ResponsesBody(stream: true), behavior: "disconnect-1"), HttpCompletionOption.ResponseHeadersRead);
        var error = await Assert.ThrowsAnyAsync<Exception>(() => aborted.Content.ReadAsStringAsync());
        Assert.True(error is HttpRequestException or IOException, error.ToString());
        Assert.False(await server.WaitForAbortAsync(TimeSpan.FromMilliseconds(300)));
        Assert.Equal(0, server.AbortedRequests);
    }

    [Fact]
    public async Task First_byte_and_token_delays_apply()
    {
        await using var server = await StartAsync(new MockUpstreamOptions
        {
            FirstByteDelay = TimeSpan.FromMilliseconds(200),
            TokenDelay = TimeSpan.FromMilliseconds(50),
        });
        using var client = Client(server);
        var sw = Stopwatch.StartNew();
        using var response = await client.SendAsync(Post("responses", ResponsesBody(stream: true)), HttpCompletionOption.ResponseHeadersRead);
        Assert.True(sw.ElapsedMilliseconds >= 180, $"headers after {sw.ElapsedMilliseconds} ms");
        await response.Content.ReadAsStringAsync();
        // Measured from the request, not from the headers: on a loaded machine the headers can arrive after some
        // deltas were already sent. "Mock reply to: Hello there" = 5 deltas, 4 gaps of 50 ms after 200 ms.
        Assert.True(sw.ElapsedMilliseconds >= 380, $"first byte 200 ms + 4 gaps of 50 ms took {sw.ElapsedMilliseconds} ms");
    }

    [Fact]
    public async Task Dispose_releases_the_port_and_cuts_open_streams()
    {
        var server = await StartAsync();
        var port = server.BaseUrl.Port;
        using var client = Client(server);
        using var response = await client.SendAsync(Post("responses", ResponsesBody(stream: true), behavior: "stall-30000"), HttpCompletionOption.ResponseHeadersRead);
        var sw = Stopwatch.StartNew();
        await server.DisposeAsync();
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(6));
        await server.DisposeAsync(); // idempotent

        using var listener = new TcpListener(IPAddress.Loopback, port);
        listener.Start();
        listener.Stop();
    }

    [Fact]
    public async Task Fixed_port_is_honoured()
    {
        int port;
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((IPEndPoint)probe.LocalEndpoint).Port;
            probe.Stop();
        }

        await using var server = await StartAsync(new MockUpstreamOptions { Port = port });
        Assert.Equal(new Uri($"http://127.0.0.1:{port}/v1"), server.BaseUrl);
    }
}
