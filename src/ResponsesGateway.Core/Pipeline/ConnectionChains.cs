namespace ResponsesGateway.Core.Pipeline;

/// <summary>
/// The responses one WebSocket connection finished most recently, each with the whole context a continuation of it
/// needs (every turn's <see cref="ChainHistory.ContextOf"/>, oldest first). This is what lets a <c>store:false</c>
/// chain continue on the same socket without anything being written to storage, and a <c>store:true</c> one without
/// a storage read. Bounded by count: a client continues from one of its last few responses or starts over. Used by
/// one connection, which runs one turn at a time, so it needs no locking.
/// </summary>
public sealed class ConnectionChains(int capacity)
{
    private readonly Dictionary<string, Entry> _chains = new(StringComparer.Ordinal);
    private readonly LinkedList<string> _age = new();

    public int Count => _chains.Count;

    /// <summary>
    /// The contexts up to and including <paramref name="id"/>, when this connection holds it, and whether that turn was
    /// stored (then the caller checks it was not deleted meanwhile, as for the instance-wide chain cache).
    /// </summary>
    internal (List<byte[]> Chain, bool Stored)? TryGet(string id) => _chains.TryGetValue(id, out var entry) ? (entry.Chain, entry.Stored) : null;

    /// <summary>A turn finished on this connection: its chain is the one it continued plus its own context.</summary>
    internal void Remember(string id, List<byte[]>? parent, byte[] context, bool stored)
    {
        // The byte arrays are immutable and shared between the entries of one chain: a new entry costs a list.
        var chain = new List<byte[]>((parent?.Count ?? 0) + 1);
        if (parent is not null)
        {
            chain.AddRange(parent);
        }
        chain.Add(context);
        if (_chains.TryAdd(id, new Entry(chain, stored)))
        {
            _age.AddLast(id);
        }
        while (_chains.Count > capacity && _age.First is { } oldest)
        {
            _age.RemoveFirst();
            _chains.Remove(oldest.Value);
        }
    }

    /// <summary>
    /// Forgets <paramref name="id"/>: a continuation of it failed, and the specification has a failed continuation evict
    /// the response it referenced, so that a client retrying it learns at once that the chain must start over.
    /// </summary>
    public void Evict(string id)
    {
        if (_chains.Remove(id))
        {
            _age.Remove(id);
        }
    }

    private sealed record Entry(List<byte[]> Chain, bool Stored);
}
