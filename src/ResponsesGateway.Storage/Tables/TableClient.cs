using System.Runtime.CompilerServices;
using System.Text.Json;
using Azure;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Identity;

namespace ResponsesGateway.Storage.Tables;

/// <summary>
/// A minimal client for one Azure Table Storage table over Azure.Core's <see cref="HttpPipeline"/>.
/// Operation names follow Azure.Data.Tables so a later swap is mechanical; unlike it, expected storage
/// states come back as <see cref="TableResult"/> values instead of <see cref="RequestFailedException"/>.
/// Thread-safe; create one per table and reuse it.
/// </summary>
public sealed class TableClient
{
    private const string JsonMinimalMetadata = "application/json;odata=minimalmetadata";
    private static readonly RequestMethod MergeMethod = new("MERGE");

    private readonly HttpPipeline _pipeline;
    private readonly Uri _authority;
    private readonly string _basePath;
    private readonly string _serviceVersion;
    private readonly string? _authHint;

    /// <summary>SharedKeyLite from a connection string (e.g. <c>UseDevelopmentStorage=true</c>).</summary>
    /// <exception cref="FormatException">The connection string is malformed or lacks a required part.</exception>
    public TableClient(string connectionString, string tableName, TableClientOptions? options = null)
        : this(TableConnectionString.Parse(connectionString), tableName, options)
    {
    }

    /// <summary>SharedKeyLite with an explicit endpoint and key.</summary>
    public TableClient(Uri endpoint, string tableName, TableSharedKeyCredential credential, TableClientOptions? options = null)
        : this(endpoint, tableName, credential.AccountName, options ?? new TableClientOptions(),
            new SharedKeyLitePolicy(credential),
            $"Check the AccountKey configured for account '{credential.AccountName}'.")
    {
    }

    /// <summary>Entra ID bearer tokens (scope <see cref="TableClientOptions.Audience"/>).</summary>
    public TableClient(Uri endpoint, string tableName, TokenCredential credential, TableClientOptions? options = null)
        : this(endpoint, tableName, AccountFromEndpoint(endpoint), options ??= new TableClientOptions(),
            new BearerTokenAuthenticationPolicy(credential ?? throw new ArgumentNullException(nameof(credential)), options.Audience),
            "Check that the identity has the 'Storage Table Data Contributor' role on the account or table.")
    {
    }

    private TableClient(TableConnectionString connection, string tableName, TableClientOptions? options)
        : this(connection.TableEndpoint, tableName, connection.Credential, options)
    {
    }

    private TableClient(Uri endpoint, string tableName, string accountName, TableClientOptions options, HttpPipelinePolicy auth, string authHint)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        TablePaths.ValidateTableName(tableName);
        if (!endpoint.IsAbsoluteUri || (endpoint.Scheme != Uri.UriSchemeHttp && endpoint.Scheme != Uri.UriSchemeHttps))
        {
            throw new ArgumentException("The table endpoint must be an absolute http(s) URI.", nameof(endpoint));
        }

        Name = tableName;
        AccountName = accountName;
        Endpoint = endpoint;
        _authority = new Uri(endpoint.GetLeftPart(UriPartial.Authority));
        _basePath = endpoint.AbsolutePath.TrimEnd('/');
        _serviceVersion = options.ServiceVersion;
        _authHint = authHint;

