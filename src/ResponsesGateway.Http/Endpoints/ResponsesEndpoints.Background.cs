using Microsoft.AspNetCore.Http;
using ResponsesGateway.Core.Auth;
using ResponsesGateway.Core.Requests;
using ResponsesGateway.Http.Sse;

namespace ResponsesGateway.Http.Endpoints;

public sealed partial class ResponsesEndpoints
{
    /// <summary><c>POST /v1/responses/{id}/cancel</c>: a background response, cancelled (or as it ended).</summary>
    public Task CancelAsync(HttpContext context, string id) => RunAsync(context, async (tenant, ct) =>
        await WriteJsonAsync(context, await _background.CancelAsync(tenant, id, ct), ct));

    /// <summary>
    /// A background create answers at once: JSON, the queued Response; SSE, the run's stream from its first event,
    /// followed live until the end. Leaving the stream never stops the run.
    /// </summary>
    private async Task CreateBackgroundAsync(HttpContext context, Tenant tenant, CreateResponseRequest request, CancellationToken ct)
    {
        var queued = await _background.CreateAsync(tenant, request, ct);
        if (!request.Stream)
        {
            await WriteJsonAsync(context, queued, ct);
            return;
        }
        await StreamBackgroundAsync(context, tenant, queued, startingAfter: null, ct);
    }

    private async Task StreamBackgroundAsync(HttpContext context, Tenant tenant, System.Text.Json.Nodes.JsonObject stored, int? startingAfter, CancellationToken ct)
    {
        await using var sse = new SseResponseWriter(context, TimeSpan.FromSeconds(_options.KeepAliveSeconds));
        await sse.EnsureStartedAsync(ct);
        await _background.StreamAsync(tenant, stored, startingAfter, sse, ct);
    }
}
