using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ResponsesGateway.Core.Auth;
using ResponsesGateway.Core.Errors;
using ResponsesGateway.Core.Ids;
using ResponsesGateway.Core.Options;
using ResponsesGateway.Core.Pipeline;
using ResponsesGateway.Core.Requests;
using ResponsesGateway.Core.Storage;
using ResponsesGateway.Protocol.Streaming;

namespace ResponsesGateway.Core.Background;

/// <summary>
/// Runs one queue message: claims the run (a conditional write, so a redelivered message never calls the upstream a
/// second time), streams the turn through the ordinary pipeline (same retries, fallbacks and translation) into a
/// <see cref="BackgroundRunSink"/>, and makes sure the run ends. Both hosts call it: the Functions queue trigger and
/// the standalone server's queue consumer.
/// </summary>
public sealed partial class BackgroundRunner(ResponsesService responses, BackgroundResponses background, IResponseStore store, IBackgroundRunStore runs,
    GatewayShutdown shutdown, IOptions<BackgroundOptions> options, TimeProvider time, ILogger<BackgroundRunner> logger)
{
    private readonly BackgroundOptions _options = options.Value;

    /// <summary>The message that names a run.</summary>
    public static string Message(string responseId) => new JsonObject { ["response_id"] = responseId }.ToJsonString();

    /// <summary>
    /// Runs the message's turn. Throws (so the message is delivered again, and after enough tries goes to the poison
    /// queue) only when the message is unreadable or storage fails before the run was claimed.
    /// <paramref name="keepMessage"/> is called with every lease renewal (the standalone consumer keeps its message hidden).
    /// </summary>
    public async Task RunAsync(string message, Func<CancellationToken, Task>? keepMessage, CancellationToken cancellationToken)
    {
        var id = ParseMessage(message);
        using var entered = shutdown.TryEnter() ?? throw new OperationCanceledException("The host is stopping; the run is left to another instance.");
        var claimed = await ClaimAsync(id, cancellationToken);
        if (claimed is null)
        {
            return;
        }
        var queued = await store.GetAsync(claimed.Owner, id, cancellationToken);
        var body = await runs.GetRequestAsync(id, cancellationToken);
        if (queued is null || body is null)
        {
            // Deleted while queued: nothing to run, nothing to store.
            await runs.TryUpdateAsync(claimed with { State = ResponseStatuses.Cancelled }, CancellationToken.None);
            return;
        }
        using var sink = new BackgroundRunSink(queued, claimed, runs, store, responses, _options, time, keepMessage, logger);
        using var stopPump = new CancellationTokenSource();
        using var run = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, sink.Aborted);
        var pump = sink.PumpAsync(stopPump.Token);
        Log.Started(logger, id);
        try
        {
            body.Remove("background");
            body["store"] = false;
            body["stream"] = true;
            var request = CreateResponseRequestParser.Validate(body);
            await responses.StreamMintedAsync(new Tenant(claimed.Owner), request, id, queued.CreatedAt, sink, run.Token);
        }
        catch (GatewayException e)
        {
            // Refused before its first event (upstream 4xx, unknown model, parent deleted): the run fails with that error.
            await sink.FailAsync(e.Error.Code ?? "server_error", e.Error.Message);
        }
        catch (OperationCanceledException) when (run.IsCancellationRequested)
        {
            // Cancelled before the upstream's first byte, or the host is stopping: handled below.
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Log.RunFailed(logger, id, e);
            await sink.FailAsync("server_error", "The background run failed unexpectedly.");
        }
        finally
        {
            await stopPump.CancelAsync();
            await pump;
        }
        if (sink.Cancelled)
        {
            await sink.FlushRemainingAsync();
            Log.Ended(logger, id, ResponseStatuses.Cancelled);
            return;
        }
        if (!sink.Finished)
        {
            // Cut without a terminal event: the host is stopping (or the invocation was cancelled).
            await sink.FailAsync("server_shutting_down",
                "The server shut down before the background response was finished; what was generated so far is kept.");
        }
        Log.Ended(logger, id, "ended");
    }

    /// <summary>A message that went to the poison queue: its run ends failed unless it already ended or is alive.</summary>
    public async Task FailPoisonedAsync(string message, CancellationToken cancellationToken)
    {
        string id;
        try
        {
            id = ParseMessage(message);
        }
        catch (FormatException)
        {
            Log.Unreadable(logger);
            return;
        }
        if (await runs.GetAsync(id, cancellationToken) is not { } run)
        {
            return;
        }
        if (run.State == ResponseStatuses.Queued)
        {
            await background.FailAsync(id, "background_run_failed", "The background response could not be started after repeated attempts.", cancellationToken);
        }
        else
        {
            await background.ResolveAbandonedAsync(run, cancellationToken);
        }
    }

    /// <summary>
    /// Claims a queued run; null when there is nothing to run. A run another runner holds is waited for until it ends or
    /// its lease runs out (then it is ended failed, never run again).
    /// </summary>
    private async Task<BackgroundRun?> ClaimAsync(string id, CancellationToken cancellationToken)
    {
        var deadline = time.GetUtcNow() + TimeSpan.FromSeconds(_options.LeaseSeconds * 2 + 5);
        while (true)
        {
            var run = await runs.GetAsync(id, cancellationToken);
            if (run is null || run.IsTerminal)
            {
                return null;
            }
            if (run.State == ResponseStatuses.Queued)
            {
                var claimed = await runs.TryUpdateAsync(
                    run with { State = ResponseStatuses.InProgress, LeaseUntil = time.GetUtcNow() + TimeSpan.FromSeconds(_options.LeaseSeconds) }, cancellationToken);
                if (claimed is not null)
                {
                    return claimed;
                }
                continue;
            }
            var resolved = await background.ResolveAbandonedAsync(run, cancellationToken);
            if (resolved.IsTerminal || time.GetUtcNow() > deadline)
            {
                Log.Redelivered(logger, id, resolved.State);
                return null;
            }
            await Task.Delay(TimeSpan.FromSeconds(Math.Min(1, _options.LeaseSeconds / 3)), time, cancellationToken);
        }
    }

    private static string ParseMessage(string message)
    {
        try
        {
            if (JsonNode.Parse(message) is JsonObject json && (string?)json["response_id"] is { } id && ResponseIds.IsWellFormed(id))
            {
                return id;
            }
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
        }
        throw new FormatException("The queue message does not name a background response.");
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 7101, Level = LogLevel.Information, Message = "Background response {ResponseId} started")]
        public static partial void Started(ILogger logger, string responseId);

        [LoggerMessage(EventId = 7102, Level = LogLevel.Information, Message = "Background response {ResponseId} {Status}")]
        public static partial void Ended(ILogger logger, string responseId, string status);

        [LoggerMessage(EventId = 7103, Level = LogLevel.Error, Message = "Background response {ResponseId} failed unexpectedly")]
        public static partial void RunFailed(ILogger logger, string responseId, Exception exception);

        [LoggerMessage(EventId = 7104, Level = LogLevel.Information, Message = "Background response {ResponseId} delivered again while {State}: not run again")]
        public static partial void Redelivered(ILogger logger, string responseId, string state);

        [LoggerMessage(EventId = 7105, Level = LogLevel.Warning, Message = "A poison message that names no background response was dropped")]
        public static partial void Unreadable(ILogger logger);
    }
}
