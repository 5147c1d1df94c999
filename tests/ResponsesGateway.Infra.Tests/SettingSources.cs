using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace ResponsesGateway.Infra.Tests;

/// <summary>A setting name found in a file, with where it was found (for messages).</summary>
internal sealed record FoundSetting(string Name, string File, int Line)
{
    public override string ToString() => $"{Name} ({File}:{Line})";
}

/// <summary>Reads setting names out of the Bicep files, local.settings.sample.json and the README.</summary>
internal static partial class SettingSources
{
    // App settings are object keys containing "__" (appsettings config resource, appSettingsKeyValuePairs, union(...)
    // objects) or name: '...' entries of a siteConfig.appSettings array.
    [GeneratedRegex(@"^[ \t]*'?(?<name>[A-Za-z_][A-Za-z0-9_\-]*__[A-Za-z0-9_\-]+)'?[ \t]*:", RegexOptions.Multiline)]
    private static partial Regex BicepObjectKey();

    [GeneratedRegex(@"\bname[ \t]*:[ \t]*'(?<name>[A-Za-z_][A-Za-z0-9_\-]*__[A-Za-z0-9_\-]+)'")]
    private static partial Regex BicepNameValue();

    [GeneratedRegex(@"`(?<token>[^`]+)`")]
    private static partial Regex Backticked();

    [GeneratedRegex(@"^(<[^>]*>|\{[^}]*\}|\[[^\]]*\])$")]
    private static partial Regex PlaceholderSegment();

    /// <summary>App setting names in every infra/**/*.bicep file (comments ignored).</summary>
    public static IReadOnlyList<FoundSetting> BicepAppSettings()
    {
        var found = new List<FoundSetting>();
        foreach (var file in RepoFiles.BicepFiles())
        {
            var code = StripBicepComments(File.ReadAllText(file));
            foreach (var regex in new[] { BicepObjectKey(), BicepNameValue() })
            {
                foreach (Match m in regex.Matches(code))
                {
                    var group = m.Groups["name"];
                    found.Add(new FoundSetting(group.Value, RepoFiles.Relative(file), LineOf(code, group.Index)));
                }
            }
        }
        return found;
    }

