using System.Text.Json.Nodes;
using ResponsesGateway.Core.Auth;
using ResponsesGateway.Core.Requests;
using ResponsesGateway.Core.Telemetry;
using ResponsesGateway.Core.Upstreams;

namespace ResponsesGateway.Core.Pipeline;

public sealed partial class ResponsesService
{
    /// <summary>
    /// <c>POST /v1/responses/input_tokens</c>: the same routing, chain expansion, retries and error mapping as a
    /// non-streaming create; nothing is stored.
    /// </summary>
    public Task<JsonObject> CountInputTokensAsync(Tenant tenant, CreateResponseRequest request, CancellationToken cancellationToken) =>
        CallOnceAsync(tenant, request, static (upstream, req, ct) => new ValueTask<JsonObject>(upstream.CountInputTokensAsync(req, ct)), cancellationToken);

    /// <summary><c>POST /v1/responses/compact</c>: like <see cref="CountInputTokensAsync"/>; the compacted window is not stored.</summary>
    public Task<JsonObject> CompactAsync(Tenant tenant, CreateResponseRequest request, CancellationToken cancellationToken) =>
        CallOnceAsync(tenant, request, static (upstream, req, ct) => new ValueTask<JsonObject>(upstream.CompactAsync(req, ct)), cancellationToken);

    private async Task<JsonObject> CallOnceAsync(Tenant tenant, CreateResponseRequest request,
        Func<IUpstream, UpstreamRequest, CancellationToken, ValueTask<JsonObject>> call, CancellationToken cancellationToken)
    {
        // Traced like a turn (routing, attempts, chain read), though no Response comes of it.
        using var telemetry = TurnTelemetry.Start(tenant, request);
        try
        {
            var turn = await PrepareAsync(tenant, request, telemetry, cancellationToken);
            using var timeout = LinkedTimeout(cancellationToken);
            return await BeforeFirstByteAsync(turn, token => _upstreams.CallAsync(turn.Route, turn.UpstreamRequest, call, token, telemetry), timeout.Token, cancellationToken);
        }
        catch (Exception e) when (telemetry.Failed(e))
        {
            throw;
        }
    }
}
