using System.Diagnostics;
using Ingest.Sinks.Broker;
using Ingest.Sinks.Kafka;
using static Ingest.Sinks.Tests.TestKafka;

namespace Ingest.Sinks.Tests;

/// <summary>
/// Debian's kcat (its own librdkafka, another process) as an independent client of the
/// embedded broker and of what the sink wrote.
/// </summary>
public sealed class KcatInteropTests(ITestOutputHelper output) : IDisposable
{
    private const string Kcat = "/usr/bin/kcat";
    private readonly EmbeddedBroker _broker = EmbeddedBroker.Start();

    public void Dispose() => _broker.Dispose();

    [Fact]
    public void Kcat_ReadsWhatTheSinkProduced()
    {
        RequireKcat();
        string topic = UniqueTopic("kcat-read");
        _broker.CreateTopic(topic, 2);
        const int Count = 100;
        var handler = new RecordingDeliveryHandler();
        using (var sink = new KafkaRecordSink(Options(_broker.BootstrapServers), Log(output)))
        {
            for (int i = 0; i < Count; i++)
            {
                Assert.True(sink.TryProduce(topic, Bytes($"k{i}"), Bytes($"v{i}"), Headers(i), handler, i));
            }

            Assert.Equal(0, sink.Flush(Deadline));
        }

        string stdout = RunKcat($"-C -b {_broker.BootstrapServers} -t {topic} -e -q -f %p|%o|%k|%s|%h\\n");
        string[] lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);

        Assert.Equal(Count, lines.Length);
        var reported = handler.Reports.ToDictionary(r => (int)r.State!, r => r.Outcome);
        foreach (string line in lines)
        {
            string[] f = line.Split('|');
            int i = int.Parse(f[2][1..], System.Globalization.CultureInfo.InvariantCulture);
            Assert.Equal($"v{i}", f[3]);
            Assert.Equal($"seq={i},source=test", f[4]);
            Assert.Equal($"{reported[i].Partition}|{reported[i].Offset}", $"{f[0]}|{f[1]}");
        }
    }

    [Fact]
    public void Kcat_ProducesToTheEmbeddedBroker_FromAnotherProcess()
    {
        RequireKcat();
        string topic = UniqueTopic("kcat-write");
        _broker.CreateTopic(topic, 1);

        RunKcat($"-P -b {_broker.BootstrapServers} -t {topic} -K : -H origin=kcat", "a:one\nb:two\nc:three\n");

        using var reader = new KafkaTopicReader(_broker.BootstrapServers, topic, fromBeginning: true);
        List<KafkaRecord> records = ReadAtLeast(reader, 3);
        Assert.Equal(["a=one", "b=two", "c=three"], records.Select(r => $"{Text(r.Key)}={Text(r.Value)}"));
        Assert.All(records, r => Assert.Equal("origin=kcat", $"{r.Headers[0].Key}={Text(r.Headers[0].Value)}"));
    }

    private static void RequireKcat()
    {
        if (!File.Exists(Kcat))
        {
            Assert.Skip($"{Kcat} not installed (apt-get install kcat)");
        }
    }

    private string RunKcat(string arguments, string? stdin = null)
    {
        var start = new ProcessStartInfo(Kcat)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = stdin is not null,
        };
        foreach (string argument in arguments.Split(' '))
        {
            start.ArgumentList.Add(argument.Replace("\\n", "\n", StringComparison.Ordinal));
        }

        using Process kcat = Process.Start(start)!;
        if (stdin is not null)
        {
            kcat.StandardInput.Write(stdin);
            kcat.StandardInput.Close();
        }

        Task<string> stdout = kcat.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        Task<string> stderr = kcat.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        if (!kcat.WaitForExit(Deadline))
        {
            kcat.Kill();
            Assert.Fail($"kcat {arguments} did not exit");
        }

        output.WriteLine($"kcat stderr: {stderr.Result}");
        Assert.True(kcat.ExitCode == 0, $"kcat exited {kcat.ExitCode}: {stderr.Result}");
        return stdout.Result;
    }
}
