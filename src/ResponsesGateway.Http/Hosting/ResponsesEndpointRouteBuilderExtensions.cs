using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using ResponsesGateway.Http.Endpoints;
using ResponsesGateway.Http.Errors;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Routes of the standalone server; each is one call into <see cref="ResponsesEndpoints"/>.</summary>
public static class ResponsesEndpointRouteBuilderExtensions
{
    public static IEndpointRouteBuilder MapResponsesApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/responses", (HttpContext c) => Handlers(c).CreateAsync(c));
        app.MapGet("/v1/responses/{id}", (HttpContext c, string id) => Handlers(c).GetAsync(c, id));
        app.MapDelete("/v1/responses/{id}", (HttpContext c, string id) => Handlers(c).DeleteAsync(c, id));
        app.MapGet("/v1/responses/{id}/input_items", (HttpContext c, string id) => Handlers(c).ListInputItemsAsync(c, id));
        app.MapGet("/v1/models", (HttpContext c) => Handlers(c).ListModelsAsync(c));
        // Anything else still answers in the OpenAI envelope, never with an empty body or HTML.
        app.MapFallback((HttpContext c) => GatewayErrorWriter.WriteAsync(c, StatusCodes.Status404NotFound,
            $"Invalid URL ({c.Request.Method} {c.Request.Path}).", code: "unknown_url"));
        return app;
    }

    private static ResponsesEndpoints Handlers(HttpContext context) => context.RequestServices.GetRequiredService<ResponsesEndpoints>();
}
