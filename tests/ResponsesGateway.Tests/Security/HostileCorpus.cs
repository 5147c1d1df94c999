using System.Text;

namespace ResponsesGateway.Tests.Security;

/// <summary>What the gateway must do with a hostile body.</summary>
public enum Expect
{
    /// <summary>A 4xx in the envelope, nothing upstream, nothing stored.</summary>
    Rejected,

    /// <summary>A 2xx: forwarded upstream and stored (unknown item and content types are passed through by design).</summary>
    Accepted,

    /// <summary>Either of the above, as long as it is never a 5xx.</summary>
    Either,
}

/// <summary>One request body of the corpus, with a name that says what it attacks.</summary>
public sealed record HostileBody(string Name, byte[] Body, Expect Expect, bool Chunked = false)
{
    public override string ToString() => Name;
}

/// <summary>
/// The hostile request bodies for <c>POST /v1/responses</c>: a fixed catalogue plus seeded random mutations, so every
/// run sends exactly the same bytes. Sizes assume a gateway with <see cref="BodyLimit"/> as its body limit.
/// </summary>
public static class HostileCorpus
{
    public const int Seed = 20260621;
    public const int BodyLimit = 256 * 1024;
    public const string Model = "mock-model";

    private const string Base = "\"model\":\"mock-model\",\"input\":\"hi\"";

    /// <summary>Known fields with the JSON kinds they accept ("s" string, "b" bool, "n" number, "o" object, "a" array).</summary>
    private static readonly (string Field, string Kinds)[] Fields =
    [
        ("model", "s"), ("input", "sa"), ("instructions", "s"), ("stream", "b"), ("store", "b"), ("background", "b"),
        ("parallel_tool_calls", "b"), ("temperature", "n"), ("top_p", "n"), ("max_output_tokens", "n"), ("max_tool_calls", "n"),
        ("top_logprobs", "n"), ("user", "s"), ("safety_identifier", "s"), ("prompt_cache_key", "s"), ("reasoning", "o"),
        ("stream_options", ""), ("previous_response_id", ""), ("metadata", "o"), ("text", "o"), ("tools", "a"),
        ("tool_choice", ""), ("include", "a"), ("conversation", ""), ("service_tier", "s"), ("truncation", ""), ("prompt", "o"),
        ("prompt_cache_retention", "s"),
    ];

    private static readonly (string Json, char Kind)[] WrongValues =
    [
        ("42", 'n'), ("-1.5", 'n'), ("\"x\"", 's'), ("true", 'b'), ("false", 'b'), ("[]", 'a'), ("[1,\"a\",null]", 'a'),
        ("{}", 'o'), ("{\"a\":{\"b\":[]}}", 'o'),
    ];

    private static readonly string[] NumericFields = ["temperature", "top_p", "max_output_tokens", "max_tool_calls", "top_logprobs"];

    /// <summary>Number literals and number-like text; the first group is invalid or out of range for every numeric field.</summary>
    private static readonly string[] BadNumbers =
    [
        "1e400", "-1e400", "1E+309", "123456789012345678901234567890", "-9223372036854775809", "NaN", "Infinity", "-Infinity",
        "0x10", "01", ".5", "1.", "+1", "1e", "--1", "\"1\"", "\"NaN\"", "1_000",
    ];

    private static readonly string[] EdgeNumbers = ["-0", "0.0", "1e-400", "-0.0e0", "2E-1", "1.0000000000000000000001", "20", "16"];

