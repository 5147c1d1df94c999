using Microsoft.Azure.Functions.Worker;
using ResponsesGateway.Core.Retention;

namespace ResponsesGateway.Functions;

/// <summary>
/// The retention sweep, hourly. (The standalone server uses Storage:SweepIntervalMinutes; a timer trigger's schedule
/// is fixed at deployment, and hourly is frequent enough for a retention counted in days.)
/// </summary>
public sealed class RetentionFunction(RetentionSweeper sweeper)
{
    [Function("RetentionSweep")]
    public Task Run([TimerTrigger("0 0 * * * *")] TimerInfo timer, CancellationToken cancellationToken) =>
        sweeper.SweepAsync(cancellationToken);
}
