using System.Text.Json;
using System.Text.Json.Nodes;

namespace ResponsesGateway.Core.Requests;

/// <summary>
/// Names JSON value kinds the way OpenAI's error messages do ("expected a string, but got an array instead"). Public for
/// the adapters that validate parts of a request only they understand (the chat upstream's custom tools).
/// </summary>
public static class JsonKinds
{
    public static JsonValueKind Kind(JsonNode? node) => node?.GetValueKind() ?? JsonValueKind.Null;

    public static string Describe(JsonNode? node) => Kind(node) switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        _ => "null",
    };

    public static bool IsNull(JsonNode? node) => Kind(node) == JsonValueKind.Null;

    public static string? AsString(JsonNode? node) => Kind(node) == JsonValueKind.String ? node!.GetValue<string>() : null;
}
