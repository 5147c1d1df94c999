using System.Text.Json;
using System.Text.Json.Nodes;
using ResponsesGateway.Core.Errors;
using ResponsesGateway.Core.Requests;

namespace ResponsesGateway.Upstreams.Chat;

/// <summary>
/// Free-form <c>custom</c> tools (Codex's <c>apply_patch</c>: the call carries one free-form string, not JSON arguments) on a Chat Completions upstream,
/// which only knows JSON function tools (docs/architecture.md, chat rules R3 and R5):
/// 1. the tool becomes a function tool of the same name whose only parameter is the string <see cref="InputKey"/>;
/// 2. a <c>custom_tool_call</c> in the history becomes a tool call with arguments <c>{"input": &lt;input&gt;}</c>, its
///    <c>custom_tool_call_output</c> a tool message;
/// 3. a call the model makes to one of these names comes back as a <c>custom_tool_call</c> whose <c>input</c> is the
///    string under <see cref="InputKey"/> (the raw arguments when they are not such an object).
/// The key is <c>input</c>, the Responses field name, in both directions (LiteLLM uses <c>content</c>; one key, used
/// consistently, is what matters: the model sees the key it is asked to fill and the history it produced itself).
/// </summary>
internal static class ChatCustomTools
{
    public const string InputKey = "input";

    /// <summary>The chat function tool for the custom tool at <paramref name="param"/>; a 400 naming the field when it is malformed.</summary>
    public static JsonObject ToFunctionTool(JsonObject tool, string param)
    {
        var name = tool["name"] switch
        {
            null => throw GatewayErrors.MissingParameter(param + ".name"),
            var node when JsonText.Of(node) is { } text => text,
            var node => throw GatewayErrors.InvalidType(param + ".name", "a string", JsonKinds.Describe(node)),
        };
        ToolNames.Check(name, param + ".name", "tool");
        var description = tool["description"] switch
        {
            null => null,
            var node when JsonText.Of(node) is { } text => text,
            var node => throw GatewayErrors.InvalidType(param + ".description", "a string", JsonKinds.Describe(node)),
        };
        var note = FormatNote(tool["format"], param + ".format");
        var function = new JsonObject
        {
            ["name"] = name,
            ["description"] = string.IsNullOrEmpty(description) ? note : description + "\n\n" + note,
            ["parameters"] = new JsonObject
            {
                ["type"] = "object",
                ["properties"] = new JsonObject { [InputKey] = new JsonObject { ["type"] = "string" } },
                ["required"] = new JsonArray(InputKey),
            },
        };
        return new JsonObject { ["type"] = "function", ["function"] = function };
    }

    /// <summary>What the model must put in <c>input</c>: raw text, or text following the tool's grammar.</summary>
    private static string FormatNote(JsonNode? format, string param)
    {
        const string Raw = "Put the raw text input of this tool in the `input` argument (a plain string, not JSON).";
        if (format is null)
        {
            return Raw;
        }
        if (format is not JsonObject obj)
        {
            throw GatewayErrors.InvalidType(param, "an object", JsonKinds.Describe(format));
        }
        switch (JsonText.Of(obj["type"]))
        {
            case "text":
                return Raw;
            case "grammar":
                var syntax = JsonText.Of(obj["syntax"]) ?? throw GatewayErrors.MissingParameter(param + ".syntax");
                if (syntax is not ("lark" or "regex"))
                {
                    throw GatewayErrors.InvalidValue(param + ".syntax", $"'{syntax}'. Supported values are: 'lark' and 'regex'.");
                }
                var definition = JsonText.Of(obj["definition"]) ?? throw GatewayErrors.MissingParameter(param + ".definition");
                return $"{Raw} It must match this {syntax} grammar:\n{definition}";
            case null:
                throw GatewayErrors.MissingParameter(param + ".type");
            case var other:
                throw GatewayErrors.InvalidValue(param + ".type", $"'{other}'. Supported values are: 'text' and 'grammar'.");
        }
    }

    /// <summary>The chat arguments for a replayed <c>custom_tool_call</c>'s input.</summary>
    public static string WrapInput(string? input) => new JsonObject { [InputKey] = input ?? "" }.ToJsonString();

    /// <summary>
    /// The custom tool input in the model's arguments: the string under <see cref="InputKey"/> when the arguments are a
    /// JSON object carrying one, else the raw arguments (a model that ignored the schema still gets its text through).
    /// </summary>
    public static string UnwrapInput(string arguments)
    {
        try
        {
            using var document = JsonDocument.Parse(arguments);
            if (document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty(InputKey, out var input)
                && input.ValueKind == JsonValueKind.String)
            {
                return input.GetString()!;
            }
        }
        catch (JsonException)
        {
            // not JSON: the raw text is the input
        }
        return arguments;
    }
}
