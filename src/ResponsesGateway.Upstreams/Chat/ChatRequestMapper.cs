using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using ResponsesGateway.Core.Errors;
using ResponsesGateway.Core.Upstreams;

namespace ResponsesGateway.Upstreams.Chat;

/// <summary>
/// Builds the <c>/chat/completions</c> body from the Responses body the pipeline prepared (docs/architecture.md, chat rules R1–R7).
/// Runs before any HTTP call, so what the upstream cannot do (built-in tools) is a 400 naming the tool, not an
/// upstream error. Tools are translated by <see cref="ChatToolPlan"/> (custom tools: <see cref="ChatCustomTools"/>). Parameters with no chat meaning (<c>store</c>, <c>include</c>, <c>truncation</c>, <c>metadata</c>…)
/// are not sent: a strict compatible server would reject them.
/// </summary>
internal static class ChatRequestMapper
{
    public static JsonObject Map(UpstreamRequest request, ChatCapabilities capabilities, string upstreamName, bool stream, ILogger logger) =>
        Map(request, ChatToolPlan.Build(request.Body, capabilities, upstreamName), capabilities, upstreamName, stream, logger);

    /// <param name="plan">The request's tools in chat terms, shared with the translator of the answer.</param>
    public static JsonObject Map(UpstreamRequest request, ChatToolPlan plan, ChatCapabilities capabilities, string upstreamName, bool stream, ILogger logger)
    {
        var body = request.Body;
        // A stored prompt lives at the provider (OpenAI's prompt templates); a chat server has nothing to expand it from,
        // and dropping it would run the model without its instructions.
        if (body["prompt"] is JsonObject)
        {
            throw GatewayErrors.InvalidRequest(
                $"The 'prompt' parameter (a stored prompt reference) is not supported for this model: its upstream '{upstreamName}' speaks Chat Completions, which has no stored prompts. Send the prompt's text as 'instructions' instead.",
                "prompt", "unsupported_parameter");
        }
        var chat = new JsonObject { ["model"] = JsonText.Of(body["model"]) ?? request.Original.Model };

        var toolChoice = MapToolChoice(body["tool_choice"], plan, upstreamName);
        var tools = plan.Tools;

        var clientOffset = body["input"] is JsonArray all ? Math.Max(0, all.Count - request.Original.Input.Count) : 0;
        chat["messages"] = new ChatMessageBuilder(capabilities, logger, clientOffset, plan).Build(JsonText.Of(body["instructions"]), body["input"]);

        if (tools.Count > 0)
        {
            chat["tools"] = new JsonArray(tools.Select(t => (JsonNode)t.DeepClone()).ToArray());
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
            // Without it no chunk carries usage and response.completed could not report tokens (docs/architecture.md, chat rule R7).
            chat["stream_options"] = new JsonObject { ["include_usage"] = true };
        }
        return chat;
    }

    /// <summary>
    /// Every Responses <c>tool_choice</c> form (a mode string, or an object of type mode, function, custom or allowed_tools) in chat terms. <c>allowed_tools</c> has no
    /// portable chat form, so the tool list itself is narrowed to the allowed functions and the mode is sent.
    /// </summary>
    private static JsonNode? MapToolChoice(JsonNode? choice, ChatToolPlan plan, string upstreamName)
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
                return name is null ? "required" : Named(plan.ChatName(name, JsonText.Of(obj["namespace"])));
            case "custom":
                // A custom tool is a chat function of the same name (ChatCustomTools).
                var custom = JsonText.Of(obj["name"]) ?? throw GatewayErrors.MissingParameter("tool_choice.name");
                return Named(plan.ChatName(custom, JsonText.Of(obj["namespace"])));
            case "allowed_tools":
                // A namespace entry allows all of its children; a function or custom entry the one it names.
                var allowed = (obj["tools"] as JsonArray ?? []).OfType<JsonObject>().ToList();
                plan.Narrow(target => allowed.Any(t => JsonText.Of(t["type"]) switch
                {
                    "namespace" => JsonText.Of(t["name"]) == target.Namespace,
                    "function" or "custom" => (JsonText.Of(t["name"]) ?? JsonText.Of((t["function"] as JsonObject)?["name"])) == target.Name
                        && JsonText.Of(t["namespace"]) == target.Namespace,
                    _ => false,
                }));
                return JsonText.Of(obj["mode"]) == "required" ? "required" : "auto";
            default:
                throw GatewayErrors.InvalidRequest(
                    $"tool_choice of type '{type}' is not supported for this model: its upstream '{upstreamName}' speaks Chat Completions and can only call function and custom tools.",
                    "tool_choice", "unsupported_tool");
        }
    }

    private static JsonObject Named(string chatName) =>
        new() { ["type"] = "function", ["function"] = new JsonObject { ["name"] = chatName } };

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
