using Ingest.Transports.Proc;

namespace Ingest.Transports.Tests.Proc;

public class StatParserTests
{
    private const string Sample =
        "cpu  10132153 290696 3084719 46828483 16683 0 25195 0 175628 0\n" +
        "cpu0 1393280 32966 572056 13343292 6130 0 17875 0 23933 0\n" +
        "cpu1 1 2 3 4 5 6 7 8 9 10\n" +
        "intr 1462898 0 0 1 2\n" +
        "ctxt 1990473\n" +
        "btime 1062191376\n" +
        "processes 2915\n" +
        "procs_running 1\n" +
        "procs_blocked 0\n" +
        "softirq 183433 0 21755 12 39 1137 231 21459 2263\n";

    [Fact]
    public void Parses_cpu_jiffies_and_the_counters()
    {
        var e = ParserHarness.Parse(new StatParser(), Sample);

        Assert.Equal(["cpu", "cpus", "intr", "ctxt", "btime", "processes", "procs_running", "procs_blocked", "softirq"], e.Data.Keys);
        var cpu = e.Data.Map("cpu");
        Assert.Equal(["user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal", "guest", "guest_nice"], cpu.Keys);
        Assert.Equal(10132153UL, cpu["user"]);
        Assert.Equal(46828483UL, cpu["idle"]);
        Assert.Equal(175628UL, cpu["guest"]);
        var cpus = e.Data.Map("cpus");
        Assert.Equal(["cpu0", "cpu1"], cpus.Keys);
        Assert.Equal(13343292UL, cpus.Map("cpu0")["idle"]);
        Assert.Equal(10UL, cpus.Map("cpu1")["guest_nice"]);
        Assert.Equal(1462898UL, e.Data["intr"]);
        Assert.Equal(1990473UL, e.Data["ctxt"]);
        Assert.Equal(1062191376UL, e.Data["btime"]);
        Assert.Equal(2915UL, e.Data["processes"]);
        Assert.Equal(1UL, e.Data["procs_running"]);
        Assert.Equal(0UL, e.Data["procs_blocked"]);
        Assert.Equal(183433UL, e.Data["softirq"]);
    }

    [Fact]
    public void Writes_only_the_columns_an_older_kernel_prints_and_ignores_unknown_lines()
    {
        var e = ParserHarness.Parse(new StatParser(), "cpu 1 2 3 4\npage 5 6\nswap 7 8\nctxt 9\n");

        Assert.Equal(["cpu", "ctxt"], e.Data.Keys);
        Assert.Equal(["user", "nice", "system", "idle"], e.Data.Map("cpu").Keys);
        Assert.Equal(9UL, e.Data["ctxt"]);
    }

    [Fact]
    public void Parses_the_live_file()
    {
        var e = ParserHarness.ParseLive(new StatParser(), "/proc/stat");

        var cpu = e.Data.Map("cpu");
        Assert.True(cpu.Count >= 8);
        Assert.True((ulong)cpu["user"]! + (ulong)cpu["system"]! + (ulong)cpu["idle"]! > 0);
        Assert.NotEmpty(e.Data.Map("cpus"));
        Assert.All(e.Data.Map("cpus").Keys, k => Assert.StartsWith("cpu", k, StringComparison.Ordinal));
        var btime = (long)(ulong)e.Data["btime"]!;
        Assert.InRange(btime, 1, DateTimeOffset.UtcNow.ToUnixTimeSeconds());
        Assert.True((ulong)e.Data["processes"]! > 0);
        Assert.True((ulong)e.Data["procs_running"]! >= 1);
        Assert.True(e.Data.ContainsKey("intr") && e.Data.ContainsKey("ctxt") && e.Data.ContainsKey("softirq"));
    }

    [Theory]
    [InlineData("")]
    [InlineData("ctxt 5\n")]
    [InlineData("cpu 1 2 x 4\n")]
    [InlineData("cpu 1 2 3\n")]
    [InlineData("cpu 1 2 3 4\ncpu 1 2 3 4\n")]
    [InlineData("cpu 1 2 3 4\ncpu0 1 2\n")]
    [InlineData("cpu 1 2 3 4\ncpu0 1 2 3 4\nctxt 1\ncpu1 1 2 3 4\n")]
    [InlineData("cpu 1 2 3 4\nctxt\n")]
    [InlineData("cpu 1 2 3 4\nctxt -1\n")]
    [InlineData("cpu 1 2 3 4\nctxt 1\nctxt 2\n")]
    public void Rejects_malformed_and_truncated_text_without_writing(string text)
    {
        ParserHarness.Rejects(new StatParser(), text);
    }
}
