using System.Text.Json;
using System.Text.Json.Nodes;
using ResponsesGateway.Core.Upstreams;
using ResponsesGateway.Protocol.Serialization;

namespace ResponsesGateway.Upstreams.Chat;

/// <summary>
/// A whole <c>chat.completion</c> → the final Response. The message is fed to the streaming state machine as one chunk,
/// so the JSON path and the stream build identical items (reasoning → message → function calls; docs/architecture.md, chat rules R8–R9).
/// </summary>
internal static class ChatResponseMapper
{
    public static JsonObject Map(JsonObject completion, ChatStreamTranslator translator)
    {
        // Some servers answer HTTP 200 with an error envelope instead of a completion: the turn failed, like a native
        // upstream's 200 with status "failed" and like the stream's response.failed, with the upstream's code and message.
        if (completion["error"] is not null || JsonText.Of(completion["object"]) == "error")
        {
            using var error = Read(completion);
            return translator.Failed(error.RootElement);
        }
        if ((completion["choices"] as JsonArray)?.OfType<JsonObject>().FirstOrDefault() is not { } choice)
        {
            throw new UpstreamException(UpstreamFailure.StreamInterrupted, "the upstream's answer has no choices.");
        }
        var message = choice["message"] as JsonObject ?? [];
        var delta = new JsonObject();
        foreach (var (key, value) in message)
        {
            delta[key] = value?.DeepClone();
        }
        if (delta["tool_calls"] is JsonArray calls)
        {
            for (var i = 0; i < calls.Count; i++)
            {
                if (calls[i] is JsonObject call && call["index"] is null)
                {
                    call["index"] = i;
                }
            }
        }
        var chunk = new JsonObject
        {
            ["choices"] = new JsonArray(new JsonObject { ["index"] = 0, ["delta"] = delta, ["finish_reason"] = choice["finish_reason"]?.DeepClone() }),
            ["usage"] = completion["usage"]?.DeepClone(),
        };
        using (var read = Read(chunk))
        {
            translator.OnChunk(read.RootElement);
        }
        translator.Finish();
        return translator.FinalResponse!;
    }

    // The translator reads chunks as the stream delivers them: JSON elements.
    private static JsonDocument Read(JsonObject node) => JsonDocument.Parse(ProtocolJson.ToUtf8(node), ProtocolJson.DocumentOptions);
}
