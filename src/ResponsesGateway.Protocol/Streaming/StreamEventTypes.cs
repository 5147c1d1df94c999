namespace ResponsesGateway.Protocol.Streaming;

/// <summary>The <c>type</c> values of Responses stream events that the gateway reads or writes itself.</summary>
public static class StreamEventTypes
{
    public const string Created = "response.created";
    public const string InProgress = "response.in_progress";
    public const string Queued = "response.queued";
    public const string Completed = "response.completed";
    public const string Incomplete = "response.incomplete";
    public const string Failed = "response.failed";
    public const string Error = "error";
    public const string OutputItemAdded = "response.output_item.added";
    public const string OutputItemDone = "response.output_item.done";
    public const string ContentPartAdded = "response.content_part.added";
    public const string ContentPartDone = "response.content_part.done";
    public const string OutputTextDelta = "response.output_text.delta";
    public const string OutputTextDone = "response.output_text.done";
    public const string RefusalDelta = "response.refusal.delta";
    public const string RefusalDone = "response.refusal.done";
    public const string FunctionCallArgumentsDelta = "response.function_call_arguments.delta";
    public const string FunctionCallArgumentsDone = "response.function_call_arguments.done";
    public const string CustomToolCallInputDelta = "response.custom_tool_call_input.delta";
    public const string CustomToolCallInputDone = "response.custom_tool_call_input.done";
    public const string ReasoningSummaryPartAdded = "response.reasoning_summary_part.added";
    public const string ReasoningSummaryPartDone = "response.reasoning_summary_part.done";
    public const string ReasoningSummaryTextDelta = "response.reasoning_summary_text.delta";
    public const string ReasoningSummaryTextDone = "response.reasoning_summary_text.done";
    public const string ReasoningTextDelta = "response.reasoning_text.delta";
    public const string ReasoningTextDone = "response.reasoning_text.done";

    /// <summary>True for the three lifecycle events that end a stream.</summary>
    public static bool IsTerminal(string? type) => type is Completed or Incomplete or Failed;

    /// <summary>True for lifecycle events that carry a whole <c>response</c> object.</summary>
    public static bool CarriesResponse(string? type) => type is Created or InProgress or Queued or Completed or Incomplete or Failed;
}
