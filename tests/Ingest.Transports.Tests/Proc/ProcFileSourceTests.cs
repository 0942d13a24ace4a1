using System.Collections.Concurrent;
using Ingest.Transports.Proc;
using Ingest.Transports.Tests.Fakes;

namespace Ingest.Transports.Tests.Proc;

public sealed class ProcFileSourceTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ingest-proc-").FullName;
    private readonly ConcurrentQueue<string> _log = new();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static CancellationToken TestToken => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Scrapes_the_default_files_of_the_live_host()
    {
        var sources = ProcFileSource.Create(new ProcScrapeOptions());
        Assert.Equal(["/proc/net/dev", "/proc/stat", "/proc/meminfo", "/proc/loadavg"], sources.Select(s => s.Name));
        Assert.Equal(["net_dev", "stat", "meminfo", "loadavg"], sources.Select(s => s.Parser.Name));

        foreach (var source in sources)
        {
            var writer = new RecordingEventWriter();
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(TestToken);
            var run = source.RunAsync(writer, stop.Token);
            var events = await writer.WaitForAsync(_ => true);
            await stop.CancelAsync();
            await run.WaitAsync(TimeSpan.FromSeconds(10), TestToken);

            Assert.Equal("proc", source.Channel);
            Assert.Equal("proc." + source.Parser.Name, Assert.Single(events).Type);
            Assert.Equal(0, source.Counters["parse_error"].Value + source.Counters["missing"].Value + source.Counters["read_error"].Value);
        }
    }

    [Fact]
    public async Task A_vanished_file_is_counted_logged_once_and_scraping_goes_on()
    {
        var path = Path.Combine(_dir, "loadavg");
        var source = new ProcFileSource(
            new ProcScrapeFile { Path = path, Interval = TimeSpan.FromMilliseconds(10), Parser = "loadavg" },
            new ProcScrapeOptions { Log = _log.Enqueue });
        var writer = new RecordingEventWriter();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(TestToken);
        var run = source.RunAsync(writer, stop.Token);

        await WaitUntilAsync(() => source.Counters["missing"].Value >= 3);
        await File.WriteAllTextAsync(path, "1.00 2.00 3.00 4/500 1234\n", TestToken);
        await writer.WaitForAsync(_ => true);
        File.Delete(path);
        var missingBefore = source.Counters["missing"].Value;
        await WaitUntilAsync(() => source.Counters["missing"].Value >= missingBefore + 2);
        await stop.CancelAsync();
        await run.WaitAsync(TimeSpan.FromSeconds(10), TestToken);

        Assert.Equal(1.0, writer.Snapshot()[0].Data["load1"]);
        Assert.True(source.Counters["missing"].Value >= missingBefore + 2);
        Assert.True(source.Counters["scrapes"].Value > source.Counters["missing"].Value);

        // Logged when it went missing, when it came back and when it went again: not per scrape.
        var lines = _log.ToArray();
        Assert.Equal(2, lines.Count(l => l.Contains("is missing", StringComparison.Ordinal)));
        Assert.Single(lines, l => l.Contains("scraped again", StringComparison.Ordinal));
    }

    [Fact]
    public void Text_that_does_not_parse_is_counted_and_nothing_escapes_or_is_written()
    {
        var path = Path.Combine(_dir, "meminfo");
        File.WriteAllText(path, "MemTotal: 12 kB\nMemFree: twelve kB\n");
        var source = new ProcFileSource(new ProcScrapeFile { Path = path, Parser = "meminfo" }, new ProcScrapeOptions { Log = _log.Enqueue });
        var writer = new RecordingEventWriter();

        Assert.False(source.Scrape(writer));
        Assert.False(source.Scrape(writer));
        File.WriteAllText(path, "MemTotal: 12 kB\n");
        Assert.True(source.Scrape(writer));
        writer.Flush();

        Assert.Equal(2, source.Counters["parse_error"].Value);
        Assert.Equal(12UL * 1024, Assert.Single(writer.Snapshot()).Data["MemTotal"]);
        Assert.Equal(1UL, writer.NextSequence);
        Assert.Single(_log, l => l.Contains("does not parse as meminfo", StringComparison.Ordinal));
    }

    [Fact]
    public void A_large_synthetic_file_is_read_whole_into_a_lines_event()
    {
        var path = Path.Combine(_dir, "big");
        var lines = Enumerable.Range(0, 40_000).Select(i => $"{i:D8} a synthetic seq_file line").ToArray();
        File.WriteAllLines(path, lines);
        Assert.True(new FileInfo(path).Length > 1024 * 1024);
        var source = new ProcFileSource(new ProcScrapeFile { Path = path }, new ProcScrapeOptions { MaxLines = 100_000, MaxLineBytes = 4 * 1024 * 1024 });
        var writer = new RecordingEventWriter();

        Assert.True(source.Scrape(writer));
        writer.Flush();

        Assert.Equal("lines", source.Parser.Name);
        var e = Assert.Single(writer.Snapshot());
        Assert.Equal("proc.lines", e.Type);
        Assert.Equal(lines, ((List<object?>)e.Data["lines"]!).Cast<string>());
        Assert.Equal(0, source.Counters["lines_truncated"].Value);
    }

    [Fact]
    public void A_file_past_the_size_limit_is_counted_as_too_large()
    {
        var path = Path.Combine(_dir, "huge");
        File.WriteAllBytes(path, new byte[100_000]);
        var source = new ProcFileSource(new ProcScrapeFile { Path = path }, new ProcScrapeOptions { MaxFileBytes = 50_000, Log = _log.Enqueue });

        Assert.False(source.Scrape(new RecordingEventWriter()));

        Assert.Equal(1, source.Counters["too_large"].Value);
        Assert.Single(_log);
    }

    [Fact]
    public void A_file_that_cannot_be_read_is_counted_as_read_error()
    {
        var source = new ProcFileSource(new ProcScrapeFile { Path = _dir }, new ProcScrapeOptions { Log = _log.Enqueue });

        Assert.False(source.Scrape(new RecordingEventWriter()));

        Assert.Equal(1, source.Counters["read_error"].Value);
    }

    [Fact]
    public void Options_pick_parsers_by_path_and_reject_unknown_names()
    {
        Assert.Equal("net_dev", ProcParsers.NameForPath("/proc/net/dev"));
        Assert.Equal("stat", ProcParsers.NameForPath("/proc/stat"));
        Assert.Equal("meminfo", ProcParsers.NameForPath("/proc/meminfo"));
        Assert.Equal("loadavg", ProcParsers.NameForPath("/proc/loadavg"));
        Assert.Equal("lines", ProcParsers.NameForPath("/proc/net/snmp"));

        var error = Assert.Throws<ArgumentException>(() => new ProcFileSource(new ProcScrapeFile { Path = "/proc/stat", Parser = "nope" }, new ProcScrapeOptions()));
        Assert.Contains("unknown /proc parser 'nope'", error.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => ProcFileSource.Create(new ProcScrapeOptions { Files = [new() { Path = "/proc/stat", Interval = TimeSpan.Zero }] }));
        Assert.All(ProcScrapeOptions.DefaultFiles, f => Assert.Equal(TimeSpan.FromSeconds(10), f.Interval));
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (!condition() && DateTime.UtcNow < deadline)
        {
            await Task.Delay(5, TestToken);
        }
    }
}
