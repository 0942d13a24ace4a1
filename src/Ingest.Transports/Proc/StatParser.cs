using Ingest.Transports.Events;

namespace Ingest.Transports.Proc;

/// <summary>
/// /proc/stat. One event: <c>"cpu"</c> (the all-CPU line) and <c>"cpus"</c> (<c>{"cpu0": ...}</c>)
/// as maps of jiffies (USER_HZ ticks) named user, nice, system, idle, iowait, irq, softirq,
/// steal, guest, guest_nice (as many as the kernel prints); <c>"intr"</c> and <c>"softirq"</c>
/// totals; <c>ctxt</c>, <c>btime</c>, <c>processes</c>, <c>procs_running</c>, <c>procs_blocked</c>.
/// Keys whose line is absent are left out; other lines are ignored.
/// </summary>
public sealed class StatParser : IProcParser
{
    private static readonly EventName Type = new("proc.stat");
    private static readonly EventName CpuKey = new("cpu");
    private static readonly EventName CpusKey = new("cpus");

    // Column order of show_stat() in fs/proc/stat.c.
    private static readonly EventName[] CpuColumns =
    [
        new("user"), new("nice"), new("system"), new("idle"), new("iowait"),
        new("irq"), new("softirq"), new("steal"), new("guest"), new("guest_nice"),
    ];

    // Single-number lines, written under the line's own name. For intr and softirq that number
    // is the total; the per-source counts after it are left out.
    private static readonly EventName[] Scalars =
    [
        new("intr"), new("ctxt"), new("btime"), new("processes"),
        new("procs_running"), new("procs_blocked"), new("softirq"),
    ];

    private const int MinCpuColumns = 4;

    private readonly EventNameCache _names = new();

    public string Name => "stat";

    public EventName EventType => Type;

    public void Write(ReadOnlySpan<byte> content, long timestampNs, EventWriter writer)
    {
        var shape = Walk(content, writer: null, cpus: 0);
        if (!shape.HasCpu)
        {
            throw new ProcFormatException("stat: no 'cpu' line");
        }

        writer.BeginEvent(Type, timestampNs, 1 + (shape.Cpus > 0 ? 1 : 0) + shape.Scalars);
        Walk(content, writer, shape.Cpus);
        writer.EndEvent();
    }

    private Shape Walk(ReadOnlySpan<byte> content, EventWriter? writer, int cpus)
    {
        var shape = default(Shape);
        var seenScalars = 0;
        var cpuRun = CpuRun.NotYet;
        var rest = content;
        while (ProcText.NextLine(ref rest, out var line))
        {
            var key = ProcText.NextToken(ref line);
            if (key.IsEmpty)
            {
                continue;
            }

            if (key.Length > 3 && key.StartsWith("cpu"u8))
            {
                // Per-CPU lines come together; writing them as one map relies on that.
                if (cpuRun == CpuRun.Done)
                {
                    throw ProcText.Malformed("stat: per-CPU lines not together", key);
                }

                if (cpuRun == CpuRun.NotYet && writer is not null)
                {
                    writer.WriteKey(CpusKey);
                    writer.WriteMapHeader(cpus);
                }

                cpuRun = CpuRun.Inside;
                WriteCpu(writer, writer is null ? null : _names.Get(key), line);
                shape.Cpus++;
                continue;
            }

            if (cpuRun == CpuRun.Inside)
            {
                cpuRun = CpuRun.Done;
            }

            if (key.SequenceEqual("cpu"u8))
            {
                if (shape.HasCpu)
                {
                    throw new ProcFormatException("stat: two 'cpu' lines");
                }

                shape.HasCpu = true;
                WriteCpu(writer, CpuKey, line);
                continue;
            }

            for (var i = 0; i < Scalars.Length; i++)
            {
                if (key.SequenceEqual(Scalars[i].Utf8))
                {
                    if ((seenScalars & (1 << i)) != 0)
                    {
                        throw ProcText.Malformed("stat: repeated line", key);
                    }

                    seenScalars |= 1 << i;
                    var value = ProcText.ParseUInt64(ProcText.NextToken(ref line), "stat: value");
                    writer?.Write(Scalars[i], value);
                    shape.Scalars++;
                    break;
                }
            }
        }

        return shape;
    }

    private static void WriteCpu(EventWriter? writer, EventName? key, ReadOnlySpan<byte> fields)
    {
        var columns = 0;
        var scan = fields;
        while (!ProcText.NextToken(ref scan).IsEmpty)
        {
            columns++;
        }

        if (columns < MinCpuColumns)
        {
            throw ProcText.Malformed("stat: cpu line with fewer than 4 columns", fields);
        }

        // Columns a future kernel may add past guest_nice are not named here: they are left out.
        columns = Math.Min(columns, CpuColumns.Length);
        if (writer is not null)
        {
            writer.WriteKey(key!);
            writer.WriteMapHeader(columns);
        }

        for (var i = 0; i < columns; i++)
        {
            var value = ProcText.ParseUInt64(ProcText.NextToken(ref fields), "stat: cpu jiffies");
            writer?.Write(CpuColumns[i], value);
        }
    }

    private enum CpuRun
    {
        NotYet,
        Inside,
        Done,
    }

    private struct Shape
    {
        public bool HasCpu;
        public int Cpus;
        public int Scalars;
    }
}
