using System.Text.Json.Nodes;
using ResponsesGateway.Core.Requests;
using ResponsesGateway.Protocol.Streaming;

namespace ResponsesGateway.Core.Responses;

/// <summary>
/// Builds Response objects the gateway owns (translated upstreams, synthesized failures) with every field of the
/// wire (nulls where unset), echoing the request's settings the way api.openai.com does.
/// </summary>
public static class ResponseObjects
{
    /// <summary>A Response with no output yet, in <paramref name="status"/>.</summary>
    public static JsonObject Create(CreateResponseRequest request, string id, long createdAt, string status, string? model = null)
    {
        var body = request.Body;
        return new JsonObject
        {
            ["id"] = id,
            ["object"] = "response",
            ["created_at"] = createdAt,
            ["status"] = status,
            ["background"] = false,
            ["completed_at"] = null,
            ["error"] = null,
            ["incomplete_details"] = null,
            ["instructions"] = Echo(body, "instructions"),
            ["max_output_tokens"] = Echo(body, "max_output_tokens"),
            ["max_tool_calls"] = Echo(body, "max_tool_calls"),
            ["model"] = model ?? request.Model,
            ["output"] = new JsonArray(),
            ["parallel_tool_calls"] = Echo(body, "parallel_tool_calls") ?? true,
            ["previous_response_id"] = Echo(body, "previous_response_id"),
            ["prompt_cache_key"] = Echo(body, "prompt_cache_key"),
            ["reasoning"] = Echo(body, "reasoning") ?? new JsonObject { ["effort"] = null, ["summary"] = null },
            ["safety_identifier"] = Echo(body, "safety_identifier"),
            ["service_tier"] = Echo(body, "service_tier") ?? "default",
            ["store"] = request.Store,
            ["temperature"] = Echo(body, "temperature") ?? 1.0,
            ["text"] = EchoText(body),
            ["tool_choice"] = Echo(body, "tool_choice") ?? "auto",
            ["tools"] = Echo(body, "tools") ?? new JsonArray(),
            ["top_logprobs"] = Echo(body, "top_logprobs") ?? 0,
            ["top_p"] = Echo(body, "top_p") ?? 1.0,
            ["truncation"] = Echo(body, "truncation") ?? "disabled",
            ["usage"] = null,
            ["user"] = Echo(body, "user"),
            ["metadata"] = Echo(body, "metadata") ?? new JsonObject(),
        };
    }

    /// <summary>
    /// Stamps the gateway's view on a Response that came from an upstream: the gateway's id and creation time, and the
    /// client's <c>store</c> and <c>previous_response_id</c> (the upstream was called with neither).
    /// </summary>
    public static void ApplyGatewayEcho(JsonObject response, string id, long createdAt, CreateResponseRequest request)
    {
        response["id"] = id;
        response["created_at"] = createdAt;
        response["store"] = request.Store;
        response["previous_response_id"] = request.PreviousResponseId;
    }

    /// <summary>Marks a Response terminal with the given status, error and reason.</summary>
    public static void Finish(JsonObject response, string status, long now, JsonObject? error = null, string? incompleteReason = null)
    {
        response["status"] = status;
        response["completed_at"] = status == ResponseStatuses.Completed ? now : null;
        response["error"] = error;
        response["incomplete_details"] = incompleteReason is null ? null : new JsonObject { ["reason"] = incompleteReason };
    }

    /// <summary><c>{"code","message"}</c> as <c>Response.error</c> holds it.</summary>
    public static JsonObject Error(string code, string message) => new() { ["code"] = code, ["message"] = message };

    private static JsonNode? Echo(JsonObject body, string name) => body[name]?.DeepClone();

    private static JsonObject EchoText(JsonObject body)
    {
        var text = body["text"] as JsonObject;
        var echo = new JsonObject
        {
            ["format"] = text?["format"]?.DeepClone() ?? new JsonObject { ["type"] = "text" },
            ["verbosity"] = text?["verbosity"]?.DeepClone() ?? "medium",
        };
        return echo;
    }
}
