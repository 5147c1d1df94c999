using System.Text.Json;
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
        var response = new JsonObject
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
        EchoConversation(response, request);
        Complete(response, body);
        return response;
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
        EchoConversation(response, request);
        Complete(response, request.Body);
    }

    /// <summary>A turn on a conversation says so, as <c>{"id":"conv_…"}</c> whichever form the request used.</summary>
    private static void EchoConversation(JsonObject response, CreateResponseRequest request)
    {
        if (request.ConversationId is { } conversation)
        {
            response["conversation"] = new JsonObject { ["id"] = conversation };
        }
    }

    /// <summary>
    /// Fills in every field the Open Responses <c>ResponseResource</c> requires that <paramref name="response"/> lacks
    /// (README, "Open Responses"): the request's value when it set one, else the documented default or null. A field the
    /// upstream sent is kept as it is, except a null in a field the specification never lets be null, which becomes
    /// that field's default. Each echoed function tool gets <c>description</c>, <c>parameters</c> and
    /// <c>strict</c> (null when not given). <paramref name="requestBody"/> is null for a Response read back from storage.
    /// </summary>
    public static void Complete(JsonObject response, JsonObject? requestBody)
    {
        foreach (var (name, fallback) in Defaults)
        {
            if (response[name] is not null || (response.ContainsKey(name) && !NeverNull.Contains(name)))
            {
                continue;
            }
            // The request parser checks the types of the fields it knows; the penalties it passes through unchecked.
            var echoed = requestBody?[name];
            var usable = echoed is not null && (name is not ("presence_penalty" or "frequency_penalty") || echoed.GetValueKind() == JsonValueKind.Number);
            response[name] = usable ? echoed!.DeepClone() : fallback?.DeepClone();
        }
        // A client's reasoning config echoed as sent ({"summary":"auto"}) still carries both fields.
        if (response["reasoning"] is JsonObject reasoning)
        {
            foreach (var name in ReasoningFields)
            {
                if (!reasoning.ContainsKey(name))
                {
                    reasoning[name] = null;
                }
            }
        }
        foreach (var tool in (response["tools"] as JsonArray ?? []).OfType<JsonObject>())
        {
            if ((string?)tool["type"] != "function")
            {
                continue;
            }
            foreach (var name in FunctionToolFields)
            {
                if (!tool.ContainsKey(name))
                {
                    tool[name] = null;
                }
            }
        }
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

    /// <summary>The fields <see cref="Complete"/> fills in, with the value a Response carries when nothing set them.</summary>
    private static readonly (string Name, JsonNode? Default)[] Defaults =
    [
        ("completed_at", null),
        ("incomplete_details", null),
        ("previous_response_id", null),
        ("instructions", null),
        ("error", null),
        ("tools", new JsonArray()),
        ("tool_choice", "auto"),
        ("truncation", "disabled"),
        ("parallel_tool_calls", true),
        ("text", new JsonObject { ["format"] = new JsonObject { ["type"] = "text" } }),
        ("top_p", 1.0),
        ("presence_penalty", 0.0),
        ("frequency_penalty", 0.0),
        ("top_logprobs", 0),
        ("temperature", 1.0),
        ("reasoning", null),
        ("usage", null),
        ("max_output_tokens", null),
        ("max_tool_calls", null),
        ("background", false),
        ("service_tier", "default"),
        ("metadata", new JsonObject()),
        ("safety_identifier", null),
        ("prompt_cache_key", null),
    ];

    /// <summary>Fields the specification never lets be null: a null from the upstream becomes the default.</summary>
    private static readonly HashSet<string> NeverNull =
        ["tools", "tool_choice", "truncation", "parallel_tool_calls", "text", "top_p", "presence_penalty", "frequency_penalty", "top_logprobs", "temperature", "background", "service_tier"];

    /// <summary>What <c>FunctionTool</c> requires besides <c>type</c> and <c>name</c>; each nullable.</summary>
    private static readonly string[] FunctionToolFields = ["description", "parameters", "strict"];

    private static readonly string[] ReasoningFields = ["effort", "summary"];

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
