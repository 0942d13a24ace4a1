using Ingest.Transports.Proc;

namespace Ingest.Transports.Tests.Proc;

public class LoadAvgParserTests
{
    [Fact]
    public void Parses_the_three_loads_and_the_task_counts()
    {
        var e = ParserHarness.Parse(new LoadAvgParser(), "0.12 3.40 10.56 2/345 6789\n");

        Assert.Equal(["load1", "load5", "load15", "running", "total", "last_pid"], e.Data.Keys);
        Assert.Equal(0.12, e.Data["load1"]);
        Assert.Equal(3.40, e.Data["load5"]);
        Assert.Equal(10.56, e.Data["load15"]);
        Assert.Equal(2L, e.Data["running"]);
        Assert.Equal(345L, e.Data["total"]);
        Assert.Equal(6789L, e.Data["last_pid"]);
    }

    [Fact]
    public void Parses_the_live_file()
    {
        var e = ParserHarness.ParseLive(new LoadAvgParser(), "/proc/loadavg");

        Assert.True((double)e.Data["load1"]! >= 0);
        Assert.InRange((long)e.Data["running"]!, 1, (long)e.Data["total"]!);
        Assert.True((long)e.Data["last_pid"]! > 0);
    }

    [Theory]
    [InlineData("")]
    [InlineData("0.12 0.34\n")]
    [InlineData("a b c 1/2 3\n")]
    [InlineData("0.1 0.2 0.3 12 5\n")]
    [InlineData("0.1 0.2 0.3 1/x 5\n")]
    [InlineData("0.1 0.2 0.3 1/2\n")]
    [InlineData("0.1 0.2 0.3 1/2 5 6\n")]
    public void Rejects_malformed_and_truncated_text_without_writing(string text)
    {
        ParserHarness.Rejects(new LoadAvgParser(), text);
    }
}
