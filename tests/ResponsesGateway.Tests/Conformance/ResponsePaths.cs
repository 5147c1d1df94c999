using System.ClientModel;
using System.ClientModel.Primitives;
using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using OpenAI.Responses;
using ResponsesGateway.TestSupport;
using ResponsesGateway.Tests.Infrastructure;

namespace ResponsesGateway.Tests.Conformance;

/// <summary>One finished create: the final Response and, for the streaming paths, the event types in order.</summary>
public sealed record Turn(JsonObject Response, IReadOnlyList<string>? Events);

/// <summary>The gateway answered a create with an HTTP error (before any stream started).</summary>
public sealed class GatewayHttpError(int status, JsonObject error) : Exception($"HTTP {status}: {error.ToJsonString()}")
{
    public int Status { get; } = status;

    /// <summary>The envelope's <c>error</c> object: message, type, param, code.</summary>
    public JsonObject Error { get; } = error;
}

/// <summary>
/// One way of sending a create to a gateway over real HTTP. Every path checks what it received before returning it,
/// so every scenario gets every check on every path.
/// </summary>
public interface IResponsePath
{
    string Name { get; }

    /// <summary>Sends <paramref name="request"/> (its <c>stream</c> flag is set by the path); throws <see cref="GatewayHttpError"/> on a non-2xx.</summary>
    Task<Turn> SendAsync(JsonObject request);
}

/// <summary>
/// The official .NET SDK (<c>OpenAI</c> 2.15.0 <see cref="ResponsesClient"/>) on a transport that swaps the body the SDK
/// built for the scenario's exact JSON and keeps a copy of the raw answer: the SDK then parses the gateway's real bytes
/// with its type-strict deserializers (an unexpected null or type fails the SDK, not just a schema), and the same bytes are checked by hand.
/// </summary>
internal abstract class SdkPath(GatewayHost gateway) : IResponsePath
{
    protected GatewayHost Gateway => gateway;

    public abstract string Name { get; }

    public abstract Task<Turn> SendAsync(JsonObject request);

