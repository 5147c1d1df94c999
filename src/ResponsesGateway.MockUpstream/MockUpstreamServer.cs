using System.Diagnostics;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace ResponsesGateway.MockUpstream;

/// <summary>
/// A real Kestrel HTTP server on the loopback interface that speaks the OpenAI Responses and Chat Completions
/// protocols with deterministic content, and misbehaves on request (see README.md of this project).
/// </summary>
public sealed class MockUpstreamServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly object _requestsLock = new();
    private readonly LinkedList<RecordedRequest> _requests = new();
    private readonly object _abortLock = new();
    private int _aborted;
    private int _abortsObserved;
    private TaskCompletionSource _abortSignal = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _disposed;

    private MockUpstreamServer(WebApplication app, MockUpstreamOptions options)
    {
        _app = app;
        Options = options;
        BaseUrl = new Uri("http://127.0.0.1/v1"); // replaced once the server is bound
    }

    /// <summary>Starts a server on 127.0.0.1 (<see cref="MockUpstreamOptions.Port"/>, 0 = a free port).</summary>
    public static Task<MockUpstreamServer> StartAsync(MockUpstreamOptions? options = null, CancellationToken ct = default)
    {
        options ??= new MockUpstreamOptions();
        return StartCoreAsync(options, [new IPEndPoint(IPAddress.Loopback, options.Port)], standalone: false, ct);
    }

    internal static async Task<MockUpstreamServer> StartCoreAsync(
        MockUpstreamOptions options, IReadOnlyList<IPEndPoint> endpoints, bool standalone, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(options);
        MockUpstreamServer? server = null;
        var app = MockUpstreamApp.Build(endpoints, standalone, () => server!);
        server = new MockUpstreamServer(app, options);
        try
        {
            await app.StartAsync(ct).ConfigureAwait(false);
        }
        catch
        {
            await app.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses;
        var first = addresses?.FirstOrDefault() ?? throw new InvalidOperationException("The mock upstream did not report a bound address.");
        var bound = new Uri(first.Replace("[::]", "127.0.0.1", StringComparison.Ordinal).Replace("0.0.0.0", "127.0.0.1", StringComparison.Ordinal));
        server.BaseUrl = new Uri($"{bound.Scheme}://{bound.Authority}/v1");
        return server;
    }

    /// <summary>Base URL of the OpenAI-style API, e.g. <c>http://127.0.0.1:54321/v1</c> (no trailing slash).</summary>
    public Uri BaseUrl { get; private set; }

    /// <summary>The live options (read per request).</summary>
    public MockUpstreamOptions Options { get; }

    /// <summary>Snapshot of the recorded requests, in arrival order (bounded by <see cref="MockUpstreamOptions.MaxRecordedRequests"/>).</summary>
    public IReadOnlyList<RecordedRequest> Requests
    {
        get
        {
            lock (_requestsLock)
            {
                return [.. _requests];
            }
        }
    }

    /// <summary>The most recent request, or null.</summary>
    public RecordedRequest? LastRequest
    {
        get
        {
            lock (_requestsLock)
            {
                return _requests.Last?.Value;
            }
        }
    }

    /// <summary>Number of requests whose client went away before the mock finished writing its response.</summary>
    public int AbortedRequests => Volatile.Read(ref _aborted);

    /// <summary>
    /// Completes with true as soon as <see cref="AbortedRequests"/> exceeds the number of aborts already observed
    /// (by earlier successful calls of this method, or at the last <see cref="ClearRequests"/>), false on timeout.
    /// An abort that happened just before the call therefore still counts.
    /// </summary>
    public async Task<bool> WaitForAbortAsync(TimeSpan timeout)
    {
        var sw = Stopwatch.StartNew();
        while (true)
        {
            Task signal;
            lock (_abortLock)
            {
                if (_aborted > _abortsObserved)
                {
                    _abortsObserved++;
                    return true;
                }

                signal = _abortSignal.Task;
            }

            var remaining = timeout - sw.Elapsed;
            if (remaining <= TimeSpan.Zero)
            {
                return false;
            }

            using var cts = new CancellationTokenSource();
            var delay = Task.Delay(remaining, cts.Token);
            var winner = await Task.WhenAny(signal, delay).ConfigureAwait(false);
            await cts.CancelAsync().ConfigureAwait(false);
            if (winner != signal)
            {
                lock (_abortLock)
                {
                    if (_aborted > _abortsObserved)
                    {
                        _abortsObserved++;
                        return true;
                    }
                }

                return false;
            }
        }
    }

    /// <summary>Forgets the recorded requests and takes the current abort count as the baseline of <see cref="WaitForAbortAsync"/>.</summary>
    public void ClearRequests()
    {
        lock (_requestsLock)
        {
            _requests.Clear();
        }

        lock (_abortLock)
        {
            _abortsObserved = _aborted;
        }
    }

    /// <summary>Stops the server (in-flight streams are cut) and releases the port.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        using (var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5)))
        {
            try
            {
                await _app.StopAsync(cts.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // shutdown timeout: connections are dropped by DisposeAsync below
            }
        }

        await _app.DisposeAsync().ConfigureAwait(false);
    }

    internal Task WaitForShutdownAsync() => _app.WaitForShutdownAsync();

    internal void Record(RecordedRequest request)
    {
        lock (_requestsLock)
        {
            _requests.AddLast(request);
            var max = Math.Max(0, Options.MaxRecordedRequests);
            while (_requests.Count > max)
            {
                _requests.RemoveFirst();
            }
        }
    }

    internal void OnClientAborted()
    {
        TaskCompletionSource signal;
        lock (_abortLock)
        {
            _aborted++;
            signal = _abortSignal;
            _abortSignal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        signal.TrySetResult();
    }
}
