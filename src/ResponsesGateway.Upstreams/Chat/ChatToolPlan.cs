using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using ResponsesGateway.Core.Errors;
using ResponsesGateway.Core.Requests;

namespace ResponsesGateway.Upstreams.Chat;

/// <summary>Who a chat function name stands for: a plain or namespaced function or custom tool.</summary>
internal sealed record ChatToolTarget(string Name, string? Namespace, bool Custom);

/// <summary>
/// The chat <c>tools</c> of one request and the way back from the names the model calls. Built once per request from
/// the Responses body, it is what both directions agree on (README, "Chat Completions upstreams"):
/// 1. <c>function</c> and <c>custom</c> tools keep their names (custom tools become one-string-input functions,
///    <see cref="ChatCustomTools"/>);
/// 2. the children of a <c>namespace</c> tool become functions named <c>namespace__name</c>, cut and suffixed with a
///    hash when that is not a valid chat name (<c>^[A-Za-z0-9_-]{1,64}$</c>) or is taken by another tool; a call to
///    that name comes back with the child's own <c>name</c> and the <c>namespace</c>, as OpenAI emits it;
/// 3. hosted tools the upstream cannot run are dropped (listed in <see cref="Dropped"/>) or rejected, per
///    <see cref="ChatCapabilities.HostedTools"/>; <c>mcp</c> and other tool types are always rejected;
/// 4. <c>tool_search</c> is dropped and every function marked <c>defer_loading</c> is offered at once, and the tools of
///    <c>tool_search_output</c> and <c>additional_tools</c> input items are added after the declared ones, once each.
/// </summary>
internal sealed class ChatToolPlan
{
    /// <summary>Hosted tools OpenAI runs itself; a chat upstream has nothing to run them with.</summary>
    private static readonly HashSet<string> HostedTypes = new(StringComparer.Ordinal)
    {
        "web_search", "web_search_preview", "web_search_2025_08_26", "web_search_preview_2025_03_11",
        "image_generation", "code_interpreter", "file_search", "computer_use_preview", "computer_use",
    };

    private const int MaxNameLength = 64;
    private const string Separator = "__";

    private readonly Dictionary<string, ChatToolTarget> _byChatName = new(StringComparer.Ordinal);
    private readonly Dictionary<(string? Namespace, string Name), string> _byTarget = [];
    private readonly HashSet<string> _plainNames = new(StringComparer.Ordinal);
    private readonly string _upstream;
    private readonly bool _reject;

    private ChatToolPlan(string upstream, bool reject)
    {
        _upstream = upstream;
        _reject = reject;
    }

    /// <summary>The chat function tools, in declaration order.</summary>
    public List<JsonObject> Tools { get; private set; } = [];

    /// <summary>The hosted tool types that were removed before the call (distinct, in order).</summary>
    public List<string> Dropped { get; } = [];

    public static ChatToolPlan Build(JsonObject body, ChatCapabilities capabilities, string upstream)
    {
        var plan = new ChatToolPlan(upstream, capabilities.RejectHostedTools);
        var declared = body["tools"] as JsonArray ?? [];
        var input = body["input"] as JsonArray ?? [];
        // Plain names first: a declared plain tool keeps its name, a flattened namespaced name yields to it.
        foreach (var tool in declared.OfType<JsonObject>().Concat(HoistedTools(input)))
        {
            if (JsonText.Of(tool["type"]) is "function" or "custom" && JsonText.Of(tool["name"]) is { } name)
            {
                plan._plainNames.Add(name);
            }
        }
        for (var i = 0; i < declared.Count; i++)
        {
            if (declared[i] is JsonObject tool)
            {
                plan.AddDeclared(tool, $"tools[{i}]");
            }
        }
        foreach (var tool in HoistedTools(input))
        {
            plan.AddHoisted(tool);
        }
        return plan;
    }

    /// <summary>
    /// The tool a chat function name stands for; null for a name the request did not declare. A model that calls a
    /// namespaced child by its own name, without the prefix, gets that child when exactly one namespace has it.
    /// </summary>
    public ChatToolTarget? Resolve(string chatName)
    {
        if (_byChatName.TryGetValue(chatName, out var target))
        {
            return target;
        }
        var children = _byChatName.Values.Where(t => t.Namespace is not null && t.Name == chatName).Take(2).ToList();
        return children.Count == 1 ? children[0] : null;
    }

