using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using ResponsesGateway.Core.Ids;
using ResponsesGateway.Core.Responses;
using ResponsesGateway.Core.Upstreams;
using ResponsesGateway.Protocol.Streaming;

namespace ResponsesGateway.Upstreams.Chat;

/// <summary>
/// The one state machine that turns Chat Completions output into Responses events, for streams (chunk by chunk) and
/// for JSON answers (the whole message fed as one chunk), so both paths build the same items
/// (docs/architecture.md, chat rules R8–R10; vllm-project/vllm#29725 on GitHub is what diverging paths cost). The steps:
/// 1. <see cref="Start"/>: <c>response.created</c>, <c>response.in_progress</c>;
/// 2. <see cref="OnChunk"/>: an in-band <c>error</c> chunk throws <see cref="UpstreamException"/> (the pipeline closes
///    what is open and sends <c>response.failed</c> with its code); reasoning (<c>reasoning_content</c>, <c>reasoning</c>
///    or a leading <c>&lt;think&gt;</c> block) opens a reasoning item; text and refusals open a message; tool calls open
///    one function_call item each once id and name are known, with the tool's own name and namespace
///    (<see cref="ChatToolPlan"/>; a custom_tool_call item when the name is one of the request's custom tools, its input sent whole when the call closes: <see cref="ChatCustomToolCallItem"/>). Items get dense output indexes in arrival order; reasoning
///    closes when anything else starts; the usage chunk is kept; <c>finish_reason</c> closes every item;
/// 3. <see cref="Finish"/> (end of stream, with or without <c>[DONE]</c>, usage or finish_reason): closes anything still
///    open and emits <c>response.completed</c>, or <c>response.incomplete</c> for <c>length</c> / <c>content_filter</c>.
/// Sequence numbers are left to the pipeline, which numbers every event it writes.
/// </summary>
internal sealed class ChatStreamTranslator
{
    private readonly UpstreamRequest _request;
    private readonly string _upstream;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly ThinkTagSplitter? _think;
    private readonly bool _includeEnvelope;
    private readonly JsonObject _response;
    private readonly List<ChatOutputItem> _items = [];
    private readonly Dictionary<int, ChatToolCall> _tools = [];
    private readonly ChatToolPlan _plan;
    private ChatReasoningItem? _reasoning;
    private ChatMessageItem? _message;
    private int _lastToolIndex;
    private string? _finishReason;
    private JsonObject? _usage;
    private bool _sawChunk;

    /// <param name="plan">The request's chat tools (built from the request when null): maps called names back.</param>
    public ChatStreamTranslator(UpstreamRequest request, ChatCapabilities capabilities, string upstream, ILogger logger, TimeProvider? time = null, ChatToolPlan? plan = null)
    {
        _request = request;
        _upstream = upstream;
        _logger = logger;
        _time = time ?? TimeProvider.System;
        _think = capabilities.ThinkTags ? new ThinkTagSplitter() : null;
        _plan = plan ?? ChatToolPlan.Build(request.Body, capabilities, upstream);
        _includeEnvelope = (request.Body["include"] as JsonArray ?? []).Any(x => JsonText.Of(x) == "reasoning.encrypted_content");
        _response = ResponseObjects.Create(request.Original, request.ResponseId, request.CreatedAt, ResponseStatuses.InProgress);
    }

    /// <summary>The terminal Response, once <see cref="Finish"/> ran.</summary>
    public JsonObject? FinalResponse { get; private set; }

    public IEnumerable<JsonObject> Start()
    {
        yield return Lifecycle(StreamEventTypes.Created, (JsonObject)_response.DeepClone());
        yield return Lifecycle(StreamEventTypes.InProgress, (JsonObject)_response.DeepClone());
    }

