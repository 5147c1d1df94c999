using Microsoft.Extensions.Logging;

namespace ResponsesGateway.Core.Pipeline;

public sealed partial class ResponsesService
{
    // Event ids 1xxx: pipeline. Never log bodies, keys or item contents: ids, names, statuses and timings only.
    private static partial class Log
    {
        // Per-request lines are Debug: at thousands of requests per second, Information-level console logging was the
        // gateway's largest CPU cost (docs/benchmarks.md). Failures and timeouts stay at Warning and above.
        [LoggerMessage(EventId = 1001, Level = LogLevel.Debug, Message = "Creating {ResponseId} for {Tenant} via {Upstream} (stream={Stream}, store={Store}, chainDepth={ChainDepth})")]
        public static partial void Creating(ILogger logger, string responseId, string tenant, string upstream, bool stream, bool store, int chainDepth);

        [LoggerMessage(EventId = 1002, Level = LogLevel.Debug, Message = "Finished {ResponseId} with status {Status}")]
        public static partial void Finished(ILogger logger, string responseId, string status);

        [LoggerMessage(EventId = 1003, Level = LogLevel.Warning, Message = "Upstream {Upstream} failed for {ResponseId}: {Failure} (status {StatusCode})")]
        public static partial void UpstreamFailed(ILogger logger, string upstream, string responseId, Upstreams.UpstreamFailure failure, int? statusCode);

        [LoggerMessage(EventId = 1004, Level = LogLevel.Debug, Message = "Client went away during {ResponseId}")]
        public static partial void ClientGone(ILogger logger, string responseId);

        [LoggerMessage(EventId = 1005, Level = LogLevel.Error, Message = "Could not store {ResponseId}")]
        public static partial void StoreFailed(ILogger logger, string responseId, Exception exception);

        // The one log line with a body in it, at Debug: an upstream's error body is what the operator needs to fix a
        // rejected request, and the client no longer sees it (UpstreamClientErrors).
        [LoggerMessage(EventId = 1007, Level = LogLevel.Debug, Message = "Upstream {Upstream} answered {StatusCode} for {ResponseId}: {UpstreamBody}")]
        public static partial void UpstreamRejected(ILogger logger, string upstream, string responseId, int? statusCode, string upstreamBody);

        [LoggerMessage(EventId = 1008, Level = LogLevel.Warning, Message = "Request {ResponseId} was cut by the host shutting down")]
        public static partial void CutByShutdown(ILogger logger, string responseId);

        [LoggerMessage(EventId = 1006, Level = LogLevel.Warning, Message = "Request {ResponseId} ran out of time")]
        public static partial void TimedOut(ILogger logger, string responseId);
    }
}
