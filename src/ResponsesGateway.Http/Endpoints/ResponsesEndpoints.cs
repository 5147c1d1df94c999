using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ResponsesGateway.Core.Auth;
using ResponsesGateway.Core.Background;
using ResponsesGateway.Core.Errors;
using ResponsesGateway.Core.Options;
using ResponsesGateway.Core.Pipeline;
using ResponsesGateway.Core.Requests;
using ResponsesGateway.Core.Routing;
using ResponsesGateway.Http.Errors;
using ResponsesGateway.Http.Limits;
using ResponsesGateway.Http.Sse;
using ResponsesGateway.Protocol.Lists;
using ResponsesGateway.Protocol.Serialization;

namespace ResponsesGateway.Http.Endpoints;

/// <summary>
/// The HTTP handlers of the product. Both hosts call these and nothing else: the standalone server maps them as
/// routes, the Functions app calls them from one-line triggers.
/// </summary>
public sealed partial class ResponsesEndpoints
{
    private readonly ResponsesService _responses;
    private readonly StoredResponsesService _stored;
    private readonly ApiKeyAuthenticator _authenticator;
    private readonly TenantRequestLimiter _limiter;
    private readonly UpstreamRouter _router;
    private readonly GatewayShutdown _shutdown;
    private readonly GatewayOptions _options;
    private readonly ILogger _logger;
    private readonly BackgroundResponses _background;

    public ResponsesEndpoints(ResponsesService responses, StoredResponsesService stored, ApiKeyAuthenticator authenticator,
        TenantRequestLimiter limiter, UpstreamRouter router, GatewayShutdown shutdown, IOptions<GatewayOptions> options, ILogger<ResponsesEndpoints> logger,
        BackgroundResponses background)
    {
        _background = background;
        _shutdown = shutdown;
        _responses = responses;
        _stored = stored;
        _authenticator = authenticator;
        _limiter = limiter;
        _router = router;
        _options = options.Value;
        _logger = logger;
    }

    /// <summary><c>POST /v1/responses</c>.</summary>
    public Task CreateAsync(HttpContext context) => RunAsync(context, async (tenant, ct) =>
    {
        // Held to the end of the turn, stream included: the host's drain waits for it.
        using var turn = _shutdown.TryEnter() ?? throw GatewayErrors.ShuttingDown();
        var body = await RequestBodyReader.ReadAsync(context.Request, _options.MaxRequestBodyBytes, ct);
        var request = CreateResponseRequestParser.Parse(body);
        AddResponseHeaders(context, request);
        if (request.Background)
        {
            await CreateBackgroundAsync(context, tenant, request, ct);
            return;
        }
        if (!request.Stream)
        {
            var response = await _responses.CreateAsync(tenant, request, ct);
            await WriteJsonAsync(context, response, ct);
            return;
        }
        await using var sse = new SseResponseWriter(context, TimeSpan.FromSeconds(_options.KeepAliveSeconds));
        await _responses.StreamAsync(tenant, request, sse, ct);
    });

    /// <summary><c>GET /v1/responses/{id}</c>, with <c>?stream=true&amp;starting_after=N</c> replaying its events.</summary>
    public Task GetAsync(HttpContext context, string id) => RunAsync(context, async (tenant, ct) =>
    {
        var query = context.Request.Query;
        if (!string.Equals(query["stream"], "true", StringComparison.OrdinalIgnoreCase))
        {
            // A background response still running shows its state and output so far.
            await WriteJsonAsync(context, await _background.CurrentAsync(tenant, await _stored.GetAsync(tenant, id, ct), ct), ct);
            return;
        }
        int? startingAfter = null;
        if (query.TryGetValue("starting_after", out var raw))
        {
            startingAfter = int.TryParse(raw, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out var n) && n >= -1
                ? n
                : throw GatewayErrors.InvalidValue("starting_after", "expected an integer sequence number.");
        }
        var stored = await _stored.GetAsync(tenant, id, ct);
        if (BackgroundResponses.IsBackground(stored))
        {
            await StreamBackgroundAsync(context, tenant, stored, startingAfter, ct);
            return;
        }
        var events = StoredResponsesService.Replay(stored, startingAfter);
        await using var sse = new SseResponseWriter(context, TimeSpan.FromSeconds(_options.KeepAliveSeconds));
        foreach (var (evt, sequenceNumber) in events)
        {
            await sse.WriteAsync(evt, sequenceNumber, ct);
        }
    });

