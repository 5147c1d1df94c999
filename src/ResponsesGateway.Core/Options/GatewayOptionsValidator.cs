using Microsoft.Extensions.Options;

namespace ResponsesGateway.Core.Options;

/// <summary>Collects every problem of the gateway settings at start-up, so one failed start names them all.</summary>
public sealed class GatewayOptionsValidator : IValidateOptions<GatewayOptions>
{
    public ValidateOptionsResult Validate(string? name, GatewayOptions options)
    {
        var errors = new List<string>();
        if (!options.ApiKeys.Values.Any(k => !string.IsNullOrWhiteSpace(k)))
        {
            errors.Add("Gateway:ApiKeys needs at least one client key (Gateway__ApiKeys__<name>=<key>).");
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
            ("RequestTimeoutSeconds", options.RequestTimeoutSeconds),
        })
        {
            if (!(value > 0))
            {
                errors.Add($"Gateway:{setting} must be a positive number of seconds.");
            }
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
