using System.Text.Json.Nodes;
using NJsonSchema;
using Xunit;

namespace ResponsesGateway.TestSupport;

/// <summary>
/// Validates emitted events and Responses against <c>Schemas/responses-schemas.json</c> (embedded; a copy of
/// the Responses subset of OpenAI's OpenAPI document, openai/openai-openapi at f85dbe2) with NJsonSchema. Each event is checked against the schema its <c>type</c> names in <c>ResponseStreamEvent</c>'s
/// <c>anyOf</c>, which gives a precise error instead of "matched none of 50 branches".
///
/// Tolerances, each a documented spec-vs-wire discrepancy (where the live API and its published schema disagree) or a limit of the validator:
/// 1. <c>oneOf</c> is read as <c>anyOf</c> (the spec uses oneOf non-exclusively; an EasyInputMessage also
///    matches InputMessage, so a strict validator rejects valid values);
/// 2. <c>discriminator</c> objects are removed (an OpenAPI annotation, not a JSON Schema keyword; NJsonSchema would
///    read it as its own draft-4 string discriminator);
/// 3. <c>usage: null</c> and <c>user: null</c> on a Response are removed before validation (the API emits null
///    until the response is terminal, and for user always, although both are typed non-nullable);
/// 4. <c>response.error.code</c> values outside the spec's closed enum are validated as <c>server_error</c>: a failure
///    carries the upstream's own code (e.g. <c>upstream_overloaded</c>), as OpenAI itself does with
///    <c>context_length_exceeded</c> / <c>insufficient_quota</c>, which the enum also lacks;
/// 5. <c>$ref</c>s are rewritten from <c>#/components/schemas/X</c> to <c>#/definitions/X</c> (where NJsonSchema looks).
/// Everything else — <c>store</c> (sent by the API, undeclared in the schema) included — validates as is, because Response does not forbid
/// additional properties.
/// </summary>
public static class SchemaValidator
{
    private const string ResourceName = "responses-schemas.json";

    private static readonly Lazy<(JsonSchema Root, Dictionary<string, string> EventSchemas)> Loaded = new(Load);

    public static void ValidateEvents(IEnumerable<JsonObject> events)
    {
        foreach (var evt in events)
        {
            var type = (string?)evt["type"] ?? "";
            Assert.True(Loaded.Value.EventSchemas.TryGetValue(type, out var name), $"event type '{type}' is not in ResponseStreamEvent");
            var copy = (JsonObject)evt.DeepClone();
            if (copy["response"] is JsonObject response)
            {
                ApplyResponseTolerances(response);
            }
            Validate(name!, copy, type);
        }
    }

    public static void ValidateResponse(JsonObject response)
    {
        var copy = (JsonObject)response.DeepClone();
        ApplyResponseTolerances(copy);
        Validate("Response", copy, "Response");
    }

    private static void Validate(string definition, JsonObject value, string what)
    {
        var schema = Loaded.Value.Root.Definitions[definition];
        var errors = schema.Validate(value.ToJsonString());
        Assert.True(errors.Count == 0, $"{what} does not match {definition}: {string.Join("; ", errors.Select(Describe))}\n{value.ToJsonString()}");
    }

    private static string Describe(NJsonSchema.Validation.ValidationError error) => error switch
    {
        NJsonSchema.Validation.ChildSchemaValidationError child =>
            $"{error.Path}: {error.Kind} [{string.Join(" | ", child.Errors.SelectMany(e => e.Value).Select(Describe))}]",
        _ => $"{error.Path}: {error.Kind}",
    };

    private static void ApplyResponseTolerances(JsonObject response)
    {
        if (response["error"] is JsonObject error && error["code"] is JsonValue)
        {
            error["code"] = "server_error";
        }
        foreach (var name in new[] { "usage", "user" })
        {
            if (response.ContainsKey(name) && response[name] is null)
            {
                response.Remove(name);
            }
        }
    }

    private static (JsonSchema, Dictionary<string, string>) Load()
    {
        using var stream = typeof(SchemaValidator).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"embedded resource {ResourceName} is missing");
        var schemas = JsonNode.Parse(stream)!["components"]!["schemas"]!.AsObject();
        var definitions = (JsonObject)Rewrite(schemas.DeepClone())!;
        var root = new JsonObject { ["definitions"] = definitions };
        var schema = JsonSchema.FromJsonAsync(root.ToJsonString()).GetAwaiter().GetResult();

        var events = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var branch in schemas["ResponseStreamEvent"]!["anyOf"]!.AsArray())
        {
            var name = ((string)branch!["$ref"]!)["#/components/schemas/".Length..];
            foreach (var type in schemas[name]?["properties"]?["type"]?["enum"]?.AsArray() ?? [])
            {
                events[(string)type!] = name;
            }
        }
        return (schema, events);
    }

    /// <summary>The OpenAPI-to-NJsonSchema rewrite (tolerances 1, 2 and 5), shared with <see cref="OpenResponsesValidator"/>.</summary>
    internal static JsonNode? Rewrite(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject obj:
                var rewritten = new JsonObject();
                foreach (var (key, value) in obj)
                {
                    if (key == "discriminator" && value is JsonObject)
                    {
                        continue;
                    }
                    if (key == "$ref" && (string?)value is { } reference)
                    {
                        rewritten[key] = reference.Replace("#/components/schemas/", "#/definitions/", StringComparison.Ordinal);
                        continue;
                    }
                    rewritten[key == "oneOf" ? "anyOf" : key] = Rewrite(value?.DeepClone());
                }
                return rewritten;
            case JsonArray array:
                return new JsonArray(array.Select(v => Rewrite(v?.DeepClone())).ToArray());
            default:
                return node?.DeepClone();
        }
    }
}
