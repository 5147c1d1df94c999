using Azure;
using Azure.Identity;

namespace ResponsesGateway.Storage.Tables;

/// <summary>Which exceptions of the SDK mean "the store could not do it", as opposed to the caller giving up.</summary>
internal static class TableFailures
{
    /// <summary>
    /// A service error, a transport failure (the retry policy wraps several in an <see cref="AggregateException"/>), a
    /// credential that yields no token, or the SDK's network timeout, which surfaces as a cancellation nobody asked for.
    /// </summary>
    public static bool IsStoreFailure(Exception e, CancellationToken cancellationToken) => e switch
    {
        RequestFailedException or AuthenticationFailedException => true,
        OperationCanceledException => !cancellationToken.IsCancellationRequested,
        AggregateException aggregate => aggregate.InnerExceptions.All(inner => IsStoreFailure(inner, cancellationToken)),
        _ => false,
    };

    /// <summary>The HTTP status and service error code, or 0 and null when nothing answered.</summary>
    public static (int Status, string? Code) Describe(Exception e) => e switch
    {
        RequestFailedException failed => (failed.Status, failed.ErrorCode),
        AggregateException aggregate => Describe(aggregate.InnerExceptions[^1]),
        _ => (0, null),
    };
}
