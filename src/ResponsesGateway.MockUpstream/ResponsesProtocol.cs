using System.Text.Json;

namespace ResponsesGateway.MockUpstream;

/// <summary><c>POST /v1/responses</c>: the Response object with every field set or null, and its SSE event grammar.</summary>
internal static class ResponsesProtocol
{
    private enum Phase
    {
        /// <summary>response.created / response.in_progress: status in_progress, output [], usage null.</summary>
        Initial,

        /// <summary>terminal event or JSON body.</summary>
        Final,
    }

    private const string FailedMessage = "The model failed to generate a response.";

    public static async Task WriteAsync(MockExchange x)
    {
        if (x.Request.Stream)
        {
            await StreamAsync(x).ConfigureAwait(false);
            return;
        }

        WriteResponse(x, x.BeginJson(), Phase.Final);
        await x.WriteJsonBodyAsync().ConfigureAwait(false);
    }

    private static async Task StreamAsync(MockExchange x)
    {
        var plan = x.Plan;
        await x.StartSseAsync().ConfigureAwait(false);

        var w = x.BeginResponsesEvent("response.created"u8);
        w.WritePropertyName("response"u8);
        WriteResponse(x, w, Phase.Initial);
        await x.EndEventAsync().ConfigureAwait(false);

        if (x.Behavior.Kind == BehaviorKind.MalformedSse)
        {
            await x.WriteRawEventAsync("event: response.in_progress\ndata: {\"type\":\"response.in_progress\",\"sequence_number\":1, this is not JSON\n\n"u8.ToArray()).ConfigureAwait(false);
            return;
        }

        w = x.BeginResponsesEvent("response.in_progress"u8);
        w.WritePropertyName("response"u8);
        WriteResponse(x, w, Phase.Initial);
        await x.EndEventAsync().ConfigureAwait(false);

        if (plan.Terminal == TerminalKind.Failed)
        {
            w = x.BeginResponsesEvent("response.failed"u8);
            w.WritePropertyName("response"u8);
            WriteResponse(x, w, Phase.Final);
            await x.EndEventAsync(terminal: true).ConfigureAwait(false);
            return;
        }

        for (var i = 0; i < plan.Items.Count; i++)
        {
            var item = plan.Items[i];
            w = x.BeginResponsesEvent("response.output_item.added"u8);
            w.WriteNumber("output_index"u8, i);
            w.WritePropertyName("item"u8);
            WriteItem(w, item, done: false);
            await x.EndEventAsync().ConfigureAwait(false);

            switch (item)
            {
                case MessagePlanItem m:
                    await StreamMessageAsync(x, m, i).ConfigureAwait(false);
                    break;
                case FunctionCallPlanItem f:
                    await StreamFunctionCallAsync(x, f, i).ConfigureAwait(false);
                    break;
                case ReasoningPlanItem r:
                    await StreamReasoningAsync(x, r, i).ConfigureAwait(false);
                    break;
            }

            w = x.BeginResponsesEvent("response.output_item.done"u8);
            w.WriteNumber("output_index"u8, i);
            w.WritePropertyName("item"u8);
            WriteItem(w, item, done: true);
            await x.EndEventAsync().ConfigureAwait(false);
        }

        w = x.BeginResponsesEvent(plan.Terminal == TerminalKind.Incomplete ? "response.incomplete"u8 : "response.completed"u8);
        w.WritePropertyName("response"u8);
        WriteResponse(x, w, Phase.Final);
        await x.EndEventAsync(terminal: true).ConfigureAwait(false);
    }

