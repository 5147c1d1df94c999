using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using ResponsesGateway.Http.Endpoints;

namespace ResponsesGateway.Functions;

/// <summary>
/// HTTP triggers, one line each into the shared handlers. The handlers write the response themselves (JSON, SSE or
/// the error envelope), so every trigger returns <see cref="EmptyResult"/>. Authorization is the gateway's own
/// bearer-key check, hence <see cref="AuthorizationLevel.Anonymous"/>; host.json sets routePrefix to "".
/// </summary>
public sealed class ResponsesFunctions(ResponsesEndpoints endpoints)
{
    [Function("CreateResponse")]
    public async Task<IActionResult> Create([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/responses")] HttpRequest req)
    {
        await endpoints.CreateAsync(req.HttpContext);
        return new EmptyResult();
    }

    [Function("CountInputTokens")]
    public async Task<IActionResult> CountInputTokens([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/responses/input_tokens")] HttpRequest req)
    {
        await endpoints.CountInputTokensAsync(req.HttpContext);
        return new EmptyResult();
    }

    [Function("CompactResponse")]
    public async Task<IActionResult> Compact([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/responses/compact")] HttpRequest req)
    {
        await endpoints.CompactAsync(req.HttpContext);
        return new EmptyResult();
    }

    /// <summary>A WebSocket upgrade on <c>/v1/responses</c>: 426 with an envelope naming the standalone server (no sockets here).</summary>
    [Function("ResponsesWebSocket")]
    public async Task<IActionResult> WebSocket([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/responses")] HttpRequest req)
    {
        await endpoints.WebSocketUnavailableAsync(req.HttpContext);
        return new EmptyResult();
    }

    [Function("GetResponse")]
    public async Task<IActionResult> Get([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/responses/{id}")] HttpRequest req, string id)
    {
        await endpoints.GetAsync(req.HttpContext, id);
        return new EmptyResult();
    }

    [Function("DeleteResponse")]
    public async Task<IActionResult> Delete([HttpTrigger(AuthorizationLevel.Anonymous, "delete", Route = "v1/responses/{id}")] HttpRequest req, string id)
    {
        await endpoints.DeleteAsync(req.HttpContext, id);
        return new EmptyResult();
    }

    [Function("ListInputItems")]
    public async Task<IActionResult> ListInputItems([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/responses/{id}/input_items")] HttpRequest req, string id)
    {
        await endpoints.ListInputItemsAsync(req.HttpContext, id);
        return new EmptyResult();
    }

    [Function("ListModels")]
    public async Task<IActionResult> ListModels([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/models")] HttpRequest req)
    {
        await endpoints.ListModelsAsync(req.HttpContext);
        return new EmptyResult();
    }

    /// <summary>
    /// Every request no other function took: 404, or 405 for a known path with another method, in the OpenAI
    /// envelope instead of the host's empty 404. The Functions host tries routes in the order of function names, not
    /// by specificity, so this catch-all is named to sort after every other function.
    /// </summary>
    [Function("ZzUnmatchedRoute")]
    public async Task<IActionResult> Unmatched([HttpTrigger(AuthorizationLevel.Anonymous, "get", "post", "put", "patch", "delete", "head", "options", Route = "{*path}")] HttpRequest req)
    {
        await UnmatchedRequests.WriteAsync(req.HttpContext);
        return new EmptyResult();
    }
}
