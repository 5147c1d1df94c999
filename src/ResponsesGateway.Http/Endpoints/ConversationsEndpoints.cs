using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using ResponsesGateway.Core.Conversations;
using ResponsesGateway.Core.Options;
using ResponsesGateway.Core.Pipeline;
using ResponsesGateway.Protocol.Lists;
using ResponsesGateway.Protocol.Serialization;

namespace ResponsesGateway.Http.Endpoints;

/// <summary>
/// The HTTP handlers of the Conversations API (<c>/v1/conversations</c> and its items). Authentication, the per-key
/// limits and the error envelope are those of every other route (<see cref="ResponsesEndpoints.RunAsync"/>).
/// </summary>
public sealed class ConversationsEndpoints(ResponsesEndpoints endpoints, ConversationsService conversations, IOptions<GatewayOptions> options)
{
    private readonly long _maxBodyBytes = options.Value.MaxRequestBodyBytes;

    /// <summary><c>POST /v1/conversations</c>.</summary>
    public Task CreateAsync(HttpContext context) => endpoints.RunAsync(context, async (tenant, ct) =>
    {
        var (metadata, items) = ConversationRequests.ParseCreate(await RequestBodyReader.ReadAsync(context.Request, _maxBodyBytes, ct));
        await ResponsesEndpoints.WriteJsonAsync(context, await conversations.CreateAsync(tenant, metadata, items, ct), ct);
    });

    /// <summary><c>GET /v1/conversations/{id}</c>.</summary>
    public Task GetAsync(HttpContext context, string id) => endpoints.RunAsync(context, async (tenant, ct) =>
        await ResponsesEndpoints.WriteJsonAsync(context, await conversations.GetAsync(tenant, id, ct), ct));

    /// <summary><c>POST /v1/conversations/{id}</c>: replaces the metadata.</summary>
    public Task UpdateAsync(HttpContext context, string id) => endpoints.RunAsync(context, async (tenant, ct) =>
    {
        var metadata = ConversationRequests.ParseUpdate(await RequestBodyReader.ReadAsync(context.Request, _maxBodyBytes, ct));
        await ResponsesEndpoints.WriteJsonAsync(context, await conversations.UpdateAsync(tenant, id, metadata, ct), ct);
    });

    /// <summary><c>DELETE /v1/conversations/{id}</c>.</summary>
    public Task DeleteAsync(HttpContext context, string id) => endpoints.RunAsync(context, async (tenant, ct) =>
        await ResponsesEndpoints.WriteJsonAsync(context, await conversations.DeleteAsync(tenant, id, ct), ct));

    /// <summary><c>GET /v1/conversations/{id}/items</c>: <c>limit</c>, <c>order</c> (desc), <c>after</c>; <c>include</c> is accepted (items are kept whole).</summary>
    public Task ListItemsAsync(HttpContext context, string id) => endpoints.RunAsync(context, async (tenant, ct) =>
    {
        var q = context.Request.Query;
        var query = InputItemsQuery.Parse(q["limit"], q["order"], q["after"], before: null);
        await WriteListAsync(context, await conversations.ListItemsAsync(tenant, id, query, ct), ct);
    });

    /// <summary><c>POST /v1/conversations/{id}/items</c>.</summary>
    public Task AddItemsAsync(HttpContext context, string id) => endpoints.RunAsync(context, async (tenant, ct) =>
    {
        var items = ConversationRequests.ParseItems(await RequestBodyReader.ReadAsync(context.Request, _maxBodyBytes, ct));
        await WriteListAsync(context, await conversations.AddItemsAsync(tenant, id, items, ct), ct);
    });

    /// <summary><c>GET /v1/conversations/{id}/items/{item_id}</c>.</summary>
    public Task GetItemAsync(HttpContext context, string id, string itemId) => endpoints.RunAsync(context, async (tenant, ct) =>
        await ResponsesEndpoints.WriteJsonAsync(context, await conversations.GetItemAsync(tenant, id, itemId, ct), ct));

    /// <summary><c>DELETE /v1/conversations/{id}/items/{item_id}</c>: answers the conversation.</summary>
    public Task DeleteItemAsync(HttpContext context, string id, string itemId) => endpoints.RunAsync(context, async (tenant, ct) =>
        await ResponsesEndpoints.WriteJsonAsync(context, await conversations.DeleteItemAsync(tenant, id, itemId, ct), ct));

    private static async Task WriteListAsync(HttpContext context, InputItemList list, CancellationToken ct)
    {
        context.Response.ContentType = "application/json";
        await JsonSerializer.SerializeAsync(context.Response.Body, list, ProtocolJsonContext.Default.InputItemList, ct);
    }
}
