using System.Text.Json.Nodes;

namespace ResponsesGateway.Core.Requests;

/// <summary>
/// A validated <c>POST /v1/responses</c> body: typed views of the fields the gateway acts on, and the whole body as
/// raw JSON so that unknown fields reach a native upstream unchanged.
/// </summary>
public sealed class CreateResponseRequest
{
    internal CreateResponseRequest(JsonObject body, string model, JsonArray input, bool inputWasString)
    {
        Body = body;
        Model = model;
        Input = input;
        InputWasString = inputWasString;
    }

    /// <summary>The body as received (chat-style nested function tools already flattened).</summary>
    public JsonObject Body { get; }

    public string Model { get; }

    /// <summary>The input as a list of items: a string input becomes one user message.</summary>
    public JsonArray Input { get; }

    /// <summary>True when the client sent <c>input</c> as a plain string.</summary>
    public bool InputWasString { get; }

    public bool Stream => Flag("stream", false);

    /// <summary><c>store</c> defaults to true, as in OpenAI.</summary>
    public bool Store => Flag("store", true);

    /// <summary><c>background</c>: answered at once and run from the queue (requires <c>store</c>).</summary>
    public bool Background => Flag("background", false);

    public string? PreviousResponseId => JsonKinds.AsString(Body["previous_response_id"]);

    /// <summary>The conversation this turn reads from and appends to: <c>"conv_…"</c> or <c>{"id":"conv_…"}</c>.</summary>
    public string? ConversationId => JsonKinds.AsString(Body["conversation"]) ?? JsonKinds.AsString((Body["conversation"] as JsonObject)?["id"]);

    public string? Instructions => JsonKinds.AsString(Body["instructions"]);

    /// <summary>
    /// Headers for the HTTP answer that the upstream adapter adds while handling the request, before its first byte
    /// (e.g. <c>x-gateway-dropped-tools</c>); the HTTP edge writes them with the status line.
    /// </summary>
    public IDictionary<string, string> ResponseHeaders { get; } = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);

    private bool Flag(string name, bool fallback) =>
        Body[name] is JsonValue value && value.TryGetValue<bool>(out var flag) ? flag : fallback;
}
