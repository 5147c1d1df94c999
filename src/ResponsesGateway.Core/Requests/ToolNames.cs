using ResponsesGateway.Core.Errors;

namespace ResponsesGateway.Core.Requests;

/// <summary>The rule OpenAI applies to the name of a function or custom tool, in one place for every stage that checks one.</summary>
public static class ToolNames
{
    /// <summary>Throws a 400 naming <paramref name="param"/> unless <paramref name="name"/> is 1 to 64 of a-z, A-Z, 0-9, '_', '.', '-'.</summary>
    /// <param name="noun">"function" or "tool": how the message calls the thing named.</param>
    public static void Check(string name, string param, string noun)
    {
        if (name.Length == 0 || name.Length > 64 || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.'))
        {
            throw GatewayErrors.InvalidValue(param, $"a {noun} name must be 1 to 64 characters of a-z, A-Z, 0-9, underscores, dots or dashes.");
        }
    }
}
