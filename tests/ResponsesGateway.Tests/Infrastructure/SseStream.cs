using System.Text;
using System.Text.Json.Nodes;

namespace ResponsesGateway.Tests.Infrastructure;

/// <summary>One SSE event as it came over the wire.</summary>
public sealed record SseEvent(string? EventName, string Data)
{
    public JsonObject Json => JsonNode.Parse(Data)!.AsObject();

    public string Type => (string)Json["type"]!;
}

/// <summary>A whole SSE body, parsed by hand from the raw text so that framing mistakes cannot hide behind a library.</summary>
public sealed class SseStream
{
    public SseStream(string raw)
    {
        Raw = raw;
        var events = new List<SseEvent>();
        var comments = 0;
        foreach (var block in raw.Replace("\r\n", "\n", StringComparison.Ordinal).Split("\n\n"))
        {
            if (block.Length == 0)
            {
                continue;
            }
            string? name = null;
            var data = new StringBuilder();
            foreach (var line in block.Split('\n'))
            {
                if (line.StartsWith(':'))
                {
                    comments++;
                }
                else if (line.StartsWith("event: ", StringComparison.Ordinal))
                {
                    name = line["event: ".Length..];
                }
                else if (line.StartsWith("data: ", StringComparison.Ordinal))
                {
                    data.Append(line["data: ".Length..]);
                }
                else
                {
                    throw new FormatException($"Unexpected SSE line: {line}");
                }
            }
            if (data.Length > 0)
            {
                events.Add(new SseEvent(name, data.ToString()));
            }
        }
        Events = events;
        Comments = comments;
    }

    public string Raw { get; }

    public IReadOnlyList<SseEvent> Events { get; }

    public int Comments { get; }

    public IReadOnlyList<string> Types => Events.Select(e => e.Type).ToList();

    public JsonObject Terminal => Events[^1].Json["response"]!.AsObject();
}