    /// <summary>
    /// The chat name of a (possibly namespaced) tool, for history items and <c>tool_choice</c>. A tool that is not
    /// declared in this request (the tools changed between turns) gets the same flattened name it would have had.
    /// </summary>
    public string ChatName(string name, string? ns) =>
        _byTarget.TryGetValue((ns, name), out var chatName) ? chatName : ns is null ? name : Flatten(ns, name, taken: null);

    /// <summary>Removes every chat tool whose target is not allowed (for <c>allowed_tools</c>).</summary>
    public void Narrow(Func<ChatToolTarget, bool> allowed) =>
        Tools = Tools.Where(t => Resolve((string)t["function"]!["name"]!) is { } target && allowed(target)).ToList();

    private void AddDeclared(JsonObject tool, string param)
    {
        var type = JsonText.Of(tool["type"]);
        switch (type)
        {
            case "function" or "custom":
                AddTool(tool, null, param, strictNames: true);
                break;
            case "namespace":
                AddNamespace(tool, param, strictNames: true);
                break;
            case "tool_search":
                // The model cannot search: every deferred function is already offered (AddTool ignores defer_loading).
                AddDropped("tool_search");
                break;
            case "mcp":
                throw GatewayErrors.InvalidRequest(
                    $"The tool type 'mcp' is not supported for this model: its upstream '{_upstream}' speaks Chat Completions, and the gateway does not run MCP servers.",
                    param, "unsupported_tool");
            case not null when HostedTypes.Contains(type) && !_reject:
                AddDropped(type);
                break;
            default:
                throw GatewayErrors.InvalidRequest(
                    $"The tool type '{type}' is not supported for this model: its upstream '{_upstream}' speaks Chat Completions and can only call function, custom and namespace tools.",
                    param, "unsupported_tool");
        }
    }

    /// <summary>Tools that arrive in input items: the items were accepted once, so what cannot be offered is skipped, not a 400.</summary>
    private void AddHoisted(JsonObject tool)
    {
        switch (JsonText.Of(tool["type"]))
        {
            case "function" or "custom":
                if (JsonText.Of(tool["name"]) is { } name && !_byTarget.ContainsKey((null, name)))
                {
                    AddTool(tool, null, "input", strictNames: false);
                }
                break;
            case "namespace":
                AddNamespace(tool, "input", strictNames: false);
                break;
            case "tool_search":
                AddDropped("tool_search");
                break;
            case { } type when HostedTypes.Contains(type):
                AddDropped(type);
                break;
        }
    }

    private void AddNamespace(JsonObject tool, string param, bool strictNames)
    {
        var ns = tool["name"] switch
        {
            null => throw GatewayErrors.MissingParameter(param + ".name"),
            var node when JsonText.Of(node) is { Length: > 0 } text => text,
            var node => throw GatewayErrors.InvalidType(param + ".name", "a non-empty string", JsonKinds.Describe(node)),
        };
        if (strictNames)
        {
            ToolNames.Check(ns, param + ".name", "namespace");
        }
        if (tool["tools"] is not JsonArray children)
        {
            throw tool["tools"] is null
                ? GatewayErrors.MissingParameter(param + ".tools")
                : GatewayErrors.InvalidType(param + ".tools", "an array", JsonKinds.Describe(tool["tools"]));
        }
        var description = JsonText.Of(tool["description"]);
        for (var i = 0; i < children.Count; i++)
        {
            var childParam = $"{param}.tools[{i}]";
            if (children[i] is not JsonObject child)
            {
                throw GatewayErrors.InvalidType(childParam, "an object", JsonKinds.Describe(children[i]));
            }
            if (JsonText.Of(child["type"]) is not ("function" or "custom"))
            {
                throw GatewayErrors.InvalidValue(childParam + ".type",
                    $"'{JsonText.Of(child["type"]) ?? "(none)"}'. A namespace can hold 'function' and 'custom' tools.");
            }
            if (JsonText.Of(child["name"]) is { } childName && _byTarget.ContainsKey((ns, childName)))
            {
                if (strictNames)
                {
                    throw GatewayErrors.InvalidValue(childParam + ".name", $"'{childName}' appears twice in namespace '{ns}'; tool names must be unique.");
                }
                continue;
            }
            AddTool(child, ns, childParam, strictNames, description);
        }
    }

