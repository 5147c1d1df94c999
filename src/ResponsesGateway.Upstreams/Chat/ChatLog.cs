using Microsoft.Extensions.Logging;

namespace ResponsesGateway.Upstreams.Chat;

/// <summary>Log messages of the chat upstream (event ids 3xxx). Ids, types and counts only: never bodies or keys.</summary>
internal static partial class ChatLog
{
    [LoggerMessage(EventId = 3001, Level = LogLevel.Debug, Message = "Calling chat upstream {Upstream} for {ResponseId} (stream={Stream})")]
    public static partial void Calling(ILogger logger, string upstream, string responseId, bool stream);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Information, Message = "Skipped input items of type {ItemType}: a Chat Completions upstream has no equivalent")]
    public static partial void SkippedItemType(ILogger logger, string itemType);

    [LoggerMessage(EventId = 3003, Level = LogLevel.Debug, Message = "Skipped a {PartType} content part of a {Role} message: no chat equivalent")]
    public static partial void SkippedContentPart(ILogger logger, string partType, string role);

    [LoggerMessage(EventId = 3004, Level = LogLevel.Warning, Message = "Dropped function call {CallId}: no function_call_output answers it in the input")]
    public static partial void DroppedOrphanCall(ILogger logger, string callId);

    [LoggerMessage(EventId = 3005, Level = LogLevel.Warning, Message = "Dropped function_call_output {CallId}: no function_call with that call_id in the input")]
    public static partial void DroppedOrphanOutput(ILogger logger, string callId);

    [LoggerMessage(EventId = 3006, Level = LogLevel.Information, Message = "json_schema output format sent as json_object to {Upstream}: it does not support json_schema")]
    public static partial void JsonSchemaDowngraded(ILogger logger, string upstream);

    [LoggerMessage(EventId = 3007, Level = LogLevel.Warning, Message = "Dropped a streamed tool call at index {Index} for {ResponseId}: the upstream never sent its name")]
    public static partial void DroppedNamelessToolCall(ILogger logger, int index, string responseId);

    [LoggerMessage(EventId = 3008, Level = LogLevel.Warning, Message = "Chat upstream {Upstream} reported an in-band error for {ResponseId} (code {Code})")]
    public static partial void InBandError(ILogger logger, string upstream, string responseId, string code);

    [LoggerMessage(EventId = 3009, Level = LogLevel.Debug, Message = "Chat upstream {Upstream} finished {ResponseId}: finish_reason={FinishReason}, usage={HasUsage}")]
    public static partial void Finished(ILogger logger, string upstream, string responseId, string finishReason, bool hasUsage);

    [LoggerMessage(EventId = 3010, Level = LogLevel.Information, Message = "Dropped hosted tools {ToolTypes} for {ResponseId}: chat upstream {Upstream} cannot run them")]
    public static partial void DroppedHostedTools(ILogger logger, string toolTypes, string responseId, string upstream);

    [LoggerMessage(EventId = 3011, Level = LogLevel.Information, Message = "Compacting {ItemCount} input items for {ResponseId} on chat upstream {Upstream}")]
    public static partial void Compacting(ILogger logger, string upstream, string responseId, int itemCount);

    [LoggerMessage(EventId = 3012, Level = LogLevel.Warning, Message = "Gateway:CompactionKey is not set: compaction items from chat upstream {Upstream} are sealed with a random key of this process, and cannot be replayed after a restart or on another instance")]
    public static partial void EphemeralCompactionKey(ILogger logger, string upstream);
}
