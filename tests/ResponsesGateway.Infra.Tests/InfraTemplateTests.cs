using System.Text.Json;
using System.Text.RegularExpressions;

namespace ResponsesGateway.Infra.Tests;

/// <summary>
/// Text-level checks of the Bicep and azd files for the decisions the deployment depends on. No Bicep CLI here, so these
/// read the source: they catch drift (a renamed parameter, a secret in plain text), not type errors.
/// </summary>
public sealed partial class InfraTemplateTests
{
    [GeneratedRegex(@"^param\s+(?<name>\w+)\s+(?<type>\w+)(?<default>\s*=)?", RegexOptions.Multiline)]
    private static partial Regex ParamDeclaration();

    private static string MainBicep => SettingSources.StripBicepComments(RepoFiles.Read("infra", "main.bicep"));

    private static string AllBicep => string.Join("\n", RepoFiles.BicepFiles().Select(f => SettingSources.StripBicepComments(File.ReadAllText(f))));

    [Fact]
    public void Parameters_file_names_only_parameters_of_main_bicep()
    {
        var declared = ParamDeclaration().Matches(MainBicep).Select(m => m.Groups["name"].Value).ToHashSet(StringComparer.Ordinal);
        var supplied = ParametersFileValues().Keys;
        var unknown = supplied.Where(p => !declared.Contains(p)).ToList();
        Assert.True(unknown.Count == 0, $"infra/main.parameters.json sets parameters main.bicep does not declare: {string.Join(", ", unknown)}");
    }

    [Fact]
    public void Every_required_parameter_is_supplied_by_azd()
    {
        var main = MainBicep;
        var supplied = ParametersFileValues();
        var generated = AzdGeneratedParameters(main);
        var unsupplied = ParamDeclaration().Matches(main)
            .Where(m => !m.Groups["default"].Success)
            .Select(m => m.Groups["name"].Value)
            .Where(p => !supplied.ContainsKey(p) && !generated.Contains(p))
            .ToList();
        Assert.True(unsupplied.Count == 0,
            $"main.bicep parameters without a default that neither main.parameters.json nor azd 'generate' metadata supplies (azd would prompt): {string.Join(", ", unsupplied)}");
        // azd generates a value only for a required parameter that the parameters file does not set.
        var clash = generated.Where(supplied.ContainsKey).ToList();
        Assert.True(clash.Count == 0, $"azd-generated parameters must not be set in main.parameters.json: {string.Join(", ", clash)}");
    }

    [Fact]
    public void Parameters_file_uses_azd_substitutions()
    {
        var values = ParametersFileValues();
        Assert.Equal("${AZURE_ENV_NAME}", values["environmentName"]);
        Assert.Equal("${AZURE_LOCATION}", values["location"]);
        Assert.Equal("${AZURE_PRINCIPAL_ID}", values["principalId"]);
        foreach (var (name, value) in values)
        {
            Assert.Matches(@"^\$\{[A-Z][A-Z0-9_]*(=[^}]*)?\}$", value);
            _ = name;
        }
    }

