using Azure;
using Azure.Data.Tables;
using Microsoft.Extensions.Logging;
using ResponsesGateway.Core.Storage;

namespace ResponsesGateway.Storage.Tables;

/// <summary>
/// What every store does around its calls to the table: create it once per process (and again if it went away), and
/// turn the SDK's failures into a <see cref="StoreUnavailableException"/> that names only the status and code, logged
/// once. Each store holds its own, named after what it keeps.
/// </summary>
internal sealed partial class TableGuard(TableClient table, ILogger logger, string store)
{
    private readonly SemaphoreSlim _create = new(1, 1);
    private volatile bool _ready;

    public async Task EnsureCreatedAsync(CancellationToken cancellationToken)
    {
        if (_ready)
        {
            return;
        }
        await _create.WaitAsync(cancellationToken);
        try
        {
            if (!_ready)
            {
                await table.CreateIfNotExistsAsync(cancellationToken);
                _ready = true;
            }
        }
        catch (Exception e) when (TableFailures.IsStoreFailure(e, cancellationToken))
        {
            throw Unavailable("create the table", e);
        }
        finally
        {
            _create.Release();
        }
    }

    /// <summary>A write that must happen.</summary>
    public async Task WriteAsync(Func<Task<Response>> write, string operation, CancellationToken cancellationToken)
    {
        try
        {
            await RecreatingTableAsync(write, cancellationToken);
        }
        catch (Exception e) when (TableFailures.IsStoreFailure(e, cancellationToken))
        {
            throw Unavailable(operation, e);
        }
    }

    /// <summary>A write that may lose to another: false when the row is gone or changed (404, 412).</summary>
    public async Task<bool> ConditionalAsync(Func<Task<Response>> write, string operation, CancellationToken cancellationToken)
    {
        try
        {
            await write();
            return true;
        }
        catch (RequestFailedException e) when (e.Status is 404 or 412)
        {
            return false;
        }
        catch (Exception e) when (TableFailures.IsStoreFailure(e, cancellationToken))
        {
            throw Unavailable(operation, e);
        }
    }

    /// <summary>
    /// A write that creates rows, run again once if the table went away after this process created it (deleted, or an
    /// emulator restarted empty): without this, every later write would fail until the process restarts. SDK failures
    /// pass through, for callers that handle them themselves.
    /// </summary>
    public async Task RecreatingTableAsync(Func<Task<Response>> write, CancellationToken cancellationToken)
    {
        try
        {
            await write();
        }
        catch (RequestFailedException e) when (e.Status == 404 && e.ErrorCode == "TableNotFound")
        {
            _ready = false;
            await EnsureCreatedAsync(cancellationToken);
            await write();
        }
    }

    public StoreUnavailableException Unavailable(string operation, Exception e)
    {
        var (status, code) = TableFailures.Describe(e);
        Log.StorageFailed(logger, operation, store, status, code);
        // Not the SDK exception: its message carries request headers, URIs and bodies. Status and code are what an operator needs.
        return new StoreUnavailableException($"Table storage could not {operation} ({store}): HTTP {status} ({code ?? "no answer"}).");
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 4002, Level = LogLevel.Warning, Message = "Table storage failed to {Operation} ({Store}): HTTP {Status} ({Code})")]
        public static partial void StorageFailed(ILogger logger, string operation, string store, int status, string? code);
    }
}
