using Ingest.Transports.Events;

namespace Ingest.Transports.Proc;

/// <summary>
/// /proc/kingest/stats: one line per channel, <c>"&lt;name&gt; emitted &lt;n&gt; dropped &lt;n&gt; errors &lt;n&gt;"</c>
/// (names ring, genl, signal, upcall, udp, proc). One event <c>proc.kingest.stats</c> with a map
/// per channel: <c>{"ring": {"emitted": u64, "dropped": u64, "errors": u64}, ...}</c>, in file order.
/// </summary>
public sealed class KingestStatsParser : IProcParser
{
    /// <summary>Lines accepted: the header's KINGEST_CH_SLOTS leaves room for channels to come.</summary>
    public const int MaxChannels = 16;

    private static readonly EventName Type = new("proc.kingest.stats");
    private static readonly EventName Emitted = new("emitted");
    private static readonly EventName Dropped = new("dropped");
    private static readonly EventName Errors = new("errors");

    private readonly EventNameCache _names = new(64);
    private readonly Line[] _lines = new Line[MaxChannels];

    public string Name => "kingest_stats";

    public EventName EventType => Type;

    public void Write(ReadOnlySpan<byte> content, long timestampNs, EventWriter writer)
    {
        int count = 0;
        var rest = content;
        while (ProcText.NextLine(ref rest, out var line))
        {
            if (ProcText.Trim(line).IsEmpty)
            {
                continue;
            }

            if (count == MaxChannels)
            {
                throw new ProcFormatException($"kingest stats: more than {MaxChannels} channels");
            }

            var name = ProcText.NextToken(ref line);
            if (name.IsEmpty)
            {
                throw ProcText.Malformed("kingest stats: channel name", line);
            }

            _lines[count] = new Line(
                _names.Get(name),
                Field(ref line, "emitted"u8),
                Field(ref line, "dropped"u8),
                Field(ref line, "errors"u8));
            if (!ProcText.Trim(line).IsEmpty)
            {
                throw ProcText.Malformed("kingest stats: trailing text", line);
            }

            for (int i = 0; i < count; i++)
            {
                if (ReferenceEquals(_lines[i].Channel, _lines[count].Channel))
                {
                    throw ProcText.Malformed("kingest stats: repeated channel", name);
                }
            }

            count++;
        }

        if (count == 0)
        {
            throw new ProcFormatException("kingest stats: empty");
        }

        writer.BeginEvent(Type, timestampNs, count);
        for (int i = 0; i < count; i++)
        {
            ref readonly var l = ref _lines[i];
            writer.WriteKey(l.Channel);
            writer.WriteMapHeader(3);
            writer.Write(Emitted, l.Emitted);
            writer.Write(Dropped, l.Dropped);
            writer.Write(Errors, l.Errors);
        }

        writer.EndEvent();
    }

    private static ulong Field(ref ReadOnlySpan<byte> line, ReadOnlySpan<byte> label)
    {
        var token = ProcText.NextToken(ref line);
        if (!token.SequenceEqual(label))
        {
            throw ProcText.Malformed("kingest stats: expected " + System.Text.Encoding.ASCII.GetString(label), token);
        }

        return ProcText.ParseUInt64(ProcText.NextToken(ref line), "kingest stats: " + System.Text.Encoding.ASCII.GetString(label));
    }

    private readonly record struct Line(EventName Channel, ulong Emitted, ulong Dropped, ulong Errors);
}
