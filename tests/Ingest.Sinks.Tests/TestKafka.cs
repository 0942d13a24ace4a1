using System.Text;
using Ingest.Sinks.Kafka;

namespace Ingest.Sinks.Tests;

/// <summary>Helpers shared by the integration tests: records, read-back, waiting on conditions.</summary>
internal static class TestKafka
{
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    public static string UniqueTopic(string prefix) => $"{prefix}-{Guid.NewGuid():N}";

    public static byte[] Bytes(string s) => Encoding.UTF8.GetBytes(s);

    public static string Text(byte[]? b) => b is null ? "<null>" : Encoding.UTF8.GetString(b);

    public static KafkaProducerOptions Options(string bootstrap, params (string Name, string Value)[] properties) => new()
    {
        BootstrapServers = bootstrap,
        Properties = properties.ToDictionary(p => p.Name, p => p.Value),
        CloseTimeout = TimeSpan.FromSeconds(2),
    };

    public static KeyValuePair<string, byte[]>[] Headers(int i) =>
    [
        new("seq", Bytes(i.ToString(System.Globalization.CultureInfo.InvariantCulture))),
        new("source", Bytes("test")),
    ];

    /// <summary>Reads until <paramref name="count"/> records arrived or the deadline passed.</summary>
    public static List<KafkaRecord> ReadAtLeast(KafkaTopicReader reader, int count)
    {
        var records = new List<KafkaRecord>(count);
        DateTime deadline = DateTime.UtcNow + Deadline;
        while (records.Count < count && DateTime.UtcNow < deadline)
        {
            if (reader.Read(TimeSpan.FromMilliseconds(500)) is { } record)
            {
                records.Add(record);
            }
        }

        return records;
    }

    /// <summary>Polls <paramref name="condition"/> until true; false if the deadline passed first.</summary>
    public static bool WaitUntil(Func<bool> condition)
    {
        DateTime deadline = DateTime.UtcNow + Deadline;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                return false;
            }

            Thread.Sleep(20);
        }

        return true;
    }

    public static Action<string> Log(ITestOutputHelper? output) => line =>
    {
        try
        {
            output?.WriteLine(line);
        }
        catch (InvalidOperationException)
        {
            // Output helper is gone once the test has finished; late librdkafka lines are dropped.
        }
    };
}
