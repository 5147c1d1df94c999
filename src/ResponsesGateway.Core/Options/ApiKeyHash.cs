namespace ResponsesGateway.Core.Options;

/// <summary>Reads a <c>Gateway:ApiKeyHashes:&lt;name&gt;</c> value: the SHA-256 of a client key as 64 hex digits.</summary>
public static class ApiKeyHash
{
    public const int HexLength = 64;

    /// <summary>True for exactly 64 hex digits (either case, surrounding blanks ignored); the 32 bytes they spell.</summary>
    public static bool TryParse(string? value, out byte[] hash)
    {
        hash = [];
        var text = value.AsSpan().Trim();
        if (text.Length != HexLength)
        {
            return false;
        }
        foreach (var c in text)
        {
            if (!char.IsAsciiHexDigit(c))
            {
                return false;
            }
        }
        hash = Convert.FromHexString(text);
        return true;
    }
}
