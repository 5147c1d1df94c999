using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ResponsesGateway.Core.Auth;
using ResponsesGateway.Core.Conversations;
using ResponsesGateway.Core.Errors;
using ResponsesGateway.Core.Ids;
using ResponsesGateway.Core.Options;
using ResponsesGateway.Core.Requests;
using ResponsesGateway.Core.Resilience;
using ResponsesGateway.Core.Responses;
using ResponsesGateway.Core.Routing;
using ResponsesGateway.Core.Storage;
using ResponsesGateway.Core.Telemetry;
using ResponsesGateway.Core.Upstreams;
using ResponsesGateway.Protocol.Streaming;

namespace ResponsesGateway.Core.Pipeline;

/// <summary>
/// Creates responses. The steps, for JSON and SSE alike:
/// 1. route the model to an upstream (404 before anything else happens);
/// 2. resolve <c>previous_response_id</c> with one store read and expand the chain into the input;
/// 3. mint the id (in the parent's chain) and call the upstream with <c>store:false</c>, retrying and falling back
///    while nothing has reached the client yet (<see cref="UpstreamCaller"/>);
/// 4. stamp the gateway's id on everything that comes back;
/// 5. persist before the terminal event or the JSON body leaves (invariant 2 in docs/architecture.md);
/// 6. when the stream breaks, close what is open, store the partial turn, and end with <c>response.failed</c>.
/// </summary>
public sealed partial class ResponsesService
{
    private static readonly TimeSpan PersistAfterAbortBudget = TimeSpan.FromSeconds(15);

    private readonly UpstreamRouter _router;
    private readonly IResponseStore _store;
    private readonly GatewayOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly UpstreamCaller _upstreams;
    private readonly ChainResolver _chains;
    private readonly GatewayShutdown _shutdown;
    private readonly IConversationStore? _conversations;
    private readonly ItemReferences? _references;

    public ResponsesService(UpstreamRouter router, IResponseStore store, IOptions<GatewayOptions> options, TimeProvider time, ILogger<ResponsesService> logger,
        GatewayShutdown? shutdown = null, IConversationStore? conversations = null)
    {
        _conversations = conversations;
        _references = conversations is null ? null : new ItemReferences(conversations, store);
        _shutdown = shutdown ?? new GatewayShutdown();
        _router = router;
        _store = store;
        _options = options.Value;
        _time = time;
        _logger = logger;
        _upstreams = new UpstreamCaller(_options, time, logger);
        _chains = new ChainResolver(store, new ChainCache((long)_options.ChainCacheMegabytes * 1024 * 1024), _options.MaxChainBytes);
    }

    /// <summary>Non-streaming create: returns the final Response object, stored first when <c>store</c> is true.</summary>
    public async Task<JsonObject> CreateAsync(Tenant tenant, CreateResponseRequest request, CancellationToken cancellationToken)
    {
        using var telemetry = TurnTelemetry.Start(tenant, request);
        try
        {
            return await CreateCoreAsync(tenant, request, telemetry, cancellationToken);
        }
        catch (Exception e) when (telemetry.Failed(e))
        {
            throw;
        }
    }

    private async Task<JsonObject> CreateCoreAsync(Tenant tenant, CreateResponseRequest request, TurnTelemetry telemetry, CancellationToken cancellationToken)
    {
        var turn = await PrepareAsync(tenant, request, telemetry, cancellationToken);
        using var timeout = LinkedTimeout(cancellationToken);
        var response = await BeforeFirstByteAsync(turn, token => _upstreams.CreateAsync(turn.Route, turn.UpstreamRequest, token, telemetry), timeout.Token, cancellationToken);
        ResponseObjects.ApplyGatewayEcho(response, turn.Id, turn.CreatedAt, request);
        telemetry.Finished(response);
        if (turn.Persists)
        {
            try
            {
                await SaveAsync(turn, response, cancellationToken);
            }
            catch (StoreUnavailableException e)
            {
                Log.StoreFailed(_logger, turn.Id, e);
                throw GatewayErrors.StorageUnavailable();
            }
            catch (PreviousResponseGoneException e)
            {
                // The parent was deleted while the upstream answered: the turn is not stored, so it is not returned.
                Log.StoreFailed(_logger, turn.Id, e);
                throw GatewayErrors.PreviousResponseNotFound(e.PreviousResponseId);
            }
            catch (ConversationGoneException e)
            {
                Log.StoreFailed(_logger, turn.Id, e);
                throw ConversationErrors.TurnConversationNotFound(e.ConversationId);
            }
        }
        Log.Finished(_logger, turn.Id, (string?)response["status"] ?? "");
        return response;
    }