    /// <summary>
    /// Translates one <c>chat.completion.chunk</c>. The chunk is only read, never kept: it may live in a pooled buffer
    /// that is reused once this returns.
    /// </summary>
    public List<JsonObject> OnChunk(JsonElement chunk)
    {
        _sawChunk = true;
        if (!JsonText.IsNull(Get(chunk, "error")) || Text(Get(chunk, "object")) == "error")
        {
            throw InBandError(chunk);
        }
        var events = new List<JsonObject>();
        if (Get(chunk, "usage") is { ValueKind: JsonValueKind.Object } usage)
        {
            _usage = ChatUsage.Map(usage);
        }
        // n is never sent, so only the first choice exists; other choices would be other answers.
        if (FirstChoice(Get(chunk, "choices")) is not { } choice)
        {
            return events;
        }
        var delta = Get(choice, "delta");
        if (JsonText.IsNull(delta))
        {
            delta = Get(choice, "message");
        }
        if (delta.ValueKind == JsonValueKind.Object)
        {
            if ((Text(Get(delta, "reasoning_content")) ?? Text(Get(delta, "reasoning"))) is { } reasoning)
            {
                Reasoning(events, reasoning);
            }
            if (Text(Get(delta, "content")) is { } content)
            {
                Content(events, content);
            }
            if (Text(Get(delta, "refusal")) is { } refusal)
            {
                MessageDelta(events, "refusal", refusal);
            }
            if (Get(delta, "tool_calls") is { ValueKind: JsonValueKind.Array } calls)
            {
                foreach (var call in calls.EnumerateArray())
                {
                    if (call.ValueKind == JsonValueKind.Object)
                    {
                        ToolCall(events, call);
                    }
                }
            }
        }
        if (Text(Get(choice, "finish_reason")) is { Length: > 0 } finish)
        {
            _finishReason = finish;
            CloseAll(events);
        }
        return events;
    }

    /// <summary>The first object in <c>choices</c> whose <c>index</c> is 0 or missing.</summary>
    private static JsonElement? FirstChoice(JsonElement choices)
    {
        if (choices.ValueKind != JsonValueKind.Array)
        {
            return null;
        }
        foreach (var choice in choices.EnumerateArray())
        {
            if (choice.ValueKind == JsonValueKind.Object && JsonText.IntOf(Get(choice, "index")) is null or 0)
            {
                return choice;
            }
        }
        return null;
    }

    /// <summary>Ends the response: closes what is open and returns the remaining events, the terminal one last.</summary>
    public List<JsonObject> Finish()
    {
        if (!_sawChunk)
        {
            throw new UpstreamException(UpstreamFailure.StreamInterrupted, "the upstream's stream ended without any chunk.");
        }
        var events = new List<JsonObject>();
        CloseAll(events);
        var reason = IncompleteReason(_finishReason);
        var status = reason is null ? ResponseStatuses.Completed : ResponseStatuses.Incomplete;
        var final = (JsonObject)_response.DeepClone();
        final["output"] = new JsonArray(_items.Select(i => (JsonNode)i.Done!.DeepClone()).ToArray());
        final["usage"] = _usage?.DeepClone();
        ResponseObjects.Finish(final, status, _time.GetUtcNow().ToUnixTimeSeconds(), incompleteReason: reason);
        FinalResponse = final;
        ChatLog.Finished(_logger, _upstream, _request.ResponseId, _finishReason ?? "(none)", _usage is not null);
        events.Add(Lifecycle(reason is null ? StreamEventTypes.Completed : StreamEventTypes.Incomplete, (JsonObject)final.DeepClone()));
        return events;
    }

    /// <summary>
    /// The JSON path's in-band error (a 200 whose body is an error envelope): the final Response, <c>failed</c>, carrying
    /// the upstream's code and message. Streams throw instead (<see cref="OnChunk"/>): the pipeline then closes what was
    /// already sent and ends with <c>response.failed</c>.
    /// </summary>
    public JsonObject Failed(JsonElement errorBody)
    {
        var error = InBandError(errorBody);
        var final = (JsonObject)_response.DeepClone();
        final["output"] = new JsonArray();
        ResponseObjects.Finish(final, ResponseStatuses.Failed, _time.GetUtcNow().ToUnixTimeSeconds(), ResponseObjects.Error(error.Code ?? "server_error", error.Message));
        FinalResponse = final;
        return final;
    }

