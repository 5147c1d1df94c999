namespace ResponsesGateway.Protocol.Streaming;

/// <summary>The closed set of <c>Response.status</c> values (the .NET SDK throws on anything else).</summary>
public static class ResponseStatuses
{
    public const string Queued = "queued";
    public const string InProgress = "in_progress";
    public const string Completed = "completed";
    public const string Incomplete = "incomplete";
    public const string Failed = "failed";
    public const string Cancelled = "cancelled";
}
