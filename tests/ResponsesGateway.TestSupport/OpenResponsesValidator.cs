using System.Text.Json.Nodes;
using NJsonSchema;
using Xunit;

namespace ResponsesGateway.TestSupport;

/// <summary>
/// Validates Responses, streamed events and WebSocket error envelopes against the Open Responses OpenAPI document
/// (<c>Schemas/OpenResponses/openapi-2026-04-24.json</c>, Apache-2.0, embedded), as its compliance suite does: a
/// Response against <c>ResponseResource</c>, each event against the schema whose <c>type</c> enum names it.
///
/// The document is read the way <see cref="SchemaValidator"/> reads OpenAI's (<c>oneOf</c> as <c>anyOf</c>, no
/// <c>discriminator</c>, <c>$ref</c>s to <c>#/definitions</c>). Beyond that, only these tolerances, each because the
/// gateway speaks the OpenAI wire the official SDKs parse, which the open document names differently or not at all:
/// 1. <c>response.reasoning_text.delta</c>/<c>.done</c> (OpenAI's names) are validated against the document's
///    <c>response.reasoning.delta</c>/<c>.done</c> schemas, whose fields are the same;
/// 2. OpenAI's other tool types are outside the document (it defines function tools only): a tool in <c>tools</c>
///    that is not a <c>function</c> (<c>custom</c>, <c>namespace</c>, <c>web_search</c>, ...), a <c>custom_tool_call</c> item in <c>output</c>, and the events that carry such an item or its
///    input (<c>response.custom_tool_call_input.*</c>) are left out here; <see cref="SchemaValidator"/> checks them
///    against OpenAI's schema. Any other type the document lacks fails;
/// 3. a <c>json_schema</c> text format's <c>schema</c> is validated as null: the document types it
///    <c>anyOf: [null]</c> (its generator lost the object branch), while the Response echoes the client's schema.
/// </summary>
public static class OpenResponsesValidator
{
    private const string ResourceName = "openresponses-2026-04-24.json";

    private static readonly HashSet<string> ExtensionItems = ["custom_tool_call", "custom_tool_call_output"];

    private static readonly HashSet<string> ExtensionEvents = ["response.custom_tool_call_input.delta", "response.custom_tool_call_input.done"];

    private static readonly Dictionary<string, string> Aliases = new(StringComparer.Ordinal)
    {
        ["response.reasoning_text.delta"] = "response.reasoning.delta",
        ["response.reasoning_text.done"] = "response.reasoning.done",
    };

    private static readonly Lazy<(JsonSchema Root, Dictionary<string, string> EventSchemas)> Loaded = new(Load);

    /// <summary>The event types validated (not left out as extensions), for tests that want to see coverage.</summary>
    public static int ValidateEvents(IEnumerable<JsonObject> events)
    {
        var validated = 0;
        foreach (var evt in events)
        {
            var type = (string?)evt["type"] ?? "";
            if (ExtensionEvents.Contains(type) || (evt["item"] is JsonObject item && ExtensionItems.Contains((string?)item["type"] ?? "")))
            {
                continue;
            }
            var copy = (JsonObject)evt.DeepClone();
            if (Aliases.TryGetValue(type, out var alias))
            {
                copy["type"] = alias;
                type = alias;
            }
            Assert.True(Loaded.Value.EventSchemas.TryGetValue(type, out var name), $"event type '{type}' is not in the Open Responses document");
            if (copy["response"] is JsonObject response)
            {
                LeaveOutExtensions(response);
            }
            Validate(name!, copy, type);
            validated++;
        }
        return validated;
    }

    public static void ValidateResponse(JsonObject response)
    {
        var copy = (JsonObject)response.DeepClone();
        LeaveOutExtensions(copy);
        Validate("ResponseResource", copy, "Response");
    }

    /// <summary>A WebSocket-mode error envelope (<c>WebSocketErrorEvent</c>).</summary>
    public static void ValidateWebSocketError(JsonObject envelope) => Validate("WebSocketErrorEvent", envelope, "WebSocket error");

    private static void Validate(string definition, JsonObject value, string what)
    {
        var schema = Loaded.Value.Root.Definitions[definition];
        var errors = schema.Validate(value.ToJsonString());
        Assert.True(errors.Count == 0, $"{what} does not match Open Responses {definition}: {string.Join("; ", errors.Select(Describe))}\n{value.ToJsonString()}");
    }

    private static string Describe(NJsonSchema.Validation.ValidationError error) => error switch
    {
        NJsonSchema.Validation.ChildSchemaValidationError child =>
            $"{error.Path}: {error.Kind} [{string.Join(" | ", child.Errors.SelectMany(e => e.Value).Select(Describe))}]",
        _ => $"{error.Path}: {error.Kind}",
    };

    private static void LeaveOutExtensions(JsonObject response)
    {
        if (response["tools"] is JsonArray tools)
        {
            foreach (var tool in tools.Where(t => (string?)t?["type"] != "function").ToList())
            {
                tools.Remove(tool);
            }
        }
        if (response["output"] is JsonArray output)
        {
            foreach (var item in output.Where(i => ExtensionItems.Contains((string?)i?["type"] ?? "")).ToList())
            {
                output.Remove(item);
            }
        }
        if (response["tool_choice"] is JsonObject { } choice && (string?)choice["type"] == "custom")
        {
            response["tool_choice"] = "auto";
        }
        if (response["text"]?["format"] is JsonObject format && (string?)format["type"] == "json_schema" && format.ContainsKey("schema"))
        {
            format["schema"] = null;
        }
    }

    private static (JsonSchema, Dictionary<string, string>) Load()
    {
        using var stream = typeof(OpenResponsesValidator).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"embedded resource {ResourceName} is missing");
        var schemas = JsonNode.Parse(stream)!["components"]!["schemas"]!.AsObject();
        var definitions = (JsonObject)SchemaValidator.Rewrite(schemas.DeepClone())!;
        var root = new JsonObject { ["definitions"] = definitions };
        var schema = JsonSchema.FromJsonAsync(root.ToJsonString()).GetAwaiter().GetResult();

        // The document has no union of stream events: every schema whose name ends in StreamingEvent is one.
        var events = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, definition) in schemas)
        {
            if (!name.EndsWith("StreamingEvent", StringComparison.Ordinal))
            {
                continue;
            }
            foreach (var type in definition?["properties"]?["type"]?["enum"]?.AsArray() ?? [])
            {
                events[(string)type!] = name;
            }
        }
        return (schema, events);
    }
}
