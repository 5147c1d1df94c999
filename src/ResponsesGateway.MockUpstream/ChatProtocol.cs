using System.Text.Json;

namespace ResponsesGateway.MockUpstream;

/// <summary><c>POST /v1/chat/completions</c>: <c>chat.completion</c> objects and <c>chat.completion.chunk</c> streams.</summary>
internal static class ChatProtocol
{
    private const string InbandErrorMessage = "The upstream model is overloaded and stopped generating. (mock inband-error)";

    public static async Task WriteAsync(MockExchange x)
    {
        if (x.Request.Stream)
        {
            await StreamAsync(x).ConfigureAwait(false);
            return;
        }

        var w = x.BeginJson();
        if (x.Plan.Terminal == TerminalKind.Failed)
        {
            // In-band error in a 200 body, like some OpenAI-compatible servers do.
            w.WriteStartObject();
            MockErrors.WriteErrorProperty(w, InbandErrorMessage, "server_error", null, "upstream_overloaded");
            w.WriteEndObject();
            await x.WriteJsonBodyAsync().ConfigureAwait(false);
            return;
        }

        WriteCompletion(x, w);
        await x.WriteJsonBodyAsync().ConfigureAwait(false);
    }

    private static void WriteCompletion(MockExchange x, Utf8JsonWriter w)
    {
        var plan = x.Plan;
        w.WriteStartObject();
        w.WriteString("id"u8, plan.ChatId);
        w.WriteString("object"u8, "chat.completion"u8);
        w.WriteNumber("created"u8, plan.CreatedAt);
        w.WriteString("model"u8, x.Request.Model);
        w.WritePropertyName("choices"u8);
        w.WriteStartArray();
        w.WriteStartObject();
        w.WriteNumber("index"u8, 0);
        w.WritePropertyName("message"u8);
        w.WriteStartObject();
        w.WriteString("role"u8, "assistant"u8);

        string? content = null;
        string? reasoning = null;
        var calls = new List<FunctionCallPlanItem>();
        foreach (var item in plan.Items)
        {
            switch (item)
            {
                case MessagePlanItem m:
                    content = content is null ? m.Text : content + m.Text;
                    break;
                case ReasoningPlanItem r:
                    reasoning = r.SummaryText;
                    break;
                case FunctionCallPlanItem f:
                    calls.Add(f);
                    break;
            }
        }

        w.WriteString("content"u8, content);
        if (reasoning is not null)
        {
            w.WriteString("reasoning_content"u8, reasoning);
        }

        if (calls.Count > 0)
        {
            w.WritePropertyName("tool_calls"u8);
            w.WriteStartArray();
            foreach (var f in calls)
            {
                w.WriteStartObject();
                w.WriteString("id"u8, f.CallId);
                w.WriteString("type"u8, "function"u8);
                w.WritePropertyName("function"u8);
                w.WriteStartObject();
                w.WriteString("name"u8, f.Name);
                w.WriteString("arguments"u8, f.Arguments);
                w.WriteEndObject();
                w.WriteEndObject();
            }

            w.WriteEndArray();
        }

        w.WriteNull("refusal"u8);
        w.WritePropertyName("annotations"u8);
        w.WriteRawValue("[]"u8, skipInputValidation: true);
        w.WriteEndObject(); // message
        w.WriteNull("logprobs"u8);
        w.WriteString("finish_reason"u8, FinishReason(plan, calls.Count > 0));
        w.WriteEndObject(); // choice
        w.WriteEndArray();
        w.WritePropertyName("usage"u8);
        WriteUsage(w, plan);
        w.WriteString("service_tier"u8, "default"u8);
        w.WriteString("system_fingerprint"u8, "fp_mock"u8);
        w.WriteEndObject();
    }

    private static string FinishReason(ReplyPlan plan, bool hasCalls) => plan.Terminal switch
    {
        TerminalKind.Incomplete when plan.IncompleteReason == "content_filter" => "content_filter",
        TerminalKind.Incomplete => "length",
        _ when hasCalls => "tool_calls",
        _ => "stop",
    };

