using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Polly;
using ResponsesGateway.Core.Options;
using ResponsesGateway.Core.Routing;
using ResponsesGateway.Core.Telemetry;
using ResponsesGateway.Core.Upstreams;

namespace ResponsesGateway.Core.Resilience;

/// <summary>
/// Calls the upstream of a route until it answers: retries (<see cref="UpstreamRetryPipeline"/>), then the route's
/// fallback upstream, with its own retries. Everything here happens before the first event or the JSON body reaches
/// the client; once a stream has produced an event it is never retried (the client has seen it, and the upstream may
/// already have acted on the request), so mid-stream failures stay the pipeline's <c>response.failed</c>.
/// </summary>
internal sealed partial class UpstreamCaller(GatewayOptions options, TimeProvider time, ILogger logger)
{
    private readonly ResiliencePipeline _retry = UpstreamRetryPipeline.Build(options, time, logger);

    /// <summary>Non-streaming call. Throws <see cref="UpstreamCallFailedException"/> when every attempt failed.</summary>
    public Task<JsonObject> CreateAsync(ModelRoute route, UpstreamRequest request, CancellationToken cancellationToken, TurnTelemetry? telemetry = null) =>
        CallAsync(route, request, static (upstream, req, ct) => new ValueTask<JsonObject>(upstream.CreateAsync(req, ct)), cancellationToken, telemetry);

    /// <summary>
    /// Streaming call, up to and including its first event. Throws <see cref="UpstreamCallFailedException"/> when every
    /// attempt failed; an empty stream counts as a failure of its upstream.
    /// </summary>
    public Task<OpenedStream> OpenStreamAsync(ModelRoute route, UpstreamRequest request, CancellationToken cancellationToken, TurnTelemetry? telemetry = null) =>
        CallAsync(route, request, OpenOnceAsync, cancellationToken, telemetry);

    /// <summary>Retries on the route's upstream, then (when allowed) on its fallback with the fallback's model name.</summary>
    internal async Task<T> CallAsync<T>(ModelRoute route, UpstreamRequest request,
        Func<IUpstream, UpstreamRequest, CancellationToken, ValueTask<T>> attempt, CancellationToken cancellationToken, TurnTelemetry? telemetry = null)
    {
        // Copied before the first attempt: an upstream adapter may adjust the body it sends (stream flag, include).
        var fallbackRequest = FallbackRequest(route, request);
        try
        {
            return await RetryAsync(route, fallback: false, request, attempt, cancellationToken);
        }
        catch (UpstreamException e) when (route.Fallback is { } fallback && UpstreamFailures.AllowsFallback(e))
        {
            Log.FallingBack(logger, route.Upstream.Name, fallback.Upstream.Name, request.ResponseId, e.Failure, e.StatusCode);
            UpstreamTelemetry.FallingBack(route, fallback, e);
            telemetry?.FellBack(fallback);
            try
            {
                return await RetryAsync(fallback, fallback: true, fallbackRequest!, attempt, cancellationToken);
            }
            catch (UpstreamException last)
            {
                throw new UpstreamCallFailedException(fallback.Upstream.Name, last);
            }
        }
        catch (UpstreamException e)
        {
            throw new UpstreamCallFailedException(route.Upstream.Name, e);
        }
    }

    private static async ValueTask<OpenedStream> OpenOnceAsync(IUpstream upstream, UpstreamRequest request, CancellationToken cancellationToken)
    {
        var events = upstream.StreamAsync(request, cancellationToken).GetAsyncEnumerator(cancellationToken);
        try
        {
            if (!await events.MoveNextAsync())
            {
                throw new UpstreamException(UpstreamFailure.StreamInterrupted, "The upstream sent an empty stream.");
            }
            return new OpenedStream(upstream, events);
        }
        catch
        {
            // A failed attempt must release its connection before the next one starts.
            await events.DisposeAsync();
            throw;
        }
    }

    private async Task<T> RetryAsync<T>(ModelRoute route, bool fallback, UpstreamRequest request,
        Func<IUpstream, UpstreamRequest, CancellationToken, ValueTask<T>> attempt, CancellationToken cancellationToken)
    {
        var context = ResilienceContextPool.Shared.Get(cancellationToken);
        context.Properties.Set(UpstreamRetryPipeline.UpstreamName, route.Upstream.Name);
        context.Properties.Set(UpstreamRetryPipeline.ResponseId, request.ResponseId);
        try
        {
            return await _retry.ExecuteAsync(
                static (ctx, state) => state.attempts.RunAsync(state.attempt, state.request, ctx.CancellationToken),
                context, (attempts: new UpstreamAttempts(route, fallback), request, attempt));
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    // Copied before the first attempt: an adapter may adjust the body it is given (stream flag, include), and the
    // fallback must start from the body as the pipeline built it, under its own name for the model.
    private static UpstreamRequest? FallbackRequest(ModelRoute route, UpstreamRequest request)
    {
        if (route.Fallback is not { } fallback)
        {
            return null;
        }
        var body = (JsonObject)request.Body.DeepClone();
        body["model"] = fallback.UpstreamModel;
        return new UpstreamRequest(body, request.Original, request.ResponseId, request.CreatedAt);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1202, Level = LogLevel.Warning, Message = "Upstream {Upstream} failed for {ResponseId} ({Failure}, status {StatusCode}); falling back to {Fallback}")]
        public static partial void FallingBack(ILogger logger, string upstream, string fallback, string responseId, UpstreamFailure failure, int? statusCode);
    }
}
