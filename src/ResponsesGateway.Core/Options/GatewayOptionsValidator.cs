using Microsoft.Extensions.Options;

namespace ResponsesGateway.Core.Options;

/// <summary>Collects every problem of the gateway settings at start-up, so one failed start names them all.</summary>
public sealed class GatewayOptionsValidator : IValidateOptions<GatewayOptions>
{
    public ValidateOptionsResult Validate(string? name, GatewayOptions options)
    {
        var errors = new List<string>();
        if (!options.ApiKeys.Values.Any(k => !string.IsNullOrWhiteSpace(k)) && !options.ApiKeyHashes.Values.Any(h => !string.IsNullOrWhiteSpace(h)))
        {
            errors.Add("Gateway:ApiKeys needs at least one client key (Gateway__ApiKeys__<name>=<key>, or Gateway__ApiKeyHashes__<name>=<hex SHA-256 of the key>).");
        }
        // A mistyped hash would silently lock its tenant out; fail the start instead. Empty values are "not set".
        foreach (var (keyName, hash) in options.ApiKeyHashes)
        {
            if (!string.IsNullOrWhiteSpace(hash) && !ApiKeyHash.TryParse(hash, out _))
            {
                errors.Add($"Gateway:ApiKeyHashes:{keyName} must be the SHA-256 of the key as 64 hex digits.");
            }
        }
        if (options.MaxConcurrentRequestsPerKey < 0)
        {
            errors.Add("Gateway:MaxConcurrentRequestsPerKey must be 0 (unlimited) or positive.");
        }
        if (options.RequestsPerMinutePerKey < 0)
        {
            errors.Add("Gateway:RequestsPerMinutePerKey must be 0 (unlimited) or positive.");
        }
        // An unresolved Key Vault reference arrives as its literal text; accepting it would make a guessable string a valid key.
        foreach (var (keyName, key) in options.ApiKeys)
        {
            if (key.StartsWith("@Microsoft.KeyVault(", StringComparison.OrdinalIgnoreCase))
            {
                errors.Add($"Gateway:ApiKeys:{keyName} is an unresolved Key Vault reference; check the app identity's access to the vault.");
            }
        }
        if (options.MaxRequestBodyBytes <= 0)
        {
            errors.Add("Gateway:MaxRequestBodyBytes must be positive.");
        }
        foreach (var (setting, value) in new[]
        {
            ("KeepAliveSeconds", options.KeepAliveSeconds), ("UpstreamConnectTimeoutSeconds", options.UpstreamConnectTimeoutSeconds),
            ("UpstreamFirstByteTimeoutSeconds", options.UpstreamFirstByteTimeoutSeconds), ("UpstreamIdleTimeoutSeconds", options.UpstreamIdleTimeoutSeconds),
            ("RequestTimeoutSeconds", options.RequestTimeoutSeconds), ("WebSocketConnectionLimitSeconds", options.WebSocketConnectionLimitSeconds),
        })
        {
            if (!(value > 0))
            {
                errors.Add($"Gateway:{setting} must be a positive number of seconds.");
            }
        }
        if (options.UpstreamMaxRetries < 0)
        {
            errors.Add("Gateway:UpstreamMaxRetries must be 0 (no retries) or positive.");
        }
        if (!(options.UpstreamRetryDelaySeconds >= 0) || !(options.UpstreamMaxRetryDelaySeconds >= options.UpstreamRetryDelaySeconds))
        {
            errors.Add("Gateway:UpstreamRetryDelaySeconds must be 0 or more, and Gateway:UpstreamMaxRetryDelaySeconds at least as large.");
        }
        if (options.UpstreamMaxEventBytes < 1024)
        {
            errors.Add("Gateway:UpstreamMaxEventBytes must be at least 1024.");
        }
        if (!(options.ShutdownDrainSeconds >= 0))
        {
            errors.Add("Gateway:ShutdownDrainSeconds must be 0 (cut at once) or a positive number of seconds.");
        }
        if (options.CompactionKey.Length is > 0 and < 32)
        {
            errors.Add("Gateway:CompactionKey must be at least 32 characters (or empty for a random key per process).");
        }
        if (options.CompactionKey.StartsWith("@Microsoft.KeyVault(", StringComparison.OrdinalIgnoreCase))
        {
            errors.Add("Gateway:CompactionKey is an unresolved Key Vault reference; check the app identity's access to the vault.");
        }
        if (options.ChainCacheMegabytes < 0)
        {
            errors.Add("Gateway:ChainCacheMegabytes must be 0 or more.");
        }
        if (options.MaxChainBytes < 1024)
        {
            errors.Add("Gateway:MaxChainBytes must be at least 1024.");
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
