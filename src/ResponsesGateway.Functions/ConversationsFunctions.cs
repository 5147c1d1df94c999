using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using ResponsesGateway.Http.Endpoints;

namespace ResponsesGateway.Functions;

/// <summary>HTTP triggers of the Conversations API, one line each into the shared handlers (see <see cref="ResponsesFunctions"/>).</summary>
public sealed class ConversationsFunctions(ConversationsEndpoints endpoints)
{
    [Function("CreateConversation")]
    public async Task<IActionResult> Create([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/conversations")] HttpRequest req)
    {
        await endpoints.CreateAsync(req.HttpContext);
        return new EmptyResult();
    }

    [Function("GetConversation")]
    public async Task<IActionResult> Get([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/conversations/{id}")] HttpRequest req, string id)
    {
        await endpoints.GetAsync(req.HttpContext, id);
        return new EmptyResult();
    }

    [Function("UpdateConversation")]
    public async Task<IActionResult> Update([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/conversations/{id}")] HttpRequest req, string id)
    {
        await endpoints.UpdateAsync(req.HttpContext, id);
        return new EmptyResult();
    }

    [Function("DeleteConversation")]
    public async Task<IActionResult> Delete([HttpTrigger(AuthorizationLevel.Anonymous, "delete", Route = "v1/conversations/{id}")] HttpRequest req, string id)
    {
        await endpoints.DeleteAsync(req.HttpContext, id);
        return new EmptyResult();
    }

    [Function("ListConversationItems")]
    public async Task<IActionResult> ListItems([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/conversations/{id}/items")] HttpRequest req, string id)
    {
        await endpoints.ListItemsAsync(req.HttpContext, id);
        return new EmptyResult();
    }

    [Function("AddConversationItems")]
    public async Task<IActionResult> AddItems([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/conversations/{id}/items")] HttpRequest req, string id)
    {
        await endpoints.AddItemsAsync(req.HttpContext, id);
        return new EmptyResult();
    }

    [Function("GetConversationItem")]
    public async Task<IActionResult> GetItem([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/conversations/{id}/items/{itemId}")] HttpRequest req, string id, string itemId)
    {
        await endpoints.GetItemAsync(req.HttpContext, id, itemId);
        return new EmptyResult();
    }

    [Function("DeleteConversationItem")]
    public async Task<IActionResult> DeleteItem([HttpTrigger(AuthorizationLevel.Anonymous, "delete", Route = "v1/conversations/{id}/items/{itemId}")] HttpRequest req, string id, string itemId)
    {
        await endpoints.DeleteItemAsync(req.HttpContext, id, itemId);
        return new EmptyResult();
    }
}