    private static void WriteUsage(Utf8JsonWriter w, ReplyPlan plan)
    {
        w.WriteStartObject();
        w.WriteNumber("prompt_tokens"u8, plan.InputTokens);
        w.WriteNumber("completion_tokens"u8, plan.OutputTokens);
        w.WriteNumber("total_tokens"u8, plan.TotalTokens);
        w.WritePropertyName("prompt_tokens_details"u8);
        w.WriteRawValue("{\"cached_tokens\":0,\"audio_tokens\":0}"u8, skipInputValidation: true);
        w.WritePropertyName("completion_tokens_details"u8);
        w.WriteStartObject();
        w.WriteNumber("reasoning_tokens"u8, plan.ReasoningTokens);
        w.WriteNumber("audio_tokens"u8, 0);
        w.WriteNumber("accepted_prediction_tokens"u8, 0);
        w.WriteNumber("rejected_prediction_tokens"u8, 0);
        w.WriteEndObject();
        w.WriteEndObject();
    }

    /// <summary>Starts a chunk up to the inside of <c>choices[0].delta</c>.</summary>
    private static Utf8JsonWriter BeginChunk(MockExchange x)
    {
        var w = x.BeginChatData();
        WriteChunkHeader(x, w);
        w.WritePropertyName("choices"u8);
        w.WriteStartArray();
        w.WriteStartObject();
        w.WriteNumber("index"u8, 0);
        w.WritePropertyName("delta"u8);
        w.WriteStartObject();
        return w;
    }

    /// <summary>Closes the delta and the choice (finish_reason) and the chunk (usage:null when include_usage).</summary>
    private static Task EndChunkAsync(MockExchange x, string? finishReason = null, bool terminal = false)
    {
        var w = x.Json;
        w.WriteEndObject(); // delta
        w.WriteNull("logprobs"u8);
        w.WriteString("finish_reason"u8, finishReason);
        w.WriteEndObject(); // choice
        w.WriteEndArray();
        if (x.Request.IncludeUsage)
        {
            w.WriteNull("usage"u8);
        }

        return x.EndEventAsync(terminal);
    }

    private static void WriteChunkHeader(MockExchange x, Utf8JsonWriter w)
    {
        w.WriteString("id"u8, x.Plan.ChatId);
        w.WriteString("object"u8, "chat.completion.chunk"u8);
        w.WriteNumber("created"u8, x.Plan.CreatedAt);
        w.WriteString("model"u8, x.Request.Model);
        w.WriteString("service_tier"u8, "default"u8);
        w.WriteString("system_fingerprint"u8, "fp_mock"u8);
    }

