using System.Text.Json.Nodes;

namespace ResponsesGateway.Upstreams.Chat.Tests.Infrastructure;

/// <summary>Reads the files under <c>Fixtures/</c> and summarizes streams the way the <c>.events</c> files are written.</summary>
internal static class Fixtures
{
    public static string Read(string name) => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", name));

    public static JsonObject ReadJson(string name) => JsonNode.Parse(Read(name))!.AsObject();

    /// <summary>The expected event lines of a <c>.events</c> file.</summary>
    public static List<string> ExpectedEvents(string name) =>
        Read(name).Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0).ToList();

    /// <summary>One line per event: type, then <c>@output_index</c>, then the item type for output_item events.</summary>
    public static List<string> Summarize(IEnumerable<JsonObject> events) => events.Select(e =>
    {
        var line = (string)e["type"]!;
        if (e["output_index"] is { } index)
        {
            line += " @" + (int)index;
        }
        if (e["item"] is JsonObject item)
        {
            line += " " + (string?)item["type"];
        }
        return line;
    }).ToList();
}
