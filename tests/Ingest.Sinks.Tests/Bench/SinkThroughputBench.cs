namespace Ingest.Sinks.Tests.Bench;

/// <summary>
/// Not part of the test run (explicit): prints throughput figures. Run with
/// <c>tests/Ingest.Sinks.Tests/bin/Release/net10.0/Ingest.Sinks.Tests -class Ingest.Sinks.Tests.Bench.SinkThroughputBench -explicit only</c>.
/// </summary>
public sealed class SinkThroughputBench(ITestOutputHelper output)
{
    [Theory(Explicit = true)]
    [InlineData(8000, 65536, false)]
    [InlineData(8000, 65536, true)]
    [InlineData(200000, 1024, true)]
    public async Task Produce(int records, int valueBytes, bool compressible)
    {
        SinkThroughput.Result result = await SinkThroughput.RunAsync(records, valueBytes, compressible);
        string line = $"sink throughput ({(compressible ? "compressible" : "random")}): {result}";
        output.WriteLine(line);
        Console.WriteLine(line);
        Assert.Equal(0, result.Failed);
    }
}
