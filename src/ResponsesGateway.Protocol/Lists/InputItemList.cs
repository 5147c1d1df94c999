using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace ResponsesGateway.Protocol.Lists;

/// <summary>Answer of <c>GET /v1/responses/{id}/input_items</c>: OpenAI's cursor list.</summary>
public sealed record InputItemList(
    [property: JsonPropertyName("object")] string Object,
    [property: JsonPropertyName("data")] IReadOnlyList<JsonObject> Data,
    [property: JsonPropertyName("first_id")] string? FirstId,
    [property: JsonPropertyName("last_id")] string? LastId,
    [property: JsonPropertyName("has_more")] bool HasMore);
