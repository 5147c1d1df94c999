using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using ResponsesGateway.Core.Errors;

namespace ResponsesGateway.Upstreams.Chat;

/// <summary>Maps Responses content parts to Chat content (docs/architecture.md, chat rule R2).</summary>
internal static class ChatContentMapper
{
    /// <summary>
    /// The chat <c>content</c> of a message: a string whenever every part is text (the only form many compatible
    /// servers accept for system and assistant messages), else a list of chat parts (user messages only). Null when
    /// nothing is left to send.
    /// </summary>
    public static JsonNode? MessageContent(JsonNode? content, string role, string param, ILogger logger)
    {
        if (content is JsonValue value && value.TryGetValue<string>(out var text))
        {
            return text;
        }
        if (content is not JsonArray parts)
        {
            return null;
        }
        var mapped = new List<JsonObject>();
        for (var i = 0; i < parts.Count; i++)
        {
            if (parts[i] is JsonObject part && MapPart(part, role, $"{param}.content[{i}]", logger) is { } chatPart)
            {
                mapped.Add(chatPart);
            }
        }
        if (mapped.Count == 0)
        {
            return null;
        }
        if (mapped.All(p => (string?)p["type"] == "text"))
        {
            var texts = mapped.Select(p => (string?)p["text"] ?? "").ToList();
            // Several text parts of a user message stay separate parts; system/assistant text is joined (string-only servers).
            if (texts.Count == 1 || role != "user")
            {
                return string.Join(role == "user" ? "" : "\n", texts);
            }
        }
        return new JsonArray(mapped.Select(p => (JsonNode)p).ToArray());
    }

    /// <summary>
    /// A tool result: a string as is; a list of text parts joined; a list with images as chat parts. File parts in
    /// tool output have no chat form and are dropped.
    /// </summary>
    public static JsonNode ToolOutput(JsonNode? output, ILogger logger)
    {
        if (output is JsonValue value && value.TryGetValue<string>(out var text))
        {
            return text;
        }
        if (output is not JsonArray parts)
        {
            return output?.ToJsonString() ?? "";
        }
        var mapped = new List<JsonObject>();
        foreach (var node in parts)
        {
            if (node is JsonObject part && MapPart(part, "tool", "input", logger) is { } chatPart && (string?)chatPart["type"] is "text" or "image_url")
            {
                mapped.Add(chatPart);
            }
        }
        if (mapped.All(p => (string?)p["type"] == "text"))
        {
            return string.Concat(mapped.Select(p => (string?)p["text"]));
        }
        return new JsonArray(mapped.Select(p => (JsonNode)p).ToArray());
    }

    private static JsonObject? MapPart(JsonObject part, string role, string param, ILogger logger)
    {
        var type = JsonText.Of(part["type"]);
        switch (type)
        {
            case "input_text" or "output_text" or "text":
                return JsonText.Of(part["text"]) is { } text ? new JsonObject { ["type"] = "text", ["text"] = text } : null;
            case "refusal":
                // A replayed refusal is what the assistant said; chat has no refusal part in history.
                return JsonText.Of(part["refusal"]) is { } refusal ? new JsonObject { ["type"] = "text", ["text"] = refusal } : null;
            case "input_image" when role is "user" or "tool":
                return Image(part, param);
            case "input_file" when role == "user":
                return File(part);
            default:
                ChatLog.SkippedContentPart(logger, type ?? "(none)", role);
                return null;
        }
    }

    private static JsonObject Image(JsonObject part, string param)
    {
        // Responses sends a string; some clients send the chat shape {url} here too.
        var url = JsonText.Of(part["image_url"]) ?? JsonText.Of((part["image_url"] as JsonObject)?["url"]);
        if (string.IsNullOrEmpty(url))
        {
            // An image by file_id cannot be fetched by a chat upstream; failing beats silently dropping the image.
            throw GatewayErrors.InvalidRequest(
                "Images referenced by 'file_id' are not supported for this model; send the image as a URL or a data URL in 'image_url'.",
                param + ".image_url", "unsupported_parameter");
        }
        return new JsonObject
        {
            ["type"] = "image_url",
            ["image_url"] = new JsonObject { ["url"] = url, ["detail"] = JsonText.Of(part["detail"]) ?? "auto" },
        };
    }

    private static JsonObject File(JsonObject part)
    {
        var file = new JsonObject();
        if (JsonText.Of(part["file_id"]) is { } fileId)
        {
            file["file_id"] = fileId;
        }
        else if (JsonText.Of(part["file_data"]) is { } data)
        {
            file["file_data"] = data;
            if (JsonText.Of(part["filename"]) is { } name)
            {
                file["filename"] = name;
            }
        }
        else if (JsonText.Of(part["file_url"]) is { } fileUrl)
        {
            file["file_url"] = fileUrl; // LiteLLM's fallback; not in the OpenAI chat schema, understood by some proxies
        }
        return new JsonObject { ["type"] = "file", ["file"] = file };
    }
}
