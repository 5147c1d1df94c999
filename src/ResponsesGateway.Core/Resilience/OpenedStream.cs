using System.Text.Json.Nodes;
using ResponsesGateway.Core.Upstreams;

namespace ResponsesGateway.Core.Resilience;

/// <summary>An upstream stream that produced its first event: <see cref="Events"/> is positioned on it.</summary>
internal sealed class OpenedStream(IUpstream upstream, IAsyncEnumerator<JsonObject> events) : IAsyncDisposable
{
    /// <summary>The upstream that answered (the fallback, when the primary failed).</summary>
    public IUpstream Upstream { get; } = upstream;

    public IAsyncEnumerator<JsonObject> Events { get; } = events;

    public ValueTask DisposeAsync() => Events.DisposeAsync();
}