    private static async Task StreamMessageAsync(MockExchange x, MessagePlanItem m, int index)
    {
        var w = x.BeginResponsesEvent("response.content_part.added"u8);
        WriteItemRef(w, m.Id, index);
        w.WriteNumber("content_index"u8, 0);
        w.WritePropertyName("part"u8);
        WriteTextPart(w, string.Empty);
        await x.EndEventAsync().ConfigureAwait(false);

        foreach (var delta in m.Deltas)
        {
            await x.BeforeDeltaAsync().ConfigureAwait(false);
            w = x.BeginResponsesEvent("response.output_text.delta"u8);
            WriteItemRef(w, m.Id, index);
            w.WriteNumber("content_index"u8, 0);
            w.WriteString("delta"u8, delta);
            w.WritePropertyName("logprobs"u8);
            w.WriteRawValue("[]"u8, skipInputValidation: true);
            WriteObfuscation(x, w);
            await x.EndEventAsync().ConfigureAwait(false);
            await x.AfterDeltaAsync().ConfigureAwait(false);
        }

        w = x.BeginResponsesEvent("response.output_text.done"u8);
        WriteItemRef(w, m.Id, index);
        w.WriteNumber("content_index"u8, 0);
        w.WriteString("text"u8, m.Text);
        w.WritePropertyName("logprobs"u8);
        w.WriteRawValue("[]"u8, skipInputValidation: true);
        await x.EndEventAsync().ConfigureAwait(false);

        w = x.BeginResponsesEvent("response.content_part.done"u8);
        WriteItemRef(w, m.Id, index);
        w.WriteNumber("content_index"u8, 0);
        w.WritePropertyName("part"u8);
        WriteTextPart(w, m.Text);
        await x.EndEventAsync().ConfigureAwait(false);
    }

    private static async Task StreamFunctionCallAsync(MockExchange x, FunctionCallPlanItem f, int index)
    {
        Utf8JsonWriter w;
        foreach (var delta in f.ArgumentDeltas)
        {
            await x.BeforeDeltaAsync().ConfigureAwait(false);
            w = x.BeginResponsesEvent("response.function_call_arguments.delta"u8);
            WriteItemRef(w, f.Id, index);
            w.WriteString("delta"u8, delta);
            WriteObfuscation(x, w);
            await x.EndEventAsync().ConfigureAwait(false);
            await x.AfterDeltaAsync().ConfigureAwait(false);
        }

        w = x.BeginResponsesEvent("response.function_call_arguments.done"u8);
        WriteItemRef(w, f.Id, index);
        w.WriteString("arguments"u8, f.Arguments);
        w.WriteString("name"u8, f.Name);
        await x.EndEventAsync().ConfigureAwait(false);
    }

    private static async Task StreamReasoningAsync(MockExchange x, ReasoningPlanItem r, int index)
    {
        var w = x.BeginResponsesEvent("response.reasoning_summary_part.added"u8);
        WriteItemRef(w, r.Id, index);
        w.WriteNumber("summary_index"u8, 0);
        w.WritePropertyName("part"u8);
        WriteSummaryPart(w, string.Empty);
        await x.EndEventAsync().ConfigureAwait(false);

        foreach (var delta in r.SummaryDeltas)
        {
            await x.BeforeDeltaAsync().ConfigureAwait(false);
            w = x.BeginResponsesEvent("response.reasoning_summary_text.delta"u8);
            WriteItemRef(w, r.Id, index);
            w.WriteNumber("summary_index"u8, 0);
            w.WriteString("delta"u8, delta);
            WriteObfuscation(x, w);
            await x.EndEventAsync().ConfigureAwait(false);
            await x.AfterDeltaAsync().ConfigureAwait(false);
        }

        w = x.BeginResponsesEvent("response.reasoning_summary_text.done"u8);
        WriteItemRef(w, r.Id, index);
        w.WriteNumber("summary_index"u8, 0);
        w.WriteString("text"u8, r.SummaryText);
        await x.EndEventAsync().ConfigureAwait(false);

        w = x.BeginResponsesEvent("response.reasoning_summary_part.done"u8);
        WriteItemRef(w, r.Id, index);
        w.WriteNumber("summary_index"u8, 0);
        w.WritePropertyName("part"u8);
        WriteSummaryPart(w, r.SummaryText);
        await x.EndEventAsync().ConfigureAwait(false);
    }

    private static void WriteItemRef(Utf8JsonWriter w, string itemId, int outputIndex)
    {
        w.WriteString("item_id"u8, itemId);
        w.WriteNumber("output_index"u8, outputIndex);
    }

    private static void WriteObfuscation(MockExchange x, Utf8JsonWriter w)
    {
        if (x.Request.IncludeObfuscation)
        {
            w.WriteString("obfuscation"u8, "mockobf"u8);
        }
    }

    private static void WriteTextPart(Utf8JsonWriter w, string text)
    {
        w.WriteStartObject();
        w.WriteString("type"u8, "output_text"u8);
        w.WritePropertyName("annotations"u8);
        w.WriteRawValue("[]"u8, skipInputValidation: true);
        w.WritePropertyName("logprobs"u8);
        w.WriteRawValue("[]"u8, skipInputValidation: true);
        w.WriteString("text"u8, text);
        w.WriteEndObject();
    }

