namespace ResponsesGateway.Upstreams.Chat.Tests;

public sealed class ThinkTagSplitterTests
{
    [Theory]
    [InlineData(new[] { "<think>a</think>b" }, "R:a|T:b")]
    [InlineData(new[] { "<", "t", "h", "i", "n", "k", ">", "x", "<", "/", "think", ">", "\n", "y" }, "R:x|T:y")]
    [InlineData(new[] { "  <think>\nplan\n</think>\n\nanswer" }, "R:\nplan\n|T:answer")]
    [InlineData(new[] { "Hello <think>not reasoning</think>" }, "T:Hello <think>not reasoning</think>")]
    [InlineData(new[] { "<thinking about it" }, "T:<thinking about it")]
    [InlineData(new[] { "<think>never closed", " at all" }, "R:never closed|R: at all")]
    [InlineData(new[] { "<thi" }, "T:<thi")]
    [InlineData(new[] { "<think>a</th", "e end" }, "R:a|R:</the end")]
    public void Feed_SplitsOnlyALeadingThinkBlock(string[] chunks, string expected)
    {
        var splitter = new ThinkTagSplitter();
        var pieces = chunks.SelectMany(splitter.Feed).ToList();
        pieces.AddRange(splitter.Flush());
        Assert.Equal(expected, string.Join("|", pieces.Select(p => (p.Reasoning ? "R:" : "T:") + p.Text)));
    }
}
