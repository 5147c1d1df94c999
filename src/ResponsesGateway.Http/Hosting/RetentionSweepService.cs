using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using ResponsesGateway.Core.Options;
using ResponsesGateway.Core.Retention;

namespace ResponsesGateway.Http.Hosting;

/// <summary>The standalone server's retention schedule (the Functions host uses a timer trigger instead).</summary>
internal sealed class RetentionSweepService(RetentionSweeper sweeper, IOptions<StorageOptions> options) : BackgroundService
{
    private static readonly TimeSpan FirstSweepDelay = TimeSpan.FromSeconds(30);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMinutes(Math.Max(1, options.Value.SweepIntervalMinutes)));
        try
        {
            // The first sweep waits a little: at start it competed with the first requests for the CPU (tens of ms of
            // the time to the first answer on 2 cores), and nothing expires in the first seconds of a process.
            await Task.Delay(FirstSweepDelay, stoppingToken);
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
