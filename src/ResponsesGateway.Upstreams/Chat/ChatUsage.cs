using System.Text.Json.Nodes;

namespace ResponsesGateway.Upstreams.Chat;

/// <summary>Chat <c>usage</c> → Responses <c>usage</c> (chat-translation.md §2).</summary>
internal static class ChatUsage
{
    public static JsonObject Map(JsonObject usage)
    {
        var input = Count(usage["prompt_tokens"]);
        var output = Count(usage["completion_tokens"]);
        var promptDetails = usage["prompt_tokens_details"] as JsonObject;
        // DeepSeek reports cache hits as prompt_cache_hit_tokens instead of prompt_tokens_details.cached_tokens.
        var cached = Count(promptDetails?["cached_tokens"]) ?? Count(usage["prompt_cache_hit_tokens"]) ?? 0;
        var reasoning = Count((usage["completion_tokens_details"] as JsonObject)?["reasoning_tokens"]) ?? 0;
        return new JsonObject
        {
            ["input_tokens"] = input ?? 0,
            // cache_write_tokens: required by the newest spec, absent from older traffic; emitting it is harmless (responses-api.md §9.3).
            ["input_tokens_details"] = new JsonObject { ["cached_tokens"] = cached, ["cache_write_tokens"] = Count(promptDetails?["cache_write_tokens"]) ?? 0 },
            ["output_tokens"] = output ?? 0,
            ["output_tokens_details"] = new JsonObject { ["reasoning_tokens"] = reasoning },
            ["total_tokens"] = Count(usage["total_tokens"]) ?? (input ?? 0) + (output ?? 0),
        };
    }

    private static long? Count(JsonNode? node) => node is JsonValue value && value.TryGetValue<long>(out var n) ? n
        : node is JsonValue d && d.TryGetValue<double>(out var x) ? (long)x : null;
}
