namespace ResponsesGateway.Storage.Tables;

/// <summary>What happened to a table operation, in terms a caller can branch on.</summary>
public enum TableResultStatus
{
    /// <summary>The operation succeeded (2xx; for create-if-not-exists also "already existed").</summary>
    Ok,

    /// <summary>404: the table or entity does not exist (<c>TableNotFound</c>, <c>ResourceNotFound</c>).</summary>
    NotFound,

    /// <summary>409: e.g. <c>EntityAlreadyExists</c> on insert.</summary>
    Conflict,

    /// <summary>412: the ETag given in If-Match no longer matches (<c>UpdateConditionNotSatisfied</c>).</summary>
    PreconditionFailed,

    /// <summary>429 or 503 still returned after the pipeline's retries.</summary>
    Throttled,

    /// <summary>No response: connection refused, DNS failure, or a network timeout (after retries).</summary>
    Unreachable,

    /// <summary>401/403, or no token could be obtained: wrong key, missing role, disabled shared key access.</summary>
    Unauthorized,

    /// <summary>400/413: the request was rejected as invalid, e.g. <c>PropertyValueTooLarge</c>, <c>InvalidInput</c>.</summary>
    BadRequest,

    /// <summary>Anything else (other 4xx/5xx, unreadable response).</summary>
    Failed,
}
