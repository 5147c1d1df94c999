using System.Globalization;
using Azure.Core;
using Azure.Core.Pipeline;

namespace ResponsesGateway.Storage.Tables;

/// <summary>
/// Stamps <c>x-ms-date</c> on every attempt. It runs per retry because the service rejects requests
/// dated more than 15 minutes off, and SharedKeyLite signs this exact value.
/// </summary>
internal sealed class StorageDatePolicy : HttpPipelineSynchronousPolicy
{
    internal const string HeaderName = "x-ms-date";

    private readonly TimeProvider _time;

    public StorageDatePolicy(TimeProvider? time = null) => _time = time ?? TimeProvider.System;

    public override void OnSendingRequest(HttpMessage message) =>
        message.Request.Headers.SetValue(HeaderName, _time.GetUtcNow().ToString("r", CultureInfo.InvariantCulture));
}