    protected async Task<T> CallAsync<T>(JsonObject request, bool stream, Func<ResponsesClient, Task<T>> call, Func<Exchange, T, Task>? check = null)
    {
        var body = (JsonObject)request.DeepClone();
        body["stream"] = stream;
        using var handler = new SubstituteBodyHandler(body.ToJsonString());
        using var http = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(30) };
        var client = new ResponsesClient(new ApiKeyCredential(GatewayHost.KeyA), new ResponsesClientOptions
        {
            Endpoint = new Uri(gateway.BaseUrl, "/v1"),
            Transport = new HttpClientPipelineTransport(http),
            RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
            NetworkTimeout = TimeSpan.FromSeconds(30),
        });
        T result;
        try
        {
            result = await call(client);
        }
        catch (ClientResultException e)
        {
            var failed = handler.Exchange ?? throw new InvalidOperationException("the SDK threw before any answer", e);
            Assert.Equal(failed.Status, e.Status);
            Assert.True(failed.Status >= 400, $"the SDK threw on HTTP {failed.Status}: {e.Message}");
            Assert.Equal("application/json", failed.MediaType);
            var envelope = JsonNode.Parse(failed.Body)!.AsObject();
            GatewayHttp.AssertError(envelope, (string?)envelope["error"]?["param"], (string?)envelope["error"]?["code"], (string?)envelope["error"]?["type"] ?? "");
            throw new GatewayHttpError(failed.Status, envelope["error"]!.AsObject());
        }
        var exchange = handler.Exchange!;
        Assert.True(exchange.Status is >= 200 and < 300, $"HTTP {exchange.Status}: {exchange.Body}");
        if (check is not null)
        {
            await check(exchange, result);
        }
        return result;
    }

    /// <summary>Every output item of the SDK's Response matches the gateway's JSON on type and order; text and status agree.</summary>
    protected static void AssertSdkAgrees(ResponseResult sdk, JsonObject json)
    {
        Assert.Equal((string?)json["id"], sdk.Id);
        Assert.Equal(((string?)json["status"])?.Replace("_", "", StringComparison.Ordinal), sdk.Status?.ToString().ToLowerInvariant());
        Assert.Equal((string?)json["model"], sdk.Model);
        var output = json["output"]!.AsArray();
        Assert.Equal(output.Count, sdk.OutputItems.Count);
        for (var i = 0; i < output.Count; i++)
        {
            var item = sdk.OutputItems[i];
            var expected = (string?)output[i]!["type"] switch
            {
                "message" => typeof(MessageResponseItem),
                "function_call" => typeof(FunctionCallResponseItem),
                "reasoning" => typeof(ReasoningResponseItem),
                "custom_tool_call" => typeof(CustomToolCallItem),
                "compaction" => typeof(ResponseItem), // the SDK (2.15) has no public type for it: it must still parse
                var other => throw new InvalidOperationException($"no SDK type known for {other}"),
            };
            Assert.IsAssignableFrom(expected, item);
            Assert.Equal((string?)output[i]!["id"], item.Id);
            if (item is FunctionCallResponseItem call)
            {
                Assert.Equal((string?)output[i]!["call_id"], call.CallId);
                Assert.Equal((string?)output[i]!["name"], call.FunctionName);
                Assert.Equal((string?)output[i]!["arguments"], call.FunctionArguments.ToString());
            }
        }
        var text = string.Concat(output.Where(o => (string?)o!["type"] == "message")
            .SelectMany(o => o!["content"]!.AsArray()).Where(c => (string?)c!["type"] == "output_text").Select(c => (string?)c!["text"]));
        Assert.Equal(text.Length == 0 ? null : text, sdk.GetOutputText());
        Assert.Equal((string?)json["error"]?["code"], sdk.Error?.Code.ToString());
        Assert.Equal((string?)json["error"]?["message"], sdk.Error?.Message);
        Assert.Equal((string?)json["incomplete_details"]?["reason"], sdk.IncompleteStatusDetails?.Reason?.ToString());
        if (json["usage"] is JsonObject usage)
        {
            Assert.Equal((int)usage["total_tokens"]!, sdk.Usage.TotalTokenCount);
        }
    }

    protected sealed record Exchange(int Status, string? MediaType, string Body);

    private sealed class SubstituteBodyHandler(string body) : DelegatingHandler(new SocketsHttpHandler())
    {
        public Exchange? Exchange { get; private set; }

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            request.Content = GatewayHttp.Json(body);
            var response = await base.SendAsync(request, cancellationToken);
            // The gateway closes the stream after its terminal event, so buffering it whole is safe and keeps a copy.
            await response.Content.LoadIntoBufferAsync(cancellationToken);
            Exchange = new Exchange((int)response.StatusCode, response.Content.Headers.ContentType?.MediaType, await response.Content.ReadAsStringAsync(cancellationToken));
            return response;
        }
    }
}

/// <summary><c>stream:false</c>: the JSON body validates against the OpenAPI Response schema and the SDK parses it to the same thing.</summary>
internal sealed class JsonPath(GatewayHost gateway) : SdkPath(gateway)
{
    public override string Name => "json";

    public override async Task<Turn> SendAsync(JsonObject request)
    {
        JsonObject? body = null;
        await CallAsync<ResponseResult>(request, stream: false,
            async client => await client.CreateResponseAsync("unused", "unused", previousResponseId: null),
            (exchange, sdk) =>
            {
                Assert.Equal("application/json", exchange.MediaType);
                body = JsonNode.Parse(exchange.Body)!.AsObject();
                Assert.Equal("response", (string?)body["object"]);
                SchemaValidator.ValidateResponse(body);
                OpenResponsesValidator.ValidateResponse(body);
                AssertSdkAgrees(sdk, body);
                return Task.CompletedTask;
            });
        return new Turn(body!, null);
    }
}

/// <summary>
/// <c>stream:true</c>: the raw SSE body passes <see cref="EventSequenceChecker"/>, every event and the terminal Response
/// validate against the OpenAPI schema, and the SDK yields one known update per event, in order, ending with the
/// terminal Response.
/// </summary>
internal sealed class SsePath(GatewayHost gateway) : SdkPath(gateway)
{
    public override string Name => "sse";

