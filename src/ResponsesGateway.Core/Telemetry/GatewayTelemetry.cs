using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace ResponsesGateway.Core.Telemetry;

/// <summary>
/// The gateway's one <see cref="ActivitySource"/> and one <see cref="Meter"/>. Both cost next to nothing while no
/// listener is attached (no exporter configured): <see cref="ActivitySource.StartActivity(string, ActivityKind)"/>
/// returns null and instruments without a listener skip their measurements. See docs/observability.md.
/// </summary>
public static class GatewayTelemetry
{
    /// <summary>Name of the activity source and of the meter, for <c>AddSource</c> / <c>AddMeter</c>.</summary>
    public const string Name = "ResponsesGateway";

    public static readonly ActivitySource Source = new(Name, typeof(GatewayTelemetry).Assembly.GetName().Version?.ToString());

    public static readonly Meter Meter = new(Name, typeof(GatewayTelemetry).Assembly.GetName().Version?.ToString());
}
