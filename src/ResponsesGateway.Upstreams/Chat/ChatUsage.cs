using System.Text.Json;
using System.Text.Json.Nodes;

namespace ResponsesGateway.Upstreams.Chat;

/// <summary>Chat <c>usage</c> → Responses <c>usage</c> (docs/architecture.md, chat rule R11).</summary>
internal static class ChatUsage
{
    public static JsonObject Map(JsonElement usage)
    {
        var input = Count(JsonText.Get(usage, "prompt_tokens"));
        var output = Count(JsonText.Get(usage, "completion_tokens"));
        var promptDetails = JsonText.Get(usage, "prompt_tokens_details");
        // DeepSeek reports cache hits as prompt_cache_hit_tokens instead of prompt_tokens_details.cached_tokens.
        var cached = Count(JsonText.Get(promptDetails, "cached_tokens")) ?? Count(JsonText.Get(usage, "prompt_cache_hit_tokens")) ?? 0;
        var reasoning = Count(JsonText.Get(JsonText.Get(usage, "completion_tokens_details"), "reasoning_tokens")) ?? 0;
        return new JsonObject
        {
            ["input_tokens"] = input ?? 0,
            // cache_write_tokens: required by the newest Open Responses schema, absent from older traffic; emitting it is harmless.
            ["input_tokens_details"] = new JsonObject { ["cached_tokens"] = cached, ["cache_write_tokens"] = Count(JsonText.Get(promptDetails, "cache_write_tokens")) ?? 0 },
            ["output_tokens"] = output ?? 0,
            ["output_tokens_details"] = new JsonObject { ["reasoning_tokens"] = reasoning },
            ["total_tokens"] = Count(JsonText.Get(usage, "total_tokens")) ?? (input ?? 0) + (output ?? 0),
        };
    }

    private static long? Count(JsonElement element) => element.ValueKind != JsonValueKind.Number ? null
        : element.TryGetInt64(out var n) ? n
        : element.TryGetDouble(out var x) ? (long)x : null;
}
