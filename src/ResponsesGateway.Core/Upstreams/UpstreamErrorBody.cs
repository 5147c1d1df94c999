using System.Text.Json;
using System.Text.Json.Nodes;
using ResponsesGateway.Protocol.Errors;
using ResponsesGateway.Protocol.Serialization;

namespace ResponsesGateway.Core.Upstreams;

/// <summary>Reads an OpenAI-style error envelope out of an upstream body, if that is what it is.</summary>
public static class UpstreamErrorBody
{
    public static ApiError? TryParse(string? body)
    {
        if (string.IsNullOrWhiteSpace(body))
        {
            return null;
        }
        try
        {
            var root = ProtocolJson.ParseObject(body);
            if (root["error"] is not JsonObject error)
            {
                return null;
            }
            var message = error["message"] is JsonValue m && m.TryGetValue<string>(out var text) ? text : "The upstream returned an error.";
            return new ApiError(
                message,
                error["type"] is JsonValue t && t.TryGetValue<string>(out var type) ? type : ApiErrorTypes.InvalidRequest,
                error["param"] is JsonValue p && p.TryGetValue<string>(out var param) ? param : null,
                error["code"] is JsonValue c && c.TryGetValue<string>(out var code) ? code : null);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or ArgumentException)
        {
            return null;
        }
    }
}