    private static void WriteSummaryPart(Utf8JsonWriter w, string text)
    {
        w.WriteStartObject();
        w.WriteString("type"u8, "summary_text"u8);
        w.WriteString("text"u8, text);
        w.WriteEndObject();
    }

    private static void WriteItem(Utf8JsonWriter w, PlanItem item, bool done)
    {
        w.WriteStartObject();
        switch (item)
        {
            case MessagePlanItem m:
                w.WriteString("id"u8, m.Id);
                w.WriteString("type"u8, "message"u8);
                w.WriteString("status"u8, !done ? "in_progress"u8 : m.Incomplete ? "incomplete"u8 : "completed"u8);
                w.WritePropertyName("content"u8);
                w.WriteStartArray();
                if (done)
                {
                    WriteTextPart(w, m.Text);
                }

                w.WriteEndArray();
                w.WriteString("role"u8, "assistant"u8);
                break;

            case FunctionCallPlanItem f:
                w.WriteString("id"u8, f.Id);
                w.WriteString("type"u8, "function_call"u8);
                w.WriteString("status"u8, done ? "completed"u8 : "in_progress"u8);
                w.WriteString("arguments"u8, done ? f.Arguments : string.Empty);
                w.WriteString("call_id"u8, f.CallId);
                w.WriteString("name"u8, f.Name);
                break;

            case ReasoningPlanItem r:
                w.WriteString("id"u8, r.Id);
                w.WriteString("type"u8, "reasoning"u8);
                if (done)
                {
                    w.WriteString("encrypted_content"u8, r.EncryptedContent);
                }

                w.WritePropertyName("summary"u8);
                w.WriteStartArray();
                if (done)
                {
                    WriteSummaryPart(w, r.SummaryText);
                }

                w.WriteEndArray();
                break;
        }

        w.WriteEndObject();
    }

