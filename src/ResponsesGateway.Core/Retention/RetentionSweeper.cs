using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ResponsesGateway.Core.Conversations;
using ResponsesGateway.Core.Options;
using ResponsesGateway.Core.Storage;

namespace ResponsesGateway.Core.Retention;

/// <summary>
/// Deletes chains older than the retention period. Both hosts run it on a schedule: a timer trigger in Functions,
/// a background service in the standalone server.
/// </summary>
public sealed partial class RetentionSweeper(IResponseStore store, IOptions<StorageOptions> options, TimeProvider time, ILogger<RetentionSweeper> logger,
    IConversationStore? conversations = null)
{
    public async Task<int> SweepAsync(CancellationToken cancellationToken)
    {
        var cutoff = time.GetUtcNow() - TimeSpan.FromDays(options.Value.RetentionDays);
        try
        {
            var removed = await store.SweepAsync(cutoff, cancellationToken);
            Log.Swept(logger, removed, cutoff);
            if (conversations is not null)
            {
                // Conversations idle since the cutoff go too; they are counted apart (they are not responses).
                Log.SweptConversations(logger, await conversations.SweepAsync(cutoff, cancellationToken), cutoff);
            }
            return removed;
        }
        catch (StoreUnavailableException e)
        {
            Log.SweepFailed(logger, e);
            return 0;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1101, Level = LogLevel.Information, Message = "Retention sweep removed {Count} stored responses older than {Cutoff}")]
        public static partial void Swept(ILogger logger, int count, DateTimeOffset cutoff);

        [LoggerMessage(EventId = 1103, Level = LogLevel.Information, Message = "Retention sweep removed {Count} conversations idle since {Cutoff}")]
        public static partial void SweptConversations(ILogger logger, int count, DateTimeOffset cutoff);

        [LoggerMessage(EventId = 1102, Level = LogLevel.Warning, Message = "Retention sweep could not reach the store")]
        public static partial void SweepFailed(ILogger logger, Exception exception);
    }
}