    /// <summary><c>DELETE /v1/responses/{id}</c>.</summary>
    public Task DeleteAsync(HttpContext context, string id) => RunAsync(context, async (tenant, ct) =>
    {
        var deleted = await _stored.DeleteAsync(tenant, id, ct);
        context.Response.ContentType = "application/json";
        await JsonSerializer.SerializeAsync(context.Response.Body, deleted, ProtocolJsonContext.Default.DeletedResponse, ct);
    });

    /// <summary><c>GET /v1/responses/{id}/input_items</c>.</summary>
    public Task ListInputItemsAsync(HttpContext context, string id) => RunAsync(context, async (tenant, ct) =>
    {
        var q = context.Request.Query;
        var query = InputItemsQuery.Parse(q["limit"], q["order"], q["after"], q["before"]);
        var list = await _stored.ListInputItemsAsync(tenant, id, query, ct);
        context.Response.ContentType = "application/json";
        await JsonSerializer.SerializeAsync(context.Response.Body, list, ProtocolJsonContext.Default.InputItemList, ct);
    });

    /// <summary><c>GET /v1/models</c>: the models the configured upstreams serve.</summary>
    public Task ListModelsAsync(HttpContext context) => RunAsync(context, async (_, ct) =>
    {
        var models = _router.ListModels().Select(m => new ModelInfo(m.Model, "model", 0, m.Upstream)).ToList();
        context.Response.ContentType = "application/json";
        await JsonSerializer.SerializeAsync(context.Response.Body, new ModelList("list", models), ProtocolJsonContext.Default.ModelList, ct);
    });

    /// <summary>Authenticates, runs the handler with the request's token, and turns every failure into the error envelope.</summary>
    internal async Task RunAsync(HttpContext context, Func<Tenant, CancellationToken, Task> handler)
    {
        var ct = context.RequestAborted;
        try
        {
            var tenant = _authenticator.Authenticate(context.Request.Headers.Authorization);
            // Held until the handler is done, a whole stream included: that is what "in flight" means for the limit.
            using var permit = _limiter.Acquire(tenant);
            await handler(tenant, ct);
        }
        catch (GatewayException e) when (!context.Response.HasStarted)
        {
            Log.Rejected(_logger, context.Request.Method, context.Request.Path, e.StatusCode, e.Error.Code);
            await GatewayErrorWriter.WriteAsync(context, e);
        }
        catch (Exception e) when (e is OperationCanceledException or ClientDisconnectedException && ct.IsCancellationRequested)
        {
            Log.ClientGone(_logger, context.Request.Path);
        }
        catch (Exception e) when (!context.Response.HasStarted)
        {
            Log.Unhandled(_logger, context.Request.Path, e);
            await GatewayErrorWriter.WriteAsync(context, GatewayErrors.Internal());
        }
        catch (Exception e)
        {
            // Too late for a status: the stream has started. Abort rather than pretend the stream ended well.
            Log.Unhandled(_logger, context.Request.Path, e);
            context.Abort();
        }
    }

    /// <summary>The headers the upstream adapter added (e.g. dropped tools) go out with the status line, JSON or SSE.</summary>
    private static void AddResponseHeaders(HttpContext context, CreateResponseRequest request) =>
        context.Response.OnStarting(() =>
        {
            foreach (var (name, value) in request.ResponseHeaders)
            {
                context.Response.Headers[name] = value;
            }
            return Task.CompletedTask;
        });

    internal static async Task WriteJsonAsync(HttpContext context, JsonNode body, CancellationToken ct)
    {
        context.Response.ContentType = "application/json";
        await using var writer = new Utf8JsonWriter(context.Response.BodyWriter, new JsonWriterOptions { SkipValidation = true });
        body.WriteTo(writer);
        await writer.FlushAsync(ct);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 5001, Level = LogLevel.Information, Message = "{Method} {Path} rejected with {StatusCode} ({Code})")]
        public static partial void Rejected(ILogger logger, string method, PathString path, int statusCode, string? code);

        [LoggerMessage(EventId = 5002, Level = LogLevel.Debug, Message = "Client went away during {Path}")]
        public static partial void ClientGone(ILogger logger, PathString path);

        [LoggerMessage(EventId = 5003, Level = LogLevel.Error, Message = "Unhandled failure on {Path}")]
        public static partial void Unhandled(ILogger logger, PathString path, Exception exception);
    }
}
