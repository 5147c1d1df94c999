using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ResponsesGateway.Core.Auth;
using ResponsesGateway.Core.Errors;
using ResponsesGateway.Core.Ids;
using ResponsesGateway.Core.Options;
using ResponsesGateway.Core.Pipeline;
using ResponsesGateway.Core.Requests;
using ResponsesGateway.Core.Responses;
using ResponsesGateway.Core.Storage;
using ResponsesGateway.Protocol.Streaming;

namespace ResponsesGateway.Core.Background;

/// <summary>
/// The client's side of background responses: create (queued at once), the current state while a run goes on, the
/// stream resumed from the event log and tailed while the run is live (from any instance), and cancel. Every path is
/// scoped by the caller's key through the turn, as for any stored response.
/// </summary>
public sealed partial class BackgroundResponses(ResponsesService responses, IResponseStore store, IBackgroundRunStore runs, IBackgroundQueue queue,
    IOptions<BackgroundOptions> options, TimeProvider time, ILogger<BackgroundResponses> logger)
{
    private const int FirstPollMilliseconds = 50;
    private readonly BackgroundOptions _options = options.Value;

    /// <summary>
    /// Checks the request as a create would, stores the turn <c>queued</c> (the chain rules of previous_response_id
    /// apply as to any turn), logs its first two events and queues the run. Returns the queued Response.
    /// </summary>
    public async Task<JsonObject> CreateAsync(Tenant tenant, CreateResponseRequest request, CancellationToken cancellationToken)
    {
        var (id, createdAt) = await responses.PrepareBackgroundAsync(tenant, request, cancellationToken);
        var queued = ResponseObjects.Create(request, id, createdAt, ResponseStatuses.Queued);
        queued["background"] = true;
        var turn = new StoredResponse
        {
            Id = id,
            Owner = tenant.Name,
            PreviousResponseId = request.PreviousResponseId,
            Status = ResponseStatuses.Queued,
            Model = request.Model,
            CreatedAt = createdAt,
            Response = queued,
            InputItems = ChainHistory.WithIds(request.Input),
        };
        // From here on the client leaving does not stop the create half-way: a run is queued whole or reported failed.
        var token = CancellationToken.None;
        try
        {
            await runs.CreateAsync(new BackgroundRun { Id = id, Owner = tenant.Name, State = ResponseStatuses.Queued }, request.Body, token);
            await store.SaveAsync(turn, token);
            await runs.AppendEventsAsync(id, [
                new(0, new JsonObject { ["type"] = StreamEventTypes.Created, ["response"] = queued.DeepClone() }),
                new(1, new JsonObject { ["type"] = StreamEventTypes.Queued, ["response"] = queued.DeepClone() }),
            ], token);
        }
        catch (StoreUnavailableException e)
        {
            Log.StoreFailed(logger, id, e);
            throw GatewayErrors.StorageUnavailable();
        }
        catch (PreviousResponseGoneException e)
        {
            throw GatewayErrors.PreviousResponseNotFound(e.PreviousResponseId);
        }
        try
        {
            await queue.EnqueueAsync(id, token);
        }
        catch (Exception e)
        {
            // Stored but never to be run: end it now rather than leave it queued forever.
            Log.EnqueueFailed(logger, id, e);
            await FailAsync(id, "background_queue_unavailable", "The background run could not be queued. Please try again.", token);
            throw GatewayErrors.StorageUnavailable();
        }
        Log.Queued(logger, id, tenant.Name);
        return queued;
    }

    /// <summary>
    /// The Response as it is now: a run still going on shows its state and the output items finished so far. A run
    /// whose runner died is ended <c>failed</c> here.
    /// </summary>
    public async Task<JsonObject> CurrentAsync(Tenant tenant, JsonObject stored, CancellationToken cancellationToken)
    {
        var id = (string)stored["id"]!;
        if (!IsLive(stored) || await Guard(() => runs.GetAsync(id, cancellationToken)) is not { } run)
        {
            return stored;
        }
        run = await ResolveAbandonedAsync(run, cancellationToken);
        if (run.IsTerminal || run.State == BackgroundStates.Finishing)
        {
            return (await Guard(() => store.GetAsync(tenant.Name, id, cancellationToken)))?.Response ?? stored;
        }
        var current = (JsonObject)stored.DeepClone();
        current["status"] = run.State == ResponseStatuses.Queued ? ResponseStatuses.Queued : ResponseStatuses.InProgress;
        current["output"] = OutputSoFar(await Guard(() => runs.ReadEventsAsync(id, -1, false, cancellationToken)));
        return current;
    }

    /// <summary>
    /// Writes the run's events after <paramref name="startingAfter"/> with their original sequence numbers, then
    /// follows the log (polling with back-off; the sink sends keep-alives) until the run's last event.
    /// </summary>
    public async Task StreamAsync(Tenant tenant, JsonObject stored, int? startingAfter, IResponseEventSink sink, CancellationToken cancellationToken)
    {
        var id = (string)stored["id"]!;
        var after = startingAfter ?? -1;
        var afterEndsBatch = false;
        var delay = FirstPollMilliseconds;
        long? terminalSeenAt = null;
        while (true)
        {
            var events = await Guard(() => runs.ReadEventsAsync(id, after, afterEndsBatch, cancellationToken));
            foreach (var (sequence, evt) in events)
            {
                await sink.WriteAsync(evt, sequence, cancellationToken);
                after = sequence;
                if (StreamEventTypes.IsTerminal((string?)evt["type"]))
                {
                    return;
                }
            }
            if (events.Count > 0)
            {
                afterEndsBatch = true;
                delay = FirstPollMilliseconds;
                continue;
            }
            if (await Guard(() => runs.GetAsync(id, cancellationToken)) is not { } run)
            {
                return; // not a run (stored before it existed): what the log held is all there is
            }
            run = await ResolveAbandonedAsync(run, cancellationToken);
            if (run.IsTerminal)
            {
                // A cancelled run has no last event; another end has one, logged right after the turn was stored.
                // If the writer of that event died in between, the stored turn provides it.
                if (run.State == ResponseStatuses.Cancelled || run.LastSequence <= after)
                {
                    return;
                }
                terminalSeenAt ??= time.GetTimestamp();
                if (time.GetElapsedTime(terminalSeenAt.Value).TotalSeconds > _options.LeaseSeconds
                    && (await Guard(() => store.GetAsync(tenant.Name, id, cancellationToken)))?.Response is { } final)
                {
                    await sink.WriteAsync(TerminalEvent(final), (int)run.LastSequence, cancellationToken);
                    return;
                }
            }
            await Task.Delay(TimeSpan.FromMilliseconds(delay), time, cancellationToken);
            delay = Math.Min(delay * 2, Math.Max(FirstPollMilliseconds, _options.PollMilliseconds));
        }
    }

    /// <summary>
    /// Cancels a queued or running background response: the run's state becomes <c>cancelled</c> (the runner sees it
    /// and aborts its upstream call) and the turn is stored cancelled with what it had finished. Idempotent; a
    /// finished response is returned as it is.
    /// </summary>
    public async Task<JsonObject> CancelAsync(Tenant tenant, string id, CancellationToken cancellationToken)
    {
        var stored = ResponseIds.IsWellFormed(id) ? await Guard(() => store.GetAsync(tenant.Name, id, cancellationToken)) : null;
        if (stored is null)
        {
            throw GatewayErrors.ResponseNotFound(id);
        }
        if (stored.Response["background"] is not JsonValue flag || !flag.TryGetValue<bool>(out var background) || !background)
        {
            throw GatewayErrors.InvalidRequest("Cannot cancel a response that was not created with background=true.", null, "invalid_request");
        }
        for (var attempt = 0; attempt < 50; attempt++)
        {
            if (await Guard(() => runs.GetAsync(id, cancellationToken)) is not { } run || run.IsTerminal)
            {
                return (await Guard(() => store.GetAsync(tenant.Name, id, cancellationToken)))?.Response ?? stored.Response;
            }
            if (run.State == BackgroundStates.Finishing && !Expired(run))
            {
                // The runner has the end and is storing it: that end is the answer.
                await Task.Delay(TimeSpan.FromMilliseconds(100), time, cancellationToken);
                continue;
            }
            if (await Guard(() => runs.TryUpdateAsync(run with { State = ResponseStatuses.Cancelled }, CancellationToken.None)) is null)
            {
                continue; // changed meanwhile (a heartbeat, a claim): read it again
            }
            var cancelled = (JsonObject)stored.Response.DeepClone();
            cancelled["output"] = OutputSoFar(await Guard(() => runs.ReadEventsAsync(id, -1, false, CancellationToken.None)));
            ResponseObjects.Finish(cancelled, ResponseStatuses.Cancelled, Now());
            cancelled["usage"] = null;
            await SaveAsync(stored, cancelled);
            Log.Cancelled(logger, id);
            return cancelled;
        }
        throw GatewayErrors.StorageUnavailable();
    }

    /// <summary>
    /// A run in progress whose lease ran out: its runner died (instance recycled mid-run). Ends it <c>failed</c> with
    /// what it had finished, once, whoever notices first; it is never run again. Returns the run as it is now.
    /// </summary>
    public async Task<BackgroundRun> ResolveAbandonedAsync(BackgroundRun run, CancellationToken cancellationToken)
    {
        if (run.State is not (ResponseStatuses.InProgress or BackgroundStates.Finishing) || !Expired(run))
        {
            return run;
        }
        Log.Abandoned(logger, run.Id);
        await FailAsync(run.Id, "background_worker_lost",
            "The worker running this background response stopped before it finished (its instance was recycled or crashed); "
            + "what it had generated is kept. The response was not run again.", cancellationToken);
        return await Guard(() => runs.GetAsync(run.Id, cancellationToken)) ?? run;
    }

    /// <summary>
    /// Ends a run that is not terminal <c>failed</c> (poison message, dead runner, a run that could not be queued):
    /// the state first, then the turn, then the last event. False when the run had already ended.
    /// </summary>
    public async Task<bool> FailAsync(string id, string code, string message, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < 10; attempt++)
        {
            if (await Guard(() => runs.GetAsync(id, cancellationToken)) is not { } run || run.IsTerminal)
            {
                return false;
            }
            var events = await Guard(() => runs.ReadEventsAsync(id, -1, false, cancellationToken));
            var last = events.Count == 0 ? -1 : events[^1].SequenceNumber;
            var stored = await Guard(() => store.GetAsync(run.Owner, id, cancellationToken));
            if (stored is not null && run.State == BackgroundStates.Finishing && BackgroundStates.IsTerminal(stored.Status))
            {
                // The runner died after storing its end: that end stands, only its event was missing.
                if (await Guard(() => runs.TryUpdateAsync(run with { State = stored.Status, LastSequence = last + 1 }, cancellationToken)) is not null)
                {
                    await Guard(() => AppendAsync(id, [new(last + 1, TerminalEvent(stored.Response))], cancellationToken));
                    return true;
                }
                continue;
            }
            if (await Guard(() => runs.TryUpdateAsync(run with { State = ResponseStatuses.Failed, LastSequence = last + 1 }, cancellationToken)) is null)
            {
                continue;
            }
            if (stored is null)
            {
                return true; // the turn was deleted: nothing to end
            }
            var failed = (JsonObject)stored.Response.DeepClone();
            failed["output"] = OutputSoFar(events);
            ResponseObjects.Finish(failed, ResponseStatuses.Failed, Now(), ResponseObjects.Error(code, message));
            await SaveAsync(stored, failed);
            await Guard(() => AppendAsync(id, [new(last + 1, new JsonObject { ["type"] = StreamEventTypes.Failed, ["response"] = failed.DeepClone() })], cancellationToken));
            return true;
        }
        return false;
    }

    public static bool IsLive(JsonObject response) =>
        response["background"] is JsonValue flag && flag.TryGetValue<bool>(out var background) && background
        && (string?)response["status"] is ResponseStatuses.Queued or ResponseStatuses.InProgress;

    /// <summary>Whether a stored Response was created with <c>background: true</c>.</summary>
    public static bool IsBackground(JsonObject response) =>
        response["background"] is JsonValue flag && flag.TryGetValue<bool>(out var background) && background;

    /// <summary>The output items finished so far: those a <c>response.output_item.done</c> carried.</summary>
    internal static JsonArray OutputSoFar(IReadOnlyList<SequencedEvent> events)
    {
        var output = new JsonArray();
        foreach (var (_, evt) in events)
        {
            if ((string?)evt["type"] == StreamEventTypes.OutputItemDone && evt["item"] is JsonObject item)
            {
                output.Add(item.DeepClone());
            }
        }
        return output;
    }

    internal static JsonObject TerminalEvent(JsonObject response) => new()
    {
        ["type"] = (string?)response["status"] switch
        {
            ResponseStatuses.Completed => StreamEventTypes.Completed,
            ResponseStatuses.Incomplete => StreamEventTypes.Incomplete,
            _ => StreamEventTypes.Failed,
        },
        ["response"] = response.DeepClone(),
    };

    private bool Expired(BackgroundRun run) => run.LeaseUntil is not { } lease || lease < time.GetUtcNow();

    private Task AppendAsync(string id, IReadOnlyList<SequencedEvent> events, CancellationToken cancellationToken) =>
        runs.AppendEventsAsync(id, events, cancellationToken);

    private async Task SaveAsync(StoredResponse stored, JsonObject response)
    {
        try
        {
            var ended = new StoredResponse
            {
                Id = stored.Id,
                Owner = stored.Owner,
                PreviousResponseId = stored.PreviousResponseId,
                Status = (string)response["status"]!,
                Model = stored.Model,
                CreatedAt = stored.CreatedAt,
                Response = response,
                InputItems = stored.InputItems,
            };
            await store.SaveAsync(ended, CancellationToken.None);
            await responses.IndexStoredItemsAsync(ended, CancellationToken.None);
        }
        catch (PreviousResponseGoneException e)
        {
            // The parent was deleted meanwhile: the turn cannot be stored again; its run's state says how it ended.
            Log.StoreFailed(logger, stored.Id, e);
        }
        catch (StoreUnavailableException e)
        {
            Log.StoreFailed(logger, stored.Id, e);
            throw GatewayErrors.StorageUnavailable();
        }
    }

    private long Now() => time.GetUtcNow().ToUnixTimeSeconds();

    private static async Task<T> Guard<T>(Func<Task<T>> read)
    {
        try
        {
            return await read();
        }
        catch (StoreUnavailableException)
        {
            throw GatewayErrors.StorageUnavailable();
        }
    }

    private static async Task<bool> Guard(Func<Task> write)
    {
        try
        {
            await write();
            return true;
        }
        catch (StoreUnavailableException)
        {
            throw GatewayErrors.StorageUnavailable();
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 7001, Level = LogLevel.Information, Message = "Queued background response {ResponseId} for {Tenant}")]
        public static partial void Queued(ILogger logger, string responseId, string tenant);

        [LoggerMessage(EventId = 7002, Level = LogLevel.Error, Message = "Background response {ResponseId} could not be queued")]
        public static partial void EnqueueFailed(ILogger logger, string responseId, Exception exception);

        [LoggerMessage(EventId = 7003, Level = LogLevel.Warning, Message = "Background response {ResponseId} could not be stored")]
        public static partial void StoreFailed(ILogger logger, string responseId, Exception exception);

        [LoggerMessage(EventId = 7004, Level = LogLevel.Information, Message = "Background response {ResponseId} cancelled")]
        public static partial void Cancelled(ILogger logger, string responseId);

        [LoggerMessage(EventId = 7005, Level = LogLevel.Warning, Message = "The runner of background response {ResponseId} let its lease expire: ending it failed")]
        public static partial void Abandoned(ILogger logger, string responseId);
    }
}
