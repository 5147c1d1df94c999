namespace ResponsesGateway.Core.Options;

/// <summary>
/// Where stored responses live, bound from <c>Storage</c>. Either a connection string (SharedKey; Azurite's
/// <c>UseDevelopmentStorage=true</c> locally) or a table endpoint reached with a managed identity.
/// </summary>
public sealed class StorageOptions
{
    public const string SectionName = "Storage";

    public string? ConnectionString { get; set; }

    /// <summary>Table endpoint, e.g. <c>https://account.table.core.windows.net</c>; used with a managed identity.</summary>
    public string? TableEndpoint { get; set; }

    /// <summary>Client id of the user-assigned identity that reaches <see cref="TableEndpoint"/>.</summary>
    public string? ManagedIdentityClientId { get; set; }

    public string TableName { get; set; } = "responses";

    /// <summary>Days a stored response is kept; the sweep deletes older chains.</summary>
    public int RetentionDays { get; set; } = 30;

    /// <summary>Minutes between two retention sweeps of the standalone server (the Functions host uses a timer trigger).</summary>
    public int SweepIntervalMinutes { get; set; } = 60;

    /// <summary>
    /// Retries of a storage call that failed with 408, 429, 5xx or a network error (Azure.Core's retry policy). With
    /// the delays below a dead store is reported in about a second and a half, not after Azure.Core's default ~6 s.
    /// </summary>
    public int MaxRetries { get; set; } = 3;

    /// <summary>First storage retry delay in seconds; later ones double, with jitter (a server's Retry-After wins).</summary>
    public double RetryDelaySeconds { get; set; } = 0.2;

    /// <summary>Seconds one storage attempt may take; a store that accepts connections but never answers fails after this.</summary>
    public double NetworkTimeoutSeconds { get; set; } = 10;
}
