using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using ResponsesGateway.Core.Ids;
using ResponsesGateway.Core.Responses;
using ResponsesGateway.Core.Upstreams;
using ResponsesGateway.Protocol.Serialization;
using ResponsesGateway.Protocol.Streaming;

namespace ResponsesGateway.Upstreams.Chat;

/// <summary>
/// Compaction emulated on a Chat Completions upstream (README, "Compaction"). One non-streaming call on the same
/// upstream summarises the whole input (the history as it would be sent, the tools offered but not callable, then the
/// configured prompt as a user message); the summary goes back sealed in a <c>compaction</c> item
/// (<see cref="CompactionEnvelope"/>), which <see cref="ChatMessageBuilder"/> expands when it is replayed.
/// 1. <c>POST /v1/responses/compact</c>: every user message of the input, then the compaction item, as OpenAI answers;
/// 2. a <c>compaction_trigger</c> item at the end of a create's input: a normal Response (or stream) whose only
///    output item is the compaction item.
/// The summarising call happens before anything is returned, so its failures are still HTTP errors.
/// </summary>
internal sealed partial class ChatCompletionsUpstream
{
    public async Task<JsonObject> CompactAsync(UpstreamRequest request, CancellationToken cancellationToken)
    {
        var (items, summary, usage) = await SummarizeAsync(request, cancellationToken);
        var output = new JsonArray();
        foreach (var item in items.OfType<JsonObject>().Where(IsUserMessage))
        {
            output.Add(KeptUserMessage(item));
        }
        output.Add(CompactionItem(summary));
        return new JsonObject
        {
            ["id"] = request.ResponseId,
            ["object"] = "response.compaction",
            ["created_at"] = request.CreatedAt,
            ["output"] = output,
            ["usage"] = usage,
        };
    }

    /// <summary>True when the create's input ends with a <c>compaction_trigger</c> item.</summary>
    private static bool EndsWithCompactionTrigger(UpstreamRequest request) =>
        request.Body["input"] is JsonArray { Count: > 0 } input && input[^1] is JsonObject last && JsonText.Of(last["type"]) == "compaction_trigger";

    private async Task<JsonObject> CompactTurnAsync(UpstreamRequest request, CancellationToken cancellationToken)
    {
        var (_, summary, usage) = await SummarizeAsync(request, cancellationToken);
        var response = ResponseObjects.Create(request.Original, request.ResponseId, request.CreatedAt, ResponseStatuses.InProgress);
        response["output"] = new JsonArray(CompactionItem(summary));
        response["usage"] = usage;
        ResponseObjects.Finish(response, ResponseStatuses.Completed, _time.GetUtcNow().ToUnixTimeSeconds());
        return response;
    }

    private async IAsyncEnumerable<JsonObject> StreamCompactTurnAsync(UpstreamRequest request, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var final = await CompactTurnAsync(request, cancellationToken);
        var started = ResponseObjects.Create(request.Original, request.ResponseId, request.CreatedAt, ResponseStatuses.InProgress);
        yield return new JsonObject { ["type"] = StreamEventTypes.Created, ["response"] = started.DeepClone() };
        yield return new JsonObject { ["type"] = StreamEventTypes.InProgress, ["response"] = started };
        var item = final["output"]![0]!;
        yield return new JsonObject { ["type"] = StreamEventTypes.OutputItemAdded, ["output_index"] = 0, ["item"] = item.DeepClone() };
        yield return new JsonObject { ["type"] = StreamEventTypes.OutputItemDone, ["output_index"] = 0, ["item"] = item.DeepClone() };
        yield return new JsonObject { ["type"] = StreamEventTypes.Completed, ["response"] = final };
    }

