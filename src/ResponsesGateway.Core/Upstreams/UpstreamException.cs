namespace ResponsesGateway.Core.Upstreams;

/// <summary>How an upstream call failed (YARP's ForwarderError idea).</summary>
public enum UpstreamFailure
{
    /// <summary>No connection could be made.</summary>
    Connect,
    /// <summary>Connect, first-byte, idle or total time ran out.</summary>
    Timeout,
    /// <summary>The upstream answered with a non-success status.</summary>
    BadStatus,
    /// <summary>The body broke off or could not be parsed after the answer started.</summary>
    StreamInterrupted,
    /// <summary>The upstream reported a failure inside a successful answer (an in-band error).</summary>
    InBandError,
}

/// <summary>An upstream call failed; <see cref="Failure"/> says how.</summary>
public sealed class UpstreamException : Exception
{
    public UpstreamException(UpstreamFailure failure, string message, Exception? inner = null)
        : base(message, inner)
    {
        Failure = failure;
    }

    public UpstreamFailure Failure { get; }

    /// <summary>The upstream's HTTP status for <see cref="UpstreamFailure.BadStatus"/>.</summary>
    public int? StatusCode { get; init; }

    /// <summary>The upstream's error body (bounded), for <see cref="UpstreamFailure.BadStatus"/>.</summary>
    public string? Body { get; init; }

    /// <summary>The upstream's error code, when it gave one (in-band errors, error bodies).</summary>
    public string? Code { get; init; }

    /// <summary>The upstream's <c>Retry-After</c>, in seconds.</summary>
    public int? RetryAfterSeconds { get; init; }

    /// <summary>A <see cref="UpstreamFailure.Timeout"/> while opening the connection (nothing was sent): safe to retry.</summary>
    public bool DuringConnect { get; init; }
}
