using Xunit.Abstractions;

namespace ResponsesGateway.Infra.Tests;

/// <summary>
/// The settings the options classes read (Gateway__*, Upstreams__*, Storage__*) must be provisioned by the Bicep app
/// settings and by local.settings.sample.json, and nothing may provision a setting under those sections that no code
/// reads. Deliberate gaps are listed once, with the reason, in <see cref="ConfigurationContract.Exceptions"/>.
/// </summary>
public sealed class ConfigurationContractTests(ITestOutputHelper output)
{
    private static readonly IReadOnlyList<SettingPattern> Expected = ConfigurationContract.ExpectedSettings();

    [Fact]
    public void Options_classes_are_found_and_yield_the_known_sections()
    {
        var sections = ConfigurationContract.OptionsTypes().Select(ConfigurationContract.SectionNameOf).ToList();
        foreach (var section in ConfigurationContract.Sections)
        {
            Assert.Contains(section, sections);
        }
        // Spot checks of the reflection: a dictionary keyed by name, and the named Upstreams section.
        Assert.Contains(Expected, p => p.ToString() == "Gateway__ApiKeys__<name>");
        Assert.Contains(Expected, p => p.ToString() == "Upstreams__<name>__BaseUrl");
        Assert.Contains(Expected, p => p.ToString() == "Storage__TableName");
        output.WriteLine("Settings the code reads:");
        foreach (var pattern in Expected)
        {
            output.WriteLine($"  {pattern}");
        }
    }

    [Fact]
    public void Exceptions_name_real_settings_once()
    {
        foreach (var exception in ConfigurationContract.Exceptions)
        {
            Assert.True(ConfigurationContract.Find(Expected, exception.Setting) is not null,
                $"ConfigurationContract.Exceptions lists {exception.Setting}, which no options class reads any more: remove it from the list.");
            Assert.False(string.IsNullOrWhiteSpace(exception.Reason), $"exception {exception.Setting} needs a reason");
        }
        var duplicates = ConfigurationContract.Exceptions.GroupBy(e => e.Setting, StringComparer.OrdinalIgnoreCase).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        Assert.True(duplicates.Count == 0, $"listed more than once in ConfigurationContract.Exceptions: {string.Join(", ", duplicates)}");
    }

    [Fact]
    public void Bicep_provisions_every_setting_the_code_reads()
    {
        var provisioned = SettingSources.BicepAppSettings();
        var missing = MissingFrom(provisioned, NotProvisionedIn.Azure);
        Assert.True(missing.Count == 0,
            "infra/**/*.bicep does not provision these settings the options classes read (add them to the function app's app settings, "
            + "or list them in ConfigurationContract.Exceptions with the reason):\n  " + string.Join("\n  ", missing));
    }

    [Fact]
    public void Bicep_provisions_no_setting_that_nothing_reads()
    {
        var unread = Unread(SettingSources.BicepAppSettings());
        Assert.True(unread.Count == 0,
            "infra/**/*.bicep provisions these Gateway/Upstreams/Storage settings, but no options class reads them (typo, or a removed property?):\n  "
            + string.Join("\n  ", unread));
    }

    [Fact]
    public void Bicep_leaves_out_the_settings_excepted_for_Azure()
    {
        var provisioned = SettingSources.BicepAppSettings();
        var wrong = ConfigurationContract.Exceptions
            .Where(e => e.Absent == NotProvisionedIn.Azure)
            .SelectMany(e => provisioned.Where(s => string.Equals(s.Name, e.Setting, StringComparison.OrdinalIgnoreCase)).Select(s => $"{s}: {e.Reason}"))
            .ToList();
        Assert.True(wrong.Count == 0, "infra/**/*.bicep provisions settings that are excepted for Azure:\n  " + string.Join("\n  ", wrong));
    }

    [Fact]
    public void Local_sample_provisions_every_setting_the_code_reads()
    {
        var provisioned = SettingSources.LocalSampleSettings(out _);
        var missing = MissingFrom(provisioned, NotProvisionedIn.LocalSample);
        Assert.True(missing.Count == 0,
            "local.settings.sample.json lacks these settings the options classes read (add them with their default, "
            + "or list them in ConfigurationContract.Exceptions with the reason):\n  " + string.Join("\n  ", missing));
    }

    [Fact]
    public void Local_sample_provisions_no_setting_that_nothing_reads()
    {
        var unread = Unread(SettingSources.LocalSampleSettings(out _));
        Assert.True(unread.Count == 0,
            "local.settings.sample.json sets these Gateway/Upstreams/Storage settings, but no options class reads them:\n  " + string.Join("\n  ", unread));
    }