    /// <summary>
    /// Streaming create. Throws <see cref="GatewayException"/> only before the first event is written; after that every
    /// failure ends the stream with a terminal event instead.
    /// </summary>
    public Task StreamAsync(Tenant tenant, CreateResponseRequest request, IResponseEventSink sink, CancellationToken cancellationToken) =>
        StreamAsync(tenant, request, sink, connection: null, cancellationToken);

    /// <summary>
    /// Streaming create on a connection that keeps its own recent responses (WebSocket mode): <c>previous_response_id</c>
    /// is looked up in <paramref name="connection"/> before storage, and the turn is remembered there when it ends
    /// completed or incomplete, stored or not.
    /// </summary>
    public async Task StreamAsync(Tenant tenant, CreateResponseRequest request, IResponseEventSink sink, ConnectionChains? connection, CancellationToken cancellationToken)
    {
        using var telemetry = TurnTelemetry.Start(tenant, request);
        try
        {
            await StreamCoreAsync(tenant, request, sink, connection, telemetry, cancellationToken);
        }
        catch (Exception e) when (telemetry.Failed(e))
        {
            throw;
        }
    }

    private async Task StreamCoreAsync(Tenant tenant, CreateResponseRequest request, IResponseEventSink sink, ConnectionChains? connection, TurnTelemetry telemetry, CancellationToken cancellationToken,
        (string Id, long CreatedAt)? minted = null)
    {
        var turn = await PrepareAsync(tenant, request, telemetry, cancellationToken, connection, minted);
        using var timeout = LinkedTimeout(cancellationToken);
        var stream = new TurnStream(this, turn, sink, timeout.Token, cancellationToken);
        var opened = await BeforeFirstByteAsync(turn, token => _upstreams.OpenStreamAsync(turn.Route, turn.UpstreamRequest, token, telemetry), timeout.Token, cancellationToken);
        telemetry.FirstEvent();

        await using var _ = opened;
        var events = opened.Events;
        var upstream = opened.Upstream.Name;
        try
        {
            do
            {
                if (await stream.ForwardAsync(events.Current))
                {
                    return;
                }
            }
            while (await events.MoveNextAsync());
            throw new UpstreamException(UpstreamFailure.StreamInterrupted, "The upstream stream ended before a terminal event.");
        }
        catch (UpstreamException e)
        {
            Log.UpstreamFailed(_logger, upstream, turn.Id, e.Failure, e.StatusCode);
            await stream.FailAsync(e.Code ?? "server_error", UpstreamFailureMessage(upstream, e));
        }
        catch (Exception e) when (e is ClientDisconnectedException || (e is OperationCanceledException && cancellationToken.IsCancellationRequested))
        {
            Log.ClientGone(_logger, turn.Id);
            await stream.StoreInterruptedAsync();
        }
        catch (OperationCanceledException) when (_shutdown.Cut.IsCancellationRequested)
        {
            Log.CutByShutdown(_logger, turn.Id);
            await stream.FailAsync("server_shutting_down",
                "The server shut down before the response was finished; what was generated so far is kept. Please try again.");
        }
        catch (OperationCanceledException)
        {
            Log.TimedOut(_logger, turn.Id);
            await stream.FailAsync("timeout", $"The request exceeded the gateway's time limit of {_options.RequestTimeoutSeconds} seconds.");
        }
    }