    private static readonly byte[][] InvalidUtf8 =
    [
        [0xC3, 0x28], [0xA0, 0xA1], [0xE2, 0x28, 0xA1], [0xE2, 0x82], [0xF0, 0x28, 0x8C, 0xBC], [0xF8, 0xA1, 0xA1, 0xA1, 0xA1],
        [0xFF], [0xC0, 0xAF], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80],
    ];

    /// <summary>Ids no store lookup may choke on, for <c>previous_response_id</c> (all rejected with a 4xx).</summary>
    public static readonly string[] BadIds =
    [
        "", " ", "resp_", "resp", "resp_" + new string('A', 64), "resp_" + new string('g', 64), "resp_" + new string('a', 63),
        "resp_" + new string('a', 65), "resp_" + new string('a', 64), new string('x', 257), new string('x', 100_000),
        "resp_../../etc/passwd", "resp_%00", "resp_\u0000", "resp_\u00fc", "' or PartitionKey ne '", "resp_a' or '1' eq '1",
        "resp_\r\nX-Injected: 1", "\ud83d\ude00", "resp_" + new string('a', 32) + "/" + new string('b', 31), "null", "{}",
        "msg_" + new string('a', 64), "resp_" + new string('a', 32) + "~0001",
    ];

    public static IReadOnlyList<HostileBody> Build()
    {
        var corpus = new List<HostileBody>();
        void Add(string name, string json, Expect expect) => corpus.Add(new HostileBody(name, Encoding.UTF8.GetBytes(json), expect));

        // Not JSON, not an object, truncated.
        foreach (var (name, json) in new[]
        {
            ("empty", ""), ("space", " "), ("null", "null"), ("array", "[]"), ("string", "\"x\""), ("number", "1"), ("true", "true"),
            ("truncated", "{" + Base), ("trailing comma", "{" + Base + ",}"), ("two objects", "{" + Base + "}{}"),
            ("trailing garbage", "{" + Base + "} x"), ("single quotes", "{'model':'mock-model','input':'hi'}"),
            ("comment", "{" + Base + " /* c */}"), ("unquoted key", "{model:\"mock-model\"}"), ("nul byte", "{" + Base + "}\0"),
            ("control char in string", "{\"model\":\"mock-model\",\"input\":\"a\u0001b\"}"), ("bad escape", "{\"model\":\"mock-model\",\"input\":\"\\x41\"}"),
            ("short unicode escape", "{\"model\":\"mock-model\",\"input\":\"\\u12\"}"), ("lone closer", "}"), ("just colon", ":"),
        })
        {
            Add("syntax: " + name, json, Expect.Rejected);
        }

        // Invalid UTF-8 in every kind of position.
        for (var i = 0; i < InvalidUtf8.Length; i++)
        {
            foreach (var (where, prefix, suffix) in new[]
            {
                ("model", "{\"model\":\"mock-", "\",\"input\":\"hi\"}"), ("input", "{\"model\":\"mock-model\",\"input\":\"h", "\"}"),
                ("key", "{" + Base + ",\"k", "\":1}"), ("unknown field", "{" + Base + ",\"x\":\"", "\"}"),
                ("between tokens", "{" + Base + ",", "\"x\":1}"),
            })
            {
                var bytes = Encoding.UTF8.GetBytes(prefix).Concat(InvalidUtf8[i]).Concat(Encoding.UTF8.GetBytes(suffix)).ToArray();
                corpus.Add(new HostileBody($"utf8 #{i} in {where}", bytes, Expect.Rejected));
            }
        }
        corpus.Add(new HostileBody("utf8 bom", [0xEF, 0xBB, 0xBF, .. Encoding.UTF8.GetBytes("{" + Base + "}")], Expect.Either));
        corpus.Add(new HostileBody("utf16 body", Encoding.Unicode.GetBytes("{" + Base + "}"), Expect.Rejected));
        Add("escaped lone surrogate", "{\"model\":\"mock-model\",\"input\":\"a\\ud800b\"}", Expect.Rejected);
        Add("escaped reversed surrogates", "{\"model\":\"mock-model\",\"input\":\"\\udc00\\ud800\"}", Expect.Rejected);
        Add("escaped nul", "{\"model\":\"mock-model\",\"input\":\"a\\u0000b\"}", Expect.Either);
        Add("escaped lone surrogate in key", "{" + Base + ",\"\\ud800\":1}", Expect.Rejected);
        Add("escaped surrogate pair", "{\"model\":\"mock-model\",\"input\":\"\\ud83d\\ude00\"}", Expect.Accepted);

        // Nesting.
        foreach (var depth in new[] { 10_000, 1_000, 65, 64 })
        {
            Add($"nesting {depth} arrays in unknown field", "{" + Base + ",\"x\":" + new string('[', depth) + new string(']', depth) + "}", Expect.Rejected);
            Add($"nesting {depth} objects in unknown field", "{" + Base + ",\"x\":" + Repeat("{\"a\":", depth) + "1" + new string('}', depth) + "}", Expect.Rejected);
            Add($"nesting {depth} in input", "{\"model\":\"mock-model\",\"input\":" + new string('[', depth) + new string(']', depth) + "}", Expect.Rejected);
        }
        Add("nesting 10000 unclosed", "{" + Base + ",\"x\":" + new string('[', 10_000), Expect.Rejected);
        Add("nesting 60 in metadata value", "{" + Base + ",\"metadata\":{\"k\":" + new string('[', 60) + new string(']', 60) + "}}", Expect.Rejected);
        Add("nesting 60 in unknown field", "{" + Base + ",\"x\":" + new string('[', 60) + new string(']', 60) + "}", Expect.Accepted);
        Add("nesting 60 in tool parameters", "{" + Base + ",\"tools\":[{\"type\":\"function\",\"name\":\"f\",\"parameters\":" + Repeat("{\"a\":", 56) + "1" + new string('}', 56) + "}]}", Expect.Either);

        // Duplicate keys, at every level.
        Add("duplicate model", "{\"model\":\"mock-model\",\"model\":\"mock-model\",\"input\":\"hi\"}", Expect.Rejected);
        Add("duplicate input", "{" + Base + ",\"input\":\"again\"}", Expect.Rejected);
        Add("duplicate via escape", "{" + Base + ",\"\\u006dodel\":\"x\"}", Expect.Rejected);
        Add("duplicate in message", "{\"model\":\"mock-model\",\"input\":[{\"role\":\"user\",\"role\":\"system\",\"content\":\"x\"}]}", Expect.Rejected);
        Add("duplicate in content part", "{\"model\":\"mock-model\",\"input\":[{\"role\":\"user\",\"content\":[{\"type\":\"input_text\",\"text\":\"a\",\"text\":\"b\"}]}]}", Expect.Rejected);
        Add("duplicate in metadata", "{" + Base + ",\"metadata\":{\"a\":\"1\",\"a\":\"2\"}}", Expect.Rejected);
        Add("duplicate in tool", "{" + Base + ",\"tools\":[{\"type\":\"function\",\"name\":\"f\",\"name\":\"g\"}]}", Expect.Rejected);
        Add("duplicate in unknown field", "{" + Base + ",\"x\":{\"a\":1,\"a\":2}}", Expect.Rejected);
        Add("duplicate deep in unknown field", "{" + Base + ",\"x\":[[{\"y\":{\"a\":1,\"a\":2}}]]}", Expect.Rejected);
        Add("duplicate in reasoning", "{" + Base + ",\"reasoning\":{\"effort\":\"low\",\"effort\":\"high\"}}", Expect.Rejected);
        Add("keys differing in case", "{" + Base + ",\"Model\":\"other\",\"INPUT\":1}", Expect.Accepted);

        // Wrong types in every known field.
        foreach (var (field, kinds) in Fields)
        {
            foreach (var (json, kind) in WrongValues)
            {
                if (kinds.Contains(kind))
                {
                    continue;
                }
                var body = field is "model" or "input"
                    ? "{" + Base.Replace($"\"{field}\":", $"\"{field}\":{json},\"_was\":", StringComparison.Ordinal) + "}"
                    : "{" + Base + $",\"{field}\":{json}" + "}";
                Add($"type: {field}={json}", body, Expect.Rejected);
            }
        }
        Add("type: model missing", "{\"input\":\"hi\"}", Expect.Rejected);
        Add("type: model null", "{\"model\":null,\"input\":\"hi\"}", Expect.Rejected);
        Add("type: model empty", "{\"model\":\"\",\"input\":\"hi\"}", Expect.Rejected);

        // Numbers out of range or not numbers.
        foreach (var field in NumericFields)
        {
            foreach (var number in BadNumbers)
            {
                Add($"number: {field}={number}", "{" + Base + $",\"{field}\":{number}" + "}", Expect.Rejected);
            }
            foreach (var number in EdgeNumbers)
            {
                Add($"number edge: {field}={number}", "{" + Base + $",\"{field}\":{number}" + "}", Expect.Either);
            }
        }
        Add("number: unknown field 1e400", "{" + Base + ",\"x\":1e400}", Expect.Either);
        Add("number: metadata value 1e400", "{" + Base + ",\"metadata\":{\"k\":1e400}}", Expect.Rejected);

        // Bad ids in every id field.
        foreach (var id in BadIds)
        {
            var quoted = JsonString(id);
            Add($"id: previous_response_id={Short(id)}", "{" + Base + ",\"previous_response_id\":" + quoted + "}", Expect.Rejected);
            Add($"id: message id={Short(id)}", "{\"model\":\"mock-model\",\"input\":[{\"type\":\"message\",\"id\":" + quoted + ",\"role\":\"user\",\"content\":\"x\"}]}", Expect.Either);
            Add($"id: item_reference={Short(id)}", "{\"model\":\"mock-model\",\"input\":[{\"type\":\"item_reference\",\"id\":" + quoted + "}]}", Expect.Either);
            Add($"id: call_id={Short(id)}", "{\"model\":\"mock-model\",\"input\":[{\"type\":\"function_call\",\"call_id\":" + quoted + ",\"name\":\"f\",\"arguments\":\"{}\"},"
                + "{\"type\":\"function_call_output\",\"call_id\":" + quoted + ",\"output\":\"ok\"}]}", Expect.Either);
        }
        foreach (var json in new[] { "42", "[]", "{}", "true" })
        {
            Add($"id: previous_response_id type {json}", "{" + Base + ",\"previous_response_id\":" + json + "}", Expect.Rejected);
            Add($"id: call_id type {json}", "{\"model\":\"mock-model\",\"input\":[{\"type\":\"function_call_output\",\"call_id\":" + json + ",\"output\":\"ok\"}]}", Expect.Rejected);
            Add($"id: item_reference type {json}", "{\"model\":\"mock-model\",\"input\":[{\"type\":\"item_reference\",\"id\":" + json + "}]}", Expect.Rejected);
        }

        // Items and content parts: wrong shapes are rejected, unknown types pass through.
        foreach (var item in new[]
        {
            "42", "null", "\"x\"", "[]", "{}", "{\"type\":42}", "{\"type\":null,\"content\":\"x\"}", "{\"role\":42,\"content\":\"x\"}",
            "{\"role\":\"root\",\"content\":\"x\"}", "{\"role\":\"user\"}", "{\"role\":\"user\",\"content\":42}", "{\"role\":\"user\",\"content\":[42]}",
            "{\"role\":\"user\",\"content\":[{}]}", "{\"role\":\"user\",\"content\":[{\"type\":42}]}", "{\"role\":\"user\",\"content\":[{\"type\":\"input_text\"}]}",
            "{\"role\":\"user\",\"content\":[{\"type\":\"input_text\",\"text\":42}]}", "{\"role\":\"user\",\"content\":{\"type\":\"input_text\",\"text\":\"x\"}}",
            "{\"type\":\"function_call\",\"call_id\":\"c\",\"name\":42,\"arguments\":\"{}\"}", "{\"type\":\"function_call\",\"call_id\":\"c\",\"name\":\"f\",\"arguments\":{}}",
            "{\"type\":\"function_call\",\"call_id\":\"c\",\"name\":\"f\"}", "{\"type\":\"function_call_output\",\"call_id\":\"c\"}",
            "{\"type\":\"function_call_output\",\"call_id\":\"c\",\"output\":42}", "{\"type\":\"function_call_output\",\"call_id\":\"c\",\"output\":{}}",
            "{\"type\":\"item_reference\"}",
        })
        {
            Add($"item: {item}", "{\"model\":\"mock-model\",\"input\":[" + item + "]}", Expect.Rejected);
        }
        foreach (var item in new[]
        {
            "{\"type\":\"tool_search_call\",\"id\":\"ts_1\",\"arguments\":{}}", "{\"type\":\"tool_search_output\",\"call_id\":\"ts_1\",\"tools\":[]}",
            "{\"type\":\"compaction_trigger\"}", "{\"type\":\"program\",\"code\":42}", "{\"type\":\"\\ud83d\\ude00\"}", "{\"type\":\"\"}",
            "{\"type\":\"" + new string('z', 5000) + "\"}", "{\"type\":\"reasoning\",\"id\":\"rs_1\",\"summary\":[]}",
            "{\"type\":\"local_shell_call\",\"id\":\"x\",\"action\":{\"type\":\"exec\",\"command\":[\"rm\",\"-rf\",\"/\"]}}",
            "{\"type\":\"custom_tool_call\",\"call_id\":\"c\",\"name\":\"n\",\"input\":\"i\"}", "{\"type\":\"zzz\",\"content\":[{\"type\":\"zzz\"}]}",
            "{\"type\":\"message\",\"role\":\"user\",\"content\":[{\"type\":\"input_audio\",\"input_audio\":{\"data\":\"AAAA\",\"format\":\"wav\"}}]}",
            "{\"type\":\"message\",\"role\":\"user\",\"content\":[{\"type\":\"zzz\",\"text\":42}]}",
            "{\"type\":\"message\",\"role\":\"user\",\"content\":[{\"type\":\"input_image\",\"image_url\":\"javascript:alert(1)\"}]}",
            "{\"role\":\"user\",\"content\":[{\"type\":\"input_file\",\"file_data\":\"not base64!\"}]}",
        })
        {
            Add($"unknown type: {Short(item)}", "{\"model\":\"mock-model\",\"input\":[{\"role\":\"user\",\"content\":\"hi\"}," + item + "]}", Expect.Accepted);
        }

        // Tools, text, tool_choice, include, metadata: shapes the validator checks.
        foreach (var (name, json) in new[]
        {
            ("tools[0]=42", "\"tools\":[42]"), ("function without name", "\"tools\":[{\"type\":\"function\"}]"),
            ("function name with spaces", "\"tools\":[{\"type\":\"function\",\"name\":\"rm -rf\"}]"),
            ("function name 65 chars", "\"tools\":[{\"type\":\"function\",\"name\":\"" + new string('f', 65) + "\"}]"),
            ("function parameters string", "\"tools\":[{\"type\":\"function\",\"name\":\"f\",\"parameters\":\"x\"}]"),
            ("function strict string", "\"tools\":[{\"type\":\"function\",\"name\":\"f\",\"strict\":\"yes\"}]"),
            ("function description number", "\"tools\":[{\"type\":\"function\",\"name\":\"f\",\"description\":42}]"),
            ("nested function name number", "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":42}}]"),
            ("tool type number", "\"tools\":[{\"type\":42}]"), ("text.format number", "\"text\":{\"format\":42}"),
            ("text.format.type number", "\"text\":{\"format\":{\"type\":42}}"), ("text.format.type xml", "\"text\":{\"format\":{\"type\":\"xml\"}}"),
            ("json_schema without schema", "\"text\":{\"format\":{\"type\":\"json_schema\",\"name\":\"s\"}}"),
            ("json_schema schema number", "\"text\":{\"format\":{\"type\":\"json_schema\",\"name\":\"s\",\"schema\":42}}"),
            ("tool_choice function without name", "\"tool_choice\":{\"type\":\"function\"}"), ("tool_choice object without type", "\"tool_choice\":{}"),
            ("tool_choice bogus", "\"tool_choice\":\"always\""), ("include [42]", "\"include\":[42]"),
            ("metadata 10000 keys", "\"metadata\":{" + string.Join(",", Enumerable.Range(0, 10_000).Select(i => $"\"k{i}\":\"v\"")) + "}"),
            ("metadata key 65 chars", "\"metadata\":{\"" + new string('k', 65) + "\":\"v\"}"),
            ("metadata value 513 chars", "\"metadata\":{\"k\":\"" + new string('v', 513) + "\"}"), ("metadata value null", "\"metadata\":{\"k\":null}"),
            ("safety_identifier 129 chars", "\"safety_identifier\":\"" + new string('s', 129) + "\""),
            ("truncation bogus", "\"truncation\":\"sometimes\""),
            ("background without store", "\"background\":true,\"store\":false"), ("conversation string", "\"conversation\":\"conv_1\""),
            ("stream_options without stream", "\"stream_options\":{}"),
        })
        {
            Add("shape: " + name, "{" + Base + "," + json + "}", Expect.Rejected);
        }

        Add("safety_identifier 128 chars", "{" + Base + ",\"safety_identifier\":\"" + new string('s', 128) + "\"}", Expect.Accepted);
        Add("prompt reference", "{" + Base + ",\"prompt\":{\"id\":\"pmpt_1\",\"variables\":{\"a\":\"b\"}}}", Expect.Accepted);

        // Size: bounded by the gateway's BodyLimit, so the big ones are 413s that never reach the parser.
        Add("huge input string", "{\"model\":\"mock-model\",\"input\":\"" + new string('x', BodyLimit) + "\"}", Expect.Rejected);
        Add("huge key", "{" + Base + ",\"" + new string('k', BodyLimit) + "\":1}", Expect.Rejected);
        Add("huge array of numbers", "{" + Base + ",\"x\":[" + string.Join(",", Enumerable.Repeat("1", BodyLimit / 2)) + "]}", Expect.Rejected);
        Add("huge whitespace", "{" + Base + new string(' ', BodyLimit) + "}", Expect.Rejected);
        corpus.Add(new HostileBody("huge chunked body", Encoding.UTF8.GetBytes("{" + Base + ",\"x\":\"" + new string('x', BodyLimit) + "\"}"), Expect.Rejected, Chunked: true));
        Add("big input string under the limit", "{\"model\":\"mock-model\",\"input\":\"" + new string('x', BodyLimit / 4) + "\"}", Expect.Accepted);
        Add("many small strings as input", "{\"model\":\"mock-model\",\"input\":[" + string.Join(",", Enumerable.Repeat("\"x\"", 20_000)) + "]}", Expect.Rejected);
        Add("many messages", "{\"model\":\"mock-model\",\"input\":[" + string.Join(",", Enumerable.Repeat("{\"role\":\"user\",\"content\":\"x\"}", 2_000)) + "]}", Expect.Accepted);
        Add("many tools", "{" + Base + ",\"tools\":[" + string.Join(",", Enumerable.Range(0, 2_000).Select(i => $"{{\"type\":\"function\",\"name\":\"f{i}\"}}")) + "]}", Expect.Accepted);
        Add("many include entries", "{" + Base + ",\"include\":[" + string.Join(",", Enumerable.Repeat("\"x\"", 10_000)) + "]}", Expect.Either);
        Add("big model name", "{\"model\":\"" + new string('m', BodyLimit / 4) + "\",\"input\":\"hi\"}", Expect.Rejected);
        Add("model name of 257 characters", "{\"model\":\"" + new string('m', 257) + "\",\"input\":\"hi\"}", Expect.Rejected);
        Add("big previous_response_id", "{" + Base + ",\"previous_response_id\":\"" + new string('a', BodyLimit / 4) + "\"}", Expect.Rejected);
        corpus.Add(new HostileBody("small chunked body", Encoding.UTF8.GetBytes("{" + Base + ",\"x\":1}"), Expect.Accepted, Chunked: true));

        // Seeded random mutations of valid bodies: byte flips, cuts, splices. Anything goes except a 5xx.
        var random = new Random(Seed);
        string[] seeds =
        [
            "{" + Base + "}",
            "{\"model\":\"mock-model\",\"input\":[{\"role\":\"user\",\"content\":[{\"type\":\"input_text\",\"text\":\"hi\"}]}],\"temperature\":0.5,\"metadata\":{\"a\":\"b\"}}",
            "{\"model\":\"mock-model\",\"input\":[{\"type\":\"function_call\",\"call_id\":\"c1\",\"name\":\"f\",\"arguments\":\"{}\"},{\"type\":\"function_call_output\",\"call_id\":\"c1\",\"output\":\"ok\"}],\"tools\":[{\"type\":\"function\",\"name\":\"f\",\"parameters\":{\"type\":\"object\"}}],\"tool_choice\":\"auto\"}",
            "{\"model\":\"mock-model\",\"input\":\"hi\",\"text\":{\"format\":{\"type\":\"json_schema\",\"name\":\"s\",\"schema\":{\"type\":\"object\"}}},\"max_output_tokens\":64,\"include\":[\"reasoning.encrypted_content\"]}",
        ];
        byte[] interesting = "{}[]\":,\\0-eE.+ntfu\u00ff"u8.ToArray();
        for (var i = 0; i < 240; i++)
        {
            var bytes = Encoding.UTF8.GetBytes(seeds[random.Next(seeds.Length)]).ToList();
            var edits = 1 + random.Next(4);
            for (var e = 0; e < edits && bytes.Count > 0; e++)
            {
                var at = random.Next(bytes.Count);
                switch (random.Next(5))
                {
                    case 0: bytes[at] = (byte)random.Next(256); break;
                    case 1: bytes[at] = interesting[random.Next(interesting.Length)]; break;
                    case 2: bytes.RemoveAt(at); break;
                    case 3: bytes.Insert(at, interesting[random.Next(interesting.Length)]); break;
                    default: bytes.RemoveRange(at, bytes.Count - at); break;
                }
            }
            corpus.Add(new HostileBody($"mutation #{i}", bytes.ToArray(), Expect.Either));
        }
        return corpus;
    }

    private static string Repeat(string value, int count) => string.Concat(Enumerable.Repeat(value, count));

    private static string JsonString(string value) => System.Text.Json.Nodes.JsonValue.Create(value).ToJsonString();

    private static string Short(string value) => value.Length <= 40 ? value : value[..40] + $"…({value.Length})";
}
