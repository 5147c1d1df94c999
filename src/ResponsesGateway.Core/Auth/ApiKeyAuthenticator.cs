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
    private readonly (string Name, byte[] Hash)[] _keys;

    public ApiKeyAuthenticator(IOptions<GatewayOptions> options)
    {
        _keys = options.Value.ApiKeys
            .Where(pair => !string.IsNullOrEmpty(pair.Value))
            .Select(pair => (pair.Key, Hash(pair.Value)))
            .ToArray();
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
            if (CryptographicOperations.FixedTimeEquals(presented, hash))
            {
                match ??= name;
            }
        }
        return match is null ? throw GatewayErrors.InvalidApiKey() : new Tenant(match);
    }

    private static byte[] Hash(ReadOnlySpan<char> key)
    {
        Span<byte> utf8 = key.Length <= 256 ? stackalloc byte[Encoding.UTF8.GetMaxByteCount(key.Length)] : new byte[Encoding.UTF8.GetMaxByteCount(key.Length)];
        var length = Encoding.UTF8.GetBytes(key, utf8);
        return SHA256.HashData(utf8[..length]);
    }

    private static byte[] Hash(string key) => Hash(key.AsSpan());
}
