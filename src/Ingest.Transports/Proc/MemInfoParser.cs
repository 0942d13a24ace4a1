using Ingest.Transports.Events;

namespace Ingest.Transports.Proc;

/// <summary>
/// /proc/meminfo: "Name:   value [kB]" lines. One event, a flat map keyed by the kernel's own
/// names (<c>MemTotal</c>, <c>Active(anon)</c>, ...): values given in kB are converted to bytes
/// (× 1024), unit-less values (<c>HugePages_Total</c>) are counts, all as unsigned integers.
/// </summary>
public sealed class MemInfoParser : IProcParser
{
    private static readonly EventName Type = new("proc.meminfo");

    private readonly EventNameCache _names = new();

    public string Name => "meminfo";

    public EventName EventType => Type;

    public void Write(ReadOnlySpan<byte> content, long timestampNs, EventWriter writer)
    {
        var fields = Walk(content, writer: null);
        if (fields == 0)
        {
            throw new ProcFormatException("meminfo: no fields");
        }

        writer.BeginEvent(Type, timestampNs, fields);
        Walk(content, writer);
        writer.EndEvent();
    }

    private int Walk(ReadOnlySpan<byte> content, EventWriter? writer)
    {
        var rest = content;
        var count = 0;
        while (ProcText.NextLine(ref rest, out var line))
        {
            line = ProcText.Trim(line);
            if (line.IsEmpty)
            {
                continue;
            }

            var colon = line.IndexOf((byte)':');
            var name = colon > 0 ? ProcText.Trim(line[..colon]) : default;
            if (name.IsEmpty)
            {
                throw ProcText.Malformed("meminfo: field line", line);
            }

            var values = line[(colon + 1)..];
            var value = ProcText.ParseUInt64(ProcText.NextToken(ref values), "meminfo: value");
            var unit = ProcText.NextToken(ref values);
            if (!ProcText.Trim(values).IsEmpty)
            {
                throw ProcText.Malformed("meminfo: trailing text", line);
            }

            if (unit.SequenceEqual("kB"u8))
            {
                value = value <= ulong.MaxValue / 1024 ? value * 1024 : throw ProcText.Malformed("meminfo: kB value too large", line);
            }
            else if (!unit.IsEmpty)
            {
                throw ProcText.Malformed("meminfo: unit", line);
            }

            if (writer is not null)
            {
                writer.WriteKey(_names.Get(name));
                writer.Write(value);
            }

            count++;
        }

        return count;
    }
}