    /// <summary>
    /// The upstream call up to its first byte (with retries and fallback): its failures are still HTTP errors, and the
    /// request's own time limit running out here is a 504, not a client disconnect.
    /// </summary>
    private async Task<T> BeforeFirstByteAsync<T>(Turn turn, Func<CancellationToken, Task<T>> call, CancellationToken timeoutToken, CancellationToken clientToken)
    {
        try
        {
            return await call(timeoutToken);
        }
        catch (UpstreamCallFailedException e)
        {
            throw MapBeforeStream(e.Upstream, turn.Id, e.Failure);
        }
        catch (OperationCanceledException) when (!clientToken.IsCancellationRequested && _shutdown.Cut.IsCancellationRequested)
        {
            Log.CutByShutdown(_logger, turn.Id);
            throw GatewayErrors.ShuttingDown();
        }
        catch (OperationCanceledException) when (!clientToken.IsCancellationRequested)
        {
            Log.TimedOut(_logger, turn.Id);
            throw GatewayErrors.UpstreamTimeout(turn.Route.Upstream.Name);
        }
    }

    private async Task<Turn> PrepareAsync(Tenant tenant, CreateResponseRequest request, TurnTelemetry telemetry, CancellationToken cancellationToken, ConnectionChains? connection = null,
        (string Id, long CreatedAt)? minted = null)
    {
        var route = _router.Resolve(request.Model);
        List<byte[]>? chain = null;
        var previousId = request.PreviousResponseId;
        if (previousId is not null)
        {
            var local = connection?.TryGet(previousId);
            try
            {
                if (local is { } hit)
                {
                    // A stored turn may have been deleted since (over HTTP, on any instance): one point read, as for a cached chain.
                    chain = !hit.Stored || await _store.IsVisibleAsync(tenant.Name, previousId, cancellationToken) ? hit.Chain : null;
                }
                else
                {
                    chain = ResponseIds.IsWellFormed(previousId) ? await _chains.ResolveAsync(tenant.Name, previousId, cancellationToken) : null;
                }
            }
            catch (StoreUnavailableException e)
            {
                Log.StoreFailed(_logger, previousId, e);
                throw GatewayErrors.StorageUnavailable();
            }
            catch (ChainTooLargeException)
            {
                throw GatewayErrors.ChainTooLarge(previousId, _options.MaxChainBytes);
            }
            if (chain is null)
            {
                throw GatewayErrors.PreviousResponseNotFound(previousId);
            }
        }
        var conversation = await PrepareConversationAsync(tenant, request, cancellationToken);
        var id = minted?.Id ?? (previousId is null ? ResponseIds.NewRoot() : ResponseIds.NewChild(previousId));
        var createdAt = minted?.CreatedAt ?? _time.GetUtcNow().ToUnixTimeSeconds();
        var body = BuildUpstreamBody(request, chain, route.UpstreamModel);
        PrependConversation(body, request, conversation);
        Log.Creating(_logger, id, tenant.Name, route.Upstream.Name, request.Stream, request.Store, chain?.Count ?? 0);
        telemetry.Routed(route, id, chain?.Count ?? 0);
        return new Turn(tenant, request, route, id, createdAt, new UpstreamRequest(body, request, id, createdAt), ChainHistory.WithIds(request.Input), telemetry)
        {
            Chain = chain,
            Connection = connection,
            ConversationId = conversation?.Conversation.Id,
        };
    }

    private static JsonObject BuildUpstreamBody(CreateResponseRequest request, List<byte[]>? chain, string upstreamModel)
    {
        var body = (JsonObject)request.Body.DeepClone();
        body.Remove("previous_response_id");
        body["store"] = false;
        body["model"] = upstreamModel;
        if (chain is not null)
        {
            var input = ChainHistory.Expand(chain);
            foreach (var item in request.Input)
            {
                input.Add(item?.DeepClone());
            }
            body["input"] = input;
        }
        return body;
    }

    /// <summary>
    /// Appends the turn to its conversation, stores it (with the index of its item ids), and keeps its context at hand
    /// for the next turn of the chain.
    /// </summary>
    private async Task SaveAsync(Turn turn, JsonObject response, CancellationToken cancellationToken)
    {
        await AppendToConversationAsync(turn, response, cancellationToken);
        if (!turn.Request.Store)
        {
            return;
        }
        var stored = turn.ToStored(response);
        await Task.WhenAll(_store.SaveAsync(stored, cancellationToken), IndexTurnItemsAsync(turn, stored, cancellationToken));
        _chains.Remember(stored);
    }

