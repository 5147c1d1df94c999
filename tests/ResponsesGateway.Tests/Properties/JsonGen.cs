using System.Globalization;
using System.Text;
using FsCheck;
using FsCheck.Fluent;

namespace ResponsesGateway.Tests.Properties;

/// <summary>
/// Generators of create bodies that look like the real thing: objects keyed by the field names the validator knows,
/// values of every JSON kind (boundary numbers, escapes, ids) and items of every type, so that a good share of them
/// gets deep into validation instead of failing at the first byte.
/// </summary>
internal static class JsonGen
{
    private static readonly string[] Keys =
    [
        "model", "input", "instructions", "stream", "store", "background", "temperature", "top_p", "max_output_tokens", "top_logprobs",
        "metadata", "text", "format", "tools", "tool_choice", "include", "previous_response_id", "conversation", "reasoning",
        "stream_options", "type", "role", "content", "text", "call_id", "name", "arguments", "output", "id", "schema", "parameters",
        "strict", "function", "parallel_tool_calls", "max_tool_calls", "safety_identifier", "user", "x",
    ];

    private static readonly string[] Strings =
    [
        "mock-model", "", "user", "assistant", "system", "robot", "message", "function_call", "function_call_output", "item_reference",
        "input_text", "output_text", "json_schema", "json_object", "text", "auto", "none", "required", "function", "f", "f g",
        "resp_" + new string('a', 64), "resp_x", "\\ud800", "\\ud83d\\ude00", "\\u0000", "\\\"", "é", "\\n", new string('m', 300),
    ];

    private static readonly string[] Numbers =
    [
        "0", "-0", "1", "2", "16", "20", "21", "0.5", "1.5", "-1", "1e400", "-1e400", "1e-400", "2147483648", "9007199254740993", "1E2",
    ];

    private static readonly Gen<string> Scalar = Gen.OneOf(
        Gen.Elements("null", "true", "false"),
        Gen.Elements(Numbers),
        Gen.Elements(Strings).Select(s => "\"" + s + "\""));

    private static readonly Gen<string> Key = Gen.Frequency((9, Gen.Elements(Keys)), (1, Gen.Elements("\\u006dodel", "", "\\ud800", "Model")));

    /// <summary>A create body: usually with a valid model and input, plus random known and unknown fields.</summary>
    public static readonly Gen<string> Body =
        from model in Gen.Frequency((8, Gen.Constant("\"model\":\"mock-model\",")), (1, Gen.Constant("")), (1, Scalar.Select(s => "\"model\":" + s + ",")))
        from input in Gen.Frequency((4, Gen.Constant("\"input\":\"hi\"")), (4, Items.Select(a => "\"input\":" + a)), (1, Value(2).Select(v => "\"input\":" + v)))
        from fields in Gen.ListOf(Gen.Zip(Key, Value(3)).Select(kv => ",\"" + kv.Item1 + "\":" + kv.Item2)).Resize(4)
        select "{" + model + input + string.Concat(fields) + "}";

    private static Gen<string> Items =>
        Gen.ListOf(Item).Resize(4).Select(items => "[" + string.Join(",", items) + "]");

    private static Gen<string> Item => Gen.OneOf(
        Gen.Constant("{\"role\":\"user\",\"content\":\"hi\"}"),
        Gen.Constant("{\"type\":\"message\",\"role\":\"user\",\"content\":[{\"type\":\"input_text\",\"text\":\"x\"}]}"),
        Gen.Constant("{\"type\":\"function_call\",\"call_id\":\"c\",\"name\":\"f\",\"arguments\":\"{}\"}"),
        Gen.Constant("{\"type\":\"function_call_output\",\"call_id\":\"c\",\"output\":\"ok\"}"),
        Gen.Constant("{\"type\":\"item_reference\",\"id\":\"msg_1\"}"),
        Gen.Constant("{\"type\":\"zzz\"}"),
        Object(2));

    private static Gen<string> Value(int depth) => depth <= 0
        ? Scalar
        : Gen.Frequency(
            (5, Scalar),
            (2, Object(depth - 1)),
            (1, Gen.ListOf(Value(depth - 1)).Resize(3).Select(values => "[" + string.Join(",", values) + "]")));

    private static Gen<string> Object(int depth) =>
        Gen.ListOf(Gen.Zip(Key, Value(depth)).Select(kv => "\"" + kv.Item1 + "\":" + kv.Item2)).Resize(4)
            .Select(pairs => "{" + string.Join(",", pairs) + "}");

    /// <summary>Applies byte edits (position, value) to a body: flips, insertions, cuts.</summary>
    public static byte[] Mutate(string json, (int Position, int Value)[] edits)
    {
        var bytes = Encoding.UTF8.GetBytes(json).ToList();
        foreach (var (position, value) in edits.Take(4))
        {
            if (bytes.Count == 0)
            {
                break;
            }
            var at = position % bytes.Count;
            switch (value % 3)
            {
                case 0: bytes[at] = (byte)value; break;
                case 1: bytes.Insert(at, (byte)value); break;
                default: bytes.RemoveAt(at); break;
            }
        }
        return bytes.ToArray();
    }

    public static string Describe(byte[] bytes) => Encoding.UTF8.GetString(bytes).Replace("\n", "\\n", StringComparison.Ordinal) + " (" + bytes.Length.ToString(CultureInfo.InvariantCulture) + " bytes)";
}