    [Fact]
    public void Gateway_client_key_is_generated_once_by_azd_and_never_by_newGuid()
    {
        var main = MainBicep;
        Assert.Contains("gatewayClientKey", AzdGeneratedParameters(main));
        var declaration = main.IndexOf("param gatewayClientKey string", StringComparison.Ordinal);
        Assert.True(declaration > 0, "main.bicep: param gatewayClientKey string not found");
        var decorators = DecoratorsBefore(main, declaration);
        Assert.Contains("@secure()", decorators, StringComparison.Ordinal);
        Assert.Matches(@"length:\s*48", decorators);
        Assert.Matches(@"noSpecial:\s*true", decorators);
        Assert.DoesNotContain("newGuid(", AllBicep, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Secret_settings_are_key_vault_references()
    {
        var secretSettings = SettingSources.BicepAppSettings()
            .Where(s => Regex.IsMatch(s.Name, @"^(Gateway__ApiKeys__[^_]+|Upstreams__[^_]+__ApiKey)$", RegexOptions.IgnoreCase))
            .ToList();
        Assert.Contains(secretSettings, s => s.Name == "Gateway__ApiKeys__default");
        foreach (var setting in secretSettings)
        {
            var line = File.ReadAllLines(RepoFiles.PathOf(setting.File))[setting.Line - 1];
            Assert.True(line.Contains("@Microsoft.KeyVault(SecretUri=", StringComparison.Ordinal),
                $"{setting}: a secret must be a Key Vault reference (@Microsoft.KeyVault(SecretUri=...)), found: {line.Trim()}");
        }
        Assert.Contains("keyVaultReferenceIdentity:", AllBicep, StringComparison.Ordinal);
        Assert.Matches(@"enableRbacAuthorization:\s*true", AllBicep);
    }

    [Fact]
    public void Host_storage_uses_the_managed_identity_and_no_shared_key()
    {
        var all = AllBicep;
        foreach (var required in new[]
                 {
                     "AzureWebJobsStorage__blobServiceUri", "AzureWebJobsStorage__queueServiceUri", "AzureWebJobsStorage__tableServiceUri",
                     "AzureWebJobsStorage__credential", "AzureWebJobsStorage__clientId",
                     "APPLICATIONINSIGHTS_CONNECTION_STRING", "APPLICATIONINSIGHTS_AUTHENTICATION_STRING",
                 })
        {
            Assert.True(Regex.IsMatch(all, $@"(?m)^\s*'?{required}'?\s*:"), $"infra/**/*.bicep: app setting {required} is missing");
        }
        Assert.Matches(@"allowSharedKeyAccess:\s*false", all);
        Assert.DoesNotMatch(@"^\s*AzureWebJobsStorage\s*:", all);
        Assert.DoesNotContain("listKeys(", all, StringComparison.Ordinal);
    }

    [Fact]
    public void Flex_consumption_app_runs_dotnet_isolated_10_without_settings_flex_rejects()
    {
        var all = AllBicep;
        Assert.Matches(@"name:\s*'FC1'", all);
        Assert.Matches(@"tier:\s*'FlexConsumption'", all);
        Assert.Matches(@"runtimeName:\s*'dotnet-isolated'", all);
        Assert.Matches(@"runtimeVersion:\s*'10\.0'", all);
        Assert.Contains("'azd-service-name': serviceName", all, StringComparison.Ordinal);
        Assert.Matches(@"serviceName:\s*'api'", all);
        Assert.Matches(@"perInstanceConcurrency:", all);

        // Flex Consumption deprecations (functions-app-settings); ARM rejects or ignores these.
        string[] rejected =
        [
            "FUNCTIONS_WORKER_RUNTIME", "FUNCTIONS_EXTENSION_VERSION", "WEBSITE_RUN_FROM_PACKAGE", "WEBSITE_CONTENTAZUREFILECONNECTIONSTRING",
            "WEBSITE_CONTENTSHARE", "WEBSITE_USE_PLACEHOLDER_DOTNETISOLATED", "SCM_DO_BUILD_DURING_DEPLOYMENT", "ENABLE_ORYX_BUILD",
            "WEBSITE_MAX_DYNAMIC_APPLICATION_SCALE_OUT", "linuxFxVersion",
        ];
        foreach (var name in rejected)
        {
            Assert.False(all.Contains(name, StringComparison.Ordinal), $"infra/**/*.bicep sets {name}, which the Flex Consumption plan does not allow");
        }
    }

    [Fact]
    public void Role_definition_ids_are_the_built_in_ones()
    {
        var all = AllBicep;
        // Built-in role ids (identical in every tenant).
        (string Role, string Id)[] roles =
        [
            ("Storage Blob Data Owner", "b7e6dc6d-f1e8-4753-8033-0f276bb0955b"),
            ("Storage Queue Data Contributor", "974c5e8b-45b9-4653-ba55-5f855dd0fb88"),
            ("Storage Table Data Contributor", "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3"),
            ("Key Vault Secrets User", "4633458b-17de-408a-b874-0445c86b69e6"),
            ("Key Vault Secrets Officer", "b86a8fe4-44ce-4948-aee5-eccb2c155cd7"),
            ("Monitoring Metrics Publisher", "3913510d-42f4-4e42-8a64-420c390055eb"),
            ("Cognitive Services OpenAI User", "5e0bd9bd-7b93-4f28-af87-19fc36ad61bd"),
        ];
        foreach (var (role, id) in roles)
        {
            Assert.True(all.Contains(id, StringComparison.OrdinalIgnoreCase), $"infra/**/*.bicep: no role assignment for {role} ({id})");
        }
    }

    [Fact]
    public void Azure_yaml_deploys_the_functions_project_as_service_api()
    {
        var yaml = RepoFiles.Read("azure.yaml");
        Assert.Matches(@"(?m)^services:\s*$", yaml);
        Assert.Matches(@"(?m)^  api:\s*$", yaml);
        Assert.Matches(@"(?m)^    host:\s*function\s*$", yaml);
        Assert.Matches(@"(?m)^    language:\s*dotnet\s*$", yaml);
        var project = Regex.Match(yaml, @"(?m)^    project:\s*(?<path>\S+)\s*$");
        Assert.True(project.Success, "azure.yaml: services.api.project is missing");
        Assert.Equal("./src/ResponsesGateway.Functions", project.Groups["path"].Value);
        Assert.True(Directory.Exists(RepoFiles.PathOf("src", "ResponsesGateway.Functions")), "src/ResponsesGateway.Functions does not exist");
    }

    private static Dictionary<string, string> ParametersFileValues()
    {
        using var doc = JsonDocument.Parse(RepoFiles.Read("infra", "main.parameters.json"));
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var p in doc.RootElement.GetProperty("parameters").EnumerateObject())
        {
            result[p.Name] = p.Value.GetProperty("value").ToString();
        }
        return result;
    }

    /// <summary>Parameters whose decorators carry azd <c>type: 'generate'</c> metadata.</summary>
    private static HashSet<string> AzdGeneratedParameters(string main)
    {
        var result = new HashSet<string>(StringComparer.Ordinal);
        foreach (Match m in ParamDeclaration().Matches(main))
        {
            if (Regex.IsMatch(DecoratorsBefore(main, m.Index), @"type:\s*'generate'"))
            {
                result.Add(m.Groups["name"].Value);
            }
        }
        return result;
    }

    /// <summary>The text between the previous declaration (or blank line) and <paramref name="index"/>: the decorators.</summary>
    private static string DecoratorsBefore(string source, int index)
    {
        var head = source[..index].TrimEnd();
        var previous = Regex.Matches(head, @"^(param|var|resource|module|output|targetScope)\b|^[ \t]*$", RegexOptions.Multiline)
            .LastOrDefault();
        var start = previous is null ? 0 : previous.Index + previous.Length;
        return head[start..];
    }
}
