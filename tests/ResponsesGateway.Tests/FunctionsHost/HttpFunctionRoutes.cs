using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Template;
using ResponsesGateway.Tests.FunctionsHost.Rpc;

namespace ResponsesGateway.Tests.FunctionsHost;

/// <summary>One HTTP-triggered function as the host routes it.</summary>
internal sealed record HttpFunctionRoute(RpcFunctionMetadata Function, string TriggerName, string[]? Methods, TemplateMatcher Matcher);

/// <summary>A matched request: the function and the route's values (its parameters, as the worker binds them).</summary>
internal sealed record HttpFunctionMatch(HttpFunctionRoute Route, RouteValueDictionary Values);

/// <summary>
/// The host's HTTP routing: every httpTrigger's route (under host.json's routePrefix, "api" when absent) with its
/// methods, tried one after another; the first that matches takes the request. The host tries them in the order of
/// the function names, not by how specific a template is (see ResponsesFunctions' catch-all), and so does this.
/// A request no route takes gets the host's bare 404.
/// </summary>
internal sealed class HttpFunctionRoutes
{
    private readonly List<HttpFunctionRoute> _routes = [];

    public HttpFunctionRoutes(IEnumerable<RpcFunctionMetadata> functions, string routePrefix)
    {
        foreach (var function in functions.OrderBy(f => f.Name, StringComparer.OrdinalIgnoreCase))
        {
            foreach (var raw in function.RawBindings)
            {
                var binding = JsonNode.Parse(raw)!.AsObject();
                if (!string.Equals((string?)binding["type"], "httpTrigger", StringComparison.OrdinalIgnoreCase))
                {
                    continue;
                }
                var route = (string?)binding["route"] ?? function.Name;
                var template = routePrefix.Length == 0 ? route : routePrefix + "/" + route;
                var methods = binding["methods"]?.AsArray().Select(m => (string)m!).ToArray();
                _routes.Add(new HttpFunctionRoute(function, (string)binding["name"]!, methods,
                    new TemplateMatcher(TemplateParser.Parse(template), new RouteValueDictionary())));
            }
        }
    }

    public IReadOnlyList<HttpFunctionRoute> Routes => _routes;

    public HttpFunctionMatch? Match(string method, PathString path)
    {
        foreach (var route in _routes)
        {
            if (route.Methods is { Length: > 0 } methods && !methods.Contains(method, StringComparer.OrdinalIgnoreCase))
            {
                continue;
            }
            var values = new RouteValueDictionary();
            if (route.Matcher.TryMatch(path, values))
            {
                return new HttpFunctionMatch(route, values);
            }
        }
        return null;
    }
}
