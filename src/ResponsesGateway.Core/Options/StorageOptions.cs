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
}
