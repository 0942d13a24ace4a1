using Ingest.Transports.Events;

namespace Ingest.Transports.Proc;

/// <summary>
/// /proc/net/dev: two header lines, then "name: 16 counters" per interface. One event:
/// <c>{"interfaces": {name: {"rx_bytes": u64, ..., "tx_compressed": u64}}}</c>.
/// </summary>
public sealed class NetDevParser : IProcParser
{
    private static readonly EventName Type = new("proc.net_dev");
    private static readonly EventName InterfacesKey = new("interfaces");

    // Column order of dev_seq_printf_stats() in net/core/net-procfs.c.
    private static readonly EventName[] Columns =
    [
        new("rx_bytes"), new("rx_packets"), new("rx_errs"), new("rx_drop"),
        new("rx_fifo"), new("rx_frame"), new("rx_compressed"), new("rx_multicast"),
        new("tx_bytes"), new("tx_packets"), new("tx_errs"), new("tx_drop"),
        new("tx_fifo"), new("tx_colls"), new("tx_carrier"), new("tx_compressed"),
    ];

    private readonly EventNameCache _names = new();

    public string Name => "net_dev";

    public EventName EventType => Type;

    public void Write(ReadOnlySpan<byte> content, long timestampNs, EventWriter writer)
    {
        var interfaces = Walk(content, writer: null);
        writer.BeginEvent(Type, timestampNs, 1);
        writer.WriteKey(InterfacesKey);
        writer.WriteMapHeader(interfaces);
        Walk(content, writer);
        writer.EndEvent();
    }

    /// <summary>Parses every interface line, writing it when <paramref name="writer"/> is given; returns the count.</summary>
    private int Walk(ReadOnlySpan<byte> content, EventWriter? writer)
    {
        var rest = content;
        for (var header = 0; header < 2; header++)
        {
            if (!ProcText.NextLine(ref rest, out var line) || line.IndexOf((byte)'|') < 0)
            {
                throw new ProcFormatException("net/dev: missing the two header lines");
            }
        }

        var count = 0;
        while (ProcText.NextLine(ref rest, out var line))
        {
            line = ProcText.Trim(line);
            if (line.IsEmpty)
            {
                continue;
            }

            var colon = line.IndexOf((byte)':');
            if (colon <= 0)
            {
                throw ProcText.Malformed("net/dev: interface line", line);
            }

            var fields = line[(colon + 1)..];
            if (writer is not null)
            {
                writer.WriteKey(_names.Get(ProcText.Trim(line[..colon])));
                writer.WriteMapHeader(Columns.Length);
            }

            foreach (var column in Columns)
            {
                var value = ProcText.ParseUInt64(ProcText.NextToken(ref fields), "net/dev: counter");
                writer?.Write(column, value);
            }

            if (!ProcText.Trim(fields).IsEmpty)
            {
                throw ProcText.Malformed("net/dev: more than 16 counters", fields);
            }

            count++;
        }

        return count;
    }
}
