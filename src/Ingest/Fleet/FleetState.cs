using System.Buffers;
using Ingest.Encoding.MessagePack;
using MessagePackReader = global::MessagePack.MessagePackReader;

namespace Ingest.Fleet;

/// <summary>
/// The fleet as the records of kernel.events describe it: one <see cref="FleetHost"/> per host id.
/// <see cref="Apply"/> reads only what the view needs: the envelope, then the events of the
/// `ingest` channel (heartbeats) and the `sensor` events of the channels the kingest module
/// feeds (ring, netlink, udp); every other record is skipped after its envelope. Reading a
/// heartbeat of a known host allocates nothing unless a string in it changed. Reads with
/// MessagePack-CSharp's low-level reader under <see cref="ReaderOptions"/>. Single-threaded.
/// </summary>
public sealed class FleetState
{
    private readonly Dictionary<string, FleetHost> _hosts = new(StringComparer.Ordinal);
    private readonly Dictionary<string, FleetHost>.AlternateLookup<ReadOnlySpan<char>> _byChars;

    /// <summary>
    /// Records come from a shared topic: nesting is bounded. No element cap: the library already
    /// refuses a count larger than the bytes left, and a cap would hide the alarms of a record
    /// batched with a large Pipeline:Batch:MaxEvents.
    /// </summary>
    internal static readonly MessagePackReaderOptions ReaderOptions = new() { MaxDepth = 16 };

