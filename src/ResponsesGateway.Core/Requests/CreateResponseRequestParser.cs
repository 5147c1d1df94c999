using System.Text.Json;
using System.Text.Json.Nodes;
using ResponsesGateway.Core.Errors;
using ResponsesGateway.Protocol.Serialization;

namespace ResponsesGateway.Core.Requests;

/// <summary>
/// Parses and validates a create body. Every rejection is a 400 whose <c>param</c> names the field, raised before
/// anything is sent upstream or stored (invariant 7 in docs/architecture.md).
/// </summary>
public static class CreateResponseRequestParser
{
    private static readonly string[] ToolChoiceModes = ["none", "auto", "required"];

    // Model names are short everywhere; the bound keeps a hostile name out of logs, errors and the store's Model column
    // (a table property holds at most 32K characters: a longer name used to fail the write after the upstream call, a 503).
    private const int MaxModelLength = 256;

    public static CreateResponseRequest Parse(ReadOnlySpan<byte> utf8Body) => Validate(ParseBody(utf8Body));

    /// <summary>A request body as a JSON object; 400 for anything else (also the Conversations API's bodies).</summary>
    internal static JsonObject ParseBody(ReadOnlySpan<byte> utf8Body)
    {
        // Invalid UTF-8 would otherwise surface only when a string value is first read, deep in validation.
        if (!System.Text.Unicode.Utf8.IsValid(utf8Body))
        {
            throw GatewayErrors.MalformedJson();
        }
        JsonObject body;
        try
        {
            body = ProtocolJson.ParseObject(utf8Body);
        }
        catch (Exception e) when (e is JsonException or ArgumentException or InvalidOperationException)
        {
            throw GatewayErrors.MalformedJson();
        }
        if (JsonStrings.FindUnpairedSurrogate(utf8Body))
        {
            throw GatewayErrors.InvalidRequest(
                "The request body contains an unpaired UTF-16 surrogate escape (\\ud800-\\udfff) in a string; such a string cannot be encoded as UTF-8.",
                param: null, "invalid_json");
        }
        return body;
    }

    public static CreateResponseRequest Validate(JsonObject body)
    {
        var model = RequireString(body, "model");
        if (model.Length == 0)
        {
            throw GatewayErrors.MissingParameter("model");
        }
        if (model.Length > MaxModelLength)
        {
            throw GatewayErrors.InvalidValue("model",
                $"string too long. Expected a string with maximum length {MaxModelLength}, but got a string with length {model.Length} instead.", "string_above_max_length");
        }
        var (input, inputWasString) = ValidateInput(body["input"]);

        OptionalString(body, "instructions");
        OptionalBool(body, "stream");
        OptionalBool(body, "store");
        OptionalBool(body, "background");
        OptionalBool(body, "parallel_tool_calls");
        OptionalNumber(body, "temperature", 0, 2, integer: false);
        OptionalNumber(body, "top_p", 0, 1, integer: false);
        OptionalNumber(body, "max_output_tokens", 16, int.MaxValue, integer: true);
        OptionalNumber(body, "max_tool_calls", 1, int.MaxValue, integer: true);
        OptionalNumber(body, "top_logprobs", 0, 20, integer: true);
        OptionalString(body, "user");
        // 128 is the current API's bound (it was 64 when the field was introduced).
        OptionalString(body, "safety_identifier", maxLength: 128);
        OptionalString(body, "prompt_cache_key");
        OptionalString(body, "prompt_cache_retention");
        OptionalString(body, "service_tier");
        ValidateTruncation(body["truncation"]);
        OptionalObject(body, "prompt");
        OptionalObject(body, "reasoning");
        OptionalObject(body, "stream_options");
        ValidatePreviousResponseId(body);
        ValidateMetadata(body["metadata"]);
        ValidateText(body["text"]);
        ValidateTools(body);
        ValidateToolChoice(body["tool_choice"]);
        ValidateInclude(body["include"]);

        if (!JsonKinds.IsNull(body["conversation"]) && !JsonKinds.IsNull(body["previous_response_id"]))
        {
            throw GatewayErrors.InvalidRequest(
                "Mutually exclusive parameters: Ensure you are only providing one of: 'previous_response_id' or 'conversation'.",
                "conversation", "mutually_exclusive_parameters");
        }
        ValidateConversation(body["conversation"]);
        if (body["background"] is JsonValue background && background.TryGetValue<bool>(out var isBackground) && isBackground
            && body["store"] is JsonValue store && store.TryGetValue<bool>(out var stored) && !stored)
        {
            // A background run is read back (polled, resumed, cancelled) from storage: there is nothing to read without it.
            throw GatewayErrors.InvalidRequest("Background mode requires 'store' to be true.", "background", "invalid_value");
        }
        if (!JsonKinds.IsNull(body["stream_options"]) && !(body["stream"] is JsonValue s && s.TryGetValue<bool>(out var streaming) && streaming))
        {
            throw GatewayErrors.InvalidRequest("Invalid 'stream_options': only allowed when 'stream' is true.", "stream_options", "invalid_value");
        }
        return new CreateResponseRequest(body, model, input, inputWasString);
    }

