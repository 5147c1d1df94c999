using System.Text.Json.Nodes;
using Microsoft.ML.Tokenizers;

namespace ResponsesGateway.Upstreams.Chat;

/// <summary>
/// <c>input_tokens</c> for a Chat Completions upstream, which has no counting endpoint: the chat body the gateway
/// would send, counted with the <c>o200k_base</c> vocabulary (GPT-4o and later) plus the per-message framing OpenAI
/// documents for chat formats (3 tokens a message, 3 to prime the answer). Other model families use other
/// vocabularies, so this is an estimate (README: "input_tokens on chat upstreams"), typically within 10–20%.
/// The vocabulary (a few MB) is loaded on first use, never at startup.
/// </summary>
internal static class ChatTokenCounter
{
    private const int PerMessage = 3;
    private const int ReplyPriming = 3;

    private static readonly Lazy<Tokenizer> Vocabulary = new(() => TiktokenTokenizer.CreateForEncoding("o200k_base"));

    public static int Count(JsonObject chat)
    {
        var tokenizer = Vocabulary.Value;
        var total = ReplyPriming;
        foreach (var message in (chat["messages"] as JsonArray ?? []).OfType<JsonObject>())
        {
            total += PerMessage;
            foreach (var (key, value) in message)
            {
                total += value switch
                {
                    null => 0,
                    JsonValue v when v.TryGetValue<string>(out var text) => tokenizer.CountTokens(text),
                    JsonArray parts when key == "content" => parts.OfType<JsonObject>().Sum(p => JsonText.Of(p["text"]) is { } t ? tokenizer.CountTokens(t) : 0),
                    _ => tokenizer.CountTokens(value.ToJsonString()),
                };
            }
        }
        // Tool definitions reach the model as text too; their JSON is a close stand-in for that text.
        if (chat["tools"] is JsonArray tools)
        {
            total += tokenizer.CountTokens(tools.ToJsonString());
        }
        if (chat["response_format"] is JsonObject format && format["json_schema"] is JsonObject schema)
        {
            total += tokenizer.CountTokens(schema.ToJsonString());
        }
        return total;
    }
}