    private static async Task StreamAsync(MockExchange x)
    {
        var plan = x.Plan;
        await x.StartSseAsync().ConfigureAwait(false);

        var startsWithText = plan.Items.Count > 0 && plan.Items[0] is MessagePlanItem;
        var w = BeginChunk(x);
        w.WriteString("role"u8, "assistant"u8);
        if (startsWithText)
        {
            w.WriteString("content"u8, string.Empty);
        }
        else
        {
            w.WriteNull("content"u8);
        }

        w.WriteNull("refusal"u8);
        await EndChunkAsync(x).ConfigureAwait(false);

        if (x.Behavior.Kind == BehaviorKind.MalformedSse)
        {
            await x.WriteRawEventAsync("data: {\"id\":\"chatcmpl-mock\",\"object\":\"chat.completion.chunk\", this is not JSON\n\n"u8.ToArray()).ConfigureAwait(false);
            return;
        }

        var calls = new List<FunctionCallPlanItem>();
        foreach (var item in plan.Items)
        {
            switch (item)
            {
                case ReasoningPlanItem r:
                    foreach (var delta in r.SummaryDeltas)
                    {
                        await DeltaAsync(x, reasoning: true, delta).ConfigureAwait(false);
                    }

                    break;

                case MessagePlanItem m:
                    if (plan.Terminal == TerminalKind.Failed)
                    {
                        // inband-error: one content chunk, then an error line, then the connection closes.
                        await DeltaAsync(x, reasoning: false, m.Deltas[0]).ConfigureAwait(false);
                        w = x.BeginChatData();
                        MockErrors.WriteErrorProperty(w, InbandErrorMessage, "server_error", null, "upstream_overloaded");
                        await x.EndEventAsync(terminal: true).ConfigureAwait(false);
                        return;
                    }

                    foreach (var delta in m.Deltas)
                    {
                        await DeltaAsync(x, reasoning: false, delta).ConfigureAwait(false);
                    }

                    break;

                case FunctionCallPlanItem f:
                    calls.Add(f);
                    break;
            }
        }

        await StreamToolCallsAsync(x, calls).ConfigureAwait(false);

        // Finish chunk: empty delta + finish_reason.
        w = BeginChunk(x);
        await EndChunkAsync(x, FinishReason(plan, calls.Count > 0), terminal: !x.Request.IncludeUsage).ConfigureAwait(false);

        if (x.Request.IncludeUsage)
        {
            w = x.BeginChatData();
            WriteChunkHeader(x, w);
            w.WritePropertyName("choices"u8);
            w.WriteRawValue("[]"u8, skipInputValidation: true);
            w.WritePropertyName("usage"u8);
            WriteUsage(w, plan);
            await x.EndEventAsync(terminal: true).ConfigureAwait(false);
        }

        await x.WriteRawEventAsync(DoneLine).ConfigureAwait(false);
    }

    private static readonly ReadOnlyMemory<byte> DoneLine = "data: [DONE]\n\n"u8.ToArray();

    private static async Task DeltaAsync(MockExchange x, bool reasoning, string delta)
    {
        await x.BeforeDeltaAsync().ConfigureAwait(false);
        var w = BeginChunk(x);
        w.WriteString(reasoning ? "reasoning_content"u8 : "content"u8, delta);
        await EndChunkAsync(x).ConfigureAwait(false);
        await x.AfterDeltaAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// Tool calls, round-robin over the calls: the first delta of a call carries id + type + name (arguments ""),
    /// then argument fragments; with several calls the fragments of index 0 and 1 interleave.
    /// </summary>
    private static async Task StreamToolCallsAsync(MockExchange x, List<FunctionCallPlanItem> calls)
    {
        if (calls.Count == 0)
        {
            return;
        }

        var steps = calls.Max(c => c.ArgumentDeltas.Length);
        for (var step = 0; step < steps; step++)
        {
            for (var k = 0; k < calls.Count; k++)
            {
                var f = calls[k];
                if (step == 0)
                {
                    await ToolCallDeltaAsync(x, k, f, header: true, arguments: string.Empty).ConfigureAwait(false);
                }

                if (step < f.ArgumentDeltas.Length)
                {
                    await ToolCallDeltaAsync(x, k, f, header: false, arguments: f.ArgumentDeltas[step]).ConfigureAwait(false);
                }
            }
        }
    }

    private static async Task ToolCallDeltaAsync(MockExchange x, int index, FunctionCallPlanItem f, bool header, string arguments)
    {
        await x.BeforeDeltaAsync().ConfigureAwait(false);
        var w = BeginChunk(x);
        w.WritePropertyName("tool_calls"u8);
        w.WriteStartArray();
        w.WriteStartObject();
        w.WriteNumber("index"u8, index);
        if (header)
        {
            w.WriteString("id"u8, f.CallId);
            w.WriteString("type"u8, "function"u8);
        }

        w.WritePropertyName("function"u8);
        w.WriteStartObject();
        if (header)
        {
            w.WriteString("name"u8, f.Name);
        }

        w.WriteString("arguments"u8, arguments);
        w.WriteEndObject();
        w.WriteEndObject();
        w.WriteEndArray();
        await EndChunkAsync(x).ConfigureAwait(false);
        await x.AfterDeltaAsync().ConfigureAwait(false);
    }
}
