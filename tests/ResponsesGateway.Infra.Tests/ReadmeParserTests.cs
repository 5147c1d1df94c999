namespace ResponsesGateway.Infra.Tests;

/// <summary>The README table reader on sample documents (the real README is checked by ConfigurationContractTests).</summary>
public sealed class ReadmeParserTests
{
    [Fact]
    public void Reads_backticked_names_in_both_forms_from_the_first_column_only()
    {
        var found = Parse("""
            # Title

            ## Configuration

            Some text with `Gateway:Ignored` outside a table.

            | setting | default | notes |
            | --- | --- | --- |
            | `Gateway:ApiKeys:<name>` | none | mentions `Storage:NotAColumnOne` |
            | `Upstreams__{name}__Kind` / `Upstreams:<name>:BaseUrl` | `responses` | |
            | `Storage:TableName` | `responses` | |
            | `AzureWebJobsStorage` | platform | ignored |

            ```
            | `Gateway:InAFence` | ignored |
            ```

            ## Next section

            | `Gateway:AfterTheSection` | ignored |
            """, out var problem);

        Assert.Null(problem);
        Assert.NotNull(found);
        Assert.Equal(
            ["Gateway__ApiKeys__<name>", "Upstreams__<name>__Kind", "Upstreams__<name>__BaseUrl", "Storage__TableName"],
            found.Select(f => f.Name));
    }

    [Fact]
    public void Reports_a_missing_section()
    {
        var found = Parse("# Title\n\n## Local run\n\n| `Gateway:ApiKeys:<name>` | x |\n", out var problem);
        Assert.Null(found);
        Assert.Contains("## Configuration", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Documented_patterns_match_the_contract_patterns()
    {
        var expected = ConfigurationContract.ExpectedSettings();
        Assert.NotNull(ConfigurationContract.Find(expected, SettingSources.NormalizeDocumented("Gateway:ApiKeys:{tenant}")));
        Assert.NotNull(ConfigurationContract.Find(expected, SettingSources.NormalizeDocumented("Upstreams:<name>:ModelMap")));
        Assert.NotNull(ConfigurationContract.Find(expected, "Upstreams__default__ApiKey"));
        Assert.Null(ConfigurationContract.Find(expected, SettingSources.NormalizeDocumented("Gateway:ApiKey")));
        Assert.Null(ConfigurationContract.Find(expected, "Upstreams__Kind"));
    }

    private static IReadOnlyList<FoundSetting>? Parse(string markdown, out string? problem)
    {
        var path = Path.Combine(Path.GetTempPath(), $"readme-{Guid.NewGuid():N}.md");
        File.WriteAllText(path, markdown);
        try
        {
            return SettingSources.ReadmeConfigurationTable(path, out problem);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