    private void AddTool(JsonObject tool, string? ns, string param, bool strictNames, string? namespaceDescription = null)
    {
        var custom = JsonText.Of(tool["type"]) == "custom";
        JsonObject chat;
        if (custom)
        {
            chat = ChatCustomTools.ToFunctionTool(tool, param);
        }
        else
        {
            var name = tool["name"] switch
            {
                null => throw GatewayErrors.MissingParameter(param + ".name"),
                var node when JsonText.Of(node) is { Length: > 0 } text => text,
                var node => throw GatewayErrors.InvalidType(param + ".name", "a non-empty string", JsonKinds.Describe(node)),
            };
            if (strictNames && ns is not null)
            {
                ToolNames.Check(name, param + ".name", "function");
            }
            if (tool["parameters"] is { } given && given is not JsonObject)
            {
                throw GatewayErrors.InvalidType(param + ".parameters", "an object", JsonKinds.Describe(given));
            }
            var parameters = tool["parameters"] is JsonObject p ? (JsonObject)p.DeepClone() : new JsonObject { ["properties"] = new JsonObject() };
            if (parameters["type"] is null)
            {
                parameters["type"] = "object"; // several providers (Anthropic behind proxies) require it
            }
            var function = new JsonObject { ["name"] = name };
            if (JsonText.Of(tool["description"]) is { } description)
            {
                function["description"] = description;
            }
            function["parameters"] = parameters;
            if (tool["strict"] is JsonValue strict && strict.TryGetValue<bool>(out var s))
            {
                function["strict"] = s;
            }
            chat = new JsonObject { ["type"] = "function", ["function"] = function };
        }
        var fn = (JsonObject)chat["function"]!;
        var ownName = (string)fn["name"]!;
        var chatName = ownName;
        if (ns is not null)
        {
            chatName = Flatten(ns, ownName, _byChatName.Keys.Concat(_plainNames).ToHashSet(StringComparer.Ordinal));
            fn["name"] = chatName;
            if (!string.IsNullOrEmpty(namespaceDescription))
            {
                // The model only sees flat names: the namespace's description is what groups them.
                var own = JsonText.Of(fn["description"]);
                fn["description"] = string.IsNullOrEmpty(own) ? $"[{ns}] {namespaceDescription}" : $"[{ns}] {own}";
            }
        }
        else if (_byChatName.TryGetValue(chatName, out var existing))
        {
            if (existing.Custom != custom && strictNames)
            {
                // Both would be one chat function: the answer could not tell which tool was meant.
                throw GatewayErrors.InvalidValue(param + ".name", $"'{chatName}' is the name of another tool; tool names must be unique.");
            }
            return; // the same plain tool twice (declared and hoisted, or repeated): offered once
        }
        _byChatName[chatName] = new ChatToolTarget(ownName, ns, custom);
        _byTarget[(ns, ownName)] = chatName;
        Tools.Add(chat);
    }

    private void AddDropped(string type)
    {
        if (!Dropped.Contains(type))
        {
            Dropped.Add(type);
        }
    }

    /// <summary>The tools carried by <c>additional_tools</c> and <c>tool_search_output</c> input items, in input order.</summary>
    private static IEnumerable<JsonObject> HoistedTools(JsonArray input) =>
        input.OfType<JsonObject>()
            .Where(item => JsonText.Of(item["type"]) is "additional_tools" or "tool_search_output")
            .SelectMany(item => (item["tools"] as JsonArray ?? []).OfType<JsonObject>());

    /// <summary>
    /// <c>ns__name</c> when that is a valid chat name not in <paramref name="taken"/>; else the valid characters cut to
    /// leave room for <c>_</c> and 8 hex digits of a hash of both names, so the same pair always gets the same name.
    /// </summary>
    internal static string Flatten(string ns, string name, HashSet<string>? taken)
    {
        var joined = ns + Separator + name;
        if (joined.Length <= MaxNameLength && joined.All(IsNameChar) && taken?.Contains(joined) != true)
        {
            return joined;
        }
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(ns + "\0" + name)))[..8];
        var safe = new string(joined.Select(c => IsNameChar(c) ? c : '_').ToArray());
        return safe[..Math.Min(safe.Length, MaxNameLength - 9)] + "_" + hash;
    }

    private static bool IsNameChar(char c) => char.IsAsciiLetterOrDigit(c) || c is '_' or '-';
}
