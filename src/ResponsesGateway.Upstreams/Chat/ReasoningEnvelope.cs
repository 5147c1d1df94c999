using System.Text;

namespace ResponsesGateway.Upstreams.Chat;

/// <summary>
/// The <c>encrypted_content</c> the chat upstream puts on reasoning items when the client asks for
/// <c>reasoning.encrypted_content</c>. Stateless clients (Codex with <c>store:false</c>) replay reasoning only through that
/// field, and DeepSeek thinking mode needs the original text back (it rejects a tool-call turn without it), so it carries the text
/// itself, marked with a prefix so that only values this gateway minted are ever unpacked. It is not a secret: it is
/// the model's own reasoning, which the same response also returns in <c>content</c>.
/// </summary>
internal static class ReasoningEnvelope
{
    private const string Prefix = "rgw-chat-v1:";

    public static string Wrap(string text) => Prefix + Convert.ToBase64String(Encoding.UTF8.GetBytes(text));

    /// <summary>The text inside a value this gateway minted; null for anything else (another provider's ciphertext).</summary>
    public static string? TryUnwrap(string? value)
    {
        if (value is null || !value.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return null;
        }
        try
        {
            return Encoding.UTF8.GetString(Convert.FromBase64String(value[Prefix.Length..]));
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
