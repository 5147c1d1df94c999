using System.Net;

namespace ResponsesGateway.Upstreams.Sse;

/// <summary>
/// Wraps an upstream's SSE response content so every adapter that reads it gets a <see cref="BoundedEventStream"/>,
/// without each adapter having to remember to.
/// </summary>
internal sealed class BoundedEventContent : HttpContent
{
    private readonly HttpContent _inner;
    private readonly int _maxEventBytes;

    public BoundedEventContent(HttpContent inner, int maxEventBytes)
    {
        _inner = inner;
        _maxEventBytes = maxEventBytes;
        foreach (var header in inner.Headers)
        {
            Headers.TryAddWithoutValidation(header.Key, header.Value);
        }
    }

    protected override async Task<Stream> CreateContentReadStreamAsync(CancellationToken cancellationToken) =>
        new BoundedEventStream(await _inner.ReadAsStreamAsync(cancellationToken), _maxEventBytes);

    protected override Task<Stream> CreateContentReadStreamAsync() => CreateContentReadStreamAsync(CancellationToken.None);

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        await using var bounded = await CreateContentReadStreamAsync(cancellationToken);
        await bounded.CopyToAsync(stream, cancellationToken);
    }

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override bool TryComputeLength(out long length)
    {
        length = 0;
        return false;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _inner.Dispose();
        }
        base.Dispose(disposing);
    }
}
