using ResponsesGateway.Core.Errors;

namespace ResponsesGateway.Core.Routing;

/// <summary>
/// Picks the upstream for a model: the first registration (in configuration order) with a matching pattern, after
/// applying its optional rename. Unknown models get OpenAI's 404 <c>model_not_found</c>.
/// </summary>
public sealed class UpstreamRouter
{
    private readonly IReadOnlyList<(UpstreamRegistration Registration, string[] Patterns, Dictionary<string, string> Renames)> _routes;

    public UpstreamRouter(IEnumerable<UpstreamRegistration> registrations)
    {
        _routes = registrations
            .Select(r => (r, SplitList(r.Options.Models), ParseRenames(r.Options.ModelMap)))
            .ToList();
    }

    public IReadOnlyList<UpstreamRegistration> Registrations => _routes.Select(r => r.Registration).ToList();

    public ModelRoute Resolve(string model)
    {
        foreach (var (registration, patterns, renames) in _routes)
        {
            if (renames.TryGetValue(model, out var renamed))
            {
                return new ModelRoute(registration.Upstream, renamed);
            }
            if (patterns.Any(p => Matches(p, model)))
            {
                return new ModelRoute(registration.Upstream, model);
            }
        }
        throw GatewayErrors.ModelNotFound(model);
    }

    /// <summary>The model ids to list on <c>GET /v1/models</c>: renames and literal (wildcard-free) patterns.</summary>
    public IReadOnlyList<(string Model, string Upstream)> ListModels()
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var models = new List<(string, string)>();
        foreach (var (registration, patterns, renames) in _routes)
        {
            foreach (var model in renames.Keys.Concat(patterns.Where(p => !p.Contains('*'))))
            {
                if (seen.Add(model))
                {
                    models.Add((model, registration.Name));
                }
            }
        }
        return models;
    }

    internal static bool Matches(string pattern, string model)
    {
        // Glob with '*' only; a linear two-pointer match, so a hostile model name cannot make it backtrack.
        int p = 0, m = 0, star = -1, mark = 0;
        while (m < model.Length)
        {
            if (p < pattern.Length && pattern[p] == '*')
            {
                star = p++;
                mark = m;
            }
            else if (p < pattern.Length && pattern[p] == model[m])
            {
                p++;
                m++;
            }
            else if (star >= 0)
            {
                p = star + 1;
                m = ++mark;
            }
            else
            {
                return false;
            }
        }
        while (p < pattern.Length && pattern[p] == '*')
        {
            p++;
        }
        return p == pattern.Length;
    }

    private static string[] SplitList(string? value) =>
        (value ?? "").Split([',', ';'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static Dictionary<string, string> ParseRenames(string? map)
    {
        var renames = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in SplitList(map))
        {
            var parts = pair.Split('=', 2, StringSplitOptions.TrimEntries);
            if (parts.Length == 2 && parts[0].Length > 0 && parts[1].Length > 0)
            {
                renames[parts[0]] = parts[1];
            }
        }
        return renames;
    }
}
