using System.Text;
using System.Text.Json.Nodes;
using FsCheck;
using FsCheck.Fluent;
using ResponsesGateway.TestSupport;
using ResponsesGateway.Upstreams.Chat.Tests.Infrastructure;

namespace ResponsesGateway.Upstreams.Chat.Tests;

/// <summary>
/// Property: whatever way a chat upstream cuts its answer into chunks (text, reasoning, several tool calls whose
/// argument fragments interleave, usage or not, [DONE] or not, any finish reason), the stream the gateway emits is
/// well formed and carries exactly the text, reasoning and calls the upstream sent.
/// </summary>
public sealed class TranslatorProperties
{
    private static readonly Config Runs = Config.QuickThrowOnFailure.WithMaxTest(300).WithQuietOnSuccess(true);

    private const string StreamRequest = """{"model":"m","input":"hi","stream":true}""";

    [Fact]
    public void AnyChunking_GivesAWellFormedStreamWithTheSameContent()
    {
        Check.One(Runs, Prop.ForAll(Answers.ToArbitrary(), answer =>
        {
            var gateway = new ChatGateway(FakeChatServer.Sse(answer.Transcript()));
            var events = gateway.StreamAsync(StreamRequest).GetAwaiter().GetResult();
            EventSequenceChecker.Check(events);

            var terminal = events[^1];
            var output = terminal["response"]!["output"]!.AsArray();
            var text = string.Concat(output.Where(i => (string?)i!["type"] == "message")
                .SelectMany(i => i!["content"]!.AsArray()).Select(p => (string?)p!["text"]));
            var reasoning = string.Concat(output.Where(i => (string?)i!["type"] == "reasoning")
                .SelectMany(i => i!["content"]?.AsArray() ?? []).Select(p => (string?)p!["text"]));
            // Items come in arrival order (the first fragment of call 1 may come before call 0's); match them by call_id.
            var calls = output.Where(i => (string?)i!["type"] == "function_call")
                .OrderBy(i => (string)i!["call_id"]!, StringComparer.Ordinal)
                .Select(i => ((string)i!["name"]!, (string)i!["arguments"]!)).ToList();

            Assert.Equal(answer.Text, text);
            Assert.Equal(answer.Reasoning, reasoning);
            Assert.Equal(answer.Calls.Select(c => (c.Name, c.Arguments)), calls);
            var expectedTerminal = answer.Finish is "length" or "content_filter" ? "response.incomplete" : "response.completed";
            Assert.Equal(expectedTerminal, (string?)terminal["type"]);
            if (answer.Usage)
            {
                Assert.Equal(7L, terminal["response"]!["usage"]!["output_tokens"]!.GetValue<long>());
            }
            return true;
        }));
    }

    private static readonly Gen<string> Word = Gen.Elements("a", "bc", " de", "f g", "é", "😀", "\"q\"", "\\", "\n", "{", "}", "<", ">");

    private static readonly Gen<string> Phrase = Gen.ListOf(Word).Select(words => string.Concat(words));

    private static readonly Gen<ToolCall> Call =
        Gen.Zip(Gen.Elements("get_weather", "lookup", "f"), Gen.Elements("{}", "{\"location\":\"Paris\"}", "{\"a\":[1,2,{\"b\":\"c d\"}]}", "{\"s\":\"x\\\"y\"}"))
            .Select(t => new ToolCall(t.Item1, t.Item2));

    private static readonly Gen<Answer> Answers =
        from reasoning in Gen.Frequency((2, Gen.Constant("")), (1, Phrase))
        from text in Gen.Frequency((1, Gen.Constant("")), (3, Phrase))
        from calls in Gen.Choose(0, 3).SelectMany(n => Gen.ListOf(Call, n))
        from finish in Gen.Elements<string?>("stop", "length", "tool_calls", "content_filter", null)
        from usage in Gen.Elements(true, false)
        from done in Gen.Elements(true, false)
        from seed in Gen.Choose(0, int.MaxValue)
        select new Answer(reasoning, text, calls.ToList(), finish, usage, done, seed);

    public sealed record ToolCall(string Name, string Arguments);

    public sealed record Answer(string Reasoning, string Text, List<ToolCall> Calls, string? Finish, bool Usage, bool Done, int Seed)
    {
        /// <summary>The chat SSE transcript: reasoning, then text, then the calls with their fragments interleaved at random.</summary>
        public string Transcript()
        {
            var random = new Random(Seed);
            var chunks = new List<JsonObject> { Delta(new JsonObject { ["role"] = "assistant", ["content"] = "" }) };
            foreach (var piece in Cut(Reasoning, random))
            {
                chunks.Add(Delta(new JsonObject { ["reasoning_content"] = piece }));
            }
            foreach (var piece in Cut(Text, random))
            {
                chunks.Add(Delta(new JsonObject { ["content"] = piece }));
            }
            // Each call: a first delta with id and name, then its argument fragments, all interleaved between calls.
            var pending = Calls.Select((call, index) => new Queue<JsonObject>(
                new[] { ToolDelta(index, $"call_{index}", call.Name, "") }
                    .Concat(Cut(call.Arguments, random).Select(fragment => ToolDelta(index, null, null, fragment))))).ToList();
            while (pending.Any(q => q.Count > 0))
            {
                var open = pending.Where(q => q.Count > 0).ToList();
                chunks.Add(Delta(new JsonObject { ["tool_calls"] = new JsonArray(open[random.Next(open.Count)].Dequeue()) }));
            }
            chunks.Add(Chunk(new JsonObject(), Finish));
            if (Usage)
            {
                chunks.Add(new JsonObject
                {
                    ["id"] = "c", ["object"] = "chat.completion.chunk", ["created"] = 1, ["model"] = "m", ["choices"] = new JsonArray(),
                    ["usage"] = new JsonObject { ["prompt_tokens"] = 5, ["completion_tokens"] = 7, ["total_tokens"] = 12 },
                });
            }
            var sse = new StringBuilder();
            foreach (var chunk in chunks)
            {
                sse.Append("data: ").Append(chunk.ToJsonString()).Append("\n\n");
            }
            if (Done)
            {
                sse.Append("data: [DONE]\n\n");
            }
            return sse.ToString();
        }

        private static IEnumerable<string> Cut(string text, Random random)
        {
            for (var at = 0; at < text.Length;)
            {
                var length = Math.Min(text.Length - at, 1 + random.Next(6));
                // Never split a surrogate pair: a real upstream sends whole characters in JSON strings.
                if (char.IsHighSurrogate(text[at + length - 1]) && at + length < text.Length)
                {
                    length++;
                }
                yield return text.Substring(at, length);
                at += length;
            }
        }

        private static JsonObject ToolDelta(int index, string? id, string? name, string arguments)
        {
            var delta = new JsonObject { ["index"] = index };
            if (id is not null)
            {
                delta["id"] = id;
                delta["type"] = "function";
            }
            var function = new JsonObject { ["arguments"] = arguments };
            if (name is not null)
            {
                function["name"] = name;
            }
            delta["function"] = function;
            return delta;
        }

        private static JsonObject Delta(JsonObject delta) => Chunk(delta, null);

        private static JsonObject Chunk(JsonObject delta, string? finish) => new()
        {
            ["id"] = "c", ["object"] = "chat.completion.chunk", ["created"] = 1, ["model"] = "m",
            ["choices"] = new JsonArray(new JsonObject { ["index"] = 0, ["delta"] = delta, ["finish_reason"] = finish }),
        };
    }
}
