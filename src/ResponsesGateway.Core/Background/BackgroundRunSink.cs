using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using ResponsesGateway.Core.Options;
using ResponsesGateway.Core.Pipeline;
using ResponsesGateway.Core.Responses;
using ResponsesGateway.Core.Storage;
using ResponsesGateway.Protocol.Streaming;

namespace ResponsesGateway.Core.Background;

/// <summary>
/// Where a background run's stream goes: into the event log, in batches (every <c>EventBatchSize</c> events or
/// <c>EventBatchMilliseconds</c>, whichever first), numbered on from the two events the create logged. Beside the
/// stream it renews the runner's lease and watches for a cancel; at the end it wins the run's state before storing
/// the turn, so a cancel and the runner never both decide how the run ended.
/// </summary>
internal sealed partial class BackgroundRunSink(StoredResponse queued, BackgroundRun claimed, IBackgroundRunStore runs, IResponseStore store, ResponsesService responses,
    BackgroundOptions options, TimeProvider time, Func<CancellationToken, Task>? keepMessage, ILogger logger) : IResponseEventSink, IDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly List<SequencedEvent> _pending = [];
    private readonly StreamTracker _tracker = new();
    private readonly CancellationTokenSource _abort = new();
    private BackgroundRun _run = claimed;
    private int _next = 2;
    private long _pendingSince;
    private long _lastHeartbeat = time.GetTimestamp();
    private bool _inProgressSent;

    /// <summary>Fires when the run was cancelled (or ended by someone else): the upstream call is aborted.</summary>
    public CancellationToken Aborted => _abort.Token;

    public bool Finished { get; private set; }

    public bool Cancelled { get; private set; }

    private TimeSpan Lease => TimeSpan.FromSeconds(options.LeaseSeconds);

    public async ValueTask WriteAsync(JsonObject streamEvent, int sequenceNumber, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(CancellationToken.None);
        try
        {
            if (Cancelled || Finished)
            {
                throw new ClientDisconnectedException();
            }
            var type = (string?)streamEvent["type"];
            if (type is StreamEventTypes.Created or StreamEventTypes.InProgress)
            {
                // The client's stream began with response.created and response.queued (both queued): the run's own
                // start is its response.in_progress, once.
                if (_inProgressSent)
                {
                    return;
                }
                _inProgressSent = true;
                streamEvent["type"] = StreamEventTypes.InProgress;
                if (streamEvent["response"] is JsonObject started)
                {
                    started["status"] = ResponseStatuses.InProgress;
                }
            }
            if (streamEvent["response"] is JsonObject response)
            {
                // The runner calls the pipeline with store:false (it stores the turn itself) and without background.
                response["background"] = true;
                response["store"] = true;
            }
            _tracker.Observe(streamEvent);
            if (StreamEventTypes.IsTerminal(type))
            {
                await FinishAsync(streamEvent);
                return;
            }
            if (_pending.Count == 0)
            {
                _pendingSince = time.GetTimestamp();
            }
            _pending.Add(new SequencedEvent(_next++, streamEvent));
            if (_pending.Count >= Math.Max(1, options.EventBatchSize))
            {
                await FlushAsync();
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Ends a run the pipeline could not end itself (refused before its first event, or cut without a terminal
    /// event): closes what is open and ends it <c>failed</c>.
    /// </summary>
    public async Task FailAsync(string code, string message)
    {
        await _gate.WaitAsync(CancellationToken.None);
        try
        {
            if (Finished || Cancelled)
            {
                return;
            }
            foreach (var closing in _tracker.CloseOpenItems())
            {
                _pending.Add(new SequencedEvent(_next++, closing));
            }
            var response = _tracker.Snapshot is { } snapshot ? (JsonObject)snapshot.DeepClone() : (JsonObject)queued.Response.DeepClone();
            response["output"] = _tracker.Output();
            response["background"] = true;
            response["store"] = true;
            ResponseObjects.Finish(response, ResponseStatuses.Failed, time.GetUtcNow().ToUnixTimeSeconds(), ResponseObjects.Error(code, message));
            await FinishAsync(new JsonObject { ["type"] = StreamEventTypes.Failed, ["response"] = response });
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Until <paramref name="stop"/>: writes a batch that has waited long enough, renews the lease every third of it
    /// (and keeps the queue message hidden), and reads the run's state each second to see a cancel.
    /// </summary>
    public async Task PumpAsync(CancellationToken stop)
    {
        var tick = TimeSpan.FromMilliseconds(Math.Clamp(options.EventBatchMilliseconds, 10, 1000));
        var check = TimeSpan.FromSeconds(Math.Min(1, options.LeaseSeconds / 3));
        var lastCheck = time.GetTimestamp();
        using var timer = new PeriodicTimer(tick, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stop))
            {
                await _gate.WaitAsync(stop);
                try
                {
                    if (Finished || Cancelled)
                    {
                        return;
                    }
                    if (_pending.Count > 0 && time.GetElapsedTime(_pendingSince).TotalMilliseconds >= options.EventBatchMilliseconds)
                    {
                        await FlushAsync();
                    }
                    if (time.GetElapsedTime(lastCheck) >= check)
                    {
                        lastCheck = time.GetTimestamp();
                        await CheckAsync(stop);
                    }
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // A failed write or read is tried again on the next tick; the lease covers a few misses.
                    Log.PumpFailed(logger, _run.Id, e);
                }
                finally
                {
                    _gate.Release();
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }

    /// <summary>Writes what is still pending (the run ended without a terminal event: cancelled).</summary>
    public async Task FlushRemainingAsync()
    {
        await _gate.WaitAsync(CancellationToken.None);
        try
        {
            await FlushAsync();
        }
        finally
        {
            _gate.Release();
        }
    }

    public void Dispose()
    {
        _abort.Dispose();
        _gate.Dispose();
    }

    private async Task CheckAsync(CancellationToken stop)
    {
        var current = await runs.GetAsync(_run.Id, stop);
        if (current is null || current.State != _run.State)
        {
            // Cancelled, or ended by a reader that found the lease expired (this runner was too slow to renew it).
            Cancelled = true;
            await _abort.CancelAsync();
            return;
        }
        if (time.GetElapsedTime(_lastHeartbeat) < Lease / 3)
        {
            return;
        }
        var renewed = await runs.TryUpdateAsync(current with { LeaseUntil = time.GetUtcNow() + Lease }, stop);
        if (renewed is not null)
        {
            _run = renewed;
            _lastHeartbeat = time.GetTimestamp();
            if (keepMessage is not null)
            {
                await keepMessage(stop);
            }
        }
    }

    private async Task FlushAsync()
    {
        if (_pending.Count == 0)
        {
            return;
        }
        await runs.AppendEventsAsync(_run.Id, [.. _pending], CancellationToken.None);
        _pending.Clear();
    }

    /// <summary>The end: earlier events, then the run's state (won against a cancel), then the turn, then the terminal event.</summary>
    private async Task FinishAsync(JsonObject terminal)
    {
        await FlushAsync();
        var won = await runs.TryUpdateAsync(_run with { State = BackgroundStates.Finishing, LeaseUntil = time.GetUtcNow() + Lease }, CancellationToken.None);
        if (won is null)
        {
            // A cancel (or a reader that declared this runner dead) came first: the end is theirs.
            Cancelled = true;
            await _abort.CancelAsync();
            throw new ClientDisconnectedException();
        }
        _run = won;
        var final = (JsonObject)terminal["response"]!;
        if (await TryStoreAsync(final) is { } error)
        {
            // Never report an end that cannot be read back: as the live path does, the run fails instead.
            ResponseObjects.Finish(final, ResponseStatuses.Failed, time.GetUtcNow().ToUnixTimeSeconds(), error);
            terminal.Remove("response");
            terminal = new JsonObject { ["type"] = StreamEventTypes.Failed, ["response"] = final };
            await TryStoreAsync(final);
        }
        var sequence = _next++;
        _run = await runs.TryUpdateAsync(_run with { State = (string)final["status"]!, LastSequence = sequence }, CancellationToken.None) ?? _run;
        await runs.AppendEventsAsync(_run.Id, [new SequencedEvent(sequence, terminal)], CancellationToken.None);
        Finished = true;
    }

    private async Task<JsonObject?> TryStoreAsync(JsonObject final)
    {
        try
        {
            var stored = new StoredResponse
            {
                Id = queued.Id,
                Owner = queued.Owner,
                PreviousResponseId = queued.PreviousResponseId,
                Status = (string?)final["status"] ?? ResponseStatuses.Completed,
                Model = (string?)final["model"] ?? queued.Model,
                CreatedAt = queued.CreatedAt,
                Response = final,
                InputItems = queued.InputItems,
            };
            await store.SaveAsync(stored, CancellationToken.None);
            await responses.IndexStoredItemsAsync(stored, CancellationToken.None);
            return null;
        }
        catch (PreviousResponseGoneException e)
        {
            return ResponseObjects.Error("previous_response_not_found",
                $"Previous response with id '{e.PreviousResponseId}' was deleted before this response could be stored, so it was not completed.");
        }
        catch (StoreUnavailableException)
        {
            return ResponseObjects.Error("storage_unavailable", "The response could not be stored, so it was not completed. Please try again.");
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 7301, Level = LogLevel.Warning, Message = "Background response {ResponseId}: writing events or renewing the lease failed; trying again")]
        public static partial void PumpFailed(ILogger logger, string responseId, Exception exception);
    }
}
