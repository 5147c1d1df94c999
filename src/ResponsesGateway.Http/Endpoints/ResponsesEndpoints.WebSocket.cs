using Microsoft.AspNetCore.Http;
using ResponsesGateway.Core.Auth;
using ResponsesGateway.Core.Errors;
using ResponsesGateway.Http.Errors;
using ResponsesGateway.Http.WebSockets;
using ResponsesGateway.Protocol.Errors;

namespace ResponsesGateway.Http.Endpoints;

public sealed partial class ResponsesEndpoints
{
    /// <summary>
    /// <c>GET /v1/responses</c> with a WebSocket upgrade (standalone server): WebSocket mode. The key is checked on the
    /// upgrade request, as on every HTTP request; a refused upgrade is an ordinary HTTP error envelope.
    /// </summary>
    public async Task WebSocketAsync(HttpContext context)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            await UnknownUrlAsync(context);
            return;
        }
        Tenant tenant;
        try
        {
            tenant = _authenticator.Authenticate(context.Request.Headers.Authorization);
        }
        catch (GatewayException e)
        {
            Log.Rejected(_logger, context.Request.Method, context.Request.Path, e.StatusCode, e.Error.Code);
            await GatewayErrorWriter.WriteAsync(context, e);
            return;
        }
        using var socket = await context.WebSockets.AcceptWebSocketAsync();
        await new ResponsesWebSocketSession(socket, tenant, _responses, _limiter, _options, _logger).RunAsync(context.RequestAborted);
    }

    /// <summary>
    /// <c>GET /v1/responses</c> on the Functions app, which cannot hold a socket on an HTTP trigger: a WebSocket upgrade
    /// is answered 426 with an envelope that says where WebSocket mode is available.
    /// </summary>
    public Task WebSocketUnavailableAsync(HttpContext context)
    {
        if (!IsUpgrade(context.Request))
        {
            return UnknownUrlAsync(context);
        }
        return GatewayErrorWriter.WriteAsync(context, StatusCodes.Status426UpgradeRequired,
            "WebSocket mode is not available on this deployment (Azure Functions cannot hold a WebSocket on an HTTP trigger). " +
            "Use POST /v1/responses with stream:true, or run the standalone server (ResponsesGateway.Server), which serves WebSocket mode on /v1/responses.",
            ApiErrorTypes.InvalidRequest, "websocket_not_supported");
    }

    private static bool IsUpgrade(HttpRequest request) =>
        request.Headers.Upgrade.Any(v => v is not null && v.Contains("websocket", StringComparison.OrdinalIgnoreCase));

    private static Task UnknownUrlAsync(HttpContext context) => GatewayErrorWriter.WriteAsync(context, StatusCodes.Status404NotFound,
        $"Invalid URL ({context.Request.Method} {context.Request.Path}).", code: "unknown_url");
}
