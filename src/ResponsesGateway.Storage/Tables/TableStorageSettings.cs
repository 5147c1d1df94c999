namespace ResponsesGateway.Storage.Tables;

/// <summary>
/// Configuration that picks the authentication: a <see cref="ConnectionString"/> means SharedKeyLite
/// (Azurite, or accounts with shared keys), otherwise <see cref="Endpoint"/> with an Entra ID token
/// (a given credential, or <c>DefaultAzureCredential</c> using <see cref="ManagedIdentityClientId"/>).
/// </summary>
public sealed record TableStorageSettings
{
    /// <summary>e.g. <c>UseDevelopmentStorage=true</c>; takes precedence over <see cref="Endpoint"/>.</summary>
    public string? ConnectionString { get; init; }

    /// <summary>Table service endpoint, e.g. <c>https://account.table.core.windows.net</c>.</summary>
    public Uri? Endpoint { get; init; }

    /// <summary>Client id of a user-assigned managed identity, used when no credential is passed.</summary>
    public string? ManagedIdentityClientId { get; init; }

    // The connection string may hold a key: keep it out of logs that print settings.
    public override string ToString() =>
        $"TableStorageSettings {{ ConnectionString = {(ConnectionString is null ? "null" : "***")}, Endpoint = {Endpoint}, ManagedIdentityClientId = {ManagedIdentityClientId} }}";
}
