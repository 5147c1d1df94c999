using System.Text.Json;
using System.Text.Json.Nodes;

namespace ResponsesGateway.Upstreams.Chat;

/// <summary>Reads strings out of JSON that nobody validated (upstream chunks, unvalidated item fields) without throwing.</summary>
internal static class JsonText
{
    /// <summary>The string value of <paramref name="node"/>, or null when it is absent or not a string.</summary>
    public static string? Of(JsonNode? node) => node is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;

    /// <summary>The integer value of <paramref name="node"/>, or null when it is absent or not an integer.</summary>
    public static int? IntOf(JsonNode? node) => node is JsonValue value && value.TryGetValue<int>(out var number) ? number : null;

    /// <inheritdoc cref="Of(JsonNode?)"/>
    public static string? Of(JsonElement element) => element.ValueKind == JsonValueKind.String ? element.GetString() : null;

    /// <inheritdoc cref="IntOf(JsonNode?)"/>
    public static int? IntOf(JsonElement element) => element.ValueKind == JsonValueKind.Number && element.TryGetInt32(out var number) ? number : null;

    /// <summary>
    /// The property <paramref name="name"/> of an object, or an undefined element when <paramref name="element"/> is not
    /// an object or lacks it (what <c>node?[name]</c> is for nodes, with JSON null kept apart as <see cref="JsonValueKind.Null"/>).
    /// </summary>
    public static JsonElement Get(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) ? value : default;

    /// <summary>True when the element is absent or JSON null (a node that reads as <c>null</c>).</summary>
    public static bool IsNull(JsonElement element) => element.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null;
}
