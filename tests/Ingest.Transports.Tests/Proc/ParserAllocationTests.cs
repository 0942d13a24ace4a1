using Ingest.Testing;
using Ingest.Transports.Proc;
using Ingest.Transports.Tests.Udp;

namespace Ingest.Transports.Tests.Proc;

public class ParserAllocationTests
{
    [Theory]
    [InlineData("/proc/net/dev")]
    [InlineData("/proc/stat")]
    [InlineData("/proc/meminfo")]
    [InlineData("/proc/loadavg")]
    public void A_repeated_scrape_parses_without_allocating(string path)
    {
        var content = File.ReadAllBytes(path);
        var parser = ProcParsers.Create(ProcParsers.NameForPath(path), new ProcScrapeOptions(), new());
        var writer = new CountingEventWriter();
        parser.Write(content, 1, writer); // learns the names

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 10; i++)
        {
            parser.Write(content, 1, writer);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(11, writer.Count);
    }
}
