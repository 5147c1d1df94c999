using ResponsesGateway.Core.Storage;

namespace ResponsesGateway.Upstreams.Chat.Tests.Infrastructure;

/// <summary>An in-memory <see cref="IResponseStore"/>, enough to chain turns with <c>previous_response_id</c>.</summary>
internal sealed class MemoryStore : IResponseStore
{
    private readonly Dictionary<string, StoredResponse> _turns = new(StringComparer.Ordinal);

    public IReadOnlyDictionary<string, StoredResponse> Turns => _turns;

    public Task SaveAsync(StoredResponse response, CancellationToken cancellationToken)
    {
        _turns[response.Id] = response;
        return Task.CompletedTask;
    }

    public Task<StoredResponse?> GetAsync(string owner, string id, CancellationToken cancellationToken) =>
        Task.FromResult(_turns.TryGetValue(id, out var turn) && turn.Owner == owner ? turn : null);

    public Task<IReadOnlyList<StoredResponse>?> GetChainAsync(string owner, string id, CancellationToken cancellationToken)
    {
        var chain = new List<StoredResponse>();
        for (string? at = id; at is not null; at = chain[^1].PreviousResponseId)
        {
            if (!_turns.TryGetValue(at, out var turn) || turn.Owner != owner)
            {
                return Task.FromResult<IReadOnlyList<StoredResponse>?>(null);
            }
            chain.Add(turn);
        }
        chain.Reverse();
        return Task.FromResult<IReadOnlyList<StoredResponse>?>(chain);
    }

    public Task<bool> DeleteAsync(string owner, string id, CancellationToken cancellationToken) => Task.FromResult(_turns.Remove(id));

    public Task<int> SweepAsync(DateTimeOffset cutoff, CancellationToken cancellationToken) => Task.FromResult(0);
}
