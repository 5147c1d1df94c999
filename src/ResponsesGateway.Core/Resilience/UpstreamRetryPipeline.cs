using Microsoft.Extensions.Logging;
using Polly;
using Polly.Retry;
using ResponsesGateway.Core.Options;
using ResponsesGateway.Core.Upstreams;

namespace ResponsesGateway.Core.Resilience;

/// <summary>
/// The retry strategy around one upstream call, before anything reached the client: jittered exponential back-off
/// from <see cref="GatewayOptions.UpstreamRetryDelaySeconds"/>, at most <see cref="GatewayOptions.UpstreamMaxRetries"/>
/// retries of a transient failure (<see cref="UpstreamFailures.IsTransient"/>). An upstream <c>Retry-After</c> is
/// honoured up to <see cref="GatewayOptions.UpstreamMaxRetryDelaySeconds"/>; a longer one is not waited for at all:
/// the client gets the 429 and the <c>Retry-After</c> at once, rather than the same answer after a long wait.
/// </summary>
internal static partial class UpstreamRetryPipeline
{
    public static readonly ResiliencePropertyKey<string> UpstreamName = new("upstream");
    public static readonly ResiliencePropertyKey<string> ResponseId = new("response-id");

    public static ResiliencePipeline Build(GatewayOptions options, TimeProvider time, ILogger logger)
    {
        if (options.UpstreamMaxRetries <= 0)
        {
            return ResiliencePipeline.Empty;
        }
        var cap = TimeSpan.FromSeconds(options.UpstreamMaxRetryDelaySeconds);
        return new ResiliencePipelineBuilder { TimeProvider = time }
            .AddRetry(new RetryStrategyOptions
            {
                MaxRetryAttempts = options.UpstreamMaxRetries,
                Delay = TimeSpan.FromSeconds(options.UpstreamRetryDelaySeconds),
                MaxDelay = cap,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                ShouldHandle = args => ValueTask.FromResult(
                    args.Outcome.Exception is UpstreamException e && UpstreamFailures.IsTransient(e) && !(RetryAfter(e) > cap)),
                // The upstream knows best when it can take the call again; null falls back to the jittered back-off.
                DelayGenerator = args => ValueTask.FromResult(args.Outcome.Exception is UpstreamException e && RetryAfter(e) is { } after ? after : (TimeSpan?)null),
                OnRetry = args =>
                {
                    var e = args.Outcome.Exception as UpstreamException;
                    Log.Retrying(logger, args.Context.Properties.GetValue(UpstreamName, ""), args.Context.Properties.GetValue(ResponseId, ""),
                        e?.Failure, e?.StatusCode, args.AttemptNumber + 1, (long)args.RetryDelay.TotalMilliseconds);
                    return ValueTask.CompletedTask;
                },
            })
            .Build();
    }

    private static TimeSpan? RetryAfter(UpstreamException e) => e.RetryAfterSeconds is { } seconds ? TimeSpan.FromSeconds(seconds) : null;

    private static partial class Log
    {
        [LoggerMessage(EventId = 1201, Level = LogLevel.Warning, Message = "Retrying upstream {Upstream} for {ResponseId} after {Failure} (status {StatusCode}): retry {Retry} in {DelayMs} ms")]
        public static partial void Retrying(ILogger logger, string upstream, string responseId, UpstreamFailure? failure, int? statusCode, int retry, long delayMs);
    }
}
