using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using ResponsesGateway.Http.Endpoints;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Routes of the standalone server; each is one call into <see cref="ResponsesEndpoints"/>.</summary>
public static class ResponsesEndpointRouteBuilderExtensions
{
    public static IEndpointRouteBuilder MapResponsesApi(this IEndpointRouteBuilder app)
    {
        // Plain RequestDelegates, not minimal-API handlers with parameters: those are compiled from expression trees
        // on the first request, which cost ~50 ms of the standalone server's time to its first answer (docs/benchmarks.md).
        app.MapPost("/v1/responses", c => Handlers(c).CreateAsync(c));
        app.MapPost("/v1/responses/input_tokens", c => Handlers(c).CountInputTokensAsync(c));
        app.MapPost("/v1/responses/compact", c => Handlers(c).CompactAsync(c));
        // WebSocket mode (needs UseWebSockets); a GET without the upgrade answers as an unknown URL.
        app.MapGet("/v1/responses", c => Handlers(c).WebSocketAsync(c));
        app.MapGet("/v1/responses/{id}", c => Handlers(c).GetAsync(c, Id(c)));
        app.MapDelete("/v1/responses/{id}", c => Handlers(c).DeleteAsync(c, Id(c)));
        app.MapGet("/v1/responses/{id}/input_items", c => Handlers(c).ListInputItemsAsync(c, Id(c)));
        app.MapPost("/v1/responses/{id}/cancel", c => Handlers(c).CancelAsync(c, Id(c)));
        app.MapGet("/v1/models", c => Handlers(c).ListModelsAsync(c));
        app.MapPost("/v1/conversations", c => Conversations(c).CreateAsync(c));
        app.MapGet("/v1/conversations/{id}", c => Conversations(c).GetAsync(c, Id(c)));
        app.MapPost("/v1/conversations/{id}", c => Conversations(c).UpdateAsync(c, Id(c)));
        app.MapDelete("/v1/conversations/{id}", c => Conversations(c).DeleteAsync(c, Id(c)));
        app.MapGet("/v1/conversations/{id}/items", c => Conversations(c).ListItemsAsync(c, Id(c)));
        app.MapPost("/v1/conversations/{id}/items", c => Conversations(c).AddItemsAsync(c, Id(c)));
        app.MapGet("/v1/conversations/{id}/items/{item_id}", c => Conversations(c).GetItemAsync(c, Id(c), ItemId(c)));
        app.MapDelete("/v1/conversations/{id}/items/{item_id}", c => Conversations(c).DeleteItemAsync(c, Id(c), ItemId(c)));
        // Anything else still answers in the OpenAI envelope (404, or 405 for a known path), never an empty body or HTML.
        app.MapFallback(UnmatchedRequests.WriteAsync);
        return app;
    }

    private static string Id(HttpContext context) => (string)context.Request.RouteValues["id"]!;

    private static string ItemId(HttpContext context) => (string)context.Request.RouteValues["item_id"]!;

    private static ConversationsEndpoints Conversations(HttpContext context) => context.RequestServices.GetRequiredService<ConversationsEndpoints>();

    private static ResponsesEndpoints Handlers(HttpContext context) => context.RequestServices.GetRequiredService<ResponsesEndpoints>();
}