    /// <summary>The input items (without a trailing trigger), the model's summary of them, and the call's usage.</summary>
    private async Task<(JsonArray Items, string Summary, JsonObject Usage)> SummarizeAsync(UpstreamRequest request, CancellationToken cancellationToken)
    {
        var body = (JsonObject)request.Body.DeepClone();
        var items = body["input"] switch
        {
            JsonArray array => array,
            _ => (JsonArray)request.Original.Input.DeepClone(), // a string input, as the parser normalised it
        };
        if (items.Count > 0 && items[^1] is JsonObject last && JsonText.Of(last["type"]) == "compaction_trigger")
        {
            items.RemoveAt(items.Count - 1);
        }
        body["input"] = items;
        body.Remove("text"); // a summary, whatever output format the conversation asked for
        body.Remove("max_output_tokens");
        var summarizing = new UpstreamRequest(body, request.Original, request.ResponseId, request.CreatedAt);
        var plan = Plan(summarizing);
        var chat = ChatRequestMapper.Map(summarizing, plan, _capabilities, Name, stream: false, _logger);
        if (chat["tools"] is not null)
        {
            // Offered so the history's tool calls make sense to the upstream, but the answer must be text.
            chat["tool_choice"] = "none";
            chat.Remove("parallel_tool_calls");
        }
        chat["messages"]!.AsArray().Add((JsonNode)new JsonObject { ["role"] = "user", ["content"] = _capabilities.CompactionPrompt });

        ChatLog.Compacting(_logger, Name, request.ResponseId, items.Count);
        using var response = await _http.SendAsync(_url, ProtocolJson.ToUtf8(chat), stream: false, cancellationToken);
        var bytes = await _http.ReadBodyAsync(response, cancellationToken);
        JsonObject completion;
        try
        {
            completion = ProtocolJson.ParseObject(bytes);
        }
        catch (Exception e) when (e is JsonException or ArgumentException or InvalidOperationException)
        {
            throw new UpstreamException(UpstreamFailure.StreamInterrupted, "the upstream's answer is not a JSON object.", e);
        }
        var answer = ChatResponseMapper.Map(completion, NewTranslator(summarizing, plan));
        if ((string?)answer["status"] == ResponseStatuses.Failed)
        {
            var error = answer["error"] as JsonObject;
            throw new UpstreamException(UpstreamFailure.InBandError, (string?)error?["message"] ?? "The upstream failed to summarise the conversation.")
            {
                Code = (string?)error?["code"] ?? "server_error",
            };
        }
        var summary = string.Join("\n\n", (answer["output"] as JsonArray ?? []).OfType<JsonObject>()
            .Where(i => (string?)i["type"] == "message")
            .SelectMany(i => (i["content"] as JsonArray ?? []).OfType<JsonObject>())
            .Select(p => JsonText.Of(p["text"]))
            .Where(t => !string.IsNullOrWhiteSpace(t)));
        if (summary.Length == 0)
        {
            throw new UpstreamException(UpstreamFailure.StreamInterrupted, "the upstream returned no summary text.");
        }
        var usage = answer["usage"] as JsonObject ?? new JsonObject
        {
            ["input_tokens"] = 0, ["input_tokens_details"] = new JsonObject { ["cached_tokens"] = 0 },
            ["output_tokens"] = 0, ["output_tokens_details"] = new JsonObject { ["reasoning_tokens"] = 0 }, ["total_tokens"] = 0,
        };
        return (items, summary, (JsonObject)usage.DeepClone());
    }

    private JsonObject CompactionItem(string summary) => new()
    {
        ["id"] = ResponseIds.NewItemId("cmp"),
        ["type"] = "compaction",
        ["encrypted_content"] = _capabilities.Compaction.Seal(summary),
    };

    private static bool IsUserMessage(JsonObject item) =>
        JsonText.Of(item["type"]) is null or "message" && JsonText.Of(item["role"]) == "user";

    /// <summary>A kept user message as an output item: OpenAI returns them with ids and <c>input_text</c> parts.</summary>
    private static JsonObject KeptUserMessage(JsonObject item) => new()
    {
        ["id"] = ResponseIds.NewItemId("msg"),
        ["type"] = "message",
        ["status"] = ResponseStatuses.Completed,
        ["content"] = item["content"] is JsonValue text && text.TryGetValue<string>(out var s)
            ? new JsonArray(new JsonObject { ["type"] = "input_text", ["text"] = s })
            : item["content"]?.DeepClone() ?? new JsonArray(),
        ["role"] = "user",
    };
}
