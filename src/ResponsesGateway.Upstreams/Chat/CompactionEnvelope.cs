using System.Security.Cryptography;
using System.Text;

namespace ResponsesGateway.Upstreams.Chat;

/// <summary>
/// The <c>encrypted_content</c> of a <c>compaction</c> item made by the chat compaction emulation:
/// <c>rgw-cmp-v1.</c> + base64url(summary) + <c>.</c> + base64url(HMAC-SHA256(key, everything before the last dot)).
/// A replayed item becomes system text in front of the history, so only a summary this gateway wrote may come back:
/// one that is not of this form, carries another version, or fails the MAC (tampered, another gateway's key, OpenAI's
/// own ciphertext) is refused. Versioned so that a later format can be told apart. Not encrypted: the summary is the
/// client's own conversation, returned to that client.
/// </summary>
internal sealed class CompactionEnvelope
{
    private const string Prefix = "rgw-cmp-v1.";

    private readonly byte[] _key;

    /// <param name="key">The configured key; empty for a random one (this process only).</param>
    public CompactionEnvelope(string? key)
    {
        IsEphemeral = string.IsNullOrEmpty(key);
        // Hashed so that any configured string is a full-strength HMAC key of fixed length.
        _key = IsEphemeral ? RandomNumberGenerator.GetBytes(32) : SHA256.HashData(Encoding.UTF8.GetBytes(key!));
    }

    /// <summary>True when no key was configured: envelopes do not survive a restart or reach another instance.</summary>
    public bool IsEphemeral { get; }

    public string Seal(string summary)
    {
        var body = Prefix + Base64Url(Encoding.UTF8.GetBytes(summary));
        return body + "." + Base64Url(HMACSHA256.HashData(_key, Encoding.ASCII.GetBytes(body)));
    }

    /// <summary>The summary inside an envelope this gateway sealed with its key; null for anything else.</summary>
    public string? TryOpen(string? value)
    {
        if (value is null || !value.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return null;
        }
        var dot = value.LastIndexOf('.');
        if (dot <= Prefix.Length - 1 || dot == value.Length - 1)
        {
            return null;
        }
        var body = value[..dot];
        if (!TryBase64Url(value[(dot + 1)..], out var mac) || !TryBase64Url(body[Prefix.Length..], out var summary))
        {
            return null;
        }
        var expected = HMACSHA256.HashData(_key, Encoding.ASCII.GetBytes(body));
        if (!CryptographicOperations.FixedTimeEquals(expected, mac))
        {
            return null;
        }
        try
        {
            return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(summary);
        }
        catch (DecoderFallbackException)
        {
            return null;
        }
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static bool TryBase64Url(string text, out byte[] bytes)
    {
        bytes = [];
        if (text.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '-' or '_')))
        {
            return false;
        }
        var padded = text.Replace('-', '+').Replace('_', '/');
        padded += new string('=', (4 - padded.Length % 4) % 4);
        try
        {
            bytes = Convert.FromBase64String(padded);
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }
}
