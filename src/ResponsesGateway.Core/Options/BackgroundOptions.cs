namespace ResponsesGateway.Core.Options;

/// <summary>
/// Background responses (<c>background: true</c>), bound from <c>Background</c>: the queue that carries the runs, how
/// the runner writes events to storage, and how a dead runner is detected.
/// </summary>
public sealed class BackgroundOptions
{
    public const string SectionName = "Background";

    /// <summary>The storage queue of background runs (Storage:ConnectionString's account, or <see cref="QueueEndpoint"/>).</summary>
    public string QueueName { get; set; } = "responses-background";

    /// <summary><c>https://account.queue.core.windows.net</c>, reached with a managed identity; used when no connection string is set.</summary>
    public string? QueueEndpoint { get; set; }

    /// <summary>Events the runner writes to storage at once: a batch is written when it holds this many events.</summary>
    public int EventBatchSize { get; set; } = 32;

    /// <summary>Or when its oldest event has waited this long, whichever comes first.</summary>
    public int EventBatchMilliseconds { get; set; } = 250;

    /// <summary>
    /// Seconds a runner's claim on a run lasts; the runner renews it every third of that. A run whose lease has run out
    /// (the worker died) ends <c>failed</c> as soon as anything looks at it; it is never run again.
    /// </summary>
    public double LeaseSeconds { get; set; } = 60;

    /// <summary>Longest wait between two reads of the event log while a resumed stream tails a live run.</summary>
    public int PollMilliseconds { get; set; } = 1000;

    /// <summary>Standalone server only: whether this instance consumes the queue (the Functions app uses its queue trigger).</summary>
    public bool Runner { get; set; } = true;

    /// <summary>Standalone server only: runs one instance executes at once.</summary>
    public int MaxConcurrentRuns { get; set; } = 8;

    /// <summary>Standalone server only: deliveries of one message before it goes to the poison queue (Functions: host.json).</summary>
    public int MaxDequeueCount { get; set; } = 5;
}