    private void Content(List<JsonObject> events, string content)
    {
        if (_think is null)
        {
            MessageDelta(events, "output_text", content);
            return;
        }
        foreach (var (isReasoning, text) in _think.Feed(content))
        {
            if (isReasoning)
            {
                Reasoning(events, text);
            }
            else
            {
                MessageDelta(events, "output_text", text);
            }
        }
    }

    private void Reasoning(List<JsonObject> events, string text)
    {
        if (text.Length == 0)
        {
            return;
        }
        if (_reasoning is null)
        {
            // Reasoning after text (interleaved thinking) starts a new item after the message, never inside it.
            CloseMessage(events);
            _reasoning = new ChatReasoningItem(_items.Count);
            _items.Add(_reasoning);
            var added = _reasoning.Build(includeEnvelope: false);
            added["content"] = new JsonArray();
            events.Add(new JsonObject { ["type"] = StreamEventTypes.OutputItemAdded, ["output_index"] = _reasoning.OutputIndex, ["item"] = added });
            events.Add(ItemEvent(StreamEventTypes.ContentPartAdded, _reasoning, ("content_index", 0), ("part", ChatReasoningItem.Part(""))));
        }
        _reasoning.Text.Append(text);
        events.Add(ItemEvent(StreamEventTypes.ReasoningTextDelta, _reasoning, ("content_index", 0), ("delta", text)));
    }

    private void MessageDelta(List<JsonObject> events, string partType, string text)
    {
        if (text.Length == 0)
        {
            return; // the first chunk's content:"" opens nothing: a tool-call-only turn has no message item
        }
        CloseReasoning(events);
        if (_message is null)
        {
            _message = new ChatMessageItem(_items.Count);
            _items.Add(_message);
            events.Add(new JsonObject { ["type"] = StreamEventTypes.OutputItemAdded, ["output_index"] = _message.OutputIndex, ["item"] = _message.Build(ResponseStatuses.InProgress) });
        }
        var refusal = partType == "refusal";
        var index = refusal ? _message.RefusalPart : _message.TextPart;
        if (index < 0)
        {
            index = _message.Parts.Count;
            _message.Parts.Add((partType, new System.Text.StringBuilder()));
            if (refusal)
            {
                _message.RefusalPart = index;
            }
            else
            {
                _message.TextPart = index;
            }
            events.Add(ItemEvent(StreamEventTypes.ContentPartAdded, _message, ("content_index", index), ("part", ChatMessageItem.Part(partType, ""))));
        }
        _message.Parts[index].Text.Append(text);
        events.Add(refusal
            ? ItemEvent(StreamEventTypes.RefusalDelta, _message, ("content_index", index), ("delta", text))
            : ItemEvent(StreamEventTypes.OutputTextDelta, _message, ("content_index", index), ("delta", text), ("logprobs", new JsonArray())));
    }

    private void ToolCall(List<JsonObject> events, JsonElement delta)
    {
        var id = Text(Get(delta, "id"));
        var index = ToolIndex(JsonText.IntOf(Get(delta, "index")), id);
        _lastToolIndex = index;
        if (!_tools.TryGetValue(index, out var call))
        {
            call = new ChatToolCall();
            _tools[index] = call;
        }
        var function = Get(delta, "function");
        if (call.CallId is null && id is { Length: > 0 })
        {
            call.CallId = id;
        }
        if (call.Name is null && Text(Get(function, "name")) is { Length: > 0 } name)
        {
            call.Name = name;
        }
        switch (Get(function, "arguments"))
        {
            case { ValueKind: JsonValueKind.String } fragment:
                call.Arguments.Append(fragment.GetString());
                break;
            case { ValueKind: JsonValueKind.Object } arguments:
                call.Arguments.Append(JsonObject.Create(arguments)!.ToJsonString()); // a few servers send the object itself
                break;
        }
        if (call.Item is null && call.CallId is not null && call.Name is not null)
        {
            OpenToolCall(events, call);
        }
        SendArguments(events, call);
    }

