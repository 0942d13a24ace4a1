using Confluent.Kafka;
using Ingest.Sinks.Kafka;

namespace Ingest.Sinks.Tests;

public sealed class LibRdKafkaTests
{
    [Fact]
    public void EnsureLoaded_LoadsTheBundled215LibraryOnce()
    {
        string path = LibRdKafka.EnsureLoaded();

        Assert.Equal(Path.Combine(AppContext.BaseDirectory, "librdkafka.so.1"), path);
        Assert.Same(path, LibRdKafka.EnsureLoaded());
        Assert.Equal("2.15.1", Library.VersionString);
    }

    [Fact]
    public void EnsureLoaded_NoOtherLibrdkafkaIsMapped()
    {
        string path = LibRdKafka.EnsureLoaded();
        using (Ingest.Sinks.Broker.EmbeddedBroker.Start())
        {
            // The mock cluster's P/Invokes and Confluent's must share one mapped library.
            string[] mapped = File.ReadAllLines("/proc/self/maps")
                .Where(l => l.Contains("librdkafka", StringComparison.Ordinal))
                .Select(l => l[(l.IndexOf('/', StringComparison.Ordinal))..])
                .Distinct()
                .ToArray();

            string real = new FileInfo(path).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? path;
            Assert.All(mapped, m => Assert.Contains(m, new[] { path, real }));
            Assert.NotEmpty(mapped);
        }
    }

    [Fact]
    public void ResolvePath_PrefersTheOverride_AndNamesThePathTriedWhenMissing()
    {
        string bundled = Path.Combine(AppContext.BaseDirectory, "librdkafka.so.1");
        Assert.Equal(bundled, LibRdKafka.ResolvePath(null, AppContext.BaseDirectory));
        Assert.Equal(bundled, LibRdKafka.ResolvePath("", AppContext.BaseDirectory));
        Assert.Equal(bundled, LibRdKafka.ResolvePath(bundled, "/nonexistent"));

        var missingDefault = Assert.Throws<DllNotFoundException>(() => LibRdKafka.ResolvePath(null, "/nonexistent/dir"));
        Assert.Contains("'/nonexistent/dir/librdkafka.so.1'", missingDefault.Message, StringComparison.Ordinal);
        Assert.Contains(LibRdKafka.PathVariable, missingDefault.Message, StringComparison.Ordinal);

        var missingOverride = Assert.Throws<DllNotFoundException>(() => LibRdKafka.ResolvePath("/no/such/librdkafka.so.1", AppContext.BaseDirectory));
        Assert.Contains("'/no/such/librdkafka.so.1'", missingOverride.Message, StringComparison.Ordinal);
    }
}
