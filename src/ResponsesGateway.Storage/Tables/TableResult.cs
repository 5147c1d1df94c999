using Azure;

namespace ResponsesGateway.Storage.Tables;

/// <summary>
/// Outcome of a table operation. Expected storage states (missing, conflict, stale ETag, throttling,
/// unreachable endpoint, bad credentials) come back here instead of as exceptions; only caller
/// cancellation and programming errors (invalid arguments) throw.
/// </summary>
public class TableResult
{
    internal TableResult(TableResultStatus status, int httpStatus, string? errorCode, string? errorMessage, ETag? etag)
    {
        Status = status;
        HttpStatus = httpStatus;
        ErrorCode = errorCode;
        ErrorMessage = errorMessage;
        ETag = etag;
    }

    public TableResultStatus Status { get; }

    /// <summary>The HTTP status of the final response, or 0 when no response was received.</summary>
    public int HttpStatus { get; }

    /// <summary>The storage error code (e.g. <c>EntityAlreadyExists</c>), when the service sent one.</summary>
    public string? ErrorCode { get; }

    /// <summary>A human-readable description of the failure; never contains keys or tokens.</summary>
    public string? ErrorMessage { get; }

    /// <summary>The entity's new ETag after a successful write, when the service returned one.</summary>
    public ETag? ETag { get; }

    public bool IsOk => Status == TableResultStatus.Ok;

    public override string ToString() => IsOk
        ? $"Ok ({HttpStatus})"
        : $"{Status} ({HttpStatus}{(ErrorCode is null ? "" : ", " + ErrorCode)}): {ErrorMessage}";
}

/// <summary>Outcome of a table operation that produces a value when it succeeds.</summary>
public sealed class TableResult<T> : TableResult
{
    internal TableResult(TableResultStatus status, int httpStatus, string? errorCode, string? errorMessage, ETag? etag, T? value)
        : base(status, httpStatus, errorCode, errorMessage, etag)
    {
        Value = value;
    }

    /// <summary>The value; set only when <see cref="TableResult.IsOk"/> is true.</summary>
    public T? Value { get; }
}
