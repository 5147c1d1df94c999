using System.Security.Cryptography;

namespace ResponsesGateway.Core.Ids;

/// <summary>
/// Mints the ids the gateway owns. A response id is <c>resp_</c> + 32 hex chars naming its chain + 32 hex chars of its
/// own (128 random bits each), so the storage partition of a whole chain can be read off any id in it: resolving
/// <c>previous_response_id</c> at any depth is one partition query (invariant 3 in docs/architecture.md).
/// </summary>
public static class ResponseIds
{
    public const string ResponsePrefix = "resp_";
    private const int HexPart = 32;

    /// <summary>The id of the first response of a new chain.</summary>
    public static string NewRoot() => ResponsePrefix + RandomHex() + RandomHex();

    /// <summary>The id of a response that continues the chain of <paramref name="parentId"/>.</summary>
    public static string NewChild(string parentId) =>
        TryGetChain(parentId, out var chain) ? ResponsePrefix + chain + RandomHex() : NewRoot();

    /// <summary>Reads the chain part of an id the gateway minted.</summary>
    public static bool TryGetChain(string? id, out string chain)
    {
        chain = "";
        if (!IsWellFormed(id))
        {
            return false;
        }
        chain = id!.Substring(ResponsePrefix.Length, HexPart);
        return true;
    }

    /// <summary>True when the id has the exact shape the gateway mints.</summary>
    public static bool IsWellFormed(string? id)
    {
        if (id is null || id.Length != ResponsePrefix.Length + 2 * HexPart || !id.StartsWith(ResponsePrefix, StringComparison.Ordinal))
        {
            return false;
        }
        foreach (var c in id.AsSpan(ResponsePrefix.Length))
        {
            if (!char.IsAsciiHexDigitLower(c))
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>An item id such as <c>msg_…</c> for items the gateway stores without an id of their own.</summary>
    public static string NewItemId(string prefix) => prefix + "_" + RandomHex() + RandomHex()[..16];

    private static string RandomHex() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(HexPart / 2));
}
