using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using ResponsesGateway.Core.Options;
using ResponsesGateway.Core.Retention;

namespace ResponsesGateway.Http.Hosting;

/// <summary>The standalone server's retention schedule (the Functions host uses a timer trigger instead).</summary>
internal sealed class RetentionSweepService(RetentionSweeper sweeper, IOptions<StorageOptions> options) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMinutes(Math.Max(1, options.Value.SweepIntervalMinutes)));
        try
        {
            do
            {
                await sweeper.SweepAsync(stoppingToken);
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException)
        {
            // Host shutting down.
        }
    }
}
