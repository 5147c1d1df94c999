using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace ResponsesGateway.MockUpstream.Tests;

internal sealed record SseEvent(string? Event, string Data)
{
    public JsonElement Json => JsonDocument.Parse(Data).RootElement;

    public string? Type => Json.TryGetProperty("type", out var t) ? t.GetString() : null;
}

internal static class TestHelpers
{
    public static async Task<MockUpstreamServer> StartAsync(MockUpstreamOptions? options = null) =>
        await MockUpstreamServer.StartAsync(options);

    /// <summary>
    /// A client that does not drain unread response bodies on dispose (SocketsHttpHandler would otherwise read up to
    /// 1 MB / 2 s of the rest of a stream to reuse the connection, and the mock would never see the client go away).
    /// </summary>
    public static HttpClient Client(MockUpstreamServer server) =>
        new(new SocketsHttpHandler { MaxResponseDrainSize = 0, ResponseDrainTimeout = TimeSpan.Zero })
        {
            BaseAddress = new Uri(server.BaseUrl + "/"),
            Timeout = TimeSpan.FromSeconds(30),
        };

    public static HttpRequestMessage Post(string path, string json, string? behavior = null, string? apiKey = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        if (behavior is not null)
        {
            request.Headers.Add("x-mock-behavior", behavior);
        }

        if (apiKey is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        }

        return request;
    }

    public static async Task<(HttpResponseMessage Response, JsonElement Body)> PostJsonAsync(HttpClient client, string path, string json, string? behavior = null)
    {
        var response = await client.SendAsync(Post(path, json, behavior));
        var text = await response.Content.ReadAsStringAsync();
        return (response, JsonDocument.Parse(text).RootElement);
    }

    /// <summary>Reads the whole SSE body; also returns the raw text.</summary>
    public static async Task<(HttpResponseMessage Response, List<SseEvent> Events, string Raw)> PostSseAsync(HttpClient client, string path, string json, string? behavior = null)
    {
        var response = await client.SendAsync(Post(path, json, behavior), HttpCompletionOption.ResponseHeadersRead);
        var raw = await response.Content.ReadAsStringAsync();
        return (response, ParseSse(raw), raw);
    }

    public static List<SseEvent> ParseSse(string raw)
    {
        var events = new List<SseEvent>();
        foreach (var block in raw.Split("\n\n", StringSplitOptions.RemoveEmptyEntries))
        {
            string? ev = null;
            var data = new StringBuilder();
            foreach (var line in block.Split('\n'))
            {
                if (line.StartsWith("event: ", StringComparison.Ordinal))
                {
                    ev = line["event: ".Length..];
                }
                else if (line.StartsWith("data: ", StringComparison.Ordinal))
                {
                    data.Append(line["data: ".Length..]);
                }
            }

            events.Add(new SseEvent(ev, data.ToString()));
        }

        return events;
    }

    /// <summary>Reads events one by one from a live stream.</summary>
    public static async Task<SseEvent?> ReadEventAsync(StreamReader reader)
    {
        string? ev = null;
        var data = new StringBuilder();
        while (await reader.ReadLineAsync() is { } line)
        {
            if (line.Length == 0)
            {
                if (data.Length > 0 || ev is not null)
                {
                    return new SseEvent(ev, data.ToString());
                }

                continue;
            }

            if (line.StartsWith("event: ", StringComparison.Ordinal))
            {
                ev = line["event: ".Length..];
            }
            else if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                data.Append(line["data: ".Length..]);
            }
        }

        return null;
    }

    public static string ResponsesBody(string model = "gpt-test", bool stream = false, string input = "\"Hello there\"", string extra = "") =>
        $$"""{"model":"{{model}}","input":{{input}},"stream":{{(stream ? "true" : "false")}}{{extra}}}""";

    public static string ChatBody(string model = "gpt-test", bool stream = false, bool includeUsage = false, string extra = "") =>
        $$"""{"model":"{{model}}","messages":[{"role":"system","content":"be brief"},{"role":"user","content":"Hello there"}],"stream":{{(stream ? "true" : "false")}}{{(includeUsage ? ",\"stream_options\":{\"include_usage\":true}" : "")}}{{extra}}}""";

    public static List<string> Types(IEnumerable<SseEvent> events) => events.Select(e => e.Type ?? "<none>").ToList();

    public static void AssertDenseSequence(IReadOnlyList<SseEvent> events)
    {
        for (var i = 0; i < events.Count; i++)
        {
            var json = events[i].Json;
            Assert.Equal(i, json.GetProperty("sequence_number").GetInt32());
            Assert.Equal(events[i].Event, json.GetProperty("type").GetString());
        }
    }

    /// <summary>Chat chunks: the data payloads before [DONE], parsed.</summary>
    public static List<JsonElement> ChatChunks(IEnumerable<SseEvent> events) =>
        events.TakeWhile(e => e.Data != "[DONE]").Select(e => e.Json).ToList();

    public static string ChatContent(IEnumerable<JsonElement> chunks, string field = "content") =>
        string.Concat(chunks
            .Where(c => c.GetProperty("choices").GetArrayLength() > 0)
            .Select(c => c.GetProperty("choices")[0].GetProperty("delta"))
            .Where(d => d.TryGetProperty(field, out var v) && v.ValueKind == JsonValueKind.String)
            .Select(d => d.GetProperty(field).GetString()));
}
