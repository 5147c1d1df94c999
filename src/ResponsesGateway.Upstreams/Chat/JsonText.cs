using System.Text.Json.Nodes;

namespace ResponsesGateway.Upstreams.Chat;

/// <summary>Reads strings out of JSON that nobody validated (upstream chunks, unvalidated item fields) without throwing.</summary>
internal static class JsonText
{
    /// <summary>The string value of <paramref name="node"/>, or null when it is absent or not a string.</summary>
    public static string? Of(JsonNode? node) => node is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;

    /// <summary>The integer value of <paramref name="node"/>, or null when it is absent or not an integer.</summary>
    public static int? IntOf(JsonNode? node) => node is JsonValue value && value.TryGetValue<int>(out var number) ? number : null;
}
