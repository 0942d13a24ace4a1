using Ingest.Encoding.MessagePack;
using MessagePackReader = global::MessagePack.MessagePackReader;

namespace Ingest.Fleet;

/// <summary>
/// Reads a heartbeat's data map (docs/events/heartbeat.md) into a <see cref="FleetHost"/> with
/// MessagePack-CSharp's reader; unknown keys are skipped within <see cref="FleetState.ReaderOptions"/>.
/// </summary>
internal static class HeartbeatReader
{
    public static void Read(ref MessagePackReader reader, FleetHost row)
    {
        var fields = reader.ReadMapHeader();
        for (var i = 0; i < fields; i++)
        {
            var key = UntrustedMessagePack.ReadStringSpan(ref reader, FleetState.ReaderOptions);
            if (key.SequenceEqual("version"u8))
            {
                row.VersionText = Utf8Text.Update(row.VersionText, UntrustedMessagePack.ReadStringSpan(ref reader, FleetState.ReaderOptions));
            }
            else if (key.SequenceEqual("uptime_s"u8))
            {
                row.UptimeSeconds = reader.ReadDouble();
            }
            else if (key.SequenceEqual("interval_s"u8))
            {
                row.IntervalSeconds = reader.ReadDouble();
            }
            else if (key.SequenceEqual("channels"u8))
            {
                ReadChannels(ref reader, row);
            }
            else if (key.SequenceEqual("spool"u8))
            {
                ReadSpool(ref reader, row);
            }
            else if (key.SequenceEqual("commands"u8))
            {
                ReadCommands(ref reader, row);
            }
            else if (key.SequenceEqual("rss_bytes"u8))
            {
                row.RssBytes = reader.ReadInt64();
            }
            else if (key.SequenceEqual("cpu_percent"u8))
            {
                row.CpuPercent = reader.ReadDouble();
            }
            else
            {
                UntrustedMessagePack.Skip(ref reader, FleetState.ReaderOptions);
            }
        }
    }

    private static void ReadChannels(ref MessagePackReader reader, FleetHost row)
    {
        var count = reader.ReadMapHeader();
        row.BeginChannels();
        for (var c = 0; c < count; c++)
        {
            var channel = row.Channel(UntrustedMessagePack.ReadStringSpan(ref reader, FleetState.ReaderOptions));
            channel.Present = true;
            var fields = reader.ReadMapHeader();
            for (var i = 0; i < fields; i++)
            {
                var key = UntrustedMessagePack.ReadStringSpan(ref reader, FleetState.ReaderOptions);
                if (key.SequenceEqual("received"u8))
                {
                    channel.Received = reader.ReadInt64();
                }
                else if (key.SequenceEqual("delivered"u8))
                {
                    channel.Delivered = reader.ReadInt64();
                }
                else if (key.SequenceEqual("dropped"u8))
                {
                    channel.Dropped = reader.ReadInt64();
                }
                else if (key.SequenceEqual("received_per_s"u8))
                {
                    channel.ReceivedPerSecond = reader.ReadDouble();
                }
                else if (key.SequenceEqual("delivered_per_s"u8))
                {
                    channel.DeliveredPerSecond = reader.ReadDouble();
                }
                else if (key.SequenceEqual("dropped_per_s"u8))
                {
                    channel.DroppedPerSecond = reader.ReadDouble();
                }
                else
                {
                    UntrustedMessagePack.Skip(ref reader, FleetState.ReaderOptions);
                }
            }
        }

        row.EndChannels();
    }

    private static void ReadSpool(ref MessagePackReader reader, FleetHost row)
    {
        if (reader.TryReadNil())
        {
            row.SpoolRecords = null;
            row.SpoolBytes = null;
            return;
        }

        var fields = reader.ReadMapHeader();
        for (var i = 0; i < fields; i++)
        {
            var key = UntrustedMessagePack.ReadStringSpan(ref reader, FleetState.ReaderOptions);
            if (key.SequenceEqual("records"u8))
            {
                row.SpoolRecords = reader.ReadInt64();
            }
            else if (key.SequenceEqual("bytes"u8))
            {
                row.SpoolBytes = reader.ReadInt64();
            }
            else
            {
                UntrustedMessagePack.Skip(ref reader, FleetState.ReaderOptions);
            }
        }
    }

    private static void ReadCommands(ref MessagePackReader reader, FleetHost row)
    {
        var fields = reader.ReadMapHeader();
        for (var i = 0; i < fields; i++)
        {
            var key = UntrustedMessagePack.ReadStringSpan(ref reader, FleetState.ReaderOptions);
            if (key.SequenceEqual("state"u8))
            {
                row.CommandStateText = Utf8Text.Update(row.CommandStateText, UntrustedMessagePack.ReadStringSpan(ref reader, FleetState.ReaderOptions));
            }
            else if (key.SequenceEqual("last"u8))
            {
                ReadLast(ref reader, row);
            }
            else
            {
                UntrustedMessagePack.Skip(ref reader, FleetState.ReaderOptions);
            }
        }
    }

    private static void ReadLast(ref MessagePackReader reader, FleetHost row)
    {
        if (reader.TryReadNil())
        {
            row.LastCommandIdText = null;
            row.LastCommandStatusText = null;
            row.LastCommandOpText = null;
            row.LastCommandAtMs = 0;
            return;
        }

        var fields = reader.ReadMapHeader();
        for (var i = 0; i < fields; i++)
        {
            var key = UntrustedMessagePack.ReadStringSpan(ref reader, FleetState.ReaderOptions);
            if (key.SequenceEqual("id"u8))
            {
                row.LastCommandIdText = reader.TryReadNil() ? null : Utf8Text.Update(row.LastCommandIdText, UntrustedMessagePack.ReadStringSpan(ref reader, FleetState.ReaderOptions));
            }
            else if (key.SequenceEqual("status"u8))
            {
                row.LastCommandStatusText = Utf8Text.Update(row.LastCommandStatusText, UntrustedMessagePack.ReadStringSpan(ref reader, FleetState.ReaderOptions));
            }
            else if (key.SequenceEqual("op"u8))
            {
                row.LastCommandOpText = reader.TryReadNil() ? null : Utf8Text.Update(row.LastCommandOpText, UntrustedMessagePack.ReadStringSpan(ref reader, FleetState.ReaderOptions));
            }
            else if (key.SequenceEqual("at_ms"u8))
            {
                row.LastCommandAtMs = reader.ReadInt64();
            }
            else
            {
                UntrustedMessagePack.Skip(ref reader, FleetState.ReaderOptions);
            }
        }
    }
}
