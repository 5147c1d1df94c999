using ResponsesGateway.Core.Auth;
using ResponsesGateway.Core.Requests;
using ResponsesGateway.Core.Telemetry;

namespace ResponsesGateway.Core.Pipeline;

public sealed partial class ResponsesService
{
    /// <summary>
    /// The checks a create makes before calling the upstream (model routed, <c>previous_response_id</c> resolved and
    /// within bounds), and the id and creation time of the new turn: what a background create answers with at once.
    /// </summary>
    public async Task<(string Id, long CreatedAt)> PrepareBackgroundAsync(Tenant tenant, CreateResponseRequest request, CancellationToken cancellationToken)
    {
        using var telemetry = TurnTelemetry.Start(tenant, request);
        var turn = await PrepareAsync(tenant, request, telemetry, cancellationToken);
        return (turn.Id, turn.CreatedAt);
    }

    /// <summary>
    /// Streams a turn minted earlier by <see cref="PrepareBackgroundAsync"/>: the background runner's call. The request
    /// carries <c>store:false</c>, because the runner's sink stores the turn itself, after it has won the end of the run.
    /// </summary>
    public async Task StreamMintedAsync(Tenant tenant, CreateResponseRequest request, string id, long createdAt, IResponseEventSink sink, CancellationToken cancellationToken)
    {
        using var telemetry = TurnTelemetry.Start(tenant, request);
        try
        {
            await StreamCoreAsync(tenant, request, sink, connection: null, telemetry, cancellationToken, (id, createdAt));
        }
        catch (Exception e) when (telemetry.Failed(e))
        {
            throw;
        }
    }
}