    /// <summary>The keys of <c>Values</c> in local.settings.sample.json.</summary>
    public static IReadOnlyList<FoundSetting> LocalSampleSettings(out JsonElement values)
    {
        const string file = "local.settings.sample.json";
        var path = RepoFiles.PathOf(file);
        Assert.True(File.Exists(path), $"{file} is missing at the repository root");
        var text = File.ReadAllText(path);
        using var doc = JsonDocument.Parse(text, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip });
        Assert.True(doc.RootElement.TryGetProperty("Values", out var v) && v.ValueKind == JsonValueKind.Object, $"{file} has no \"Values\" object");
        values = v.Clone();
        var found = new List<FoundSetting>();
        foreach (var property in values.EnumerateObject())
        {
            var index = text.IndexOf($"\"{property.Name}\"", StringComparison.Ordinal);
            found.Add(new FoundSetting(property.Name, file, index < 0 ? 0 : LineOf(text, index)));
        }
        return found;
    }

    /// <summary>
    /// Setting names from the first column of the tables under <c>## Configuration</c> in README.md, normalized to the
    /// <c>__</c> form with placeholders (<c>&lt;name&gt;</c>, <c>{name}</c>...) as <see cref="SettingPattern.Name"/>.
    /// Null when README.md or the section does not exist.
    /// </summary>
    public static IReadOnlyList<FoundSetting>? ReadmeConfigurationTable(out string? problem) =>
        ReadmeConfigurationTable(RepoFiles.PathOf("README.md"), out problem);

    public static IReadOnlyList<FoundSetting>? ReadmeConfigurationTable(string path, out string? problem)
    {
        problem = null;
        if (!File.Exists(path))
        {
            problem = "README.md does not exist";
            return null;
        }
        var lines = File.ReadAllLines(path);
        var start = Array.FindIndex(lines, l => l.Trim().Equals("## Configuration", StringComparison.OrdinalIgnoreCase));
        if (start < 0)
        {
            problem = "README.md has no '## Configuration' section";
            return null;
        }
        var found = new List<FoundSetting>();
        var inFence = false;
        for (var i = start + 1; i < lines.Length; i++)
        {
            var line = lines[i].Trim();
            if (line.StartsWith("```", StringComparison.Ordinal) || line.StartsWith("~~~", StringComparison.Ordinal))
            {
                inFence = !inFence;
                continue;
            }
            if (inFence)
            {
                continue;
            }
            if (line.StartsWith("## ", StringComparison.Ordinal) || line.StartsWith("# ", StringComparison.Ordinal))
            {
                break;
            }
            if (!line.StartsWith('|'))
            {
                continue;
            }
            var firstCell = FirstCell(line);
            foreach (Match m in Backticked().Matches(firstCell))
            {
                var token = m.Groups["token"].Value.Trim();
                if (ConfigurationContract.IsContractSetting(token))
                {
                    found.Add(new FoundSetting(NormalizeDocumented(token), "README.md", i + 1));
                }
            }
        }
        return found;
    }

    /// <summary><c>Gateway:ApiKeys:{name}</c> → <c>Gateway__ApiKeys__&lt;name&gt;</c>.</summary>
    public static string NormalizeDocumented(string token)
    {
        var segments = ConfigurationContract.Split(token)
            .Select(s => PlaceholderSegment().IsMatch(s) ? SettingPattern.Name : s);
        return string.Join("__", segments);
    }

    private static string FirstCell(string row)
    {
        // "| `A` | b |" -> "`A`"; pipes inside backticks are not expected in setting names.
        var body = row.TrimStart('|');
        var end = body.IndexOf('|', StringComparison.Ordinal);
        return end < 0 ? body : body[..end];
    }

    private static int LineOf(string text, int index)
    {
        var line = 1;
        for (var i = 0; i < index && i < text.Length; i++)
        {
            if (text[i] == '\n')
            {
                line++;
            }
        }
        return line;
    }

    /// <summary>
    /// Replaces // and /* */ comments with spaces (newlines kept, so line numbers stay right), leaving strings
    /// ('...' with \' escapes, and '''...''' multi-line strings) untouched.
    /// </summary>
    public static string StripBicepComments(string source)
    {
        var sb = new StringBuilder(source.Length);
        var i = 0;
        while (i < source.Length)
        {
            if (string.CompareOrdinal(source, i, "'''", 0, 3) == 0)
            {
                var end = source.IndexOf("'''", i + 3, StringComparison.Ordinal);
                end = end < 0 ? source.Length : end + 3;
                sb.Append(source, i, end - i);
                i = end;
            }
            else if (source[i] == '\'')
            {
                var j = i + 1;
                while (j < source.Length && source[j] != '\'' && source[j] != '\n')
                {
                    j += source[j] == '\\' ? 2 : 1;
                }
                j = Math.Min(j + 1, source.Length);
                sb.Append(source, i, j - i);
                i = j;
            }
            else if (string.CompareOrdinal(source, i, "//", 0, 2) == 0)
            {
                while (i < source.Length && source[i] != '\n')
                {
                    sb.Append(' ');
                    i++;
                }
            }
            else if (string.CompareOrdinal(source, i, "/*", 0, 2) == 0)
            {
                var end = source.IndexOf("*/", i + 2, StringComparison.Ordinal);
                end = end < 0 ? source.Length : end + 2;
                for (; i < end; i++)
                {
                    sb.Append(source[i] == '\n' ? '\n' : ' ');
                }
            }
            else
            {
                sb.Append(source[i]);
                i++;
            }
        }
        return sb.ToString();
    }
}