    private static (JsonArray Input, bool WasString) ValidateInput(JsonNode? input)
    {
        switch (JsonKinds.Kind(input))
        {
            case JsonValueKind.Null:
                return ([], false);
            case JsonValueKind.String:
                var text = input!.GetValue<string>();
                return (new JsonArray(new JsonObject
                {
                    ["type"] = "message",
                    ["role"] = "user",
                    ["content"] = new JsonArray(new JsonObject { ["type"] = "input_text", ["text"] = text }),
                }), true);
            case JsonValueKind.Array:
                var items = input!.AsArray();
                for (var i = 0; i < items.Count; i++)
                {
                    InputItemValidator.Validate(items[i], $"input[{i}]");
                }
                return (items, false);
            default:
                throw GatewayErrors.InvalidType("input", "a string or an array of input items", JsonKinds.Describe(input));
        }
    }

    private static void ValidateTruncation(JsonNode? truncation)
    {
        if (JsonKinds.IsNull(truncation))
        {
            return;
        }
        var mode = JsonKinds.AsString(truncation) ?? throw GatewayErrors.InvalidType("truncation", "a string", JsonKinds.Describe(truncation));
        if (mode is not ("auto" or "disabled"))
        {
            throw GatewayErrors.InvalidValue("truncation", $"'{Truncate(mode)}'. Supported values are: 'auto' and 'disabled'.");
        }
    }

