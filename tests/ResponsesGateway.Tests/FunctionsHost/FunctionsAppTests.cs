using System.ClientModel;
using System.Diagnostics;
using System.Text.Json.Nodes;
using OpenAI.Responses;
using ResponsesGateway.Tests.Infrastructure;
using static ResponsesGateway.Tests.Infrastructure.GatewayHttp;

namespace ResponsesGateway.Tests.FunctionsHost;

/// <summary>
/// The Functions app end to end: the real worker under the stand-in host, every route over real HTTP through the
/// host's forwarding, and the retention timer. What passes here is what `func start` and Azure run.
/// </summary>
[Collection(FunctionsAppCollection.Name)]
public sealed class FunctionsAppTests(FunctionsAppFixture app)
{
    [Fact]
    public void Worker_ReportsEveryFunction()
    {
        Assert.Equal(
            ["AddConversationItems", "CancelResponse", "CompactResponse", "CountInputTokens", "CreateConversation", "CreateResponse", "DeleteConversation", "DeleteConversationItem",
                "DeleteResponse", "FailPoisonedBackgroundResponse", "GetConversation", "GetConversationItem", "GetResponse", "ListConversationItems", "ListInputItems", "ListModels", "ResponsesWebSocket",
                "RetentionSweep", "RunBackgroundResponse", "UpdateConversation", "ZzUnmatchedRoute"],
            app.Host.FunctionNames.Order(StringComparer.Ordinal).ToArray());
    }

    [Fact]
    public async Task JsonCreate_ChainsAcrossInvocations_AndEveryStoredRouteAnswers()
    {
        using var client = app.CreateClient();
        var marker = Guid.NewGuid().ToString("N");

        var (status, first) = await PostAsync(client, "/v1/responses", $$"""{"model":"mock-model","input":"first {{marker}}"}""");
        Assert.True(status == 200, $"{status} {first.ToJsonString()}\n{app.Host.Diagnostics}");
        Assert.Equal("completed", (string?)first["status"]);
        var firstId = (string)first["id"]!;
        Assert.StartsWith("resp_", firstId);

        var (status2, second) = await PostAsync(client, "/v1/responses", $$"""{"model":"mock-model","input":"second","previous_response_id":"{{firstId}}"}""");
        Assert.Equal(200, status2);
        var secondId = (string)second["id"]!;
        Assert.Equal(firstId, (string?)second["previous_response_id"]);
        // The upstream got the expanded history: the first turn's input and answer, then the new input.
        var upstreamBody = JsonNode.Parse(app.Mock.LastRequest!.Body)!;
        var history = upstreamBody["input"]!.ToJsonString();
        Assert.Contains($"first {marker}", history);
        Assert.Contains($"Mock reply to: first {marker}", history);
        Assert.Null(upstreamBody["previous_response_id"]);

        using (var get = await client.GetAsync($"/v1/responses/{secondId}"))
        {
            var body = await ReadObjectAsync(get);
            Assert.Equal(200, (int)get.StatusCode);
            Assert.Equal(secondId, (string?)body["id"]);
            Assert.Equal("Mock reply to: second", (string?)body["output"]![0]!["content"]![0]!["text"]);
        }

        using (var items = await client.GetAsync($"/v1/responses/{secondId}/input_items?order=asc"))
        {
            var body = await ReadObjectAsync(items);
            Assert.Equal(200, (int)items.StatusCode);
            Assert.Equal("list", (string?)body["object"]);
            var texts = body["data"]!.AsArray().Select(i => i!["content"]![0]!["text"]!.GetValue<string>()).ToArray();
            Assert.Equal([$"first {marker}", $"Mock reply to: first {marker}", "second"], texts);
        }

        // Another tenant's key sees nothing.
        using (var foreign = app.CreateClient(FunctionsAppFixture.KeyB))
        using (var get = await foreign.GetAsync($"/v1/responses/{secondId}"))
        {
            Assert.Equal(404, (int)get.StatusCode);
            AssertError(await ReadObjectAsync(get), null, null);
        }

        using (var delete = await client.DeleteAsync($"/v1/responses/{secondId}"))
        {
            var body = await ReadObjectAsync(delete);
            Assert.Equal(200, (int)delete.StatusCode);
            Assert.Equal(secondId, (string?)body["id"]);
            Assert.Equal("response.deleted", (string?)body["object"]);
            Assert.Equal(true, (bool?)body["deleted"]);
        }
        using (var gone = await client.GetAsync($"/v1/responses/{secondId}"))
        {
            Assert.Equal(404, (int)gone.StatusCode);
        }
    }