    /// <summary>The full Response object, every field present (nulls where unset), request settings echoed.</summary>
    private static void WriteResponse(MockExchange x, Utf8JsonWriter w, Phase phase)
    {
        var plan = x.Plan;
        var req = x.Request.Root;
        var final = phase == Phase.Final;
        var terminal = final ? plan.Terminal : (TerminalKind?)null;

        w.WriteStartObject();
        w.WriteString("id"u8, plan.ResponseId);
        w.WriteString("object"u8, "response"u8);
        w.WriteNumber("created_at"u8, plan.CreatedAt);
        w.WriteString("status"u8, terminal switch
        {
            TerminalKind.Completed => "completed"u8,
            TerminalKind.Incomplete => "incomplete"u8,
            TerminalKind.Failed => "failed"u8,
            _ => "in_progress"u8,
        });
        Echo(w, req, "background"u8, "false"u8);
        if (terminal == TerminalKind.Completed)
        {
            w.WriteNumber("completed_at"u8, plan.CreatedAt);
        }
        else
        {
            w.WriteNull("completed_at"u8);
        }

        WriteConversation(w, req);

        if (terminal == TerminalKind.Failed)
        {
            w.WritePropertyName("error"u8);
            w.WriteStartObject();
            w.WriteString("code"u8, "server_error"u8);
            w.WriteString("message"u8, FailedMessage);
            w.WriteEndObject();
        }
        else
        {
            w.WriteNull("error"u8);
        }

        if (terminal == TerminalKind.Incomplete)
        {
            w.WritePropertyName("incomplete_details"u8);
            w.WriteStartObject();
            w.WriteString("reason"u8, plan.IncompleteReason ?? "max_output_tokens");
            w.WriteEndObject();
        }
        else
        {
            w.WriteNull("incomplete_details"u8);
        }

        Echo(w, req, "instructions"u8, "null"u8);
        Echo(w, req, "max_output_tokens"u8, "null"u8);
        Echo(w, req, "max_tool_calls"u8, "null"u8);
        w.WriteString("model"u8, x.Request.Model);

        w.WritePropertyName("output"u8);
        w.WriteStartArray();
        if (terminal is TerminalKind.Completed or TerminalKind.Incomplete)
        {
            foreach (var item in plan.Items)
            {
                WriteItem(w, item, done: true);
            }
        }

        w.WriteEndArray();

        Echo(w, req, "parallel_tool_calls"u8, "true"u8);
        Echo(w, req, "previous_response_id"u8, "null"u8);
        Echo(w, req, "prompt_cache_key"u8, "null"u8);
        Echo(w, req, "prompt_cache_retention"u8, "null"u8);
        WriteReasoning(w, req, x.Behavior.Kind == BehaviorKind.Reasoning);
        Echo(w, req, "safety_identifier"u8, "null"u8);
        Echo(w, req, "service_tier"u8, final ? "\"default\""u8 : "\"auto\""u8);
        Echo(w, req, "store"u8, "true"u8);
        Echo(w, req, "temperature"u8, "1.0"u8);
        Echo(w, req, "text"u8, "{\"format\":{\"type\":\"text\"},\"verbosity\":\"medium\"}"u8);
        Echo(w, req, "tool_choice"u8, "\"auto\""u8);
        Echo(w, req, "tools"u8, "[]"u8);
        Echo(w, req, "top_logprobs"u8, "0"u8);
        Echo(w, req, "top_p"u8, "1.0"u8);
        Echo(w, req, "truncation"u8, "\"disabled\""u8);

        if (terminal is TerminalKind.Completed or TerminalKind.Incomplete)
        {
            w.WritePropertyName("usage"u8);
            w.WriteStartObject();
            w.WriteNumber("input_tokens"u8, plan.InputTokens);
            w.WritePropertyName("input_tokens_details"u8);
            w.WriteRawValue("{\"cached_tokens\":0,\"cache_write_tokens\":0}"u8, skipInputValidation: true);
            w.WriteNumber("output_tokens"u8, plan.OutputTokens);
            w.WritePropertyName("output_tokens_details"u8);
            w.WriteStartObject();
            w.WriteNumber("reasoning_tokens"u8, plan.ReasoningTokens);
            w.WriteEndObject();
            w.WriteNumber("total_tokens"u8, plan.TotalTokens);
            w.WriteEndObject();
        }
        else
        {
            w.WriteNull("usage"u8);
        }

        Echo(w, req, "user"u8, "null"u8);
        Echo(w, req, "metadata"u8, "{}"u8);
        w.WriteEndObject();
    }

    /// <summary>Writes the request's value of <paramref name="name"/>, or <paramref name="defaultJson"/> when absent/null.</summary>
    private static void Echo(Utf8JsonWriter w, JsonElement req, ReadOnlySpan<byte> name, ReadOnlySpan<byte> defaultJson)
    {
        w.WritePropertyName(name);
        if (req.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null)
        {
            value.WriteTo(w);
        }
        else
        {
            w.WriteRawValue(defaultJson, skipInputValidation: true);
        }
    }

    private static void WriteConversation(Utf8JsonWriter w, JsonElement req)
    {
        w.WritePropertyName("conversation"u8);
        if (req.TryGetProperty("conversation"u8, out var conv))
        {
            if (conv.ValueKind == JsonValueKind.String)
            {
                w.WriteStartObject();
                w.WriteString("id"u8, conv.GetString());
                w.WriteEndObject();
                return;
            }

            if (conv.ValueKind == JsonValueKind.Object)
            {
                conv.WriteTo(w);
                return;
            }
        }

        w.WriteNullValue();
    }

    private static void WriteReasoning(Utf8JsonWriter w, JsonElement req, bool reasoningModel)
    {
        w.WritePropertyName("reasoning"u8);
        w.WriteStartObject();
        var hasReasoning = req.TryGetProperty("reasoning"u8, out var r) && r.ValueKind == JsonValueKind.Object;
        WriteStringOr(w, "effort"u8, hasReasoning ? r : default, reasoningModel ? "medium" : null);
        WriteStringOr(w, "summary"u8, hasReasoning ? r : default, null);
        w.WriteEndObject();
    }

    private static void WriteStringOr(Utf8JsonWriter w, ReadOnlySpan<byte> name, JsonElement obj, string? fallback)
    {
        if (obj.ValueKind == JsonValueKind.Object && obj.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null)
        {
            w.WritePropertyName(name);
            v.WriteTo(w);
        }
        else
        {
            w.WriteString(name, fallback);
        }
    }
}
