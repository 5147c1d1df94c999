namespace ResponsesGateway.Core.Pipeline;

/// <summary>
/// The gateway's side of a host shutdown (a deployment, a scale-in). Once stopping, new turns are refused (503, so a
/// load balancer or client retries elsewhere); the turns in flight get <see cref="DrainAsync"/>'s drain time to finish
/// on their own; then <see cref="Cut"/> fires and each remaining stream ends with a well-formed <c>response.failed</c>
/// (<c>server_shutting_down</c>) and is stored <c>failed</c> with what it had generated, instead of being reset by the
/// host with no terminal event and stored as if the client had left.
/// </summary>
public sealed class GatewayShutdown : IDisposable
{
    // Time the cut turns get to write their closing events and store themselves.
    private static readonly TimeSpan ClosingBudget = TimeSpan.FromSeconds(5);

    private readonly CancellationTokenSource _cut = new();
    private readonly object _gate = new();
    private TaskCompletionSource? _idle;
    private int _inFlight;
    private volatile bool _stopping;

    /// <summary>True once the host began stopping: new turns are refused.</summary>
    public bool IsStopping => _stopping;

    /// <summary>Fires when the drain time is over: every turn still running ends now.</summary>
    public CancellationToken Cut => _cut.Token;

    /// <summary>Turns currently running.</summary>
    public int InFlight => Volatile.Read(ref _inFlight);

    /// <summary>Marks the start of a turn; null when stopping (the caller answers 503). Dispose the result when the turn ends.</summary>
    public IDisposable? TryEnter()
    {
        lock (_gate)
        {
            if (_stopping)
            {
                return null;
            }
            _inFlight++;
        }
        return new Turn(this);
    }

    /// <summary>New turns are refused from now on.</summary>
    public void BeginStopping() => _stopping = true;

    /// <summary>
    /// Refuses new turns, waits up to <paramref name="drain"/> for the running ones, then cuts the rest and waits (briefly)
    /// for them to close. <paramref name="cancellationToken"/> is the host's own shutdown deadline.
    /// </summary>
    public async Task DrainAsync(TimeSpan drain, CancellationToken cancellationToken)
    {
        BeginStopping();
        if (!await WaitIdleAsync(drain, cancellationToken))
        {
            await _cut.CancelAsync();
            await WaitIdleAsync(ClosingBudget, cancellationToken);
        }
    }

    public void Dispose() => _cut.Dispose();

    private async Task<bool> WaitIdleAsync(TimeSpan limit, CancellationToken cancellationToken)
    {
        Task idle;
        lock (_gate)
        {
            if (_inFlight == 0)
            {
                return true;
            }
            _idle ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            idle = _idle.Task;
        }
        try
        {
            await idle.WaitAsync(limit, cancellationToken);
            return true;
        }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException)
        {
            return false;
        }
    }

    private void Exit()
    {
        lock (_gate)
        {
            if (--_inFlight == 0 && _idle is { } idle)
            {
                _idle = null;
                idle.TrySetResult();
            }
        }
    }

    private sealed class Turn(GatewayShutdown owner) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                owner.Exit();
            }
        }
    }
}
