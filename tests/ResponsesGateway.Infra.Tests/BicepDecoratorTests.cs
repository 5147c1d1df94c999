using System.Text.RegularExpressions;

namespace ResponsesGateway.Infra.Tests;

/// <summary>
/// What the syntax-only check cannot see: a numeric-range decorator on a non-int parameter parses fine but fails the
/// real Bicep compiler (BCP124). Several people edit main.bicep; decorators slide onto the wrong parameter.
/// </summary>
public sealed partial class BicepDecoratorTests
{
    [Fact]
    public void Value_range_decorators_sit_on_int_parameters_only()
    {
        var problems = new List<string>();
        foreach (var file in RepoFiles.BicepFiles())
        {
            var lines = File.ReadAllLines(file);
            for (var i = 0; i < lines.Length; i++)
            {
                if (!RangeDecorator().IsMatch(lines[i]))
                {
                    continue;
                }
                // The decorated declaration is the next line that is not itself a decorator or blank.
                var next = lines.Skip(i + 1).FirstOrDefault(l => l.Trim().Length > 0 && !l.TrimStart().StartsWith('@'));
                var declaration = next is null ? null : ParamDeclaration().Match(next);
                if (declaration is null || !declaration.Success || declaration.Groups["type"].Value != "int")
                {
                    problems.Add($"{RepoFiles.Relative(file)}:{i + 1}: {lines[i].Trim()} decorates '{next?.Trim()}'");
                }
            }
        }
        Assert.True(problems.Count == 0, string.Join(Environment.NewLine, problems));
    }

    [GeneratedRegex(@"^\s*@(minValue|maxValue)\(")]
    private static partial Regex RangeDecorator();

    [GeneratedRegex(@"^\s*param\s+(?<name>\w+)\s+(?<type>\w+)")]
    private static partial Regex ParamDeclaration();
}
