using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using ResponsesGateway.Core.Errors;
using ResponsesGateway.Core.Upstreams;

namespace ResponsesGateway.Upstreams.Chat;

/// <summary>
/// Builds the <c>/chat/completions</c> body from the Responses body the pipeline prepared (chat-translation.md §1).
/// Runs before any HTTP call, so what the upstream cannot do (built-in tools) is a 400 naming the tool, not an
/// upstream error. Free-form <c>custom</c> tools become function tools (<see cref="ChatCustomTools"/>). Parameters with no chat meaning (<c>store</c>, <c>include</c>, <c>truncation</c>, <c>metadata</c>…)
/// are not sent: a strict compatible server would reject them.
/// </summary>
internal static class ChatRequestMapper
{
    public static JsonObject Map(UpstreamRequest request, ChatCapabilities capabilities, string upstreamName, bool stream, ILogger logger)
    {
        var body = request.Body;
        var chat = new JsonObject { ["model"] = JsonText.Of(body["model"]) ?? request.Original.Model };

        var tools = MapTools(body["tools"] as JsonArray, upstreamName);
        var toolChoice = MapToolChoice(body["tool_choice"], ref tools, upstreamName);

        var clientOffset = body["input"] is JsonArray all ? Math.Max(0, all.Count - request.Original.Input.Count) : 0;
        chat["messages"] = new ChatMessageBuilder(capabilities, logger, clientOffset).Build(JsonText.Of(body["instructions"]), body["input"]);

        if (tools.Count > 0)
        {
            chat["tools"] = new JsonArray(tools.Select(t => (JsonNode)t).ToArray());
            // tool_choice and parallel_tool_calls without tools are rejected by OpenAI itself.
            if (toolChoice is not null)
            {
                chat["tool_choice"] = toolChoice;
            }
            if (capabilities.ParallelToolCalls && body["parallel_tool_calls"] is JsonValue parallel && parallel.TryGetValue<bool>(out var p))
            {
                chat["parallel_tool_calls"] = p;
            }
        }
        if (body["max_output_tokens"] is JsonValue max)
        {
            chat[capabilities.MaxTokensField] = max.DeepClone();
        }
        CopyNumber(body, chat, "temperature");
        CopyNumber(body, chat, "top_p");
        // Chat Completions has both penalties with the Responses meaning; the Response echoes what was sent.
        CopyNumber(body, chat, "presence_penalty");
        CopyNumber(body, chat, "frequency_penalty");
        if ((JsonText.Of(body["user"]) ?? JsonText.Of(body["safety_identifier"])) is { } user)
        {
            chat["user"] = user;
        }
        if (capabilities.SendReasoningEffort && (body["reasoning"] as JsonObject)?["effort"] is JsonValue effort && effort.TryGetValue<string>(out var e))
        {
            chat["reasoning_effort"] = e;
        }
        if (MapFormat((body["text"] as JsonObject)?["format"] as JsonObject, capabilities, upstreamName, logger) is { } format)
        {
            chat["response_format"] = format;
        }
        if (stream)
        {
            chat["stream"] = true;
            // Without it no chunk carries usage and response.completed could not report tokens (chat-translation.md §1.9).
            chat["stream_options"] = new JsonObject { ["include_usage"] = true };
        }
        return chat;
    }

