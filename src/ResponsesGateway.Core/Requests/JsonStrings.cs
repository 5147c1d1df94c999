using System.Text.Json;
using ResponsesGateway.Protocol.Serialization;

namespace ResponsesGateway.Core.Requests;

/// <summary>
/// Checks on the strings of a body that <see cref="System.Text.Json"/> lets through. JSON may spell a lone surrogate
/// as <c>\ud800</c>; such a string has no UTF-8 form, so re-encoding it (a string input becomes a message, the chat
/// mapper, the store) throws deep in the pipeline. RFC 7493 (I-JSON) forbids them; the gateway answers 400 up front.
/// </summary>
internal static class JsonStrings
{
    /// <summary>True when a property name or string value of the (already parsed, valid) JSON has an unpaired surrogate.</summary>
    public static bool FindUnpairedSurrogate(ReadOnlySpan<byte> utf8Json)
    {
        var reader = new Utf8JsonReader(utf8Json, new JsonReaderOptions { MaxDepth = ProtocolJson.DocumentOptions.MaxDepth });
        while (reader.Read())
        {
            // Only an escape can produce a surrogate: unescaped text was already checked to be valid UTF-8.
            if (reader.TokenType is JsonTokenType.String or JsonTokenType.PropertyName && reader.ValueIsEscaped && !TryRead(ref reader))
            {
                return true;
            }
        }
        return false;
    }

    // System.Text.Json refuses to unescape an unpaired surrogate (InvalidOperationException); that refusal used to
    // escape from validation as a 500. The scan below is a second line in case a future version lets one through.
    private static bool TryRead(ref Utf8JsonReader reader)
    {
        try
        {
            return !HasUnpairedSurrogate(reader.GetString()!);
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    private static bool HasUnpairedSurrogate(string text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(text[i]))
            {
                return true;
            }
        }
        return false;
    }
}
