using Microsoft.AspNetCore.Http;
using ResponsesGateway.Core.Requests;

namespace ResponsesGateway.Http.Endpoints;

public sealed partial class ResponsesEndpoints
{
    /// <summary>
    /// <c>POST /v1/responses/input_tokens</c>: the body of a create (validated the same way, <c>previous_response_id</c>
    /// expanded), answered with <c>{"object":"response.input_tokens","input_tokens":N}</c>.
    /// </summary>
    public Task CountInputTokensAsync(HttpContext context) => RunAsync(context, async (tenant, ct) =>
    {
        var body = await RequestBodyReader.ReadAsync(context.Request, _options.MaxRequestBodyBytes, ct);
        var request = CreateResponseRequestParser.Parse(body);
        AddResponseHeaders(context, request);
        await WriteJsonAsync(context, await _responses.CountInputTokensAsync(tenant, request, ct), ct);
    });

    /// <summary>
    /// <c>POST /v1/responses/compact</c>: the body of a create (same validation, <c>previous_response_id</c> expanded),
    /// answered with a <c>response.compaction</c> object: the kept user messages and one <c>compaction</c> item.
    /// Nothing is stored: the client carries the compacted window forward itself.
    /// </summary>
    public Task CompactAsync(HttpContext context) => RunAsync(context, async (tenant, ct) =>
    {
        var body = await RequestBodyReader.ReadAsync(context.Request, _options.MaxRequestBodyBytes, ct);
        var request = CreateResponseRequestParser.Parse(body);
        AddResponseHeaders(context, request);
        await WriteJsonAsync(context, await _responses.CompactAsync(tenant, request, ct), ct);
    });
}
