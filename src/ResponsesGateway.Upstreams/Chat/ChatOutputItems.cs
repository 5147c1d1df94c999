using System.Text;
using System.Text.Json.Nodes;
using ResponsesGateway.Core.Ids;
using ResponsesGateway.Protocol.Streaming;

namespace ResponsesGateway.Upstreams.Chat;

/// <summary>One output item of a translated response while it streams: its place, id, and what it has received.</summary>
internal abstract class ChatOutputItem(int outputIndex, string id)
{
    public int OutputIndex { get; } = outputIndex;

    public string Id { get; } = id;

    /// <summary>The final item, once <c>output_item.done</c> was emitted.</summary>
    public JsonObject? Done { get; set; }

    public bool IsOpen => Done is null;
}

/// <summary>An assistant message: an <c>output_text</c> part and/or a <c>refusal</c> part, in the order they started.</summary>
internal sealed class ChatMessageItem(int outputIndex) : ChatOutputItem(outputIndex, ResponseIds.NewItemId("msg"))
{
    public List<(string Type, StringBuilder Text)> Parts { get; } = [];

    public int TextPart { get; set; } = -1;

    public int RefusalPart { get; set; } = -1;

    public JsonObject Build(string status) => new()
    {
        ["id"] = Id,
        ["type"] = "message",
        ["status"] = status,
        ["content"] = new JsonArray(Parts.Select(p => (JsonNode)Part(p.Type, p.Text.ToString())).ToArray()),
        ["role"] = "assistant",
    };

    public static JsonObject Part(string type, string text) => type == "refusal"
        ? new JsonObject { ["type"] = "refusal", ["refusal"] = text }
        : new JsonObject { ["type"] = "output_text", ["annotations"] = new JsonArray(), ["logprobs"] = new JsonArray(), ["text"] = text };
}

/// <summary>
/// A reasoning item. Chat upstreams return raw reasoning, not a summary, so it is a <c>reasoning_text</c> content part
/// (what gpt-oss does on the Responses API), with <c>summary: []</c> as Codex requires.
/// </summary>
internal sealed class ChatReasoningItem(int outputIndex) : ChatOutputItem(outputIndex, ResponseIds.NewItemId("rs"))
{
    public StringBuilder Text { get; } = new();

    public JsonObject Build(bool includeEnvelope)
    {
        // Recorded reasoning items carry no status: OpenAI sends none on them, and the schema does not require one.
        var item = new JsonObject
        {
            ["id"] = Id,
            ["type"] = "reasoning",
            ["summary"] = new JsonArray(),
            ["content"] = new JsonArray(Part(Text.ToString())),
        };
        if (includeEnvelope)
        {
            item["encrypted_content"] = ReasoningEnvelope.Wrap(Text.ToString());
        }
        return item;
    }

    public static JsonObject Part(string text) => new() { ["type"] = "reasoning_text", ["text"] = text };
}

/// <summary>
/// A function call keyed by the chat <c>index</c>. It becomes an item only once both its id and its name are known
/// (they can arrive after the first argument fragment); fragments seen before that are buffered.
/// </summary>
internal sealed class ChatToolCall
{
    public string? CallId { get; set; }

    public string? Name { get; set; }

    public StringBuilder Arguments { get; } = new();

    /// <summary>How much of <see cref="Arguments"/> has gone out as deltas.</summary>
    public int Sent { get; set; }

    /// <summary>The item once opened: a <see cref="ChatFunctionCallItem"/>, or a <see cref="ChatCustomToolCallItem"/> when the name is a custom tool's.</summary>
    public ChatToolCallItem? Item { get; set; }
}

/// <summary>A tool call the model made: its call id, name and the argument fragments received so far.</summary>
internal abstract class ChatToolCallItem(int outputIndex, string id, string callId, string name, string? ns, StringBuilder arguments) : ChatOutputItem(outputIndex, id)
{
    /// <summary>Every argument fragment received so far (shared with the <see cref="ChatToolCall"/> that feeds it).</summary>
    public StringBuilder Arguments { get; } = arguments;

    public string CallId { get; } = callId;

    /// <summary>The tool's own name (not the flattened chat name of a namespaced tool).</summary>
    public string Name { get; } = name;

    /// <summary>The namespace of a namespaced tool, else null (and absent from the item, as OpenAI sends it).</summary>
    public string? Namespace { get; } = ns;

    /// <summary>The item with its <c>arguments</c> (function call) or <c>input</c> (custom tool call).</summary>
    public abstract JsonObject Build(string status, string payload);

    public JsonObject Added() => Build(ResponseStatuses.InProgress, "");

    protected JsonObject WithNamespace(JsonObject item)
    {
        if (Namespace is not null)
        {
            item["namespace"] = Namespace;
        }
        return item;
    }
}

internal sealed class ChatFunctionCallItem(int outputIndex, string callId, string name, string? ns, StringBuilder arguments)
    : ChatToolCallItem(outputIndex, ResponseIds.NewItemId("fc"), callId, name, ns, arguments)
{
    public override JsonObject Build(string status, string payload) => WithNamespace(new()
    {
        ["id"] = Id,
        ["type"] = "function_call",
        ["status"] = status,
        ["arguments"] = payload,
        ["call_id"] = CallId,
        ["name"] = Name,
    });
}

/// <summary>
/// A call to a custom tool (<see cref="ChatCustomTools"/>): the chat function call whose arguments wrap the input. The
/// arguments are buffered until the call closes, because the input is a JSON string value that arrives split at
/// arbitrary points (escapes included); the input then goes out as one delta and its done event.
/// </summary>
internal sealed class ChatCustomToolCallItem(int outputIndex, string callId, string name, string? ns, StringBuilder arguments)
    : ChatToolCallItem(outputIndex, ResponseIds.NewItemId("ctc"), callId, name, ns, arguments)
{
    public override JsonObject Build(string status, string payload) => WithNamespace(new()
    {
        ["id"] = Id,
        ["type"] = "custom_tool_call",
        ["status"] = status,
        ["call_id"] = CallId,
        ["name"] = Name,
        ["input"] = payload,
    });
}
