using Ingest.Transports.Events;
using Ingest.Transports.Proc;

namespace Ingest.Transports.Tests.Proc;

public class LinesParserTests
{
    [Fact]
    public void Writes_every_line_as_text()
    {
        var truncated = new CounterSet()["lines_truncated"];
        var e = ParserHarness.Parse(new LinesParser(100, 1000, truncated), "a b\n\nlast without newline");

        Assert.Equal(new List<object?> { "a b", string.Empty, "last without newline" }, e.Data["lines"]);
        Assert.Equal(0, truncated.Value);
    }

    [Fact]
    public void Caps_the_line_count_and_counts_the_truncation()
    {
        var truncated = new CounterSet()["lines_truncated"];
        var e = ParserHarness.Parse(new LinesParser(2, 1000, truncated), "1\n2\n3\n4\n");

        Assert.Equal(new List<object?> { "1", "2" }, e.Data["lines"]);
        Assert.Equal(1, truncated.Value);
    }

    [Fact]
    public void Caps_the_bytes_and_counts_the_truncation()
    {
        var truncated = new CounterSet()["lines_truncated"];
        var e = ParserHarness.Parse(new LinesParser(100, 10, truncated), "12345\n67890\nabc\n");

        Assert.Equal(new List<object?> { "12345", "67890" }, e.Data["lines"]);
        Assert.Equal(1, truncated.Value);
    }

    [Fact]
    public void An_empty_file_is_an_empty_list()
    {
        var truncated = new CounterSet()["lines_truncated"];
        var e = ParserHarness.Parse(new LinesParser(100, 10, truncated), string.Empty);

        Assert.Empty((List<object?>)e.Data["lines"]!);
    }
}
