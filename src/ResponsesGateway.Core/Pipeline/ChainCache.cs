using System.Collections.Concurrent;

namespace ResponsesGateway.Core.Pipeline;

/// <summary>
/// What each recently stored or read turn adds to its chain's context (<see cref="ChainHistory.ContextOf"/>), kept in
/// memory so that continuing a chain does not read and decode every earlier turn again: the partition read grows with
/// the depth of the chain, a lookup here does not (docs/benchmarks.md, chain depth).
/// <para>
/// Entries are immutable bytes, shared by concurrent requests without copies. A stored turn never changes (a delete
/// only hides it), so an entry cannot go stale in content; whether the turn is still visible is checked against the
/// store on every use (<see cref="ChainResolver"/>). Bounded by bytes; the oldest entries go first, which suits chains:
/// a conversation is continued within minutes or not at all.
/// </para>
/// </summary>
internal sealed class ChainCache
{
    // Dictionary entry, queue slot, record and array headers, the id string: roughly, per turn.
    private const int EntryOverheadBytes = 256;

    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> _age = new();
    private readonly long _budgetBytes;
    private long _bytes;

    public ChainCache(long budgetBytes) => _budgetBytes = budgetBytes;

    /// <summary>False when the budget is 0: nothing is kept and every chain is read from the store.</summary>
    public bool Enabled => _budgetBytes > 0;

    /// <summary>Bytes held, overhead estimate included.</summary>
    public long Bytes => Interlocked.Read(ref _bytes);

    public int Count => _entries.Count;

    public void Add(string id, string owner, string? parent, byte[] context)
    {
        var size = context.Length + EntryOverheadBytes;
        if (size > _budgetBytes || !_entries.TryAdd(id, new Entry(owner, parent, context)))
        {
            return;
        }
        Interlocked.Add(ref _bytes, size);
        _age.Enqueue(id);
        while (Interlocked.Read(ref _bytes) > _budgetBytes && _age.TryDequeue(out var oldest))
        {
            if (_entries.TryRemove(oldest, out var evicted))
            {
                Interlocked.Add(ref _bytes, -(evicted.Context.Length + EntryOverheadBytes));
            }
        }
    }

    /// <summary>
    /// The contexts of the turns from the root of the chain to <paramref name="id"/>, oldest first, when every one of
    /// them is here and belongs to <paramref name="owner"/>; otherwise null (the caller reads the store).
    /// </summary>
    public List<byte[]>? TryGetChain(string owner, string id)
    {
        var turns = new List<byte[]>();
        for (string? current = id; current is not null;)
        {
            // Parents are minted before their children, so links cannot loop; the bound only guards that assumption.
            if (!_entries.TryGetValue(current, out var entry) || entry.Owner != owner || turns.Count > _entries.Count)
            {
                return null;
            }
            turns.Add(entry.Context);
            current = entry.Parent;
        }
        turns.Reverse();
        return turns;
    }

    private sealed record Entry(string Owner, string? Parent, byte[] Context);
}