    private GatewayException MapBeforeStream(string upstream, string responseId, UpstreamException e)
    {
        Log.UpstreamFailed(_logger, upstream, responseId, e.Failure, e.StatusCode);
        return e.Failure switch
        {
            UpstreamFailure.Connect => GatewayErrors.UpstreamUnreachable(upstream),
            UpstreamFailure.Timeout => GatewayErrors.UpstreamTimeout(upstream),
            UpstreamFailure.BadStatus when e.StatusCode is 401 or 403 => GatewayErrors.UpstreamUnauthorized(upstream, e.StatusCode.Value),
            UpstreamFailure.BadStatus when e.StatusCode is >= 400 and < 500 => UpstreamClientError(upstream, responseId, e),
            UpstreamFailure.BadStatus => GatewayErrors.UpstreamBadGateway(upstream, $"HTTP {e.StatusCode}."),
            UpstreamFailure.StreamInterrupted when e.Code is not null => GatewayErrors.UpstreamBadGateway(upstream, e.Message, e.Code),
            _ => GatewayErrors.UpstreamBadGateway(upstream, e.Message),
        };
    }

    // Upstream 4xx other than auth: the client sees the upstream's status, type, param and code, in the gateway's words
    // unless the upstream is trusted with its own; the operator finds the upstream's whole body in the Debug log.
    private GatewayException UpstreamClientError(string upstream, string responseId, UpstreamException e)
    {
        Log.UpstreamRejected(_logger, upstream, responseId, e.StatusCode, e.Body ?? "");
        var trusted = _router.Registrations.FirstOrDefault(r => r.Name == upstream)?.Options.PassErrorMessages ?? false;
        return UpstreamClientErrors.From(e, trusted);
    }

    private static string UpstreamFailureMessage(string upstream, UpstreamException e) => e.Failure switch
    {
        UpstreamFailure.InBandError => e.Message,
        UpstreamFailure.Timeout => $"The upstream '{upstream}' stopped sending events: {e.Message}",
        _ => $"The upstream '{upstream}' failed mid-stream: {e.Message}",
    };

    // One token per turn: the client leaving, the total time running out, or the host's drain time ending.
    private CancellationTokenSource LinkedTimeout(CancellationToken cancellationToken)
    {
        var source = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _shutdown.Cut);
        source.CancelAfter(TimeSpan.FromSeconds(_options.RequestTimeoutSeconds));
        return source;
    }

    private long Now() => _time.GetUtcNow().ToUnixTimeSeconds();

    /// <summary>Everything about one create call that the steps share.</summary>
    private sealed record Turn(Tenant Tenant, CreateResponseRequest Request, ModelRoute Route, string Id, long CreatedAt, UpstreamRequest UpstreamRequest, JsonArray StoredInput, TurnTelemetry Telemetry)
    {
        /// <summary>The contexts of the turns this one continues, oldest first; null for a new chain.</summary>
        public List<byte[]>? Chain { get; init; }

        /// <summary>The WebSocket connection's own recent responses, in WebSocket mode.</summary>
        public ConnectionChains? Connection { get; init; }

        /// <summary>The conversation the turn read from (its items are in the upstream body only) and appends to.</summary>
        public string? ConversationId { get; init; }

        /// <summary>Whether the end of the turn writes anything: the response (<c>store</c>) or its conversation's items.</summary>
        public bool Persists => Request.Store || ConversationId is not null;

        /// <summary>Lets the connection continue from this turn (completed or incomplete), or, when it failed, evicts the turn it continued.</summary>
        public void EndOnConnection(JsonObject response)
        {
            if (Connection is null)
            {
                return;
            }
            if ((string?)response["status"] is ResponseStatuses.Completed or ResponseStatuses.Incomplete)
            {
                Connection.Remember(Id, Chain, ChainHistory.ContextOf(ToStored(response)), Request.Store);
            }
            else if (Request.PreviousResponseId is { } previous)
            {
                Connection.Evict(previous);
            }
        }

        public StoredResponse ToStored(JsonObject response) => new()
        {
            Id = Id,
            Owner = Tenant.Name,
            PreviousResponseId = Request.PreviousResponseId,
            Status = (string?)response["status"] ?? ResponseStatuses.Completed,
            Model = (string?)response["model"] ?? Request.Model,
            CreatedAt = CreatedAt,
            // No copy: the store encodes the object before SaveAsync returns, and nothing mutates it while it does.
            Response = response,
            InputItems = StoredInput,
        };
    }
}