    private static void ValidatePreviousResponseId(JsonObject body)
    {
        var node = body["previous_response_id"];
        if (JsonKinds.IsNull(node))
        {
            return;
        }
        var id = JsonKinds.AsString(node) ?? throw GatewayErrors.InvalidType("previous_response_id", "a string", JsonKinds.Describe(node));
        if (id.Length == 0 || id.Length > 256 || !id.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-'))
        {
            throw GatewayErrors.InvalidValue("previous_response_id",
                $"'{Truncate(id)}'. Expected an ID that contains letters, numbers, underscores, or dashes, but this value contained additional characters.");
        }
    }

    // A conversation id as a string or {"id": …}; whether it exists is the pipeline's business (404 there).
    private static void ValidateConversation(JsonNode? conversation)
    {
        switch (JsonKinds.Kind(conversation))
        {
            case JsonValueKind.Null:
            case JsonValueKind.String:
                return;
            case JsonValueKind.Object:
                RequireString(conversation!.AsObject(), "id", "conversation.id");
                return;
            default:
                throw GatewayErrors.InvalidType("conversation", "a string or an object", JsonKinds.Describe(conversation));
        }
    }

    internal static void ValidateMetadata(JsonNode? metadata)
    {
        if (JsonKinds.IsNull(metadata))
        {
            return;
        }
        if (metadata is not JsonObject map)
        {
            throw GatewayErrors.InvalidType("metadata", "an object", JsonKinds.Describe(metadata));
        }
        if (map.Count > 16)
        {
            throw GatewayErrors.InvalidValue("metadata",
                $"too many properties. Expected an object with at most 16 properties, but got an object with {map.Count} properties instead.",
                "object_above_max_properties");
        }
        foreach (var (key, value) in map)
        {
            if (key.Length > 64)
            {
                throw GatewayErrors.InvalidValue("metadata", $"key too long. Expected a key of at most 64 characters, but got a key of {key.Length} characters instead.", "string_above_max_length");
            }
            var text = JsonKinds.AsString(value) ?? throw GatewayErrors.InvalidType($"metadata.{Truncate(key)}", "a string", JsonKinds.Describe(value));
            if (text.Length > 512)
            {
                throw GatewayErrors.InvalidValue($"metadata.{Truncate(key)}",
                    $"string too long. Expected a string with maximum length 512, but got a string with length {text.Length} instead.", "string_above_max_length");
            }
        }
    }

    private static void ValidateText(JsonNode? text)
    {
        if (JsonKinds.IsNull(text))
        {
            return;
        }
        if (text is not JsonObject textObject)
        {
            throw GatewayErrors.InvalidType("text", "an object", JsonKinds.Describe(text));
        }
        var format = textObject["format"];
        if (JsonKinds.IsNull(format))
        {
            return;
        }
        if (format is not JsonObject formatObject)
        {
            throw GatewayErrors.InvalidType("text.format", "an object", JsonKinds.Describe(format));
        }
        var type = JsonKinds.AsString(formatObject["type"]) ?? throw GatewayErrors.MissingParameter("text.format.type");
        if (type == "json_schema")
        {
            RequireString(formatObject, "name", "text.format.name");
            if (formatObject["schema"] is not JsonObject)
            {
                throw GatewayErrors.MissingParameter("text.format.schema");
            }
        }
        else if (type is not ("text" or "json_object"))
        {
            throw GatewayErrors.InvalidValue("text.format.type", $"'{Truncate(type)}'. Supported values are: 'text', 'json_object' and 'json_schema'.");
        }
    }

    private static void ValidateTools(JsonObject body)
    {
        var tools = body["tools"];
        if (JsonKinds.IsNull(tools))
        {
            return;
        }
        if (tools is not JsonArray list)
        {
            throw GatewayErrors.InvalidType("tools", "an array", JsonKinds.Describe(tools));
        }
        for (var i = 0; i < list.Count; i++)
        {
            var param = $"tools[{i}]";
            if (list[i] is not JsonObject tool)
            {
                throw GatewayErrors.InvalidType(param, "an object", JsonKinds.Describe(list[i]));
            }
            var type = JsonKinds.AsString(tool["type"]) ?? throw GatewayErrors.MissingParameter(param + ".type");
            if (type != "function")
            {
                continue;
            }
            // The chat-style nested shape {"type":"function","function":{...}} is accepted and flattened, so every
            // later stage (native upstreams, the echo, the chat mapper) sees one shape.
            if (tool["function"] is JsonObject nested && tool["name"] is null)
            {
                foreach (var (key, value) in nested.ToArray())
                {
                    nested.Remove(key);
                    tool[key] = value;
                }
                tool.Remove("function");
            }
            ToolNames.Check(RequireString(tool, "name", param + ".name"), param + ".name", "function");
            if (!JsonKinds.IsNull(tool["parameters"]) && tool["parameters"] is not JsonObject)
            {
                throw GatewayErrors.InvalidType(param + ".parameters", "an object", JsonKinds.Describe(tool["parameters"]));
            }
            OptionalBool(tool, "strict", param + ".strict");
            OptionalString(tool, "description", param: param + ".description");
        }
    }

    private static void ValidateToolChoice(JsonNode? choice)
    {
        switch (JsonKinds.Kind(choice))
        {
            case JsonValueKind.Null:
                return;
            case JsonValueKind.String:
                var mode = choice!.GetValue<string>();
                if (!ToolChoiceModes.Contains(mode))
                {
                    throw GatewayErrors.InvalidValue("tool_choice", $"'{Truncate(mode)}'. Supported values are: 'none', 'auto' and 'required'.");
                }
                return;
            case JsonValueKind.Object:
                var obj = choice!.AsObject();
                var type = JsonKinds.AsString(obj["type"]) ?? throw GatewayErrors.MissingParameter("tool_choice.type");
                if (type == "function" && JsonKinds.AsString(obj["name"]) is null && JsonKinds.AsString((obj["function"] as JsonObject)?["name"]) is null)
                {
                    throw GatewayErrors.MissingParameter("tool_choice.name");
                }
                return;
            default:
                throw GatewayErrors.InvalidType("tool_choice", "a string or an object", JsonKinds.Describe(choice));
        }
    }

    private static void ValidateInclude(JsonNode? include)
    {
        if (JsonKinds.IsNull(include))
        {
            return;
        }
        if (include is not JsonArray list)
        {
            throw GatewayErrors.InvalidType("include", "an array", JsonKinds.Describe(include));
        }
        for (var i = 0; i < list.Count; i++)
        {
            if (JsonKinds.AsString(list[i]) is null)
            {
                throw GatewayErrors.InvalidType($"include[{i}]", "a string", JsonKinds.Describe(list[i]));
            }
        }
    }

    internal static string RequireString(JsonObject obj, string name, string? param = null)
    {
        var node = obj[name];
        if (JsonKinds.IsNull(node))
        {
            throw GatewayErrors.MissingParameter(param ?? name);
        }
        return JsonKinds.AsString(node) ?? throw GatewayErrors.InvalidType(param ?? name, "a string", JsonKinds.Describe(node));
    }

    internal static void OptionalString(JsonObject obj, string name, int maxLength = int.MaxValue, string? param = null)
    {
        var node = obj[name];
        if (JsonKinds.IsNull(node))
        {
            return;
        }
        var text = JsonKinds.AsString(node) ?? throw GatewayErrors.InvalidType(param ?? name, "a string", JsonKinds.Describe(node));
        if (text.Length > maxLength)
        {
            throw GatewayErrors.InvalidValue(param ?? name,
                $"string too long. Expected a string with maximum length {maxLength}, but got a string with length {text.Length} instead.", "string_above_max_length");
        }
    }

    private static void OptionalBool(JsonObject obj, string name, string? param = null)
    {
        var node = obj[name];
        var kind = JsonKinds.Kind(node);
        if (kind is not (JsonValueKind.Null or JsonValueKind.True or JsonValueKind.False))
        {
            throw GatewayErrors.InvalidType(param ?? name, "a boolean", JsonKinds.Describe(node));
        }
    }

    private static void OptionalObject(JsonObject obj, string name)
    {
        var node = obj[name];
        if (!JsonKinds.IsNull(node) && node is not JsonObject)
        {
            throw GatewayErrors.InvalidType(name, "an object", JsonKinds.Describe(node));
        }
    }

    private static void OptionalNumber(JsonObject obj, string name, double min, double max, bool integer)
    {
        var node = obj[name];
        if (JsonKinds.IsNull(node))
        {
            return;
        }
        var expected = integer ? "an integer" : "a decimal";
        if (JsonKinds.Kind(node) != JsonValueKind.Number)
        {
            throw GatewayErrors.InvalidType(name, expected, JsonKinds.Describe(node));
        }
        var value = node!.GetValue<JsonElement>().GetDouble();
        if (integer && (value != Math.Floor(value) || double.IsInfinity(value)))
        {
            throw GatewayErrors.InvalidType(name, expected, "a decimal");
        }
        var kind = integer ? "integer" : "decimal";
        if (value < min)
        {
            throw GatewayErrors.InvalidValue(name, $"{kind} below minimum value. Expected a value >= {min}, but got {value} instead.", $"{kind}_below_min_value");
        }
        if (value > max)
        {
            throw GatewayErrors.InvalidValue(name, $"{kind} above maximum value. Expected a value <= {max}, but got {value} instead.", $"{kind}_above_max_value");
        }
    }

    internal static string Truncate(string value) => GatewayErrors.Clip(value);
}
