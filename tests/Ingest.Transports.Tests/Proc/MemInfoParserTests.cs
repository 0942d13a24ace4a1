using Ingest.Transports.Proc;

namespace Ingest.Transports.Tests.Proc;

public class MemInfoParserTests
{
    private const string Sample =
        "MemTotal:       24568820 kB\n" +
        "MemFree:        20123456 kB\n" +
        "Active(anon):      12345 kB\n" +
        "HugePages_Total:       7\n" +
        "Hugepagesize:       2048 kB\n";

    [Fact]
    public void Converts_kB_to_bytes_and_keeps_counts_and_kernel_names()
    {
        var e = ParserHarness.Parse(new MemInfoParser(), Sample);

        Assert.Equal(["MemTotal", "MemFree", "Active(anon)", "HugePages_Total", "Hugepagesize"], e.Data.Keys);
        Assert.Equal(24568820UL * 1024, e.Data["MemTotal"]);
        Assert.Equal(20123456UL * 1024, e.Data["MemFree"]);
        Assert.Equal(12345UL * 1024, e.Data["Active(anon)"]);
        Assert.Equal(7UL, e.Data["HugePages_Total"]);
        Assert.Equal(2048UL * 1024, e.Data["Hugepagesize"]);
    }

    [Fact]
    public void Parses_the_live_file()
    {
        var e = ParserHarness.ParseLive(new MemInfoParser(), "/proc/meminfo");

        var total = (ulong)e.Data["MemTotal"]!;
        Assert.True(total > 0);
        Assert.Equal(0UL, total % 1024);
        Assert.InRange((ulong)e.Data["MemFree"]!, 0UL, total);
        Assert.True(e.Data.ContainsKey("MemAvailable"));
    }

    [Fact]
    public void Scrapes_again_without_allocating_names()
    {
        var parser = new MemInfoParser();
        var first = ParserHarness.Parse(parser, Sample);
        var second = ParserHarness.Parse(parser, Sample.Replace("7\n", "8\n", StringComparison.Ordinal));

        Assert.Equal(first.Data.Keys, second.Data.Keys);
        Assert.Equal(8UL, second.Data["HugePages_Total"]);
    }

    [Theory]
    [InlineData("")]
    [InlineData("\n\n")]
    [InlineData("MemTotal: abc kB\n")]
    [InlineData("MemTotal 123 kB\n")]
    [InlineData(": 123 kB\n")]
    [InlineData("MemTotal: 12 MB\n")]
    [InlineData("MemTotal: 12 kB extra\n")]
    [InlineData("MemTotal:\n")]
    [InlineData("MemTotal: 18446744073709551615 kB\n")]
    [InlineData("MemTotal: 1 kB\nMemFree: 2 k")]
    public void Rejects_malformed_and_truncated_text_without_writing(string text)
    {
        ParserHarness.Rejects(new MemInfoParser(), text);
    }
}