    /// <summary>
    /// The chat <c>index</c> keys a call. Servers that omit it (or reuse 0 for every call) still send a fresh id with each
    /// new call, so a new id at a taken index is a new call; a fragment with neither belongs to the last call.
    /// </summary>
    private int ToolIndex(int? index, string? id)
    {
        var next = _tools.Count == 0 ? 0 : _tools.Keys.Max() + 1;
        if (index is { } given)
        {
            return id is { Length: > 0 } && _tools.TryGetValue(given, out var taken) && taken.CallId is not null && taken.CallId != id ? next : given;
        }
        if (id is { Length: > 0 })
        {
            var known = _tools.Where(t => t.Value.CallId == id).Select(t => (int?)t.Key).FirstOrDefault();
            return known ?? next;
        }
        return _lastToolIndex;
    }

    private void OpenToolCall(List<JsonObject> events, ChatToolCall call)
    {
        CloseReasoning(events);
        // A name the request did not declare (the model made it up) is passed on as a plain function call.
        var target = _plan.Resolve(call.Name!) ?? new ChatToolTarget(call.Name!, null, Custom: false);
        call.Item = target.Custom
            ? new ChatCustomToolCallItem(_items.Count, call.CallId!, target.Name, target.Namespace, call.Arguments)
            : new ChatFunctionCallItem(_items.Count, call.CallId!, target.Name, target.Namespace, call.Arguments);
        _items.Add(call.Item);
        events.Add(new JsonObject { ["type"] = StreamEventTypes.OutputItemAdded, ["output_index"] = call.Item.OutputIndex, ["item"] = call.Item.Added() });
    }

    private static void SendArguments(List<JsonObject> events, ChatToolCall call)
    {
        // Only function calls stream their arguments; a custom call's input is sent when it closes.
        if (call.Item is not ChatFunctionCallItem { IsOpen: true } item || call.Sent >= call.Arguments.Length)
        {
            return;
        }
        var delta = call.Arguments.ToString(call.Sent, call.Arguments.Length - call.Sent);
        call.Sent = call.Arguments.Length;
        events.Add(ItemEvent(StreamEventTypes.FunctionCallArgumentsDelta, item, ("delta", delta)));
    }

    /// <summary>Closes every open item: held think text first, calls still waiting for an id get one, nameless calls are dropped.</summary>
    private void CloseAll(List<JsonObject> events)
    {
        foreach (var (isReasoning, text) in _think?.Flush() ?? [])
        {
            if (isReasoning)
            {
                Reasoning(events, text);
            }
            else
            {
                MessageDelta(events, "output_text", text);
            }
        }
        foreach (var (index, call) in _tools.OrderBy(t => t.Key))
        {
            if (call.Item is not null)
            {
                continue;
            }
            if (call.Name is null)
            {
                // A function_call item without a name breaks clients (vllm PR #52418); there is nothing to call.
                ChatLog.DroppedNamelessToolCall(_logger, index, _request.ResponseId);
                continue;
            }
            call.CallId ??= "call_" + ResponseIds.NewItemId("gw")[3..]; // some servers never send tool call ids
            OpenToolCall(events, call);
            SendArguments(events, call);
        }
        _tools.Clear();
        var status = IncompleteReason(_finishReason) is null ? ResponseStatuses.Completed : ResponseStatuses.Incomplete;
        foreach (var item in _items.Where(i => i.IsOpen).ToList())
        {
            switch (item)
            {
                case ChatReasoningItem:
                    CloseReasoning(events);
                    break;
                case ChatMessageItem:
                    CloseMessage(events, status);
                    break;
                case ChatFunctionCallItem function:
                    CloseFunctionCall(events, function, status);
                    break;
                case ChatCustomToolCallItem custom:
                    CloseCustomToolCall(events, custom, status);
                    break;
            }
        }
    }

