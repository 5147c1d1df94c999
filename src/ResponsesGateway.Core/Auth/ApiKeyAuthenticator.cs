using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using ResponsesGateway.Core.Errors;
using ResponsesGateway.Core.Options;

namespace ResponsesGateway.Core.Auth;

/// <summary>
/// Resolves <c>Authorization: Bearer key</c> to a <see cref="Tenant"/>. Keys are held only as SHA-256 hashes and every
/// configured hash is compared in constant time, so neither timing nor a heap dump gives a key away.
/// </summary>
public sealed class ApiKeyAuthenticator
{
    /// <summary>Compares two equal-length hashes; the seam lets a test count that every key is compared.</summary>
    internal delegate bool HashComparer(ReadOnlySpan<byte> left, ReadOnlySpan<byte> right);

    private readonly (string Name, byte[] Hash)[] _keys;
    private readonly HashComparer _equals;

    public ApiKeyAuthenticator(IOptions<GatewayOptions> options)
        : this(options, CryptographicOperations.FixedTimeEquals)
    {
    }

    internal ApiKeyAuthenticator(IOptions<GatewayOptions> options, HashComparer equals)
    {
        _equals = equals;
        var plain = options.Value.ApiKeys
            .Where(pair => !string.IsNullOrEmpty(pair.Value))
            .Select(pair => (pair.Key, Hash(pair.Value)));
        // Operators may configure the hash itself (Gateway:ApiKeyHashes), so the plain key never sits in app settings.
        // The options validator has already rejected malformed hashes at start-up.
        var hashed = options.Value.ApiKeyHashes
            .Select(pair => (pair.Key, Parsed: ApiKeyHash.TryParse(pair.Value, out var hash) ? hash : null))
            .Where(pair => pair.Parsed is not null)
            .Select(pair => (pair.Key, pair.Parsed!));
        _keys = plain.Concat(hashed).ToArray();
    }

    /// <summary>Returns the tenant or throws the 401 OpenAI answers with.</summary>
    public Tenant Authenticate(string? authorizationHeader)
    {
        const string Scheme = "Bearer ";
        if (string.IsNullOrWhiteSpace(authorizationHeader))
        {
            throw GatewayErrors.MissingApiKey();
        }
        if (!authorizationHeader.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase))
        {
            throw GatewayErrors.InvalidApiKey();
        }
        var presented = Hash(authorizationHeader.AsSpan(Scheme.Length).Trim());
        string? match = null;
        // No early exit: the time taken does not depend on which key (if any) matched.
        foreach (var (name, hash) in _keys)
        {
            if (_equals(presented, hash))
            {
                match ??= name;
            }
        }
        return match is null ? throw GatewayErrors.InvalidApiKey() : new Tenant(match);
    }

    /// <summary>The SHA-256 of a key's UTF-8 bytes: what <c>Gateway:ApiKeyHashes</c> expects, as hex.</summary>
    public static byte[] Hash(ReadOnlySpan<char> key)
    {
        Span<byte> utf8 = key.Length <= 256 ? stackalloc byte[Encoding.UTF8.GetMaxByteCount(key.Length)] : new byte[Encoding.UTF8.GetMaxByteCount(key.Length)];
        var length = Encoding.UTF8.GetBytes(key, utf8);
        return SHA256.HashData(utf8[..length]);
    }

    private static byte[] Hash(string key) => Hash(key.AsSpan());
}
