using System.Security.Cryptography;
using System.Text;
using System.Web;
using Azure.Core;
using Azure.Core.Pipeline;

namespace ResponsesGateway.Storage.Tables;

/// <summary>
/// Signs requests with SharedKeyLite for the Table service:
/// <c>StringToSign = x-ms-date + "\n" + CanonicalizedResource</c>, where CanonicalizedResource is
/// <c>"/" + account + path-as-sent (+ "?comp=…")</c>. For path-style endpoints (Azurite) the path already
/// starts with the account, so the account appears twice; that is what the emulator expects.
/// Must run after <see cref="StorageDatePolicy"/>.
/// </summary>
internal sealed class SharedKeyLitePolicy : HttpPipelineSynchronousPolicy
{
    private readonly string _accountName;
    private readonly byte[] _key;

    public SharedKeyLitePolicy(TableSharedKeyCredential credential)
    {
        _accountName = credential.AccountName;
        _key = credential.KeyBytes;
    }

    public override void OnSendingRequest(HttpMessage message)
    {
        var request = message.Request;
        if (!request.Headers.TryGetValue(StorageDatePolicy.HeaderName, out var date))
        {
            throw new InvalidOperationException("SharedKeyLitePolicy requires x-ms-date; StorageDatePolicy must run first.");
        }

        var stringToSign = date + "\n" + CanonicalizedResource(_accountName, request.Uri.ToUri());
        var signature = Convert.ToBase64String(HMACSHA256.HashData(_key, Encoding.UTF8.GetBytes(stringToSign)));
        request.Headers.SetValue(HttpHeader.Names.Authorization, $"SharedKeyLite {_accountName}:{signature}");
    }

    internal static string CanonicalizedResource(string accountName, Uri uri)
    {
        // AbsolutePath keeps the percent-encoding that goes on the wire; the service signs that form.
        var resource = "/" + accountName + uri.AbsolutePath;
        var comp = HttpUtility.ParseQueryString(uri.Query)["comp"];
        return comp is null ? resource : resource + "?comp=" + comp;
    }
}