    private void CloseReasoning(List<JsonObject> events)
    {
        if (_reasoning is not { } reasoning)
        {
            return;
        }
        _reasoning = null;
        var text = reasoning.Text.ToString();
        events.Add(ItemEvent(StreamEventTypes.ReasoningTextDone, reasoning, ("content_index", 0), ("text", text)));
        events.Add(ItemEvent(StreamEventTypes.ContentPartDone, reasoning, ("content_index", 0), ("part", ChatReasoningItem.Part(text))));
        Done(events, reasoning, reasoning.Build(_includeEnvelope));
    }

    private void CloseMessage(List<JsonObject> events, string status = ResponseStatuses.Completed)
    {
        if (_message is not { } message)
        {
            return;
        }
        _message = null;
        for (var c = 0; c < message.Parts.Count; c++)
        {
            var (type, builder) = message.Parts[c];
            var text = builder.ToString();
            events.Add(type == "refusal"
                ? ItemEvent(StreamEventTypes.RefusalDone, message, ("content_index", c), ("refusal", text))
                : ItemEvent(StreamEventTypes.OutputTextDone, message, ("content_index", c), ("text", text), ("logprobs", new JsonArray())));
            events.Add(ItemEvent(StreamEventTypes.ContentPartDone, message, ("content_index", c), ("part", ChatMessageItem.Part(type, text))));
        }
        Done(events, message, message.Build(status));
    }

    private static void CloseFunctionCall(List<JsonObject> events, ChatFunctionCallItem item, string status)
    {
        events.Add(ItemEvent(StreamEventTypes.FunctionCallArgumentsDone, item, ("arguments", item.Arguments.ToString()), ("name", item.Name)));
        Done(events, item, item.Build(status, item.Arguments.ToString()));
    }

    /// <summary>
    /// The whole input as one delta (none when it is empty), its done event, then the item. Buffering until here is
    /// deliberate: fragments of <c>{"input":"…"}</c> are not input text until the JSON string is complete and unescaped.
    /// </summary>
    private static void CloseCustomToolCall(List<JsonObject> events, ChatCustomToolCallItem item, string status)
    {
        var input = ChatCustomTools.UnwrapInput(item.Arguments.ToString());
        if (input.Length > 0)
        {
            events.Add(ItemEvent(StreamEventTypes.CustomToolCallInputDelta, item, ("delta", input)));
        }
        events.Add(ItemEvent(StreamEventTypes.CustomToolCallInputDone, item, ("input", input)));
        Done(events, item, item.Build(status, input));
    }

    private static void Done(List<JsonObject> events, ChatOutputItem item, JsonObject final)
    {
        item.Done = final;
        events.Add(new JsonObject { ["type"] = StreamEventTypes.OutputItemDone, ["output_index"] = item.OutputIndex, ["item"] = final.DeepClone() });
    }

    private UpstreamException InBandError(JsonElement chunk)
    {
        var error = Get(chunk, "error") is { ValueKind: JsonValueKind.Object } nested ? nested : chunk;
        var message = Text(Get(error, "message")) ?? Text(Get(chunk, "error")) ?? "The upstream reported an error.";
        var code = Text(Get(error, "code")) ?? Text(Get(error, "type")) ?? "server_error";
        ChatLog.InBandError(_logger, _upstream, _request.ResponseId, code);
        return new UpstreamException(UpstreamFailure.InBandError, message) { Code = code };
    }

    private static string? IncompleteReason(string? finishReason) => finishReason switch
    {
        "length" => "max_output_tokens",
        "content_filter" => "content_filter",
        _ => null,
    };

    private static string? Text(JsonElement element) => JsonText.Of(element);

    private static JsonElement Get(JsonElement element, string name) => JsonText.Get(element, name);

    private static JsonObject Lifecycle(string type, JsonObject response) => new() { ["type"] = type, ["response"] = response };

    private static JsonObject ItemEvent(string type, ChatOutputItem item, params ReadOnlySpan<(string Name, JsonNode? Value)> fields)
    {
        var evt = new JsonObject { ["type"] = type, ["item_id"] = item.Id, ["output_index"] = item.OutputIndex };
        foreach (var (name, value) in fields)
        {
            evt[name] = value;
        }
        return evt;
    }
}