    public FleetState()
    {
        _byChars = _hosts.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    public IReadOnlyCollection<FleetHost> Hosts => _hosts.Values;

    public long Records { get; private set; }

    public long Heartbeats { get; private set; }

    public long Alarms { get; private set; }

    /// <summary>Records that are not ingest records, or heartbeats that cannot be read.</summary>
    public long Malformed { get; private set; }

    /// <summary>Why the latest malformed record was refused (for a diagnostic line).</summary>
    public string? LastError { get; private set; }

    public FleetHost? Find(string host) => _hosts.GetValueOrDefault(host);

    /// <summary>Reads one kernel.events record value; bad input is counted in <see cref="Malformed"/>, never thrown.</summary>
    public void Apply(ReadOnlyMemory<byte> value)
    {
        Records++;
        try
        {
            ApplyCore(value);
        }
        catch (Exception e) when (UntrustedMessagePack.IsMalformed(e) || e is InvalidOperationException)
        {
            Malformed++;
            LastError = e.Message;
        }
    }

    private void ApplyCore(ReadOnlyMemory<byte> value)
    {
        var reader = new MessagePackReader(value);
        var fields = reader.ReadMapHeader();
        long version = -1;
        ReadOnlySpan<byte> host = default, channel = default;
        ReadOnlyMemory<byte> events = default;
        var hasHost = false;
        for (var i = 0; i < fields; i++)
        {
            var key = UntrustedMessagePack.ReadStringSpan(ref reader, ReaderOptions);
            if (key.SequenceEqual("v"u8))
            {
                version = reader.ReadInt64();
            }
            else if (key.SequenceEqual("host"u8))
            {
                host = UntrustedMessagePack.ReadStringSpan(ref reader, ReaderOptions);
                hasHost = true;
            }
            else if (key.SequenceEqual("channel"u8))
            {
                channel = UntrustedMessagePack.ReadStringSpan(ref reader, ReaderOptions);
            }
            else if (key.SequenceEqual("events"u8))
            {
                events = UntrustedMessagePack.ReadRaw(ref reader, ReaderOptions);
            }
            else
            {
                UntrustedMessagePack.Skip(ref reader, ReaderOptions);
            }
        }

        if (version != 1 || !hasHost || host.IsEmpty || events.IsEmpty)
        {
            Malformed++;
            return;
        }

        var heartbeats = channel.SequenceEqual("ingest"u8);
        if (!heartbeats && !channel.SequenceEqual("ring"u8) && !channel.SequenceEqual("netlink"u8) && !channel.SequenceEqual("udp"u8))
        {
            return;
        }

        var row = HostFor(host);
        var array = new MessagePackReader(events);
        var count = array.ReadArrayHeader();
        UntrustedMessagePack.EnterCollection(ref array, ReaderOptions, count);
        for (var e = 0; e < count; e++)
        {
            ReadEvent(ref array, row, heartbeats, channel);
        }
    }

    private void ReadEvent(ref MessagePackReader reader, FleetHost row, bool heartbeats, ReadOnlySpan<byte> channel)
    {
        var fields = reader.ReadMapHeader();
        long ts = 0;
        ReadOnlySpan<byte> type = default;
        ReadOnlyMemory<byte> data = default;
        for (var i = 0; i < fields; i++)
        {
            var key = UntrustedMessagePack.ReadStringSpan(ref reader, ReaderOptions);
            if (key.SequenceEqual("ts"u8))
            {
                ts = reader.ReadInt64();
            }
            else if (key.SequenceEqual("type"u8))
            {
                type = UntrustedMessagePack.ReadStringSpan(ref reader, ReaderOptions);
            }
            else if (key.SequenceEqual("data"u8))
            {
                data = UntrustedMessagePack.ReadRaw(ref reader, ReaderOptions);
            }
            else
            {
                UntrustedMessagePack.Skip(ref reader, ReaderOptions);
            }
        }

        if (data.IsEmpty)
        {
            return;
        }

        if (heartbeats && type.SequenceEqual("heartbeat"u8))
        {
            // An older heartbeat (replayed past, or another partition behind) must not win.
            if (ts / 1_000_000 < row.LastHeartbeatMs)
            {
                return;
            }

            var d = new MessagePackReader(data);
            HeartbeatReader.Read(ref d, row);
            row.LastHeartbeatMs = ts / 1_000_000;
            row.Heartbeats++;
            Heartbeats++;
        }
        else if (!heartbeats && type.SequenceEqual("sensor"u8))
        {
            var d = new MessagePackReader(data);
            if (ReadAlarm(ref d, ts, channel) is { } alarm && (row.Alarm is null || alarm.TimestampNs >= row.Alarm.TimestampNs))
            {
                row.Alarm = alarm;
                Alarms++;
            }
        }
    }

    private static FleetAlarm? ReadAlarm(ref MessagePackReader reader, long ts, ReadOnlySpan<byte> channel)
    {
        var fields = reader.ReadMapHeader();
        var alarm = false;
        ulong sensor = 0;
        long milli = 0, threshold = 0;
        for (var i = 0; i < fields; i++)
        {
            var key = UntrustedMessagePack.ReadStringSpan(ref reader, ReaderOptions);
            if (key.SequenceEqual("alarm"u8))
            {
                alarm = reader.ReadBoolean();
            }
            else if (key.SequenceEqual("sensor_id"u8))
            {
                sensor = reader.ReadUInt64();
            }
            else if (key.SequenceEqual("milli_celsius"u8))
            {
                milli = reader.ReadInt64();
            }
            else if (key.SequenceEqual("threshold_mc"u8))
            {
                threshold = reader.ReadInt64();
            }
            else
            {
                UntrustedMessagePack.Skip(ref reader, ReaderOptions);
            }
        }

        return alarm ? new FleetAlarm(sensor, milli, threshold, ts, System.Text.Encoding.UTF8.GetString(channel)) : null;
    }

    private FleetHost HostFor(ReadOnlySpan<byte> utf8)
    {
        char[]? rented = null;
        Span<char> chars = utf8.Length <= 256 ? stackalloc char[256] : (rented = ArrayPool<char>.Shared.Rent(utf8.Length));
        try
        {
            var n = System.Text.Encoding.UTF8.GetChars(utf8, chars);
            if (_byChars.TryGetValue(chars[..n], out var row))
            {
                return row;
            }

            var host = new string(chars[..n]);
            row = new FleetHost(host);
            _hosts.Add(host, row);
            return row;
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<char>.Shared.Return(rented);
            }
        }
    }
}
