using System.Text.Json;
using System.Text.Json.Nodes;
using ResponsesGateway.Core.Errors;
using ResponsesGateway.Core.Requests;

namespace ResponsesGateway.Core.Conversations;

/// <summary>
/// Parses the bodies of the Conversations API. Every rejection is a 400 naming the field, before anything is stored;
/// item shapes are checked by the same rules as a create's <c>input</c>.
/// </summary>
public static class ConversationRequests
{
    private static readonly string[] CreateFields = ["metadata", "items"];

    /// <summary><c>POST /v1/conversations</c>: <c>{metadata?, items?}</c>; an empty body is an empty conversation.</summary>
    public static (JsonObject Metadata, JsonArray Items) ParseCreate(ReadOnlySpan<byte> utf8Body)
    {
        var body = utf8Body.Trim(" \t\r\n"u8).IsEmpty ? new JsonObject() : CreateResponseRequestParser.ParseBody(utf8Body);
        RejectUnknown(body, CreateFields);
        var metadata = Metadata(body["metadata"]);
        var items = JsonKinds.IsNull(body["items"]) ? [] : Items(body["items"], "items");
        return (metadata, items);
    }

    /// <summary><c>POST /v1/conversations/{id}</c>: <c>{metadata}</c>, required; null clears it.</summary>
    public static JsonObject ParseUpdate(ReadOnlySpan<byte> utf8Body)
    {
        var body = CreateResponseRequestParser.ParseBody(utf8Body);
        RejectUnknown(body, ["metadata"]);
        if (!body.ContainsKey("metadata"))
        {
            throw GatewayErrors.MissingParameter("metadata");
        }
        return Metadata(body["metadata"]);
    }

    /// <summary><c>POST /v1/conversations/{id}/items</c>: <c>{items}</c>, 1 to 20 input items.</summary>
    public static JsonArray ParseItems(ReadOnlySpan<byte> utf8Body)
    {
        var body = CreateResponseRequestParser.ParseBody(utf8Body);
        RejectUnknown(body, ["items"]);
        if (JsonKinds.IsNull(body["items"]))
        {
            throw GatewayErrors.MissingParameter("items");
        }
        var items = Items(body["items"], "items");
        return items.Count == 0
            ? throw GatewayErrors.InvalidValue("items", "array too short. Expected an array with minimum length 1, but got an empty array instead.", "empty_array")
            : items;
    }

    private static JsonObject Metadata(JsonNode? node)
    {
        CreateResponseRequestParser.ValidateMetadata(node);
        return node is JsonObject map ? (JsonObject)map.DeepClone() : [];
    }

    private static JsonArray Items(JsonNode? node, string param)
    {
        if (JsonKinds.Kind(node) != JsonValueKind.Array)
        {
            throw GatewayErrors.InvalidType(param, "an array", JsonKinds.Describe(node));
        }
        var items = node!.AsArray();
        if (items.Count > ConversationErrors.MaxItemsPerRequest)
        {
            throw ConversationErrors.TooManyItems(param, items.Count);
        }
        for (var i = 0; i < items.Count; i++)
        {
            InputItemValidator.Validate(items[i], $"{param}[{i}]");
        }
        return items;
    }

    private static void RejectUnknown(JsonObject body, string[] known)
    {
        foreach (var (name, _) in body)
        {
            if (!known.Contains(name))
            {
                throw ConversationErrors.UnknownParameter(name);
            }
        }
    }
}
