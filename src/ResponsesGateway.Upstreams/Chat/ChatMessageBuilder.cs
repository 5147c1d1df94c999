using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;

namespace ResponsesGateway.Upstreams.Chat;

/// <summary>
/// Turns Responses input items into Chat Completions <c>messages</c> (docs/architecture.md, chat rules R1–R4):
/// 1. <c>instructions</c> first, in the profile's system role;
/// 2. messages one for one, system/developer in the profile's role, content parts mapped;
/// 3. a run of <c>function_call</c> / <c>function_call_output</c> items becomes ONE assistant message carrying every
///    call (merged into the assistant text message just before it, if any), followed by one tool message per call in
///    call order: Chat upstreams reject a tool-call message not followed by all its results (openai/codex#7051);
///    <c>custom_tool_call</c> / <c>custom_tool_call_output</c> are the same, the input wrapped as the arguments
///    <c>{"input": …}</c> (<see cref="ChatCustomTools"/>); a call that carries a <c>namespace</c> is sent under its
///    flattened chat name (<see cref="ChatToolPlan"/>);
/// 4. orphans are repaired only from items in this same input (our stored chain plus the client's items), never by
///    guessing: a call whose output appears nowhere is dropped; an output whose call appears elsewhere (out of order)
///    gets that call re-emitted right before it; an output whose call appears nowhere is dropped;
/// 5. replayed reasoning becomes the reasoning field of the next assistant message when the profile sends reasoning
///    back (DeepSeek thinking mode), and is dropped otherwise;
/// 6. a <c>compaction</c> item (the chat compaction emulation's, <see cref="CompactionEnvelope"/>) becomes its summary as
///    a system message in front of the history, and only user/system messages before it are kept; a foreign or
///    tampered one is a 400;
/// 7. unknown item types are skipped and logged once per type (Codex sends new ones, bifrost#4596).
/// </summary>
internal sealed class ChatMessageBuilder
{
    private readonly ChatCapabilities _capabilities;
    private readonly ILogger _logger;
    private readonly int _clientOffset;
    private readonly ChatToolPlan? _plan;
    private readonly JsonArray _messages = [];
    private readonly Dictionary<string, JsonObject> _calls = new(StringComparer.Ordinal);
    private readonly HashSet<string> _answered = new(StringComparer.Ordinal);
    private readonly HashSet<string> _emitted = new(StringComparer.Ordinal);
    private readonly HashSet<string> _skippedTypes = new(StringComparer.Ordinal);
    private ToolBlock? _block;
    private string? _pendingReasoning;
    private int _lastCompaction = -1;
    private string? _summary;

    /// <param name="clientOffset">How many expanded chain items precede the client's own input (for error params).</param>
    /// <param name="plan">The request's chat tool names: a replayed call of a namespaced tool is sent under its flattened name.</param>
    public ChatMessageBuilder(ChatCapabilities capabilities, ILogger logger, int clientOffset, ChatToolPlan? plan = null)
    {
        _capabilities = capabilities;
        _logger = logger;
        _clientOffset = clientOffset;
        _plan = plan;
    }

    public JsonArray Build(string? instructions, JsonNode? input)
    {
        if (!string.IsNullOrEmpty(instructions))
        {
            _messages.Add((JsonNode)new JsonObject { ["role"] = _capabilities.SystemRole, ["content"] = instructions });
        }
        if (input is JsonValue single && single.TryGetValue<string>(out var text))
        {
            _messages.Add((JsonNode)new JsonObject { ["role"] = "user", ["content"] = text });
            return _messages;
        }
        var items = (input as JsonArray ?? []).OfType<JsonObject>().ToList();
        foreach (var item in items)
        {
            if ((string?)item["type"] is "function_call" or "custom_tool_call" && (string?)item["call_id"] is { } callId)
            {
                _calls.TryAdd(callId, item);
            }
            if ((string?)item["type"] is "function_call_output" or "custom_tool_call_output" && (string?)item["call_id"] is { } answered)
            {
                _answered.Add(answered);
            }
        }
        var all = input as JsonArray ?? [];
        for (var i = 0; i < all.Count; i++)
        {
            if (all[i] is JsonObject item && JsonText.Of(item["type"]) == "compaction")
            {
                _lastCompaction = i;
            }
        }
        var index = 0;
        foreach (var node in all)
        {
            if (node is JsonObject item && (index >= _lastCompaction || IsKeptBeforeCompaction(item)))
            {
                Add(item, index);
            }
            index++;
        }
        CloseBlock();
        if (_summary is not null)
        {
            // In front of the history, after the instructions: what the kept messages and later turns build on.
            var at = 0;
            while (at < _messages.Count && (string?)_messages[at]!["role"] == _capabilities.SystemRole)
            {
                at++;
            }
            _messages.Insert(at, new JsonObject { ["role"] = _capabilities.SystemRole, ["content"] = SummaryPreamble + _summary });
        }
        return _messages;
    }

