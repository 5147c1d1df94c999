namespace ResponsesGateway.Storage.Tables;

/// <summary>How a write treats properties already stored on the entity (same names as Azure.Data.Tables).</summary>
public enum TableUpdateMode
{
    /// <summary>MERGE: properties not sent are kept.</summary>
    Merge,

    /// <summary>PUT: the stored entity is replaced; properties not sent are removed.</summary>
    Replace,
}
