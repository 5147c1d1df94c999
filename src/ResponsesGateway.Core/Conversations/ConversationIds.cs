using System.Security.Cryptography;

namespace ResponsesGateway.Core.Conversations;

/// <summary>
/// Conversation ids: <c>conv_</c> + 48 lowercase hex digits (192 random bits), the shape OpenAI mints. The whole id is
/// the conversation's storage partition, so reading a conversation at any length is one partition query.
/// </summary>
public static class ConversationIds
{
    public const string Prefix = "conv_";
    private const int HexLength = 48;

    public static string New() => Prefix + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(HexLength / 2));

    /// <summary>True when the id has the exact shape the gateway mints; anything else is unknown without a storage read.</summary>
    public static bool IsWellFormed(string? id)
    {
        if (id is null || id.Length != Prefix.Length + HexLength || !id.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return false;
        }
        foreach (var c in id.AsSpan(Prefix.Length))
        {
            if (!char.IsAsciiHexDigitLower(c))
            {
                return false;
            }
        }
        return true;
    }
}
