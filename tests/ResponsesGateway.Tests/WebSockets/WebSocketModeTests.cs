using System.Net;
using System.Net.WebSockets;
using System.Text.Json.Nodes;
using ResponsesGateway.TestSupport;
using ResponsesGateway.Tests.Infrastructure;
using static ResponsesGateway.Tests.Infrastructure.GatewayHttp;

namespace ResponsesGateway.Tests.WebSockets;

/// <summary>
/// WebSocket mode on the standalone server, over real sockets (<see cref="ClientWebSocket"/>) against the real
/// Kestrel host, mock upstream and Azurite: turns, continuation (connection-local and from the table), eviction,
/// bad messages, tenants, the connection limit, a client leaving mid-turn.
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class WebSocketModeTests(GatewayFixture fixture)
{
    private GatewayHost Gateway => fixture.Gateway;

    [Theory]
    [InlineData("responses")]
    [InlineData("chat")]
    public async Task SingleTurn_SendsTheSameEventsAsSse_AllValid(string kind)
    {
        await using var chat = kind == "chat" ? await fixture.StartGatewayAsync(kind: "chat") : null;
        var gateway = chat ?? Gateway;
        const string body = """{"model":"mock-reasoning","input":"over the socket","reasoning":{"effort":"low","summary":"auto"},"store":true}""";

        await using var socket = await ResponsesSocket.ConnectAsync(gateway);
        var turn = await socket.CreateAsync(body);

        Assert.Null(turn.Error);
        ResponsesGateway.TestSupport.EventSequenceChecker.Check(turn.Events);
        SchemaValidator.ValidateEvents(turn.Events);
        OpenResponsesValidator.ValidateEvents(turn.Events);
        Assert.Equal("response.completed", turn.Types[^1]);
        Assert.Equal("Mock reply to: over the socket", OutputText(turn.Terminal));

        // The same request over SSE: the same event types in the same order.
        using var client = gateway.CreateClient();
        var sse = await StreamAsync(client, body.Replace("\"store\":true", "\"store\":true,\"stream\":true", StringComparison.Ordinal));
        Assert.Equal(sse.Types, turn.Types);

        // Stored like an SSE turn: GET answers the same terminal Response.
        using var get = await client.GetAsync($"/v1/responses/{turn.Id}");
        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        Assert.True(JsonNode.DeepEquals(turn.Terminal, await ReadObjectAsync(get)));
    }

    [Fact]
    public async Task SequentialTurns_MessagesSentTogetherRunOneAfterTheOther()
    {
        await using var socket = await ResponsesSocket.ConnectAsync(Gateway);
        // Three messages at once; the first turn is slow, so the others arrive while it runs and must wait.
        await socket.SendAsync("""{"type":"response.create","model":"mock-slow-300","input":"first"}""");
        await socket.SendAsync("""{"type":"response.create","model":"mock-model","input":"second"}""");
        await socket.SendAsync("""{"type":"response.create","model":"mock-model","input":"third"}""");

        var turns = new[] { await socket.ReadTurnAsync(), await socket.ReadTurnAsync(), await socket.ReadTurnAsync() };
        Assert.Equal(["Mock reply to: first", "Mock reply to: second", "Mock reply to: third"], turns.Select(t => OutputText(t.Terminal)));
        foreach (var turn in turns)
        {
            // Each turn is a whole stream of its own: numbered from 0, one response id, one terminal event at the end.
            ResponsesGateway.TestSupport.EventSequenceChecker.Check(turn.Events);
        }
        Assert.Equal(3, turns.Select(t => t.Id).Distinct().Count());
    }

    [Fact]
    public async Task StoreFalse_ContinuesOnTheSameSocket_WithoutStorage()
    {
        var marker = Marker();
        await using var socket = await ResponsesSocket.ConnectAsync(Gateway);
        var first = await socket.CreateAsync($$"""{"model":"mock-model","input":"remember {{marker}}","store":false}""");
        var second = await socket.CreateAsync($$"""{"model":"mock-model","input":"and now {{marker}}","store":false,"previous_response_id":"{{first.Id}}"}""");

        Assert.Equal("completed", (string?)second.Terminal["status"]);
        Assert.Equal(first.Id, (string?)second.Terminal["previous_response_id"]);
        Assert.False((bool)second.Terminal["store"]!);
        var sent = UpstreamBody($"and now {marker}");
        Assert.Equal([$"user:remember {marker}", $"assistant:Mock reply to: remember {marker}", $"user:and now {marker}"], Describe(sent["input"]!.AsArray()));

        // Nothing was written: neither turn exists over HTTP.
        using var client = Gateway.CreateClient();
        foreach (var id in new[] { first.Id, second.Id })
        {
            using var get = await client.GetAsync($"/v1/responses/{id}");
            Assert.Equal(HttpStatusCode.NotFound, get.StatusCode);
        }

        // A third turn continues the chain of two.
        var third = await socket.CreateAsync($$"""{"model":"mock-model","input":"third {{marker}}","store":false,"previous_response_id":"{{second.Id}}"}""");
        Assert.Equal(5, UpstreamBody($"third {marker}")["input"]!.AsArray().Count);
        Assert.Equal("completed", (string?)third.Terminal["status"]);
    }

    [Fact]
    public async Task AfterReconnect_StoreTrueContinuesFromTheTable_StoreFalseIsNotFound()
    {
        var marker = Marker();
        string stored, unstored;
        await using (var socket = await ResponsesSocket.ConnectAsync(Gateway))
        {
            stored = (await socket.CreateAsync($$"""{"model":"mock-model","input":"kept {{marker}}","store":true}""")).Id;
            unstored = (await socket.CreateAsync($$"""{"model":"mock-model","input":"not kept {{marker}}","store":false}""")).Id;
        }

        await using var again = await ResponsesSocket.ConnectAsync(Gateway);
        var continued = await again.CreateAsync($$"""{"model":"mock-model","input":"later {{marker}}","store":false,"previous_response_id":"{{stored}}"}""");
        Assert.Equal("completed", (string?)continued.Terminal["status"]);
        Assert.Equal([$"user:kept {marker}", $"assistant:Mock reply to: kept {marker}", $"user:later {marker}"], Describe(UpstreamBody($"later {marker}")["input"]!.AsArray()));

        var lost = await again.CreateAsync($$"""{"model":"mock-model","input":"lost {{marker}}","store":false,"previous_response_id":"{{unstored}}"}""");
        AssertErrorEnvelope(lost, 400, "previous_response_not_found", "previous_response_id");
        Assert.Contains(unstored, (string?)lost.Error!["error"]!["message"], StringComparison.Ordinal);
        Assert.DoesNotContain(Fixture().Mock.Requests, r => r.Body.Contains($"lost {marker}", StringComparison.Ordinal));

        // The socket is still usable: the client starts over with the full input.
        var fresh = await again.CreateAsync($$"""{"model":"mock-model","input":"start over {{marker}}","store":false}""");
        Assert.Equal("completed", (string?)fresh.Terminal["status"]);
    }

    [Fact]
    public async Task FailedContinuation_EvictsTheResponseItContinued()
    {
        var marker = Marker();
        await using var socket = await ResponsesSocket.ConnectAsync(Gateway);
        var first = await socket.CreateAsync($$"""{"model":"mock-model","input":"base {{marker}}","store":false}""");

        // The upstream refuses the continuation (HTTP 400): an error envelope with the upstream's status.
        var failed = await socket.CreateAsync($$"""{"model":"mock-error-400","input":"x","store":false,"previous_response_id":"{{first.Id}}"}""");
        Assert.NotNull(failed.Error);
        Assert.Equal(400, (int)failed.Error!["status"]!);
        OpenResponsesValidator.ValidateWebSocketError(failed.Error);

        // The same continuation again: the response was evicted from this connection and was never stored.
        var retried = await socket.CreateAsync($$"""{"model":"mock-model","input":"retry {{marker}}","store":false,"previous_response_id":"{{first.Id}}"}""");
        AssertErrorEnvelope(retried, 400, "previous_response_not_found", "previous_response_id");
    }

    [Fact]
    public async Task FailedStoredContinuation_FallsBackToTheTable()
    {
        // Eviction only forgets the connection's copy: a stored response can still be continued from the table.
        var marker = Marker();
        await using var socket = await ResponsesSocket.ConnectAsync(Gateway);
        var first = await socket.CreateAsync($$"""{"model":"mock-model","input":"stored base {{marker}}","store":true}""");
        var failed = await socket.CreateAsync($$"""{"model":"mock-error-503","input":"x","previous_response_id":"{{first.Id}}"}""");
        Assert.Equal(502, (int)failed.Error!["status"]!);
        var retried = await socket.CreateAsync($$"""{"model":"mock-model","input":"retry {{marker}}","previous_response_id":"{{first.Id}}"}""");
        Assert.Equal("completed", (string?)retried.Terminal["status"]);
        Assert.Equal(3, UpstreamBody($"retry {marker}")["input"]!.AsArray().Count);
    }

    [Fact]
    public async Task StoredResponse_DeletedOverHttp_CannotBeContinuedFromTheSocketsCopy()
    {
        var marker = Marker();
        await using var socket = await ResponsesSocket.ConnectAsync(Gateway);
        var first = await socket.CreateAsync($$"""{"model":"mock-model","input":"to delete {{marker}}","store":true}""");
        using var client = Gateway.CreateClient();
        using (var delete = await client.DeleteAsync($"/v1/responses/{first.Id}"))
        {
            Assert.Equal(HttpStatusCode.OK, delete.StatusCode);
        }
        var next = await socket.CreateAsync($$"""{"model":"mock-model","input":"after delete {{marker}}","previous_response_id":"{{first.Id}}"}""");
        AssertErrorEnvelope(next, 400, "previous_response_not_found", "previous_response_id");
        Assert.DoesNotContain(fixture.Mock.Requests, r => r.Body.Contains($"after delete {marker}", StringComparison.Ordinal));
    }

    [Fact]
    public async Task NewChain_FromAFullInputWindow_WithoutPreviousResponseId()
    {
        // What a client does after compaction or a lost chain: no previous_response_id, the window as input.
        var marker = Marker();
        await using var socket = await ResponsesSocket.ConnectAsync(Gateway);
        var first = await socket.CreateAsync($$"""{"model":"mock-model","input":"window {{marker}}","store":false}""");
        var window = new JsonArray(
            new JsonObject { ["role"] = "user", ["content"] = $"window {marker}" },
            first.Terminal["output"]![0]!.DeepClone(),
            new JsonObject { ["role"] = "user", ["content"] = $"next {marker}" });
        var next = await socket.CreateAsync(new JsonObject { ["model"] = "mock-model", ["store"] = false, ["previous_response_id"] = null, ["input"] = window }.ToJsonString());

        Assert.Equal("completed", (string?)next.Terminal["status"]);
        Assert.Null(next.Terminal["previous_response_id"]);
        Assert.Equal(3, UpstreamBody($"next {marker}")["input"]!.AsArray().Count);
    }

    public static TheoryData<string, string, int, string?, string?> BadMessages() => new()
    {
        { "malformed JSON", """{"type":"response.create","model":""", 400, "invalid_json", null },
        { "an array", """[{"type":"response.create"}]""", 400, "invalid_json", null },
        { "no type", """{"model":"mock-model","input":"x"}""", 400, null, "type" },
        { "type not a string", """{"type":7,"model":"mock-model","input":"x"}""", 400, null, "type" },
        { "unknown type", """{"type":"session.update","model":"mock-model"}""", 400, "unknown_message_type", "type" },
        { "stream", """{"type":"response.create","model":"mock-model","input":"x","stream":true}""", 400, "unsupported_parameter", "stream" },
        { "stream_options", """{"type":"response.create","model":"mock-model","input":"x","stream_options":{}}""", 400, "unsupported_parameter", "stream_options" },
        { "background", """{"type":"response.create","model":"mock-model","input":"x","background":false}""", 400, "unsupported_parameter", "background" },
        { "wrong input type", """{"type":"response.create","model":"mock-model","input":42}""", 400, null, "input" },
        { "unknown model", """{"type":"response.create","model":"no-such-model-here","input":"x"}""", 404, null, "model" },
        { "malformed previous id", """{"type":"response.create","model":"mock-model","input":"x","previous_response_id":"resp_nope"}""", 400, "previous_response_not_found", "previous_response_id" },
    };

    [Theory]
    [MemberData(nameof(BadMessages))]
    public async Task BadMessage_GetsAnErrorEnvelope_NothingReachesTheUpstream_TheSocketStaysOpen(string what, string message, int status, string? code, string? param)
    {
        await using var gateway = await fixture.StartGatewayAsync(new Dictionary<string, string?> { ["Upstreams:mock:Models"] = "mock-*" });
        var before = fixture.Mock.Requests.Count;
        await using var socket = await ResponsesSocket.ConnectAsync(gateway);
        await socket.SendAsync(message);
        var turn = await socket.ReadTurnAsync();

        Assert.True(turn.Error is not null, $"{what}: expected an error envelope");
        AssertErrorEnvelope(turn, status, code, param);
        Assert.Equal(before, fixture.Mock.Requests.Count);
        var ok = await socket.CreateAsync("""{"model":"mock-model","input":"still here"}""");
        Assert.Equal("completed", (string?)ok.Terminal["status"]);
    }

    [Fact]
    public async Task OversizeAndBinaryMessages_GetErrorEnvelopes_AndTheNextMessageStillWorks()
    {
        await using var gateway = await fixture.StartGatewayAsync(new Dictionary<string, string?> { ["Gateway:MaxRequestBodyBytes"] = "2048" });
        await using var socket = await ResponsesSocket.ConnectAsync(gateway);
        await socket.SendAsync($$"""{"type":"response.create","model":"mock-model","input":"{{new string('x', 100_000)}}"}""");
        AssertErrorEnvelope(await socket.ReadTurnAsync(), 413, null, null);
        await socket.SendAsync([1, 2, 3], WebSocketMessageType.Binary);
        AssertErrorEnvelope(await socket.ReadTurnAsync(), 400, "invalid_message", null);
        var ok = await socket.CreateAsync("""{"model":"mock-model","input":"small"}""");
        Assert.Equal("completed", (string?)ok.Terminal["status"]);
    }

    [Fact]
    public async Task Upgrade_NeedsAValidKey_AndAPlainGetIsAnUnknownUrl()
    {
        foreach (var key in new[] { null, "sk-wrong" })
        {
            var uri = new UriBuilder(Gateway.BaseUrl) { Scheme = "ws", Path = "/v1/responses" }.Uri;
            using var socket = new ClientWebSocket();
            socket.Options.CollectHttpResponseDetails = true;
            if (key is not null)
            {
                socket.Options.SetRequestHeader("Authorization", $"Bearer {key}");
            }
            await Assert.ThrowsAsync<WebSocketException>(() => socket.ConnectAsync(uri, CancellationToken.None));
            Assert.Equal(HttpStatusCode.Unauthorized, socket.HttpStatusCode);
        }
        using var client = Gateway.CreateClient();
        using var get = await client.GetAsync("/v1/responses");
        Assert.Equal(HttpStatusCode.NotFound, get.StatusCode);
        AssertError(await ReadObjectAsync(get), null, "unknown_url");
    }

    [Fact]
    public async Task TwoTenants_OnTwoSockets_CannotContinueEachOthersResponses()
    {
        var marker = Marker();
        await using var a = await ResponsesSocket.ConnectAsync(Gateway, GatewayHost.KeyA);
        await using var b = await ResponsesSocket.ConnectAsync(Gateway, GatewayHost.KeyB);
        var storedA = await a.CreateAsync($$"""{"model":"mock-model","input":"a secret {{marker}}","store":true}""");
        var localA = await a.CreateAsync($$"""{"model":"mock-model","input":"a local {{marker}}","store":false}""");

        foreach (var id in new[] { storedA.Id, localA.Id })
        {
            var stolen = await b.CreateAsync($$"""{"model":"mock-model","input":"b tries {{marker}}","previous_response_id":"{{id}}"}""");
            AssertErrorEnvelope(stolen, 400, "previous_response_not_found", "previous_response_id");
        }
        Assert.DoesNotContain(fixture.Mock.Requests, r => r.Body.Contains($"b tries {marker}", StringComparison.Ordinal));

        // Tenant B's own turn is stored as B's: A cannot read it.
        var ownB = await b.CreateAsync($$"""{"model":"mock-model","input":"b own {{marker}}","store":true}""");
        using var clientA = Gateway.CreateClient(GatewayHost.KeyA);
        using var get = await clientA.GetAsync($"/v1/responses/{ownB.Id}");
        Assert.Equal(HttpStatusCode.NotFound, get.StatusCode);
    }

    [Fact]
    public async Task ConnectionLimit_IdleSocketGetsTheErrorAndACloseFrame()
    {
        await using var gateway = await fixture.StartGatewayAsync(new Dictionary<string, string?> { ["Gateway:WebSocketConnectionLimitSeconds"] = "1" });
        await using var socket = await ResponsesSocket.ConnectAsync(gateway);
        var ok = await socket.CreateAsync("""{"model":"mock-model","input":"before the limit"}""");
        Assert.Equal("completed", (string?)ok.Terminal["status"]);

        var error = await socket.ReceiveAsync(TimeSpan.FromSeconds(10));
        Assert.NotNull(error);
        AssertErrorEnvelope(new SocketTurn([], error), 400, "websocket_connection_limit_reached", null);
        Assert.Null(await socket.ReceiveAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(WebSocketCloseStatus.PolicyViolation, socket.Socket.CloseStatus);
        Assert.Equal("websocket_connection_limit_reached", socket.Socket.CloseStatusDescription);
    }

    [Fact]
    public async Task ConnectionLimit_DuringATurn_TheTurnFinishesFirst()
    {
        await using var gateway = await fixture.StartGatewayAsync(new Dictionary<string, string?> { ["Gateway:WebSocketConnectionLimitSeconds"] = "1" });
        await using var socket = await ResponsesSocket.ConnectAsync(gateway);
        var slow = await socket.CreateAsync("""{"model":"mock-slow-2000","input":"long turn"}""");
        Assert.Equal("completed", (string?)slow.Terminal["status"]);
        var error = await socket.ReceiveAsync(TimeSpan.FromSeconds(10));
        Assert.Equal("websocket_connection_limit_reached", (string?)error?["error"]?["code"]);
        Assert.Null(await socket.ReceiveAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task ClientLeavesMidTurn_TheUpstreamCallIsAbortedAndTheResponseStoredIncomplete()
    {
        var marker = Marker();
        var abortsBefore = fixture.Mock.AbortedRequests;
        var socket = await ResponsesSocket.ConnectAsync(Gateway);
        await socket.SendAsync($$"""{"type":"response.create","model":"mock-stall-20000","input":"leave early {{marker}}","store":true}""");
        string? id = null;
        while (true)
        {
            var message = await socket.ReceiveAsync() ?? throw new InvalidOperationException("closed");
            id ??= (string?)message["response"]?["id"];
            if ((string?)message["type"] == "response.output_text.delta")
            {
                break;
            }
        }
        socket.Socket.Abort(); // the TCP connection is dropped, no close frame
        await socket.DisposeAsync();

        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (fixture.Mock.AbortedRequests <= abortsBefore && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }
        Assert.True(fixture.Mock.AbortedRequests > abortsBefore, "the mock upstream did not see the gateway abort its call");

        using var client = Gateway.CreateClient();
        JsonObject stored;
        while (true)
        {
            using var get = await client.GetAsync($"/v1/responses/{id}");
            if (get.StatusCode == HttpStatusCode.OK && (string?)(stored = await ReadObjectAsync(get))["status"] != "in_progress")
            {
                break;
            }
            Assert.True(DateTime.UtcNow < deadline.AddSeconds(5), $"{id} is not stored as finished");
            await Task.Delay(100);
        }
        Assert.Equal("incomplete", (string?)stored["status"]);
        Assert.Equal("interrupted", (string?)stored["incomplete_details"]?["reason"]);
        OpenResponsesValidator.ValidateResponse(stored);
    }

    [Fact]
    public async Task ClientSendsCloseMidTurn_TheTurnEndsInterrupted()
    {
        var marker = Marker();
        var socket = await ResponsesSocket.ConnectAsync(Gateway);
        await socket.SendAsync($$"""{"type":"response.create","model":"mock-stall-20000","input":"close early {{marker}}","store":true}""");
        var created = await socket.ReceiveAsync();
        var id = (string)created!["response"]!["id"]!;
        using (var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10)))
        {
            // The close handshake completes (the gateway answers the close frame) well before the stall would end.
            await socket.Socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", timeout.Token);
            while (socket.Socket.State != WebSocketState.Closed)
            {
                await socket.Socket.ReceiveAsync(new byte[4096], timeout.Token);
            }
        }
        await socket.DisposeAsync();

        using var client = Gateway.CreateClient();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            using var get = await client.GetAsync($"/v1/responses/{id}");
            if (get.StatusCode == HttpStatusCode.OK && (string?)(await ReadObjectAsync(get))["status"] == "incomplete")
            {
                break;
            }
            Assert.True(DateTime.UtcNow < deadline, $"{id} is not stored incomplete");
            await Task.Delay(100);
        }
    }

    // ---- helpers ----

    private GatewayFixture Fixture() => fixture;

    private static string Marker() => Guid.NewGuid().ToString("N")[..12];

    private JsonObject UpstreamBody(string text)
    {
        var matches = fixture.Mock.Requests.Where(r => r.Body.Contains(text, StringComparison.Ordinal)).ToList();
        Assert.True(matches.Count == 1, $"expected one upstream request carrying '{text}', got {matches.Count}");
        return JsonNode.Parse(matches[0].Body)!.AsObject();
    }

    private static void AssertErrorEnvelope(SocketTurn turn, int status, string? code, string? param)
    {
        var envelope = turn.Error ?? throw new Xunit.Sdk.XunitException($"expected an error envelope, got events {string.Join(", ", turn.Types)}");
        OpenResponsesValidator.ValidateWebSocketError(envelope);
        Assert.Equal(["type", "status", "error"], envelope.Select(p => p.Key));
        Assert.Equal(status, (int)envelope["status"]!);
        var error = envelope["error"]!.AsObject();
        Assert.Equal(["type", "code", "message", "param"], error.Select(p => p.Key));
        if (code is not null)
        {
            Assert.Equal(code, (string?)error["code"]);
        }
        Assert.Equal(param, (string?)error["param"]);
        Assert.False(string.IsNullOrWhiteSpace((string?)error["message"]));
    }

    private static string OutputText(JsonObject response) => string.Concat(response["output"]!.AsArray()
        .Where(o => (string?)o!["type"] == "message")
        .SelectMany(o => o!["content"]!.AsArray())
        .Select(c => (string?)c!["text"]));

    private static string[] Describe(JsonArray input) => input.Select(item =>
        $"{item!["role"]}:{(item["content"] is JsonArray parts ? string.Concat(parts.Select(p => (string?)p!["text"])) : (string?)item["content"])}").ToArray();
}
