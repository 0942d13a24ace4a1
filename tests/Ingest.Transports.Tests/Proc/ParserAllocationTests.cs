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

        // The first call learns the names; then three windows of 10 scrapes.
        Assert.Equal(0, SteadyAllocation.Bytes(() => parser.Write(content, 1, writer), repetitions: 10));
        Assert.Equal(31, writer.Count);
    }
}
