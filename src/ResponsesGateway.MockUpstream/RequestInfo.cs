using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace ResponsesGateway.MockUpstream;

internal enum UpstreamProtocol
{
    Responses,
    Chat,
}

/// <summary>The few facts the mock needs from a request body (parsed with JsonDocument, no reflection).</summary>
internal sealed class RequestInfo : IDisposable
{
    public const string DefaultModel = "mock-model";

    private readonly JsonDocument _document;

    private RequestInfo(JsonDocument document, string bodyText)
    {
        _document = document;
        BodyText = bodyText;
    }

    public JsonElement Root => _document.RootElement;

    public string BodyText { get; }

    public string Model { get; private set; } = DefaultModel;

    public bool Stream { get; private set; }

    /// <summary>Chat: <c>stream_options.include_usage</c>.</summary>
    public bool IncludeUsage { get; private set; }

    /// <summary>Responses: <c>stream_options.include_obfuscation</c> (default true).</summary>
    public bool IncludeObfuscation { get; private set; } = true;

    /// <summary>Text of the last user message (empty when there is none).</summary>
    public string UserText { get; private set; } = string.Empty;

    /// <summary>True when the conversation ends with a tool result (function_call_output / role tool).</summary>
    public bool LastIsToolResult { get; private set; }

    /// <summary>Name of the first function tool in <c>tools</c> (flat or chat-style nested), or null.</summary>
    public string? FirstFunctionName { get; private set; }

    /// <summary>
    /// The argument the tool behaviours fill: <c>input</c> when the first function tool declares an <c>input</c>
    /// property and no <c>location</c> (a free-form custom tool a gateway turned into a function), else <c>location</c>.
    /// </summary>
    public string FirstFunctionArgument { get; private set; } = "location";

    /// <summary>Rough token count of the whole input: chars / 4, at least 1.</summary>
    public int InputTokens { get; private set; } = 1;

    public void Dispose() => _document.Dispose();

