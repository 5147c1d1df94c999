using System.Text.Json.Nodes;

namespace ResponsesGateway.Core.Background;

/// <summary>
/// The state, request and event log of background runs. Separate from <see cref="Storage.IResponseStore"/>: the turn
/// itself (queued, then final) is stored there with the usual chain rules; this holds what only a run has.
/// </summary>
public interface IBackgroundRunStore
{
    /// <summary>Stores a new run in state <c>queued</c> with the request the runner will send.</summary>
    Task CreateAsync(BackgroundRun run, JsonObject requestBody, CancellationToken cancellationToken);

    /// <summary>The run, or null when there is none with that id.</summary>
    Task<BackgroundRun?> GetAsync(string id, CancellationToken cancellationToken);

    /// <summary>The request body stored with the run.</summary>
    Task<JsonObject?> GetRequestAsync(string id, CancellationToken cancellationToken);

    /// <summary>
    /// Writes <paramref name="updated"/> if the stored run is still at <c>updated.Version</c>; returns it with its new
    /// version, or null when another writer changed it first (or it is gone).
    /// </summary>
    Task<BackgroundRun?> TryUpdateAsync(BackgroundRun updated, CancellationToken cancellationToken);

    /// <summary>Appends consecutive events; a batch is visible to readers whole or not at all.</summary>
    Task AppendEventsAsync(string id, IReadOnlyList<SequencedEvent> events, CancellationToken cancellationToken);

    /// <summary>
    /// The logged events with a sequence number greater than <paramref name="after"/>, in order, whole batches only.
    /// <paramref name="afterEndsBatch"/>: <paramref name="after"/> is the last event of a batch read earlier, so
    /// earlier batches need not be read again (a tail polling the log).
    /// </summary>
    Task<IReadOnlyList<SequencedEvent>> ReadEventsAsync(string id, int after, bool afterEndsBatch, CancellationToken cancellationToken);
}

/// <summary>One event of a run's stream with its sequence number.</summary>
public readonly record struct SequencedEvent(int SequenceNumber, JsonObject Event);

/// <summary>The queue of background runs: a message names the response to run.</summary>
public interface IBackgroundQueue
{
    Task EnqueueAsync(string responseId, CancellationToken cancellationToken);
}