    private static List<JsonObject> MapTools(JsonArray? tools, string upstreamName)
    {
        var mapped = new List<JsonObject>();
        var customNames = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < (tools?.Count ?? 0); i++)
        {
            if (tools![i] is not JsonObject tool)
            {
                continue;
            }
            var type = (string?)tool["type"];
            if (type == "custom")
            {
                var custom = ChatCustomTools.ToFunctionTool(tool, i);
                var customName = (string)custom["function"]!["name"]!;
                if (mapped.Any(t => (string?)t["function"]!["name"] == customName))
                {
                    // Both would be one chat function: the answer could not tell which tool was meant.
                    throw GatewayErrors.InvalidValue($"tools[{i}].name", $"'{customName}' is the name of another tool; tool names must be unique.");
                }
                mapped.Add(custom);
                customNames.Add(customName);
                continue;
            }
            if (type != "function")
            {
                throw GatewayErrors.InvalidRequest(
                    $"The tool type '{type}' is not supported for this model: its upstream '{upstreamName}' speaks Chat Completions and can only call function and custom tools.",
                    $"tools[{i}]", "unsupported_tool");
            }
            var parameters = tool["parameters"] as JsonObject is { } given ? (JsonObject)given.DeepClone() : new JsonObject { ["properties"] = new JsonObject() };
            if (parameters["type"] is null)
            {
                parameters["type"] = "object"; // several providers (Anthropic behind proxies) require it
            }
            if (customNames.Contains((string?)tool["name"] ?? ""))
            {
                throw GatewayErrors.InvalidValue($"tools[{i}].name", $"'{(string?)tool["name"]}' is the name of another tool; tool names must be unique.");
            }
            var function = new JsonObject { ["name"] = (string?)tool["name"] };
            if (JsonText.Of(tool["description"]) is { } description)
            {
                function["description"] = description;
            }
            function["parameters"] = parameters;
            if (tool["strict"] is JsonValue strict && strict.TryGetValue<bool>(out var s))
            {
                function["strict"] = s;
            }
            mapped.Add(new JsonObject { ["type"] = "function", ["function"] = function });
        }
        return mapped;
    }

    /// <summary>
    /// Every Responses <c>tool_choice</c> form (responses-api.md §2.3) in chat terms. <c>allowed_tools</c> has no
    /// portable chat form, so the tool list itself is narrowed to the allowed functions and the mode is sent.
    /// </summary>
    private static JsonNode? MapToolChoice(JsonNode? choice, ref List<JsonObject> tools, string upstreamName)
    {
        if (choice is JsonValue value && value.TryGetValue<string>(out var mode))
        {
            return mode;
        }
        if (choice is not JsonObject obj)
        {
            return null;
        }
        var type = (string?)obj["type"];
        switch (type)
        {
            case "auto" or "none" or "required":
                return type;
            case "function":
                var name = JsonText.Of(obj["name"]) ?? JsonText.Of((obj["function"] as JsonObject)?["name"]);
                return name is null ? "required" : new JsonObject { ["type"] = "function", ["function"] = new JsonObject { ["name"] = name } };
            case "custom":
                // A custom tool is a chat function of the same name (ChatCustomTools).
                var custom = JsonText.Of(obj["name"]) ?? throw GatewayErrors.MissingParameter("tool_choice.name");
                return new JsonObject { ["type"] = "function", ["function"] = new JsonObject { ["name"] = custom } };
            case "allowed_tools":
                var allowed = (obj["tools"] as JsonArray ?? []).OfType<JsonObject>()
                    .Where(t => JsonText.Of(t["type"]) is "function" or "custom")
                    .Select(t => JsonText.Of(t["name"]) ?? JsonText.Of((t["function"] as JsonObject)?["name"]))
                    .ToHashSet(StringComparer.Ordinal);
                tools = tools.Where(t => allowed.Contains((string?)t["function"]!["name"])).ToList();
                return JsonText.Of(obj["mode"]) == "required" ? "required" : "auto";
            default:
                throw GatewayErrors.InvalidRequest(
                    $"tool_choice of type '{type}' is not supported for this model: its upstream '{upstreamName}' speaks Chat Completions and can only call function and custom tools.",
                    "tool_choice", "unsupported_tool");
        }
    }

    private static JsonObject? MapFormat(JsonObject? format, ChatCapabilities capabilities, string upstreamName, ILogger logger)
    {
        switch ((string?)format?["type"])
        {
            case "json_object":
                return new JsonObject { ["type"] = "json_object" };
            case "json_schema" when !capabilities.JsonSchema:
                ChatLog.JsonSchemaDowngraded(logger, upstreamName);
                return new JsonObject { ["type"] = "json_object" };
            case "json_schema":
                // Responses puts name/schema/strict directly under format; chat nests them under json_schema.
                var schema = new JsonObject
                {
                    ["name"] = (string?)format!["name"] ?? "response_schema",
                    ["schema"] = format["schema"]?.DeepClone() ?? new JsonObject(),
                };
                if (JsonText.Of(format["description"]) is { } description)
                {
                    schema["description"] = description;
                }
                if (format["strict"] is JsonValue strict && strict.TryGetValue<bool>(out var s))
                {
                    schema["strict"] = s;
                }
                return new JsonObject { ["type"] = "json_schema", ["json_schema"] = schema };
            default:
                return null;
        }
    }

    private static void CopyNumber(JsonObject from, JsonObject to, string name)
    {
        if (from[name] is JsonValue number)
        {
            to[name] = number.DeepClone();
        }
    }
}