    public override async Task<Turn> SendAsync(JsonObject request)
    {
        SseStream? stream = null;
        await CallAsync<List<StreamingResponseUpdate>>(request, stream: true,
            async client =>
            {
                var updates = new List<StreamingResponseUpdate>();
                await foreach (var update in await client.CreateResponseStreamingAsync("unused", "unused", previousResponseId: null))
                {
                    updates.Add(update);
                }
                return updates;
            },
            (exchange, updates) =>
            {
                Assert.Equal("text/event-stream", exchange.MediaType);
                stream = new SseStream(exchange.Body);
                Infrastructure.EventSequenceChecker.Check(stream);
                SchemaValidator.ValidateEvents(stream.Events.Select(e => e.Json));
                SchemaValidator.ValidateResponse(stream.Terminal);
                OpenResponsesValidator.ValidateEvents(stream.Events.Select(e => e.Json));
                OpenResponsesValidator.ValidateResponse(stream.Terminal);

                Assert.Equal(stream.Events.Count, updates.Count);
                for (var i = 0; i < updates.Count; i++)
                {
                    Assert.Equal(i, updates[i].SequenceNumber);
                    Assert.False(updates[i].GetType().Name.Contains("Unknown", StringComparison.Ordinal),
                        $"the SDK did not recognise event {i} ({stream.Events[i].Type}): {updates[i].GetType().Name}");
                }
                var terminal = updates[^1] switch
                {
                    StreamingResponseCompletedUpdate u => u.Response,
                    StreamingResponseIncompleteUpdate u => u.Response,
                    StreamingResponseFailedUpdate u => u.Response,
                    var other => throw new InvalidOperationException($"the SDK's last update is {other.GetType().Name}"),
                };
                AssertSdkAgrees(terminal, stream.Terminal);
                return Task.CompletedTask;
            });
        await ValidateStoredAsync(stream!.Terminal);
        return new Turn(stream.Terminal, stream.Types);
    }

    /// <summary>
    /// The same Response as read back: <c>GET</c> and its replay (<c>GET ?stream=true</c>) validate against the Open
    /// Responses document too, and the stored Response is the streamed terminal one.
    /// </summary>
    private async Task ValidateStoredAsync(JsonObject terminal)
    {
        if (terminal["store"] is JsonValue store && !(bool)store)
        {
            return;
        }
        using var client = Gateway.CreateClient();
        var id = (string)terminal["id"]!;
        using (var get = await client.GetAsync($"/v1/responses/{id}"))
        {
            Assert.Equal(System.Net.HttpStatusCode.OK, get.StatusCode);
            var stored = await GatewayHttp.ReadObjectAsync(get);
            OpenResponsesValidator.ValidateResponse(stored);
            Assert.True(JsonNode.DeepEquals(terminal, stored), $"GET differs from the streamed terminal Response\n  streamed {terminal.ToJsonString()}\n    stored {stored.ToJsonString()}");
        }
        using var replay = await client.GetAsync($"/v1/responses/{id}?stream=true");
        Assert.Equal(System.Net.HttpStatusCode.OK, replay.StatusCode);
        var events = new SseStream(await replay.Content.ReadAsStringAsync());
        OpenResponsesValidator.ValidateEvents(events.Events.Select(e => e.Json));
        OpenResponsesValidator.ValidateResponse(events.Terminal);
    }
}

