using System.Text;

namespace ResponsesGateway.Upstreams.Chat;

/// <summary>
/// Splits a <c>&lt;think&gt;…&lt;/think&gt;</c> block at the start of the answer text into reasoning, as DeepSeek-R1
/// style models do when served without a reasoning parser (LiteLLM think_tag_parser). Tags may be split across chunks
/// ("&lt;thi" + "nk&gt;"), so a possible tag prefix is held back until the next chunk decides it. Only a block that
/// opens the answer counts: a "&lt;think&gt;" later in ordinary text is text.
/// </summary>
internal sealed class ThinkTagSplitter
{
    private const string Open = "<think>";
    private const string Close = "</think>";

    private readonly StringBuilder _held = new();
    private State _state = State.Start;

    private enum State
    {
        Start,
        Thinking,
        AfterThinking,
        Text,
    }

    /// <summary>Feeds one content delta; returns the pieces that are decided, in order.</summary>
    public List<(bool Reasoning, string Text)> Feed(string delta)
    {
        var pieces = new List<(bool, string)>();
        if (_state == State.Text)
        {
            // Past the think block nothing is held: the delta is text as it is, without a copy through the builder.
            Add(pieces, false, delta);
            return pieces;
        }
        _held.Append(delta);
        while (_held.Length > 0)
        {
            var held = _held.ToString();
            switch (_state)
            {
                case State.Start:
                    var trimmed = held.TrimStart();
                    if (trimmed.StartsWith(Open, StringComparison.Ordinal))
                    {
                        _held.Clear().Append(trimmed[Open.Length..]);
                        _state = State.Thinking;
                        continue;
                    }
                    if (Open.StartsWith(trimmed, StringComparison.Ordinal))
                    {
                        return pieces; // whitespace or "<thi…" so far: wait for more
                    }
                    _state = State.Text;
                    continue;
                case State.Thinking:
                    var close = held.IndexOf(Close, StringComparison.Ordinal);
                    if (close >= 0)
                    {
                        Add(pieces, true, held[..close]);
                        _held.Clear().Append(held[(close + Close.Length)..]);
                        _state = State.AfterThinking;
                        continue;
                    }
                    var keep = PartialSuffix(held, Close);
                    Add(pieces, true, held[..^keep]);
                    _held.Clear().Append(held[^keep..]);
                    return pieces;
                case State.AfterThinking:
                    // The blank lines models put after </think> are layout, not answer.
                    var answer = held.TrimStart();
                    if (answer.Length == 0)
                    {
                        _held.Clear();
                        return pieces;
                    }
                    _held.Clear().Append(answer);
                    _state = State.Text;
                    continue;
                default:
                    Add(pieces, false, held);
                    _held.Clear();
                    return pieces;
            }
        }
        return pieces;
    }

    /// <summary>At the end of the answer: held text goes out; an unclosed think block is reasoning.</summary>
    public List<(bool Reasoning, string Text)> Flush()
    {
        var pieces = new List<(bool, string)>();
        var held = _held.ToString();
        _held.Clear();
        Add(pieces, _state == State.Thinking, held);
        return pieces;
    }

    private static void Add(List<(bool, string)> pieces, bool reasoning, string text)
    {
        if (text.Length > 0)
        {
            pieces.Add((reasoning, text));
        }
    }

    /// <summary>Length of the longest suffix of <paramref name="text"/> that is a proper prefix of <paramref name="tag"/>.</summary>
    private static int PartialSuffix(string text, string tag)
    {
        for (var length = Math.Min(tag.Length - 1, text.Length); length > 0; length--)
        {
            if (text.EndsWith(tag[..length], StringComparison.Ordinal))
            {
                return length;
            }
        }
        return 0;
    }
}