    private void Add(JsonObject item, int index)
    {
        var type = (string?)item["type"];
        switch (type)
        {
            case null when item["role"] is not null:
            case "message":
                AddMessage(item, index);
                break;
            case "function_call" or "custom_tool_call":
                AddCall(item);
                break;
            case "function_call_output" or "custom_tool_call_output":
                AddOutput(item);
                break;
            case "reasoning":
                AddReasoning(item);
                break;
            case "compaction":
                AddCompaction(item, index);
                break;
            case "additional_tools" or "tool_search_call" or "tool_search_output" or "compaction_trigger":
                // Their tools are in the chat tools already (ChatToolPlan); the search itself has no chat form.
                break;
            default:
                if (_skippedTypes.Add(type ?? "(none)"))
                {
                    ChatLog.SkippedItemType(_logger, type ?? "(none)");
                }
                break;
        }
    }

    /// <summary>
    /// Before the last compaction item only the messages a compaction keeps (user, system, developer) are sent; the
    /// summary stands for the rest (assistant turns, tool calls and their outputs). Earlier compaction items are still
    /// checked: a tampered one is refused wherever it is.
    /// </summary>
    private static bool IsKeptBeforeCompaction(JsonObject item) => JsonText.Of(item["type"]) switch
    {
        "compaction" => true,
        null or "message" => JsonText.Of(item["role"]) is "user" or "system" or "developer",
        _ => false,
    };

    private const string SummaryPreamble = "Summary of the earlier part of this conversation (it was compacted):\n\n";

    private void AddCompaction(JsonObject item, int index)
    {
        var param = ParamOf(index) + ".encrypted_content";
        var summary = _capabilities.Compaction.TryOpen(JsonText.Of(item["encrypted_content"]))
            ?? throw Core.Errors.GatewayErrors.InvalidValue(param,
                "it is not a compaction this gateway produced for a Chat Completions upstream (it was changed, or comes from another service or key).",
                "invalid_encrypted_content");
        if (index == _lastCompaction)
        {
            _summary = summary;
        }
    }

    private void AddMessage(JsonObject item, int index)
    {
        CloseBlock();
        var role = (string?)item["role"] ?? "user";
        var content = ChatContentMapper.MessageContent(item["content"], role, ParamOf(index), _logger);
        if (content is null)
        {
            return;
        }
        var message = new JsonObject { ["role"] = role is "system" or "developer" ? _capabilities.SystemRole : role, ["content"] = content };
        if (role == "assistant")
        {
            AttachReasoning(message);
        }
        else
        {
            // Reasoning belongs to the assistant turn after it; a user turn in between means that turn is gone.
            _pendingReasoning = null;
        }
        _messages.Add((JsonNode)message);
    }

    private void AddCall(JsonObject item)
    {
        var callId = (string?)item["call_id"];
        if (callId is null || _emitted.Contains(callId) || _block?.Has(callId) == true)
        {
            return;
        }
        if (!_answered.Contains(callId))
        {
            ChatLog.DroppedOrphanCall(_logger, callId);
            return;
        }
        OpenBlock().Add(callId, item);
    }

    private void AddOutput(JsonObject item)
    {
        var callId = (string?)item["call_id"];
        if (callId is null)
        {
            return;
        }
        if (_block?.Has(callId) == true)
        {
            _block.Answer(callId, ToolMessage(callId, item));
            return;
        }
        if (_emitted.Contains(callId))
        {
            return; // a second output for an answered call: the first one stands
        }
        if (!_calls.TryGetValue(callId, out var call))
        {
            ChatLog.DroppedOrphanOutput(_logger, callId);
            return;
        }
        // The call exists elsewhere in this input but not in the open run: re-emit it right before its output.
        CloseBlock();
        var block = OpenBlock();
        block.Add(callId, call);
        block.Answer(callId, ToolMessage(callId, item));
    }

    private void AddReasoning(JsonObject item)
    {
        CloseBlock();
        if (!_capabilities.SendReasoningContent)
        {
            return;
        }
        var text = ReasoningText(item);
        if (!string.IsNullOrEmpty(text))
        {
            _pendingReasoning = _pendingReasoning is null ? text : _pendingReasoning + "\n\n" + text;
        }
    }

