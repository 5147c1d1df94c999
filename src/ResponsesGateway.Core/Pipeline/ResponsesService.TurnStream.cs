using System.Text.Json.Nodes;
using ResponsesGateway.Core.Responses;
using ResponsesGateway.Core.Storage;
using ResponsesGateway.Protocol.Streaming;

namespace ResponsesGateway.Core.Pipeline;

public sealed partial class ResponsesService
{
    /// <summary>
    /// One live stream: numbers events densely, tracks what is open, and owns the terminal event. Events are written
    /// with <paramref name="cancellationToken"/> (client gone or total time out); the closing events of a failed stream
    /// with <paramref name="clientToken"/> and a budget of their own, since the total time may be what just ran out.
    /// </summary>
    private sealed class TurnStream(ResponsesService service, Turn turn, IResponseEventSink sink, CancellationToken cancellationToken, CancellationToken clientToken)
    {
        private readonly StreamTracker _tracker = new();
        private int _sequence;
        private bool _clientGone;
        private CancellationToken? _closingToken;

        /// <summary>Forwards one upstream event; returns true once the terminal event has been sent.</summary>
        public async Task<bool> ForwardAsync(JsonObject evt)
        {
            var type = (string?)evt["type"];
            if (StreamEventTypes.CarriesResponse(type) && evt["response"] is JsonObject response)
            {
                ResponseObjects.ApplyGatewayEcho(response, turn.Id, turn.CreatedAt, turn.Request);
            }
            _tracker.Observe(evt);
            if (!StreamEventTypes.IsTerminal(type))
            {
                await WriteAsync(evt);
                return false;
            }
            var final = evt["response"] as JsonObject ?? throw new Upstreams.UpstreamException(
                Upstreams.UpstreamFailure.StreamInterrupted, "The terminal event carried no response object.");
            if (turn.Persists && await service.TryStoreAsync(turn, final, cancellationToken) is { } notStored)
            {
                // Never report a response as completed that cannot be fetched or chained later.
                ResponseObjects.Finish(final, ResponseStatuses.Failed, service.Now(), notStored);
                evt.Remove("response"); // a node has one parent: detach it before the new event takes it
                evt = new JsonObject { ["type"] = StreamEventTypes.Failed, ["response"] = final };
            }
            turn.EndOnConnection(final);
            turn.Telemetry.Finished(final);
            await WriteAsync(evt);
            Log.Finished(service._logger, turn.Id, (string?)final["status"] ?? "");
            return true;
        }

        /// <summary>Closes what is open, stores the partial turn as failed, and sends <c>response.failed</c>.</summary>
        public async Task FailAsync(string code, string message)
        {
            var closing = _tracker.CloseOpenItems();
            var response = Partial(ResponseStatuses.Failed, ResponseObjects.Error(code, message), null);
            turn.EndOnConnection(response);
            turn.Telemetry.Finished(response);
            if (turn.Request.Store)
            {
                await service.TryStoreAsync(turn, response, CancellationToken.None);
            }
            // A client that stops reading cannot hold the request open past this: the write is cancelled and the
            // connection aborted.
            using var budget = CancellationTokenSource.CreateLinkedTokenSource(clientToken);
            budget.CancelAfter(PersistAfterAbortBudget);
            _closingToken = budget.Token;
            try
            {
                foreach (var evt in closing)
                {
                    await WriteAsync(evt);
                }
                await WriteAsync(new JsonObject { ["type"] = StreamEventTypes.Failed, ["response"] = response });
            }
            catch (ClientDisconnectedException)
            {
                Log.ClientGone(service._logger, turn.Id);
            }
            Log.Finished(service._logger, turn.Id, ResponseStatuses.Failed);
        }

        /// <summary>The client left: nobody reads events any more, but the turn is stored as <c>incomplete</c>.</summary>
        public async Task StoreInterruptedAsync()
        {
            _clientGone = true;
            _tracker.CloseOpenItems();
            turn.Telemetry.Failed("client_disconnected");
            if (turn.Persists)
            {
                await service.TryStoreAsync(turn, Partial(ResponseStatuses.Incomplete, null, "interrupted"), CancellationToken.None);
            }
            Log.Finished(service._logger, turn.Id, ResponseStatuses.Incomplete);
        }

        private JsonObject Partial(string status, JsonObject? error, string? incompleteReason)
        {
            var response = _tracker.Snapshot is { } snapshot
                ? (JsonObject)snapshot.DeepClone()
                : ResponseObjects.Create(turn.Request, turn.Id, turn.CreatedAt, status);
            response["output"] = _tracker.Output();
            ResponseObjects.Finish(response, status, service.Now(), error, incompleteReason);
            return response;
        }

        private async Task WriteAsync(JsonObject evt)
        {
            if (_clientGone)
            {
                throw new ClientDisconnectedException();
            }
            try
            {
                // Dense from 0 whatever the upstream sent: the gateway owns the numbering of the stream the client sees.
                // A write asked for after the time ran out sends nothing, so it must not spend a number: the closing
                // events and the terminal event that follow would leave a gap.
                var token = _closingToken ?? cancellationToken;
                token.ThrowIfCancellationRequested();
                await sink.WriteAsync(evt, _sequence++, token);
            }
            catch (ClientDisconnectedException)
            {
                _clientGone = true;
                throw;
            }
        }
    }

    /// <summary>Stores the turn; null when stored, else the error to end its stream with.</summary>
    private async Task<JsonObject?> TryStoreAsync(Turn turn, JsonObject response, CancellationToken cancellationToken)
    {
        using var budget = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        budget.CancelAfter(PersistAfterAbortBudget);
        try
        {
            await SaveAsync(turn, response, budget.Token);
            return null;
        }
        catch (Conversations.ConversationGoneException e)
        {
            Log.StoreFailed(_logger, turn.Id, e);
            return ResponseObjects.Error("conversation_not_found",
                $"Conversation with id '{e.ConversationId}' was deleted before this response could be stored, so it was not completed.");
        }
        catch (PreviousResponseGoneException e)
        {
            Log.StoreFailed(_logger, turn.Id, e);
            return ResponseObjects.Error("previous_response_not_found",
                $"Previous response with id '{e.PreviousResponseId}' was deleted before this response could be stored, so it was not completed.");
        }
        catch (Exception e) when (e is StoreUnavailableException or OperationCanceledException)
        {
            Log.StoreFailed(_logger, turn.Id, e);
            return ResponseObjects.Error("storage_unavailable", "The response could not be stored, so it was not completed. Please try again.");
        }
    }
}
