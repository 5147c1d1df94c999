using ResponsesGateway.Core.Errors;

namespace ResponsesGateway.Core.Routing;

/// <summary>
/// Picks the upstream for a model: the first registration (in configuration order) with a matching pattern, after
/// applying its optional rename. Unknown models get OpenAI's 404 <c>model_not_found</c>. A registration's
/// <c>Fallback</c> names the upstream that serves the same model when it fails before answering; the fallback uses its
/// own rename of the model, if it has one. Fallbacks do not chain: the fallback's own fallback is not followed.
/// </summary>
public sealed class UpstreamRouter
{
    private readonly IReadOnlyList<(UpstreamRegistration Registration, string[] Patterns, Dictionary<string, string> Renames)> _routes;

    public UpstreamRouter(IEnumerable<UpstreamRegistration> registrations)
    {
        _routes = registrations
            .Select(r => (r, SplitList(r.Options.Models), ParseRenames(r.Options.ModelMap)))
            .ToList();
        foreach (var (registration, _, _) in _routes)
        {
            var fallback = registration.Options.Fallback;
            if (string.IsNullOrWhiteSpace(fallback))
            {
                continue;
            }
            if (string.Equals(fallback.Trim(), registration.Name, StringComparison.OrdinalIgnoreCase))
            {
                throw new InvalidOperationException($"Upstreams:{registration.Name}:Fallback names the upstream itself.");
            }
            if (FindRoute(fallback.Trim()) is null)
            {
                throw new InvalidOperationException($"Upstreams:{registration.Name}:Fallback names '{fallback}', which is not a configured upstream.");
            }
        }
    }

    public IReadOnlyList<UpstreamRegistration> Registrations => _routes.Select(r => r.Registration).ToList();

    public ModelRoute Resolve(string model)
    {
        foreach (var (registration, patterns, renames) in _routes)
        {
            if (renames.TryGetValue(model, out var renamed))
            {
                return new ModelRoute(registration.Upstream, renamed) { Fallback = FallbackRoute(registration, model), Kind = KindOf(registration) };
            }
            if (patterns.Any(p => Matches(p, model)))
            {
                return new ModelRoute(registration.Upstream, model) { Fallback = FallbackRoute(registration, model), Kind = KindOf(registration) };
            }
        }
        throw GatewayErrors.ModelNotFound(model);
    }

    private ModelRoute? FallbackRoute(UpstreamRegistration registration, string model)
    {
        if (string.IsNullOrWhiteSpace(registration.Options.Fallback) || FindRoute(registration.Options.Fallback.Trim()) is not { } fallback)
        {
            return null;
        }
        return new ModelRoute(fallback.Registration.Upstream, fallback.Renames.TryGetValue(model, out var renamed) ? renamed : model) { Kind = KindOf(fallback.Registration) };
    }

    private static string KindOf(UpstreamRegistration registration) => registration.Options.Kind.ToLowerInvariant();

    // Configuration keys are case-insensitive, so upstream names are too.
    private (UpstreamRegistration Registration, string[] Patterns, Dictionary<string, string> Renames)? FindRoute(string name) =>
        _routes.FirstOrDefault(r => string.Equals(r.Registration.Name, name, StringComparison.OrdinalIgnoreCase)) is { Registration: not null } found ? found : null;

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
