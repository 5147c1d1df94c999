using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace ResponsesGateway.MockUpstream;

/// <summary>
/// Thrown to unwind when the mock wants to drop the connection (disconnect-&lt;n&gt;); the handler then lets the bytes
/// already written reach the client and aborts the connection (not counted as a client abort).
/// </summary>
internal sealed class MockDisconnectException : Exception
{
    public MockDisconnectException()
        : base("The mock aborted the connection on purpose.")
    {
    }
}

/// <summary>Thrown when a write reports that the client is gone.</summary>
internal sealed class ClientGoneException : IOException
{
    public ClientGoneException()
        : base("The client went away.")
    {
    }
}

/// <summary>
/// One request/response exchange: the reusable event buffer and JSON writer, SSE framing, sequence numbers,
/// and the timing/abort misbehaviours shared by both protocols.
/// </summary>
internal sealed class MockExchange : IDisposable
{
    private static readonly JsonWriterOptions WriterOptions = new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        SkipValidation = true,
    };

    private readonly ArrayBufferWriter<byte> _buffer = new(16 * 1024);
    private int _deltas;

    public MockExchange(HttpContext http, RequestInfo request, Behavior behavior, ReplyPlan plan, MockUpstreamOptions options, CancellationToken ct)
    {
        Http = http;
        Request = request;
        Behavior = behavior;
        Plan = plan;
        Options = options;
        Ct = ct;
        Json = new Utf8JsonWriter(_buffer, WriterOptions);
    }

    public HttpContext Http { get; }

    public RequestInfo Request { get; }

    public Behavior Behavior { get; }

    public ReplyPlan Plan { get; }

    public MockUpstreamOptions Options { get; }

    public CancellationToken Ct { get; }

    public Utf8JsonWriter Json { get; }

    /// <summary>Next Responses <c>sequence_number</c>.</summary>
    public int Sequence { get; private set; }

    public int EventsWritten { get; private set; }

    public void Dispose() => Json.Dispose();

    // ---------------------------------------------------------------- plain JSON bodies

    /// <summary>Starts a JSON document in the buffer (call <see cref="WriteJsonBodyAsync"/> when done).</summary>
    public Utf8JsonWriter BeginJson()
    {
        _buffer.ResetWrittenCount();
        Json.Reset(_buffer);
        return Json;
    }

    /// <summary>Writes the buffered JSON document as a complete <c>application/json</c> body (honouring stall/disconnect/truncated-json).</summary>
    public async Task WriteJsonBodyAsync(int status = StatusCodes.Status200OK)
    {
        Json.Flush();
        var response = Http.Response;
        response.StatusCode = status;
        response.ContentType = "application/json";
        AddCommonHeaders(response);

        if (Behavior.Kind == BehaviorKind.Disconnect)
        {
            Abort();
        }

        if (Behavior.Kind == BehaviorKind.TruncatedJson)
        {
            // No Content-Length: the chunked body ends cleanly after half of the document.
            await WriteAsync(_buffer.WrittenMemory[..(_buffer.WrittenCount / 2)]).ConfigureAwait(false);
            return;
        }

        if (Behavior.Kind == BehaviorKind.Stall)
        {
            await response.StartAsync(Ct).ConfigureAwait(false);
            await CheckedFlushAsync().ConfigureAwait(false);
            await Task.Delay(Behavior.Arg, Ct).ConfigureAwait(false);
        }
        else
        {
            response.ContentLength = _buffer.WrittenCount;
        }

        await WriteAsync(_buffer.WrittenMemory).ConfigureAwait(false);
    }

    // ---------------------------------------------------------------- SSE

    public async Task StartSseAsync()
    {
        var response = Http.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "text/event-stream; charset=utf-8";
        response.Headers.CacheControl = "no-cache";
        AddCommonHeaders(response);
        await response.StartAsync(Ct).ConfigureAwait(false);
        await CheckedFlushAsync().ConfigureAwait(false);
        if (Behavior.Kind == BehaviorKind.Disconnect && Behavior.Arg <= 0)
        {
            Abort();
        }
    }

    /// <summary>Starts <c>event: type\ndata: {"type":..,"sequence_number":..</c>; finish with <see cref="EndEventAsync"/>.</summary>
    public Utf8JsonWriter BeginResponsesEvent(ReadOnlySpan<byte> type)
    {
        _buffer.ResetWrittenCount();
        _buffer.Write("event: "u8);
        _buffer.Write(type);
        _buffer.Write("\ndata: "u8);
        Json.Reset(_buffer);
        Json.WriteStartObject();
        Json.WriteString("type"u8, type);
        Json.WriteNumber("sequence_number"u8, Sequence++);
        return Json;
    }

    /// <summary>Starts <c>data: {</c> (Chat Completions chunk); finish with <see cref="EndEventAsync"/>.</summary>
    public Utf8JsonWriter BeginChatData()
    {
        _buffer.ResetWrittenCount();
        _buffer.Write("data: "u8);
        Json.Reset(_buffer);
        Json.WriteStartObject();
        return Json;
    }

    /// <summary>Closes the event object, frames it and sends it (honouring disconnect-n and truncated-json on the terminal event).</summary>
    public async Task EndEventAsync(bool terminal = false)
    {
        Json.WriteEndObject();
        Json.Flush();
        _buffer.Write("\n\n"u8);

        if (terminal && Behavior.Kind == BehaviorKind.TruncatedJson)
        {
            // The last event is cut in the middle of its JSON, then the stream ends.
            await WriteAsync(_buffer.WrittenMemory[..(_buffer.WrittenCount / 2)]).ConfigureAwait(false);
            throw new MockStreamEndedException();
        }

        await WriteAsync(_buffer.WrittenMemory).ConfigureAwait(false);
        EventsWritten++;
        if (Behavior.Kind == BehaviorKind.Disconnect && EventsWritten >= Behavior.Arg)
        {
            Abort();
        }
    }

    /// <summary>Sends raw bytes (used for malformed lines and <c>data: [DONE]</c>).</summary>
    public async Task WriteRawEventAsync(ReadOnlyMemory<byte> bytes)
    {
        await WriteAsync(bytes).ConfigureAwait(false);
        EventsWritten++;
        if (Behavior.Kind == BehaviorKind.Disconnect && EventsWritten >= Behavior.Arg)
        {
            Abort();
        }
    }

    /// <summary>Call before writing a delta: applies <see cref="MockUpstreamOptions.TokenDelay"/> between deltas.</summary>
    public Task BeforeDeltaAsync()
    {
        var delay = Options.TokenDelay;
        return _deltas > 0 && delay > TimeSpan.Zero ? Task.Delay(delay, Ct) : Task.CompletedTask;
    }

    /// <summary>Call after a delta was sent: the stall behaviour pauses after the first one.</summary>
    public Task AfterDeltaAsync()
    {
        _deltas++;
        return _deltas == 1 && Behavior.Kind == BehaviorKind.Stall && Behavior.Arg > 0
            ? Task.Delay(Behavior.Arg, Ct)
            : Task.CompletedTask;
    }

    // ---------------------------------------------------------------- plumbing

    private static void AddCommonHeaders(HttpResponse response)
    {
        response.Headers["x-request-id"] = "req_mock";
        response.Headers["openai-version"] = "2020-10-01";
        response.Headers["openai-processing-ms"] = "1";
    }

    private async Task WriteAsync(ReadOnlyMemory<byte> bytes)
    {
        var result = await Http.Response.BodyWriter.WriteAsync(bytes, Ct).ConfigureAwait(false);
        if (result.IsCanceled || result.IsCompleted)
        {
            throw new ClientGoneException();
        }
    }

    private async Task CheckedFlushAsync()
    {
        var result = await Http.Response.BodyWriter.FlushAsync(Ct).ConfigureAwait(false);
        if (result.IsCanceled || result.IsCompleted)
        {
            throw new ClientGoneException();
        }
    }

    private void Abort() => throw new MockDisconnectException();
}

/// <summary>Thrown to end a stream early on purpose (the response then completes normally).</summary>
internal sealed class MockStreamEndedException : Exception
{
    public MockStreamEndedException()
        : base("The mock ended the stream on purpose.")
    {
    }
}