    [Fact]
    public async Task SseCreate_EventsArriveAsTheyAreMade_WithKeepAlivesDuringAStall()
    {
        using var client = app.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/responses")
        {
            Content = Json("""{"model":"mock-stall-2500","input":"stall please","stream":true}"""),
        };
        var clock = Stopwatch.StartNew();
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);

        // Each line with the time it reached the client.
        var lines = new List<(TimeSpan At, string Line)>();
        using (var reader = new StreamReader(await response.Content.ReadAsStreamAsync()))
        {
            while (await reader.ReadLineAsync() is { } line)
            {
                lines.Add((clock.Elapsed, line));
            }
        }

        var raw = string.Join("\n", lines.Select(l => l.Line)) + "\n";
        var stream = new SseStream(raw);
        EventSequenceChecker.Check(stream);
        Assert.Equal("response.completed", stream.Events[^1].Type);

        var firstDelta = lines.First(l => l.Line == "event: response.output_text.delta").At;
        var completed = lines.First(l => l.Line == "event: response.completed").At;
        // The mock stalls 2.5 s after its first delta: a host that buffered would deliver both at once.
        Assert.True(completed - firstDelta > TimeSpan.FromSeconds(2), $"first delta at {firstDelta}, completed at {completed}: the stream was buffered");
        var keepAlives = lines.Where(l => l.Line.StartsWith(':') && l.At > firstDelta && l.At < completed).ToList();
        Assert.True(keepAlives.Count >= 1, "no keep-alive comment reached the client during the stall");
        Assert.True(keepAlives[0].At - firstDelta < TimeSpan.FromSeconds(2), $"the first keep-alive came {keepAlives[0].At - firstDelta} after the delta");
    }

    [Fact]
    public async Task WorkerTerminate_DrainsThenEndsAStalledStreamWithResponseFailed_StoredFailed()
    {
        // Scale-in or a deployment: the host sends WorkerTerminate. The worker's own host stops, the gateway's drain
        // runs (1 s here), and the open stream gets a well-formed end instead of a cut connection.
        await using var host = await app.StartHostAsync(new Dictionary<string, string> { ["Gateway__ShutdownDrainSeconds"] = "1" });
        using var client = FunctionsAppFixture.CreateClient(host);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/responses")
        {
            Content = Json("""{"model":"mock-stall-60000","input":"long task","stream":true,"store":true}"""),
        };
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(200, (int)response.StatusCode);
        var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        var lines = new List<string>();
        while (await reader.ReadLineAsync() is { } line)
        {
            lines.Add(line);
            if (line == "event: response.output_text.delta")
            {
                break;
            }
        }

        var stopping = host.StopWorkerAsync(TimeSpan.FromSeconds(30));
        while (await reader.ReadLineAsync() is { } line)
        {
            lines.Add(line);
        }
        await stopping;

        var stream = new SseStream(string.Join("\n", lines) + "\n");
        EventSequenceChecker.Check(stream);
        var failed = stream.Events[^1];
        Assert.True(failed.Type == "response.failed", $"last event {failed.Type}\n{host.Diagnostics}");
        Assert.Equal("server_shutting_down", (string?)failed.Json["response"]!["error"]!["code"]);

        // Stored failed, with what was generated: read back through the fixture's worker on the same table.
        var id = (string)failed.Json["response"]!["id"]!;
        using var get = await app.CreateClient().GetAsync($"/v1/responses/{id}");
        var stored = await ReadObjectAsync(get);
        Assert.Equal(200, (int)get.StatusCode);
        Assert.Equal("failed", (string?)stored["status"]);
        Assert.Equal("server_shutting_down", (string?)stored["error"]!["code"]);
    }

    [Fact]
    public async Task OfficialSdk_StreamsAndChains_ThroughTheFunctionsHost()
    {
        var client = new ResponsesClient(new ApiKeyCredential(FunctionsAppFixture.KeyA), new ResponsesClientOptions { Endpoint = new Uri(app.Host.BaseUrl, "/v1") });
        ResponseResult first = await client.CreateResponseAsync("mock-model", "sdk first", previousResponseId: null);
        Assert.Equal(ResponseStatus.Completed, first.Status);

        var text = "";
        ResponseResult? completed = null;
        await foreach (var update in await client.CreateResponseStreamingAsync("mock-model", "sdk second", previousResponseId: first.Id))
        {
            switch (update)
            {
                case StreamingResponseOutputTextDeltaUpdate delta:
                    text += delta.Delta;
                    break;
                case StreamingResponseCompletedUpdate done:
                    completed = done.Response;
                    break;
            }
        }

        Assert.Equal("Mock reply to: sdk second", text);
        Assert.NotNull(completed);
        Assert.Equal(first.Id, completed!.PreviousResponseId);
    }

    [Fact]
    public async Task Models_AndA401_InTheEnvelope()
    {
        using (var client = app.CreateClient())
        using (var models = await client.GetAsync("/v1/models"))
        {
            var body = await ReadObjectAsync(models);
            Assert.Equal(200, (int)models.StatusCode);
            Assert.Equal("list", (string?)body["object"]);
        }

        using var anonymous = app.CreateClient(key: null);
        using var response = await anonymous.PostAsync("/v1/responses", Json("""{"model":"mock-model","input":"hi"}"""));
        Assert.Equal(401, (int)response.StatusCode);
        AssertError(await ReadObjectAsync(response), null, "invalid_api_key");
    }

    [Fact]
    public async Task BodyLimit_IsTheGatewaysOwn_NotTheWorkerKestrels()
    {
        // The worker's Kestrel alone would stop at 30,000,000 bytes with a bare 413; the gateway's limit is 32 MiB.
        using var client = app.CreateClient();
        var accepted = """{"model":"mock-model","store":false,"input":"big""" + new string('a', 31_000_000) + "\"}";
        using (var response = await client.PostAsync("/v1/responses", Json(accepted)))
        {
            var body = await ReadObjectAsync(response);
            Assert.True((int)response.StatusCode == 200, body.ToJsonString());
            Assert.Equal("completed", (string?)body["status"]);
        }

        var refused = """{"model":"mock-model","store":false,"input":"big""" + new string('a', 34_000_000) + "\"}";
        using (var response = await client.PostAsync("/v1/responses", Json(refused)))
        {
            Assert.True(413 == (int)response.StatusCode, app.Host.Diagnostics);
            AssertError(await ReadObjectAsync(response), null, "request_too_large");
        }
    }

    [Theory]
    [InlineData("GET", "/v1/nothing")]
    [InlineData("GET", "/")]
    [InlineData("POST", "/v1/chat/completions")]
    [InlineData("GET", "/v1/responses/resp_x/input_items/extra")]
    public async Task UnknownPath_Is404_InTheEnvelope(string method, string path)
    {
        using var client = app.CreateClient();
        using var response = await client.SendAsync(new HttpRequestMessage(new HttpMethod(method), path) { Content = method == "POST" ? Json("{}") : null });

        Assert.Equal(404, (int)response.StatusCode);
        AssertError(await ReadObjectAsync(response), null, "unknown_url");
    }

    [Theory]
    [InlineData("PUT", "/v1/responses", "POST, GET")]
    [InlineData("DELETE", "/v1/responses", "POST, GET")]
    [InlineData("POST", "/v1/models", "GET")]
    [InlineData("PATCH", "/v1/responses/resp_abc", "GET, DELETE")]
    [InlineData("PUT", "/v1/responses/compact", "POST, GET, DELETE")]
    public async Task WrongMethod_Is405_InTheEnvelope(string method, string path, string allow)
    {
        using var client = app.CreateClient();
        using var response = await client.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));

        Assert.Equal(405, (int)response.StatusCode);
        Assert.Equal(allow, string.Join(", ", response.Content.Headers.Allow));
        AssertError(await ReadObjectAsync(response), null, "method_not_allowed");
    }

    [Fact]
    public async Task WebSocketUpgrade_Is426_InTheEnvelope()
    {
        // A raw upgrade request, as a WebSocket client sends it: the Functions app cannot hold the socket and says so.
        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(app.Host.BaseUrl.Host, app.Host.BaseUrl.Port);
        var stream = tcp.GetStream();
        var request = $"GET /v1/responses HTTP/1.1\r\nHost: {app.Host.BaseUrl.Authority}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n" +
            $"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nAuthorization: Bearer {FunctionsAppFixture.KeyA}\r\n\r\n";
        await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes(request));
        using var reader = new StreamReader(stream);
        var status = await reader.ReadLineAsync();
        Assert.StartsWith("HTTP/1.1 426", status);
        var headers = new List<string>();
        while (await reader.ReadLineAsync() is { Length: > 0 } header)
        {
            headers.Add(header);
        }
        // The envelope is written as it is serialised: chunked (its first chunk is the whole of it), or with a length.
        var lengthHeader = headers.FirstOrDefault(h => h.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase));
        var length = lengthHeader is not null
            ? int.Parse(lengthHeader["Content-Length:".Length..].Trim(), System.Globalization.CultureInfo.InvariantCulture)
            : int.Parse((await reader.ReadLineAsync())!, System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture);
        var body = new char[length];
        await reader.ReadBlockAsync(body);
        AssertError(JsonNode.Parse(new string(body))!.AsObject(), null, "websocket_not_supported");
    }

    [Fact]
    public async Task RetentionTimer_SweepsAnExpiredChain_AndKeepsARecentOne()
    {
        using var client = app.CreateClient();
        var (status, created) = await PostAsync(client, "/v1/responses", """{"model":"mock-model","input":"recent"}""");
        Assert.Equal(200, status);
        var recent = (string)created["id"]!;

        // A chain 40 days old (retention: 30), written into the worker's table by the store itself.
        var store = new ResponsesGateway.Storage.Responses.TableResponseStore(
            new Azure.Data.Tables.TableClient(app.Azurite.ConnectionString, app.TableName),
            Microsoft.Extensions.Logging.Abstractions.NullLogger<ResponsesGateway.Storage.Responses.TableResponseStore>.Instance);
        var old = Core.Ids.ResponseIds.NewRoot();
        await store.SaveAsync(new Core.Storage.StoredResponse
        {
            Id = old,
            Owner = "tenant-a",
            Status = "completed",
            Model = "mock-model",
            CreatedAt = DateTimeOffset.UtcNow.AddDays(-40).ToUnixTimeSeconds(),
            Response = new JsonObject { ["id"] = old, ["object"] = "response", ["status"] = "completed", ["output"] = new JsonArray() },
            InputItems = [new JsonObject { ["type"] = "message", ["role"] = "user", ["content"] = "old" }],
        }, CancellationToken.None);
        using (var before = await client.GetAsync($"/v1/responses/{old}"))
        {
            Assert.Equal(200, (int)before.StatusCode);
        }

        var result = await app.Host.InvokeTimerAsync("RetentionSweep");
        Assert.True(result.Result.Status == Rpc.StatusResult.Types.Status.Success, $"{result.Result.Exception?.Message}\n{app.Host.Diagnostics}");

        using (var after = await client.GetAsync($"/v1/responses/{old}"))
        {
            Assert.Equal(404, (int)after.StatusCode);
            AssertError(await ReadObjectAsync(after), null, null);
        }
        using (var kept = await client.GetAsync($"/v1/responses/{recent}"))
        {
            Assert.Equal(200, (int)kept.StatusCode);
        }
    }
}
