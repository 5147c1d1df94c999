using System.Diagnostics;
using ResponsesGateway.Core.Storage;

namespace ResponsesGateway.Core.Telemetry;

/// <summary>
/// Decorates the response store (whatever implements it) with a span and a duration measurement per operation, so
/// the store itself carries no telemetry. Registered around the store by the composition root.
/// </summary>
public sealed class InstrumentedResponseStore(IResponseStore inner) : IResponseStore
{
    public IResponseStore Inner { get; } = inner;

    public Task SaveAsync(StoredResponse response, CancellationToken cancellationToken) =>
        RunAsync("save", Inner, response, static (store, r, ct) => AsBool(store.SaveAsync(r, ct)), cancellationToken);

    public Task<StoredResponse?> GetAsync(string owner, string id, CancellationToken cancellationToken) =>
        RunAsync("get", Inner, (owner, id), static (store, k, ct) => store.GetAsync(k.owner, k.id, ct), cancellationToken);

    public Task<IReadOnlyList<StoredResponse>?> GetChainAsync(string owner, string id, CancellationToken cancellationToken) =>
        RunAsync("get_chain", Inner, (owner, id), static (store, k, ct) => store.GetChainAsync(k.owner, k.id, ct), cancellationToken);

    // Every member is forwarded, the bounded read included: the interface's default for it would drop the bound
    // (Gateway:MaxChainBytes) and decode a chain of any size.
    public Task<IReadOnlyList<StoredResponse>?> GetChainAsync(string owner, string id, long maxBytes, CancellationToken cancellationToken) =>
        RunAsync("get_chain", Inner, (owner, id, maxBytes), static (store, k, ct) => store.GetChainAsync(k.owner, k.id, k.maxBytes, ct), cancellationToken);

    public Task<bool> IsVisibleAsync(string owner, string id, CancellationToken cancellationToken) =>
        RunAsync("is_visible", Inner, (owner, id), static (store, k, ct) => store.IsVisibleAsync(k.owner, k.id, ct), cancellationToken);

    public Task<bool> DeleteAsync(string owner, string id, CancellationToken cancellationToken) =>
        RunAsync("delete", Inner, (owner, id), static (store, k, ct) => store.DeleteAsync(k.owner, k.id, ct), cancellationToken);

    public Task<int> SweepAsync(DateTimeOffset cutoff, CancellationToken cancellationToken) =>
        RunAsync("sweep", Inner, cutoff, static (store, c, ct) => store.SweepAsync(c, ct), cancellationToken);

    private static async Task<bool> AsBool(Task task)
    {
        await task.ConfigureAwait(false);
        return true;
    }

    private static async Task<T> RunAsync<TState, T>(string operation, IResponseStore store, TState state,
        Func<IResponseStore, TState, CancellationToken, Task<T>> call, CancellationToken cancellationToken)
    {
        if (!GatewayTelemetry.Source.HasListeners() && !GatewayMetrics.StorageDuration.Enabled)
        {
            return await call(store, state, cancellationToken).ConfigureAwait(false);
        }
        var started = Stopwatch.GetTimestamp();
        using var activity = GatewayTelemetry.Source.StartActivity("storage " + operation, ActivityKind.Internal);
        activity?.SetTag(TelemetryTags.DbOperation, operation);
        string? errorType = null;
        try
        {
            return await call(store, state, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            errorType = e is StoreUnavailableException ? "store_unavailable" : e is OperationCanceledException ? "cancelled" : e.GetType().Name;
            activity?.SetTag(TelemetryTags.ErrorType, errorType);
            activity?.SetStatus(ActivityStatusCode.Error, errorType);
            throw;
        }
        finally
        {
            if (GatewayMetrics.StorageDuration.Enabled)
            {
                var tags = new TagList { { TelemetryTags.DbOperation, operation } };
                if (errorType is not null)
                {
                    tags.Add(TelemetryTags.ErrorType, errorType);
                }
                GatewayMetrics.StorageDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, tags);
            }
        }
    }
}