    /// <summary>Parses the body; returns null with an error message when it is not a JSON object.</summary>
    public static RequestInfo? TryParse(byte[] body, string bodyText, UpstreamProtocol protocol, out string? error)
    {
        error = null;
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body, new JsonDocumentOptions { AllowTrailingCommas = false, MaxDepth = 256 });
        }
        catch (JsonException ex)
        {
            error = "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.) " + ex.Message;
            return null;
        }

        if (document.RootElement.ValueKind != JsonValueKind.Object)
        {
            document.Dispose();
            error = "The request body must be a JSON object.";
            return null;
        }

        var info = new RequestInfo(document, bodyText);
        info.Read(protocol);
        return info;
    }

    private void Read(UpstreamProtocol protocol)
    {
        var root = Root;
        if (root.TryGetProperty("model"u8, out var model) && model.ValueKind == JsonValueKind.String && model.GetString() is { Length: > 0 } m)
        {
            Model = m;
        }

        Stream = root.TryGetProperty("stream"u8, out var stream) && stream.ValueKind == JsonValueKind.True;
        if (root.TryGetProperty("stream_options"u8, out var so) && so.ValueKind == JsonValueKind.Object)
        {
            IncludeUsage = so.TryGetProperty("include_usage"u8, out var iu) && iu.ValueKind == JsonValueKind.True;
            IncludeObfuscation = !(so.TryGetProperty("include_obfuscation"u8, out var io) && io.ValueKind == JsonValueKind.False);
        }

        FirstFunctionName = FindFirstFunctionName(root, out var firstTool);
        if (firstTool is { } tool && DeclaresProperty(tool, "input"u8) && !DeclaresProperty(tool, "location"u8))
        {
            FirstFunctionArgument = "input";
        }

        var chars = 0;
        if (protocol == UpstreamProtocol.Responses)
        {
            if (root.TryGetProperty("input"u8, out var input))
            {
                chars += RawLength(input);
                ReadResponsesInput(input);
            }

            if (root.TryGetProperty("instructions"u8, out var instructions) && instructions.ValueKind != JsonValueKind.Null)
            {
                chars += RawLength(instructions);
            }
        }
        else if (root.TryGetProperty("messages"u8, out var messages))
        {
            chars += RawLength(messages);
            ReadChatMessages(messages);
        }

        InputTokens = Math.Max(1, chars / 4);
    }

    private static int RawLength(JsonElement element) => JsonMarshal.GetRawUtf8Value(element).Length;

    private void ReadResponsesInput(JsonElement input)
    {
        if (input.ValueKind == JsonValueKind.String)
        {
            UserText = input.GetString() ?? string.Empty;
            return;
        }

        if (input.ValueKind != JsonValueKind.Array)
        {
            return;
        }

        JsonElement last = default;
        foreach (var item in input.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Object)
            {
                continue;
            }

            last = item;
            var type = GetString(item, "type"u8);
            var role = GetString(item, "role"u8);
            if ((type is null or "message") && role == "user" && item.TryGetProperty("content"u8, out var content))
            {
                UserText = ContentText(content);
            }
        }

        if (last.ValueKind == JsonValueKind.Object)
        {
            var lastType = GetString(last, "type"u8);
            LastIsToolResult = lastType is "function_call_output" or "custom_tool_call_output";
        }
    }

    private void ReadChatMessages(JsonElement messages)
    {
        if (messages.ValueKind != JsonValueKind.Array)
        {
            return;
        }

        string? lastRole = null;
        foreach (var message in messages.EnumerateArray())
        {
            if (message.ValueKind != JsonValueKind.Object)
            {
                continue;
            }

            lastRole = GetString(message, "role"u8);
            if (lastRole == "user" && message.TryGetProperty("content"u8, out var content))
            {
                UserText = ContentText(content);
            }
        }

        LastIsToolResult = lastRole is "tool" or "function";
    }

    private static string ContentText(JsonElement content)
    {
        if (content.ValueKind == JsonValueKind.String)
        {
            return content.GetString() ?? string.Empty;
        }

        if (content.ValueKind != JsonValueKind.Array)
        {
            return string.Empty;
        }

        StringBuilder? sb = null;
        string? single = null;
        foreach (var part in content.EnumerateArray())
        {
            string? text = part.ValueKind switch
            {
                JsonValueKind.String => part.GetString(),
                JsonValueKind.Object when GetString(part, "type"u8) is null or "input_text" or "text" or "output_text" => GetString(part, "text"u8),
                _ => null,
            };
            if (string.IsNullOrEmpty(text))
            {
                continue;
            }

            if (single is null && sb is null)
            {
                single = text;
            }
            else
            {
                sb ??= new StringBuilder(single);
                sb.Append(' ').Append(text);
            }
        }

        return sb?.ToString() ?? single ?? string.Empty;
    }

    private static bool DeclaresProperty(JsonElement tool, ReadOnlySpan<byte> name)
    {
        var parameters = tool.TryGetProperty("function"u8, out var fn) && fn.ValueKind == JsonValueKind.Object ? fn : tool;
        return parameters.TryGetProperty("parameters"u8, out var p) && p.ValueKind == JsonValueKind.Object
            && p.TryGetProperty("properties"u8, out var props) && props.ValueKind == JsonValueKind.Object
            && props.TryGetProperty(name, out _);
    }

    private static string? FindFirstFunctionName(JsonElement root, out JsonElement? firstTool)
    {
        firstTool = null;
        if (!root.TryGetProperty("tools"u8, out var tools) || tools.ValueKind != JsonValueKind.Array)
        {
            return null;
        }

        foreach (var tool in tools.EnumerateArray())
        {
            if (tool.ValueKind != JsonValueKind.Object)
            {
                continue;
            }

            var type = GetString(tool, "type"u8);
            if (type is not (null or "function"))
            {
                continue;
            }

            if (tool.TryGetProperty("function"u8, out var fn) && fn.ValueKind == JsonValueKind.Object && GetString(fn, "name"u8) is { Length: > 0 } nested)
            {
                firstTool = tool;
                return nested;
            }

            if (GetString(tool, "name"u8) is { Length: > 0 } flat)
            {
                firstTool = tool;
                return flat;
            }
        }

        return null;
    }

    internal static string? GetString(JsonElement obj, ReadOnlySpan<byte> name) =>
        obj.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
}