/// <summary>
/// The official JS SDK's <c>client.responses.stream()</c> helper (openai 7.5.0) through <c>tools/js/stream-check.mjs</c>:
/// one <c>node</c> process per scenario run, fed one request per stdin line and answering one JSON line each (so the next
/// turn can be built from the last answer); every read and the exit are bounded. The helper must accept each stream
/// (no "Unhandled response stream event") and its <c>finalResponse()</c> is returned, without the SDK's own derived fields.
/// <see cref="CloseAsync"/> returns the exit code: 0 unless a request failed (an HTTP error, or a rejected stream).
/// </summary>
internal sealed class JsHelperPath(GatewayHost gateway) : IResponsePath, IAsyncDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    /// <summary>Fields the SDK adds to what the server sent (ResponsesParser.maybeParseResponse, addOutputText).</summary>
    private static readonly string[] ResponseAdditions = ["output_text", "output_parsed"];

    private readonly StringBuilder _stderr = new();
    private Process? _process;

    public string Name => "js";

    /// <summary>Whether a request of this run ended in an error (then the process exits 1).</summary>
    public bool AnyFailed { get; private set; }

    public async Task<Turn> SendAsync(JsonObject request)
    {
        var body = (JsonObject)request.DeepClone();
        body.Remove("stream"); // the helper sets it
        var process = _process ??= Start();
        await process.StandardInput.WriteLineAsync(body.ToJsonString());
        await process.StandardInput.FlushAsync();
        string? line;
        using (var timeout = new CancellationTokenSource(Timeout))
        {
            try
            {
                line = await process.StandardOutput.ReadLineAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"stream-check.mjs gave no answer within {Timeout}: {Stderr()}");
            }
        }
        Assert.True(line is not null, $"stream-check.mjs ended without an answer: {Stderr()}");
        Assert.DoesNotContain("Unhandled response stream event", line, StringComparison.Ordinal);
        var result = JsonNode.Parse(line!)!.AsObject();
        var events = result["events"]!.AsArray().Select(e => (string)e!).ToList();
        if (!(bool)result["ok"]!)
        {
            AnyFailed = true;
            var error = result["error"]!.AsObject();
            Assert.True(error["status"] is JsonValue, $"the JS helper rejected the stream: {error.ToJsonString()}\nevents: {string.Join(", ", events)}\n{Stderr()}");
            Assert.Empty(events);
            throw new GatewayHttpError((int)error["status"]!, new JsonObject
            {
                ["message"] = (string?)error["message"],
                ["type"] = (string?)error["type"],
                ["param"] = (string?)error["param"],
                ["code"] = (string?)error["code"],
            });
        }
        var final = result["final"]!.AsObject();
        foreach (var name in ResponseAdditions)
        {
            final.Remove(name);
        }
        foreach (var item in final["output"]!.AsArray().OfType<JsonObject>())
        {
            item.Remove("parsed_arguments");
            foreach (var part in item["content"] as JsonArray ?? [])
            {
                (part as JsonObject)?.Remove("parsed");
            }
        }
        return new Turn(final, events);
    }

    /// <summary>Closes stdin and waits (bounded) for the process to exit; its exit code.</summary>
    public async Task<int> CloseAsync()
    {
        var process = _process ?? throw new InvalidOperationException("no request was sent");
        process.StandardInput.Close();
        using var timeout = new CancellationTokenSource(Timeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"stream-check.mjs did not exit within {Timeout}: {Stderr()}");
        }
        var rest = await process.StandardOutput.ReadToEndAsync();
        Assert.True(rest.Length == 0, $"stream-check.mjs printed more than one line per request: {rest}");
        Assert.DoesNotContain("Unhandled response stream event", Stderr(), StringComparison.Ordinal);
        return process.ExitCode;
    }

    public ValueTask DisposeAsync()
    {
        if (_process is { } process)
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
            process.Dispose();
        }
        return ValueTask.CompletedTask;
    }

    private string Stderr()
    {
        lock (_stderr)
        {
            return _stderr.ToString();
        }
    }

    private Process Start()
    {
        var info = new ProcessStartInfo("node")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = RepositoryRoot.Path,
            StandardOutputEncoding = Encoding.UTF8,
            StandardInputEncoding = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false),
        };
        info.ArgumentList.Add(Path.Combine(RepositoryRoot.Path, "tools", "js", "stream-check.mjs"));
        info.ArgumentList.Add(new Uri(gateway.BaseUrl, "/v1").ToString());
        info.ArgumentList.Add(GatewayHost.KeyA);
        // The script's own per-request bound stays below ours, so its answer explains a hang.
        info.Environment["STREAM_CHECK_TIMEOUT_MS"] = ((int)(Timeout.TotalMilliseconds * 0.6)).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var process = Process.Start(info)!;
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (_stderr)
                {
                    _stderr.AppendLine(e.Data);
                }
            }
        };
        process.BeginErrorReadLine();
        return process;
    }
}
