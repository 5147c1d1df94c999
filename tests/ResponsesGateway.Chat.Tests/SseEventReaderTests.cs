using System.Text;
using System.Text.Json.Nodes;
using ResponsesGateway.Core.Upstreams;
using ResponsesGateway.Upstreams.Sse;

namespace ResponsesGateway.Upstreams.Chat.Tests;

/// <summary>
/// The SSE reader both adapters share, fed through <see cref="BoundedEventStream"/> as the HTTP client does, with reads
/// as small as one byte so that events, line ends and multi-byte characters fall across reads. Every case runs both
/// readers (nodes for the native adapter, pooled elements for the chat translator): they must agree, errors included.
/// </summary>
public sealed class SseEventReaderTests
{
    private static readonly TimeSpan Idle = TimeSpan.FromSeconds(30);

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(4096)]
    public async Task MultiByteCharacters_SplitAcrossReads_ArriveWhole(int readSize)
    {
        var events = await ReadAsync("data: {\"delta\":\"héllo → 🙂 日本\"}\r\n\r\ndata: {\"delta\":\"ü\"}\n\n", readSize);

        Assert.Equal(["héllo → 🙂 日本", "ü"], events.Select(e => (string?)e["delta"]));
    }

    [Fact]
    public async Task DoneBlankDataAndComments_AreSkipped_UnknownFieldsKept()
    {
        var events = await ReadAsync(
            ": keep-alive\n\ndata:\n\ndata:  \u00a0 \n\nevent: response.x\ndata: {\"type\":\"x\",\"vendor_extra\":{\"a\":[1,2]}}\n\ndata: [DONE]\n\n", 7);

        var evt = Assert.Single(events);
        Assert.Equal("""{"type":"x","vendor_extra":{"a":[1,2]}}""", evt.ToJsonString());
    }

    [Fact]
    public async Task DataOverSeveralLines_IsOneEvent()
    {
        var events = await ReadAsync("data: {\"a\":\ndata: 1}\n\n", 2);

        Assert.Equal(1, (int)Assert.Single(events)["a"]!);
    }

    [Fact]
    public async Task InvalidUtf8_BecomesReplacementCharacters()
    {
        byte[] body = [.. "data: {\"delta\":\"a"u8, 0xFF, .. "b\"}\n\n"u8];

        var events = await ReadAsync(body, 1);

        Assert.Equal("a\uFFFDb", (string?)Assert.Single(events)["delta"]);
    }

    [Theory]
    [InlineData("data: {not json\n\n")]
    [InlineData("data: [1,2]\n\n")]
    [InlineData("data: {\"a\":1,\"a\":2}\n\n")]
    [InlineData("data: [DONE] \n\n")]
    public async Task NotAJsonObject_IsStreamInterrupted(string body)
    {
        var e = await Assert.ThrowsAsync<UpstreamException>(() => ReadAsync(body, 5));

        Assert.Equal(UpstreamFailure.StreamInterrupted, e.Failure);
        Assert.Contains("not JSON", e.Message);
    }

    [Fact]
    public async Task EventOfExactlyTheLimit_Passes_OneByteMore_Fails()
    {
        // The bound counts the bytes of an event's lines, line ends excluded: "data: " + the JSON.
        var json = "{\"a\":\"" + new string('x', 50) + "\"}";
        var limit = "data: ".Length + json.Length;
        var atLimit = $"data: {json}\r\n\r\ndata: {json}\n\n";

        var events = await ReadAsync(atLimit, 3, limit);
        var e = await Assert.ThrowsAsync<UpstreamException>(() => ReadAsync($"data: {json}\n\ndata: {json} \n\n", 3, limit));

        Assert.Equal(2, events.Count);
        Assert.Equal(UpstreamFailure.StreamInterrupted, e.Failure);
        Assert.Equal("upstream_event_too_large", e.Code);
    }

    [Fact]
    public async Task TheLimit_CountsAllTheLinesOfOneEvent()
    {
        const string body = "data: {\"a\":\ndata: 1}\n\n"; // 11 + 8 bytes

        var e = await Assert.ThrowsAsync<UpstreamException>(() => ReadAsync(body, 1, 18));

        Assert.Equal("upstream_event_too_large", e.Code);
        Assert.Single(await ReadAsync(body, 1, 19));
    }

    [Fact]
    public async Task Cancellation_IsNotATimeout()
    {
        using var cts = new CancellationTokenSource();
        var body = new SlowStream(Encoding.UTF8.GetBytes("data: {\"a\":1}\n\n"));
        var seen = 0;

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var _ in SseEventReader.ReadAsync(body, Idle, cts.Token))
            {
                seen++;
                await cts.CancelAsync();
            }
        });
        Assert.Equal(1, seen);
    }

    [Fact]
    public async Task NoEventInTime_IsATimeout()
    {
        var body = new SlowStream(Encoding.UTF8.GetBytes("data: {\"a\":1}\n\n"));
        var seen = 0;

        var e = await Assert.ThrowsAsync<UpstreamException>(async () =>
        {
            await foreach (var _ in SseEventReader.ReadAsync(body, TimeSpan.FromMilliseconds(200), CancellationToken.None))
            {
                seen++;
            }
        });
        Assert.Equal(UpstreamFailure.Timeout, e.Failure);
        Assert.Equal(1, seen);
    }

    private static Task<List<JsonObject>> ReadAsync(string body, int readSize, int maxEventBytes = 1 << 20) =>
        ReadAsync(Encoding.UTF8.GetBytes(body), readSize, maxEventBytes);

    private static async Task<List<JsonObject>> ReadAsync(byte[] body, int readSize, int maxEventBytes = 1 << 20)
    {
        var (nodes, nodeError) = await CatchAsync(async () =>
        {
            var events = new List<JsonObject>();
            await using var stream = new BoundedEventStream(new ChunkedStream(body, readSize), maxEventBytes);
            await foreach (var evt in SseEventReader.ReadAsync(stream, Idle, CancellationToken.None))
            {
                events.Add(evt);
            }
            return events;
        });
        var (elements, elementError) = await CatchAsync(async () =>
        {
            var events = new List<JsonObject>();
            await using var stream = new BoundedEventStream(new ChunkedStream(body, readSize), maxEventBytes);
            await foreach (var evt in SseEventReader.ReadElementsAsync(stream, Idle, CancellationToken.None))
            {
                events.Add(JsonNode.Parse(evt.GetRawText())!.AsObject()); // a copy: the element's buffer is reused
            }
            return events;
        });
        Assert.Equal(nodeError?.Message, elementError?.Message);
        Assert.Equal(nodeError?.Failure, elementError?.Failure);
        Assert.Equal(nodeError?.Code, elementError?.Code);
        if (nodeError is not null)
        {
            throw nodeError;
        }
        Assert.Equal(nodes!.Select(n => n.ToJsonString()), elements!.Select(e => e.ToJsonString()));
        return nodes!;
    }

    private static async Task<(List<JsonObject>? Events, UpstreamException? Error)> CatchAsync(Func<Task<List<JsonObject>>> read)
    {
        try
        {
            return (await read(), null);
        }
        catch (UpstreamException e)
        {
            return (null, e);
        }
    }

    /// <summary>Hands out at most <c>readSize</c> bytes per read.</summary>
    private sealed class ChunkedStream(byte[] data, int readSize) : MemoryStream(data)
    {
        public override int Read(byte[] buffer, int offset, int count) => base.Read(buffer, offset, Math.Min(count, readSize));

        public override int Read(Span<byte> buffer) => base.Read(buffer[..Math.Min(buffer.Length, readSize)]);

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            base.ReadAsync(buffer[..Math.Min(buffer.Length, readSize)], cancellationToken);

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            base.ReadAsync(buffer, offset, Math.Min(count, readSize), cancellationToken);
    }

    /// <summary>Sends <c>first</c>, then waits for more until cancelled, like an upstream that stalls.</summary>
    private sealed class SlowStream(byte[] first) : Stream
    {
        private bool _sent;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (!_sent)
            {
                _sent = true;
                first.CopyTo(buffer);
                return first.Length;
            }
            await Task.Delay(Timeout.Infinite, cancellationToken);
            return 0;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