    /// <summary>
    /// The reasoning text of a replayed item: its raw <c>content</c> (what this gateway stores), else our own
    /// <c>encrypted_content</c> envelope, else the summary. Another provider's ciphertext is never sent to this upstream.
    /// </summary>
    internal static string? ReasoningText(JsonObject item)
    {
        var content = Join(item["content"] as JsonArray);
        if (!string.IsNullOrEmpty(content))
        {
            return content;
        }
        if (ReasoningEnvelope.TryUnwrap(JsonText.Of(item["encrypted_content"])) is { Length: > 0 } unwrapped)
        {
            return unwrapped;
        }
        return Join(item["summary"] as JsonArray);

        static string? Join(JsonArray? parts)
        {
            var texts = (parts ?? []).OfType<JsonObject>().Select(p => JsonText.Of(p["text"]))
                .Where(t => !string.IsNullOrEmpty(t)).ToList();
            return texts.Count == 0 ? null : string.Join("\n\n", texts);
        }
    }

    private ToolBlock OpenBlock()
    {
        if (_block is not null)
        {
            return _block;
        }
        // Text and calls of one assistant turn share one message, as the model produced them.
        if (_messages.Count > 0 && _messages[^1] is JsonObject last && (string?)last["role"] == "assistant" && last["tool_calls"] is null)
        {
            _block = new ToolBlock(last, created: false);
            return _block;
        }
        var assistant = new JsonObject { ["role"] = "assistant", ["content"] = null };
        AttachReasoning(assistant);
        _messages.Add((JsonNode)assistant);
        _block = new ToolBlock(assistant, created: true);
        return _block;
    }

    private void CloseBlock()
    {
        if (_block is not { } block)
        {
            return;
        }
        _block = null;
        var answered = block.CallIds.Where(block.Outputs.ContainsKey).ToList();
        if (answered.Count == 0)
        {
            if (block.Created)
            {
                _messages.Remove(block.Assistant);
            }
            return;
        }
        // Calls answered later in the input are left out here; their output re-emits them (rule 4).
        block.Assistant["tool_calls"] = new JsonArray(answered.Select(id => (JsonNode)ToolCall(id, block.Calls[id])).ToArray());
        foreach (var id in answered)
        {
            _messages.Add((JsonNode)block.Outputs[id]);
            _emitted.Add(id);
        }
    }

    private void AttachReasoning(JsonObject assistant)
    {
        if (_pendingReasoning is not null)
        {
            assistant[_capabilities.ReasoningField] = _pendingReasoning;
            _pendingReasoning = null;
        }
    }

    private JsonObject ToolCall(string callId, JsonObject item) => new()
    {
        ["id"] = callId,
        ["type"] = "function",
        ["function"] = new JsonObject
        {
            ["name"] = ChatName(JsonText.Of(item["name"]) ?? "", JsonText.Of(item["namespace"])),
            ["arguments"] = (string?)item["type"] == "custom_tool_call" ? ChatCustomTools.WrapInput(JsonText.Of(item["input"])) : (string?)item["arguments"] ?? "{}",
        },
    };

    private string ChatName(string name, string? ns) =>
        _plan?.ChatName(name, ns) ?? (ns is null ? name : ChatToolPlan.Flatten(ns, name, taken: null));

    private JsonObject ToolMessage(string callId, JsonObject item) => new()
    {
        ["role"] = "tool",
        ["tool_call_id"] = callId,
        ["content"] = ChatContentMapper.ToolOutput(item["output"], _logger),
    };

    private string ParamOf(int index) => index >= _clientOffset ? $"input[{index - _clientOffset}]" : "input";

    /// <summary>A run of calls that becomes one assistant message, and the outputs that answer them.</summary>
    private sealed class ToolBlock(JsonObject assistant, bool created)
    {
        public JsonObject Assistant { get; } = assistant;
        public bool Created { get; } = created;
        public List<string> CallIds { get; } = [];
        public Dictionary<string, JsonObject> Calls { get; } = new(StringComparer.Ordinal);
        public Dictionary<string, JsonObject> Outputs { get; } = new(StringComparer.Ordinal);

        public bool Has(string callId) => Calls.ContainsKey(callId);

        public void Add(string callId, JsonObject call)
        {
            CallIds.Add(callId);
            Calls[callId] = call;
        }

        public void Answer(string callId, JsonObject message) => Outputs.TryAdd(callId, message);
    }
}
