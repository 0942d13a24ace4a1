using Ingest.Encoding;
using Ingest.Heartbeat;
using Ingest.Pipeline;
using Microsoft.Extensions.Logging.Abstractions;

namespace Ingest.Bench.Fleet;

/// <summary>
/// Real heartbeat record values for synthetic hosts: one heartbeat is written by the real
/// <see cref="HeartbeatSource"/> through the real pipeline, then its event is put under an
/// envelope per host (the envelope is the only per-host part).
/// </summary>
internal static class HeartbeatRecords
{
    public static async Task<byte[]> TemplateEventAsync()
    {
        var source = new HeartbeatSource(new HeartbeatOptions { IntervalSeconds = 3600 });
        var publisher = new CapturingPublisher();
        await using var graph = new PipelineGraph(new PipelineOptions(), "template", [source], publisher, NullLogger.Instance);
        source.Stats = () => new Telemetry.StatsSnapshot
        {
            UptimeSeconds = 3600,
            Sources =
            [
                new() { Channel = "udp", Source = "0.0.0.0:5555", Received = 36_000_000, Delivered = 36_000_000 },
                new() { Channel = "proc", Source = "/proc/stat", Received = 360, Delivered = 360 },
                new() { Channel = "ring", Source = "/dev/kingest", Received = 3_600_000, Delivered = 3_600_000 },
            ],
        };
        graph.Start();
        while (publisher.Value is null)
        {
            await Task.Delay(5).ConfigureAwait(false);
        }

        return RecordDecoder.Decode(publisher.Value).Events[0];
    }

    /// <summary>The record value host <paramref name="host"/> would publish with <paramref name="rawEvent"/>.</summary>
    public static byte[] For(string host, byte[] rawEvent)
    {
        var envelope = new RecordEnvelope(host, HeartbeatSource.ChannelName, HeartbeatSource.SourceName);
        var value = new byte[envelope.Overhead + rawEvent.Length];
        var n = envelope.WriteHeader(value, 1);
        rawEvent.CopyTo(value.AsSpan(n));
        return value;
    }

    /// <summary>The same event with its ts replaced (a current ts in ns is always the 9-byte uint64 form).</summary>
    public static byte[] WithTimestamp(byte[] rawEvent, long tsNs)
    {
        var copy = (byte[])rawEvent.Clone();
        ReadOnlySpan<byte> tsKey = [0xa2, (byte)'t', (byte)'s'];
        var at = copy.AsSpan().IndexOf(tsKey) + 3;
        if (copy[at] != 0xcf)
        {
            throw new InvalidOperationException("template ts is not a uint64");
        }

        System.Buffers.Binary.BinaryPrimitives.WriteInt64BigEndian(copy.AsSpan(at + 1), tsNs);
        return copy;
    }

    private sealed class CapturingPublisher : IRecordPublisher
    {
        public volatile byte[]? Value;

        public int InFlight => 0;

        public bool TryPublish(OutgoingRecord record)
        {
            Value ??= record.Value;
            record.Delivered();
            return true;
        }

        public ValueTask WaitForSpaceAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;

        public int Flush(TimeSpan timeout) => 0;

        public bool HasOverdue => false;

        public void Abandon()
        {
        }
    }
}
