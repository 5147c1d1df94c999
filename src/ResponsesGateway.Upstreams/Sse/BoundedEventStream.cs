using ResponsesGateway.Core.Upstreams;

namespace ResponsesGateway.Upstreams.Sse;

/// <summary>
/// A read-only view of an SSE body that fails as soon as one event (the bytes between two blank lines) grows past
/// <c>maxEventBytes</c>. The SSE parser buffers a whole event before handing it over, so without this bound one endless
/// <c>data:</c> line from a broken or hostile upstream would grow that buffer until the process runs out of memory.
/// </summary>
internal sealed class BoundedEventStream(Stream inner, int maxEventBytes) : Stream
{
    private long _eventBytes;
    private bool _atLineStart = true;
    private bool _afterCarriageReturn;

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Count(buffer.AsSpan(offset, inner.Read(buffer, offset, count)));

    public override int Read(Span<byte> buffer) => Count(buffer[..inner.Read(buffer)]);

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var read = await inner.ReadAsync(buffer, cancellationToken);
        return Count(buffer.Span[..read]);
    }

    // Line ends are \n, \r\n or \r (the SSE grammar); an empty line ends the event.
    private int Count(ReadOnlySpan<byte> read)
    {
        foreach (var b in read)
        {
            if (b == (byte)'\n' && _afterCarriageReturn)
            {
                _afterCarriageReturn = false;
                continue;
            }
            if (b is (byte)'\n' or (byte)'\r')
            {
                if (_atLineStart)
                {
                    _eventBytes = 0;
                }
                _atLineStart = true;
                _afterCarriageReturn = b == (byte)'\r';
                continue;
            }
            _atLineStart = false;
            _afterCarriageReturn = false;
            if (++_eventBytes > maxEventBytes)
            {
                throw new UpstreamException(UpstreamFailure.StreamInterrupted, $"the upstream sent an event larger than {maxEventBytes} bytes.")
                {
                    Code = "upstream_event_too_large",
                };
            }
        }
        return read.Length;
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
        }
        base.Dispose(disposing);
    }

    public override ValueTask DisposeAsync() => inner.DisposeAsync();
}
