using ResponsesGateway.Protocol.Streaming;

namespace ResponsesGateway.Core.Background;

/// <summary>
/// The state of one background run, kept beside its turn in the chain's partition. Every change is conditional on
/// <see cref="Version"/>, so the runner, a cancel and a reader that finds the runner dead never overwrite each other:
/// exactly one of them decides how the run ends.
/// </summary>
public sealed record BackgroundRun
{
    public required string Id { get; init; }

    public required string Owner { get; init; }

    /// <summary><see cref="BackgroundStates"/>: queued, in_progress, finishing, or a terminal status.</summary>
    public required string State { get; init; }

    /// <summary>Until when the runner that claimed the run is known to be alive.</summary>
    public DateTimeOffset? LeaseUntil { get; init; }

    /// <summary>The sequence number of the run's last event, once it is terminal (-1 before).</summary>
    public long LastSequence { get; init; } = -1;

    /// <summary>Opaque version (the row's ETag).</summary>
    public string Version { get; init; } = "";

    public bool IsTerminal => BackgroundStates.IsTerminal(State);
}

/// <summary>States of a <see cref="BackgroundRun"/>: the Response statuses, plus <c>finishing</c> while the runner stores the end.</summary>
public static class BackgroundStates
{
    /// <summary>The runner has won the end of the run (a cancel now comes too late) and is storing it.</summary>
    public const string Finishing = "finishing";

    public static bool IsTerminal(string state) => state is ResponseStatuses.Completed or ResponseStatuses.Failed
        or ResponseStatuses.Incomplete or ResponseStatuses.Cancelled;
}
