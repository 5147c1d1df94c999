namespace ResponsesGateway.Core.Storage;

/// <summary>
/// Durable response chains. Every read is scoped by owner: another owner's response is indistinguishable from a
/// missing one (invariant 5 in docs/architecture.md). Failures to reach the store throw <see cref="StoreUnavailableException"/>.
/// </summary>
public interface IResponseStore
{
    /// <summary>
    /// Stores a turn durably; returns only once it can be read back. A turn with a parent is stored only if the
    /// parent's row still exists at that moment (<see cref="PreviousResponseGoneException"/> otherwise), atomically with
    /// respect to <see cref="DeleteAsync"/> of the parent.
    /// </summary>
    Task SaveAsync(StoredResponse response, CancellationToken cancellationToken);

    /// <summary>The turn, or null when it does not exist, was deleted or belongs to another owner.</summary>
    Task<StoredResponse?> GetAsync(string owner, string id, CancellationToken cancellationToken);

    /// <summary>
    /// The turns from the root of the chain to <paramref name="id"/> inclusive, in order, read with one storage
    /// query; null when <paramref name="id"/> does not exist, was deleted or belongs to another owner.
    /// </summary>
    Task<IReadOnlyList<StoredResponse>?> GetChainAsync(string owner, string id, CancellationToken cancellationToken);

    /// <summary>
    /// <see cref="GetChainAsync(string, string, CancellationToken)"/>, refusing with <see cref="ChainTooLargeException"/>
    /// a chain whose stored turns hold more than <paramref name="maxBytes"/>; stores that know the sizes before decoding
    /// should refuse before decoding.
    /// </summary>
    Task<IReadOnlyList<StoredResponse>?> GetChainAsync(string owner, string id, long maxBytes, CancellationToken cancellationToken) =>
        GetChainAsync(owner, id, cancellationToken);

    /// <summary>
    /// Whether the turn exists, is not deleted and belongs to <paramref name="owner"/>: what a cached chain must still
    /// check. Stores should answer it without reading the payload.
    /// </summary>
    async Task<bool> IsVisibleAsync(string owner, string id, CancellationToken cancellationToken) =>
        await GetAsync(owner, id, cancellationToken).ConfigureAwait(false) is not null;

    /// <summary>
    /// Deletes the turn; false when there was nothing the owner could delete. Its content is erased at once unless a
    /// living descendant is rebuilt from it; then it is hidden, and erased when the last such descendant is deleted.
    /// </summary>
    Task<bool> DeleteAsync(string owner, string id, CancellationToken cancellationToken);

    /// <summary>Removes every chain whose newest turn is older than <paramref name="cutoff"/>; returns the turns removed.</summary>
    Task<int> SweepAsync(DateTimeOffset cutoff, CancellationToken cancellationToken);
}

/// <summary>The store could not be reached or refused the operation (throttled, unreachable, misconfigured).</summary>
public sealed class StoreUnavailableException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// The turn's parent was deleted (its row removed) before the turn could be stored, so the turn was not stored: a child
/// is never stored without the ancestors it is rebuilt from.
/// </summary>
public sealed class PreviousResponseGoneException(string previousResponseId)
    : Exception("The previous response was deleted before this turn was stored.")
{
    public string PreviousResponseId { get; } = previousResponseId;
}

/// <summary>The history of a chain is larger than the gateway's bound (<c>Gateway:MaxChainBytes</c>).</summary>
public sealed class ChainTooLargeException(long bytes, long limit) : Exception($"The chain holds at least {bytes} bytes, over the limit of {limit}.")
{
    public long Bytes { get; } = bytes;

    public long Limit { get; } = limit;
}
