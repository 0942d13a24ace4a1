using Confluent.Kafka;
using Ingest.Sinks.Kafka;

namespace Ingest.Sinks.Tests;

public sealed class LibRdKafkaTests
{
    [Fact]
    public void EnsureLoaded_LoadsTheRedist216LibraryOnce()
    {
        string path = LibRdKafka.EnsureLoaded();

        // A portable test build keeps the redist's layout: runtimes/linux-<arch>/native/.
        Assert.Equal(Path.Combine(AppContext.BaseDirectory, "runtimes", LibRdKafka.NativeRid, "native"), Path.GetDirectoryName(path));
        Assert.Contains(Path.GetFileName(path), LibRdKafka.FileNames);
        Assert.Same(path, LibRdKafka.EnsureLoaded());
        Assert.Equal("2.16.0", Library.VersionString);
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
    public void Candidates_FlatBeforeRuntimes_OverrideAlone_AndMissingNamesEveryPathTried()
    {
        string dir = Directory.CreateTempSubdirectory("ingest-rdk-").FullName;
        try
        {
            string native = Path.Combine(dir, "runtimes", LibRdKafka.NativeRid, "native");
            Directory.CreateDirectory(native);
            File.WriteAllText(Path.Combine(native, "centos8-librdkafka.so"), "");
            Assert.Equal([Path.Combine(native, "centos8-librdkafka.so")], LibRdKafka.Candidates(null, dir));

            File.WriteAllText(Path.Combine(dir, "librdkafka.so"), "");
            File.WriteAllText(Path.Combine(native, "librdkafka.so"), "");
            Assert.Equal(
                [Path.Combine(dir, "librdkafka.so"), Path.Combine(native, "librdkafka.so"), Path.Combine(native, "centos8-librdkafka.so")],
                LibRdKafka.Candidates("", dir));

            string chosen = Path.Combine(native, "librdkafka.so");
            Assert.Equal([chosen], LibRdKafka.Candidates(chosen, "/nonexistent"));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }

        var missingDefault = Assert.Throws<DllNotFoundException>(() => LibRdKafka.Candidates(null, "/nonexistent/dir"));
        Assert.Contains("'/nonexistent/dir/librdkafka.so'", missingDefault.Message, StringComparison.Ordinal);
        Assert.Contains($"'/nonexistent/dir/runtimes/{LibRdKafka.NativeRid}/native/centos8-librdkafka.so'", missingDefault.Message, StringComparison.Ordinal);
        Assert.Contains(LibRdKafka.PathVariable, missingDefault.Message, StringComparison.Ordinal);

        var missingOverride = Assert.Throws<DllNotFoundException>(() => LibRdKafka.Candidates("/no/such/librdkafka.so", AppContext.BaseDirectory));
        Assert.Contains("'/no/such/librdkafka.so'", missingOverride.Message, StringComparison.Ordinal);
    }
}