    [Fact]
    public void Local_sample_leaves_out_the_settings_excepted_for_local_runs()
    {
        var provisioned = SettingSources.LocalSampleSettings(out _);
        var wrong = ConfigurationContract.Exceptions
            .Where(e => e.Absent == NotProvisionedIn.LocalSample)
            .SelectMany(e => provisioned.Where(s => string.Equals(s.Name, e.Setting, StringComparison.OrdinalIgnoreCase)).Select(s => $"{s}: {e.Reason}"))
            .ToList();
        Assert.True(wrong.Count == 0, "local.settings.sample.json sets settings that are excepted for local runs:\n  " + string.Join("\n  ", wrong));
    }

    [Fact]
    public void Local_sample_runs_against_Azurite_and_the_mock_upstream()
    {
        SettingSources.LocalSampleSettings(out var values);
        string Value(string name)
        {
            Assert.True(values.TryGetProperty(name, out var v), $"local.settings.sample.json: {name} is missing");
            Assert.True(v.ValueKind == System.Text.Json.JsonValueKind.String, $"local.settings.sample.json: {name} must be a string (Functions reads Values as strings)");
            return v.GetString()!;
        }

        Assert.Equal("UseDevelopmentStorage=true", Value("AzureWebJobsStorage"));
        Assert.Equal("dotnet-isolated", Value("FUNCTIONS_WORKER_RUNTIME"));
        Assert.Equal("UseDevelopmentStorage=true", Value("Storage__ConnectionString"));
        Assert.False(string.IsNullOrWhiteSpace(Value("Gateway__ApiKeys__default")), "a sample client key is needed to call the gateway");
        Assert.Equal("http://127.0.0.1:5081/v1", Value("Upstreams__default__BaseUrl"));
        Assert.Equal("responses", Value("Upstreams__default__Kind"));
        Assert.Equal("*", Value("Upstreams__default__Models"));
        foreach (var property in values.EnumerateObject())
        {
            Assert.True(property.Value.ValueKind == System.Text.Json.JsonValueKind.String, $"local.settings.sample.json: {property.Name} must be a string");
        }
    }

    [Fact]
    public void Readme_configuration_table_matches_the_code()
    {
        var documented = SettingSources.ReadmeConfigurationTable(out var problem);
        if (documented is null)
        {
            // xunit 2.9 has no dynamic skip: report and pass. The check runs as soon as the README has the section.
            output.WriteLine($"SKIPPED README check: {problem}. Add '## Configuration' with a table whose first column holds the setting names in backticks to enable it.");
            return;
        }
        Assert.True(documented.Count > 0,
            "README.md has a '## Configuration' section but no table row whose first column holds a Gateway/Upstreams/Storage setting in backticks "
            + "(e.g. | `Gateway:ApiKeys:<name>` | ... |)");

        var undocumented = Expected
            .Where(p => !documented.Any(d => p.Matches(ConfigurationContract.Split(d.Name))))
            .Select(p => p.ToString())
            .ToList();
        Assert.True(undocumented.Count == 0,
            "README.md '## Configuration' does not document these settings the options classes read:\n  " + string.Join("\n  ", undocumented));

        var unknown = documented.Where(d => ConfigurationContract.Find(Expected, d.Name) is null).Select(d => d.ToString()).ToList();
        Assert.True(unknown.Count == 0,
            "README.md '## Configuration' documents these settings, but no options class reads them:\n  " + string.Join("\n  ", unknown));
    }

    private static List<string> MissingFrom(IReadOnlyList<FoundSetting> provisioned, NotProvisionedIn place)
    {
        var excepted = ConfigurationContract.Exceptions.Where(e => e.Absent == place).Select(e => e.Setting).ToHashSet(StringComparer.OrdinalIgnoreCase);
        return Expected
            .Where(p => !excepted.Contains(p.ToString()))
            .Where(p => !provisioned.Any(s => p.Matches(ConfigurationContract.Split(s.Name))))
            .Select(p => p.ToString())
            .ToList();
    }

    private static List<string> Unread(IReadOnlyList<FoundSetting> provisioned) =>
        provisioned
            .Where(s => ConfigurationContract.IsContractSetting(s.Name))
            .Where(s => ConfigurationContract.Find(Expected, s.Name) is null)
            .Select(s => s.ToString())
            .ToList();
}
