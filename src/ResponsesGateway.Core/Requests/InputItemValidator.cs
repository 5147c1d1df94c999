using System.Text.Json;
using System.Text.Json.Nodes;
using ResponsesGateway.Core.Errors;

namespace ResponsesGateway.Core.Requests;

/// <summary>
/// Checks the input items the gateway acts on (messages and tool-call items). Unknown item types are let through
/// untouched: clients such as Codex send new ones before any gateway knows them.
/// </summary>
internal static class InputItemValidator
{
    private static readonly string[] Roles = ["user", "assistant", "system", "developer"];

    public static void Validate(JsonNode? node, string param)
    {
        if (node is not JsonObject item)
        {
            throw GatewayErrors.InvalidType(param, "an object", JsonKinds.Describe(node));
        }
        var typeNode = item["type"];
        if (!JsonKinds.IsNull(typeNode) && JsonKinds.AsString(typeNode) is null)
        {
            throw GatewayErrors.InvalidType(param + ".type", "a string", JsonKinds.Describe(typeNode));
        }
        var type = JsonKinds.AsString(typeNode);
        switch (type)
        {
            case null when item["role"] is not null:
            case "message":
                ValidateMessage(item, param);
                break;
            case null:
                throw GatewayErrors.MissingParameter(param + ".type");
            case "function_call":
                CreateResponseRequestParser.RequireString(item, "call_id", param + ".call_id");
                CreateResponseRequestParser.RequireString(item, "name", param + ".name");
                CreateResponseRequestParser.RequireString(item, "arguments", param + ".arguments");
                break;
            case "function_call_output":
                CreateResponseRequestParser.RequireString(item, "call_id", param + ".call_id");
                var output = item["output"];
                if (JsonKinds.Kind(output) is not (JsonValueKind.String or JsonValueKind.Array))
                {
                    throw JsonKinds.IsNull(output)
                        ? GatewayErrors.MissingParameter(param + ".output")
                        : GatewayErrors.InvalidType(param + ".output", "a string or an array", JsonKinds.Describe(output));
                }
                break;
            case "item_reference":
                CreateResponseRequestParser.RequireString(item, "id", param + ".id");
                break;
        }
    }

    private static void ValidateMessage(JsonObject item, string param)
    {
        var role = CreateResponseRequestParser.RequireString(item, "role", param + ".role");
        if (!Roles.Contains(role))
        {
            throw GatewayErrors.InvalidValue(param + ".role",
                $"'{CreateResponseRequestParser.Truncate(role)}'. Supported values are: 'user', 'assistant', 'system', and 'developer'.");
        }
        var content = item["content"];
        switch (JsonKinds.Kind(content))
        {
            case JsonValueKind.String:
                return;
            case JsonValueKind.Array:
                var parts = content!.AsArray();
                for (var i = 0; i < parts.Count; i++)
                {
                    var partParam = $"{param}.content[{i}]";
                    if (parts[i] is not JsonObject part)
                    {
                        throw GatewayErrors.InvalidType(partParam, "an object", JsonKinds.Describe(parts[i]));
                    }
                    var partType = CreateResponseRequestParser.RequireString(part, "type", partParam + ".type");
                    if (partType is "input_text" or "output_text")
                    {
                        CreateResponseRequestParser.RequireString(part, "text", partParam + ".text");
                    }
                }
                return;
            case JsonValueKind.Null:
                throw GatewayErrors.MissingParameter(param + ".content");
            default:
                throw GatewayErrors.InvalidType(param + ".content", "a string or an array", JsonKinds.Describe(content));
        }
    }
}
