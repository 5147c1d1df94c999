using ResponsesGateway.Core.Storage;

namespace ResponsesGateway.Core.Pipeline;

/// <summary>
/// Turns <c>previous_response_id</c> into the context the upstream must see (invariants 3 and 4 in docs/architecture.md), with one
/// storage round trip at any depth: a point read of the turn's visibility when its chain is cached, else the one
/// partition query of <see cref="IResponseStore.GetChainAsync"/>.
/// </summary>
internal sealed class ChainResolver(IResponseStore store, ChainCache cache, long maxChainBytes)
{
    /// <summary>
    /// Each turn's context, oldest first; null when the turn does not exist, was deleted or is another owner's.
    /// <see cref="ChainTooLargeException"/> when the contexts add up to more than the bound.
    /// </summary>
    public async Task<List<byte[]>?> ResolveAsync(string owner, string id, CancellationToken cancellationToken)
    {
        if (cache.TryGetChain(owner, id) is { } cached)
        {
            // The contents cannot have changed; the visibility can: deleted (here or on another instance) or expired.
            return await store.IsVisibleAsync(owner, id, cancellationToken) ? Bounded(cached) : null;
        }
        var chain = await store.GetChainAsync(owner, id, maxChainBytes, cancellationToken);
        if (chain is null)
        {
            return null;
        }
        var turns = new List<byte[]>(chain.Count);
        foreach (var turn in chain)
        {
            var context = ChainHistory.ContextOf(turn);
            if (cache.Enabled)
            {
                cache.Add(turn.Id, turn.Owner, turn.PreviousResponseId, context);
            }
            turns.Add(context);
        }
        return Bounded(turns);
    }

    private List<byte[]> Bounded(List<byte[]> turns)
    {
        var bytes = turns.Sum(t => (long)t.Length);
        return bytes <= maxChainBytes ? turns : throw new ChainTooLargeException(bytes, maxChainBytes);
    }

    /// <summary>A turn that was just stored: the client will most likely continue from it.</summary>
    public void Remember(StoredResponse turn)
    {
        if (cache.Enabled)
        {
            cache.Add(turn.Id, turn.Owner, turn.PreviousResponseId, ChainHistory.ContextOf(turn));
        }
    }
}
