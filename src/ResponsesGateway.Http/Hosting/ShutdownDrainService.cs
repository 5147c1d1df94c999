using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using ResponsesGateway.Core.Options;
using ResponsesGateway.Core.Pipeline;

namespace ResponsesGateway.Http.Hosting;

/// <summary>
/// Drains the gateway when the host stops, in both hosts. New turns are refused from <c>ApplicationStopping</c>; the
/// drain runs in <see cref="StoppingAsync"/>, which the host awaits before it stops any hosted service, the HTTP
/// server included, so the server still answers (503 to new turns, events to running streams) while it lasts.
/// </summary>
internal sealed class ShutdownDrainService(GatewayShutdown shutdown, IHostApplicationLifetime lifetime, IOptions<GatewayOptions> options) : IHostedLifecycleService
{
    private CancellationTokenRegistration _stopping;

    public Task StartingAsync(CancellationToken cancellationToken)
    {
        _stopping = lifetime.ApplicationStopping.Register(shutdown.BeginStopping);
        return Task.CompletedTask;
    }

    public Task StoppingAsync(CancellationToken cancellationToken) =>
        shutdown.DrainAsync(TimeSpan.FromSeconds(options.Value.ShutdownDrainSeconds), cancellationToken);

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken)
    {
        _stopping.Dispose();
        return Task.CompletedTask;
    }
}