        // Date before auth, both per retry: every attempt is re-dated and re-signed.
        _pipeline = HttpPipelineBuilder.Build(options, [], [new StorageDatePolicy(), auth], responseClassifier: null);
    }

    /// <summary>Chooses the authentication from configuration; see <see cref="TableStorageSettings"/>.</summary>
    public static TableClient Create(TableStorageSettings settings, string tableName, TableClientOptions? options = null, TokenCredential? credential = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (!string.IsNullOrWhiteSpace(settings.ConnectionString))
        {
            return new TableClient(settings.ConnectionString, tableName, options);
        }

        if (settings.Endpoint is null)
        {
            throw new InvalidOperationException("Table storage is not configured: set a connection string or an endpoint.");
        }

        credential ??= new DefaultAzureCredential(new DefaultAzureCredentialOptions { ManagedIdentityClientId = settings.ManagedIdentityClientId });
        return new TableClient(settings.Endpoint, tableName, credential, options);
    }

    /// <summary>Formats a filter with safely quoted literals, e.g. <c>$"PartitionKey eq {pk} and Count gt {5L}"</c>.</summary>
    public static string CreateQueryFilter(FormattableString filter) => TableQueryFilter.Create(filter);

    public string Name { get; }

    public string AccountName { get; }

    /// <summary>The table service endpoint (for Azurite including the account path segment).</summary>
    public Uri Endpoint { get; }

    /// <summary>Creates the table; Ok with Value=false when it already exists.</summary>
    public async Task<TableResult<bool>> CreateIfNotExistsAsync(CancellationToken cancellationToken = default)
    {
        using var message = CreateMessage(RequestMethod.Post, _basePath + "/Tables");
        message.Request.Headers.SetValue("Prefer", "return-no-content");
        SetJsonContent(message.Request, TableEntityJson.WriteTableName(Name));

        var (response, failure) = await SendAsync(message, "CreateIfNotExists", cancellationToken).ConfigureAwait(false);
        if (failure is not null)
        {
            return TableResponses.Failure<bool>(failure);
        }

        if (response!.Status == 409)
        {
            var conflict = TableResponses.Error(response, "CreateIfNotExists", _authHint);
            if (conflict.ErrorCode == "TableAlreadyExists")
            {
                return TableResponses.Success(response, false);
            }

            return TableResponses.Failure<bool>(conflict);
        }

        return IsSuccess(response)
            ? TableResponses.Success(response, true)
            : TableResponses.Failure<bool>(TableResponses.Error(response, "CreateIfNotExists", _authHint));
    }

    /// <summary>Deletes the table (NotFound when it does not exist).</summary>
    public async Task<TableResult> DeleteAsync(CancellationToken cancellationToken = default)
    {
        using var message = CreateMessage(RequestMethod.Delete, $"{_basePath}/Tables('{TablePaths.EscapeKey(Name)}')");
        return await SendForResultAsync(message, "Delete", cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Inserts a new entity; Conflict (<c>EntityAlreadyExists</c>) when the keys are taken.</summary>
    public async Task<TableResult> AddEntityAsync(TableEntity entity, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entity);
        using var message = CreateMessage(RequestMethod.Post, _basePath + "/" + Name);
        message.Request.Headers.SetValue("Prefer", "return-no-content");
        SetJsonContent(message.Request, TableEntityJson.Write(entity));
        return await SendForResultAsync(message, "AddEntity", cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Insert-or-replace (PUT) or insert-or-merge (MERGE), unconditionally (no If-Match).</summary>
    public Task<TableResult> UpsertEntityAsync(TableEntity entity, TableUpdateMode mode = TableUpdateMode.Merge, CancellationToken cancellationToken = default) =>
        WriteEntityAsync(entity, ifMatch: null, mode, "UpsertEntity", cancellationToken);

    /// <summary>
    /// Replace or merge an existing entity if its ETag still matches (<see cref="ETag.All"/> for any version).
    /// PreconditionFailed when it changed, NotFound when it is gone.
    /// </summary>
    public Task<TableResult> UpdateEntityAsync(TableEntity entity, ETag ifMatch, TableUpdateMode mode = TableUpdateMode.Merge, CancellationToken cancellationToken = default)
    {
        if (ifMatch == default)
        {
            throw new ArgumentException("An ETag is required; pass ETag.All to update unconditionally.", nameof(ifMatch));
        }

        return WriteEntityAsync(entity, ifMatch, mode, "UpdateEntity", cancellationToken);
    }

    /// <summary>Point read; NotFound when the entity (or table) does not exist.</summary>
    public async Task<TableResult<TableEntity>> GetEntityAsync(string partitionKey, string rowKey, IEnumerable<string>? select = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(partitionKey);
        ArgumentNullException.ThrowIfNull(rowKey);
        using var message = CreateMessage(RequestMethod.Get, TablePaths.Entity(_basePath, Name, partitionKey, rowKey));
        AppendSelect(message.Request, select);

        var (response, failure) = await SendAsync(message, "GetEntity", cancellationToken).ConfigureAwait(false);
        if (failure is not null)
        {
            return TableResponses.Failure<TableEntity>(failure);
        }

        if (!IsSuccess(response!))
        {
            return TableResponses.Failure<TableEntity>(TableResponses.Error(response!, "GetEntity", _authHint));
        }

        using var doc = JsonDocument.Parse(response!.Content.ToMemory());
        var etagHeader = response.Headers.TryGetValue("ETag", out var etag) ? etag : null;
        return TableResponses.Success(response, TableEntityJson.Read(doc.RootElement, etagHeader));
    }

    /// <summary>Deletes an entity; <paramref name="ifMatch"/> defaults to <c>*</c> (unconditional).</summary>
    public async Task<TableResult> DeleteEntityAsync(string partitionKey, string rowKey, ETag ifMatch = default, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(partitionKey);
        ArgumentNullException.ThrowIfNull(rowKey);
        using var message = CreateMessage(RequestMethod.Delete, TablePaths.Entity(_basePath, Name, partitionKey, rowKey));
        message.Request.Headers.SetValue("If-Match", ifMatch == default ? "*" : ifMatch.ToString());
        return await SendForResultAsync(message, "DeleteEntity", cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Queries page by page, following continuation tokens. A failed page is yielded (not thrown) and
    /// ends the enumeration. <paramref name="maxPerPage"/> becomes <c>$top</c> (the service caps pages at 1,000).
    /// </summary>
    public async IAsyncEnumerable<TableResult<TablePage>> QueryAsync(
        string? filter = null,
        IEnumerable<string>? select = null,
        int? maxPerPage = null,
        string? continuationToken = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var selectList = select?.ToArray();
        do
        {
            var page = await QueryPageAsync(filter, selectList, maxPerPage, continuationToken, cancellationToken).ConfigureAwait(false);
            yield return page;
            if (!page.IsOk)
            {
                yield break;
            }

            continuationToken = page.Value!.ContinuationToken;
        }
        while (continuationToken is not null);
    }

    /// <summary>Fetches a single page, starting at <paramref name="continuationToken"/> when given.</summary>
    public async Task<TableResult<TablePage>> QueryPageAsync(
        string? filter = null,
        IEnumerable<string>? select = null,
        int? maxPerPage = null,
        string? continuationToken = null,
        CancellationToken cancellationToken = default)
    {
        if (maxPerPage is <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(maxPerPage), "maxPerPage must be positive.");
        }

        using var message = CreateMessage(RequestMethod.Get, $"{_basePath}/{Name}()");
        var request = message.Request;
        if (!string.IsNullOrEmpty(filter))
        {
            request.Uri.AppendQuery("$filter", filter, escapeValue: true);
        }

        AppendSelect(request, select);
        if (maxPerPage is { } top)
        {
            request.Uri.AppendQuery("$top", top.ToString(System.Globalization.CultureInfo.InvariantCulture), escapeValue: false);
        }

        if (continuationToken is not null)
        {
            var (nextPartitionKey, nextRowKey) = SplitContinuation(continuationToken);
            request.Uri.AppendQuery("NextPartitionKey", nextPartitionKey, escapeValue: true);
            if (nextRowKey is not null)
            {
                request.Uri.AppendQuery("NextRowKey", nextRowKey, escapeValue: true);
            }
        }

        var (response, failure) = await SendAsync(message, "Query", cancellationToken).ConfigureAwait(false);
        if (failure is not null)
        {
            return TableResponses.Failure<TablePage>(failure);
        }

        if (!IsSuccess(response!))
        {
            return TableResponses.Failure<TablePage>(TableResponses.Error(response!, "Query", _authHint));
        }

        var entities = new List<TableEntity>();
        using (var doc = JsonDocument.Parse(response!.Content.ToMemory()))
        {
            if (doc.RootElement.TryGetProperty("value", out var values))
            {
                foreach (var item in values.EnumerateArray())
                {
                    entities.Add(TableEntityJson.Read(item, headerETag: null));
                }
            }
        }

        return TableResponses.Success(response, new TablePage(entities, JoinContinuation(response)));
    }

    private async Task<TableResult> WriteEntityAsync(TableEntity entity, ETag? ifMatch, TableUpdateMode mode, string operation, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entity);
        var method = mode == TableUpdateMode.Replace ? RequestMethod.Put : MergeMethod;
        using var message = CreateMessage(method, TablePaths.Entity(_basePath, Name, entity.PartitionKey, entity.RowKey));
        if (ifMatch is { } etag)
        {
            // Without If-Match, PUT/MERGE mean insert-or-replace/insert-or-merge; with it, update only.
            message.Request.Headers.SetValue("If-Match", etag.ToString());
        }

        SetJsonContent(message.Request, TableEntityJson.Write(entity));
        return await SendForResultAsync(message, operation, cancellationToken).ConfigureAwait(false);
    }

    private HttpMessage CreateMessage(RequestMethod method, string path)
    {
        var message = _pipeline.CreateMessage();
        var request = message.Request;
        request.Method = method;
        request.Uri.Reset(_authority);
        // Not `Uri.Path = path`: in Azure.Core 1.64 that setter leaves ToUri() returning the cached "/" path.
        // The path is already escaped (TablePaths), so append it verbatim.
        request.Uri.AppendPath(path, escape: false);
        request.Headers.SetValue("x-ms-version", _serviceVersion);
        request.Headers.SetValue("Accept", JsonMinimalMetadata);
        request.Headers.SetValue("DataServiceVersion", "3.0;NetFx");
        request.Headers.SetValue("MaxDataServiceVersion", "3.0;NetFx");
        return message;
    }

    private static void SetJsonContent(Request request, ReadOnlyMemory<byte> json)
    {
        request.Headers.SetValue("Content-Type", "application/json");
        request.Content = RequestContent.Create(json);
    }

    private static void AppendSelect(Request request, IEnumerable<string>? select)
    {
        if (select is not null)
        {
            var joined = string.Join(',', select);
            if (joined.Length > 0)
            {
                request.Uri.AppendQuery("$select", joined, escapeValue: true);
            }
        }
    }

    private static bool IsSuccess(Response response) => response.Status is >= 200 and < 300;

    private async Task<TableResult> SendForResultAsync(HttpMessage message, string operation, CancellationToken cancellationToken)
    {
        var (response, failure) = await SendAsync(message, operation, cancellationToken).ConfigureAwait(false);
        if (failure is not null)
        {
            return failure;
        }

        return IsSuccess(response!) ? TableResponses.Success(response!) : TableResponses.Error(response!, operation, _authHint);
    }

    /// <summary>
    /// Sends through the pipeline (which retries) and converts transport failures into results.
    /// Caller cancellation still throws: it is not a storage state.
    /// </summary>
    private async Task<(Response? Response, TableResult? Failure)> SendAsync(HttpMessage message, string operation, CancellationToken cancellationToken)
    {
        try
        {
            await _pipeline.SendAsync(message, cancellationToken).ConfigureAwait(false);
            return (message.Response, null);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested && IsTransportFailure(ex))
        {
            // The RetryPolicy wraps several failed attempts in an AggregateException; report the last one.
            var last = ex is AggregateException agg ? agg.InnerExceptions[^1] : ex;
            return (null, TableResponses.Unreachable(Endpoint, operation, last));
        }
        catch (AuthenticationFailedException ex) when (!cancellationToken.IsCancellationRequested)
        {
            return (null, TableResponses.CredentialFailed(operation, ex));
        }
    }

    private static bool IsTransportFailure(Exception ex) => ex switch
    {
        // Status 0 = no response: HttpClientTransport wraps HttpRequestException this way.
        RequestFailedException rfe => rfe.Status == 0,
        // Azure.Core's NetworkTimeout surfaces as a cancellation the caller did not ask for.
        OperationCanceledException => true,
        AggregateException agg => agg.InnerExceptions.All(IsTransportFailure),
        _ => false,
    };

    private static string? JoinContinuation(Response response)
    {
        if (!response.Headers.TryGetValue("x-ms-continuation-NextPartitionKey", out var nextPartitionKey) || string.IsNullOrEmpty(nextPartitionKey))
        {
            return null;
        }

        return response.Headers.TryGetValue("x-ms-continuation-NextRowKey", out var nextRowKey) && !string.IsNullOrEmpty(nextRowKey)
            ? nextPartitionKey + " " + nextRowKey
            : nextPartitionKey;
    }

    private static (string NextPartitionKey, string? NextRowKey) SplitContinuation(string token)
    {
        var space = token.IndexOf(' ');
        return space < 0 ? (token, null) : (token[..space], token[(space + 1)..]);
    }

    // For https://{account}.table.core.windows.net the account is the first host label; for path-style
    // endpoints (emulator, custom domains with a path) it is the first path segment.
    private static string AccountFromEndpoint(Uri endpoint)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        var firstSegment = endpoint.AbsolutePath.Trim('/').Split('/')[0];
        if (endpoint.HostNameType is UriHostNameType.IPv4 or UriHostNameType.IPv6 || endpoint.IsLoopback)
        {
            return firstSegment;
        }

        return endpoint.Host.Split('.')[0];
    }
}
