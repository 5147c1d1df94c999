namespace ResponsesGateway.Storage.Tables;

/// <summary>
/// An account name and key for SharedKeyLite signing. The key is decoded once and kept only as bytes;
/// it never appears in <see cref="ToString"/> or in any error this library produces.
/// </summary>
public sealed class TableSharedKeyCredential
{
    public TableSharedKeyCredential(string accountName, string accountKey)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(accountName);
        ArgumentException.ThrowIfNullOrWhiteSpace(accountKey);
        AccountName = accountName;
        KeyBytes = DecodeKey(accountKey);
    }

    public string AccountName { get; }

    internal byte[] KeyBytes { get; }

    public override string ToString() => $"SharedKey({AccountName})";

    private static byte[] DecodeKey(string accountKey)
    {
        try
        {
            return Convert.FromBase64String(accountKey);
        }
        catch (FormatException)
        {
            // Deliberately without the value: it is a secret even when malformed.
            throw new ArgumentException("The account key is not valid base64.", nameof(accountKey));
        }
    }
}
