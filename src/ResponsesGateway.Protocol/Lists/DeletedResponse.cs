using System.Text.Json.Serialization;

namespace ResponsesGateway.Protocol.Lists;

/// <summary>Answer of <c>DELETE /v1/responses/{id}</c>; the wire says <c>response.deleted</c> although the spec example says <c>response</c>.</summary>
public sealed record DeletedResponse(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("object")] string Object,
    [property: JsonPropertyName("deleted")] bool Deleted)
{
    public static DeletedResponse For(string id) => new(id, "response.deleted", true);
}
