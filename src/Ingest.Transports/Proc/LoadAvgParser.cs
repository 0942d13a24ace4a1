using Ingest.Transports.Events;

namespace Ingest.Transports.Proc;

/// <summary>
/// /proc/loadavg: "0.12 0.34 0.56 2/345 6789". One event:
/// <c>{"load1": f64, "load5": f64, "load15": f64, "running": i64, "total": i64, "last_pid": i64}</c>.
/// </summary>
public sealed class LoadAvgParser : IProcParser
{
    private static readonly EventName Type = new("proc.loadavg");
    private static readonly EventName Load1 = new("load1");
    private static readonly EventName Load5 = new("load5");
    private static readonly EventName Load15 = new("load15");
    private static readonly EventName Running = new("running");
    private static readonly EventName Total = new("total");
    private static readonly EventName LastPid = new("last_pid");

    public string Name => "loadavg";

    public EventName EventType => Type;

    public void Write(ReadOnlySpan<byte> content, long timestampNs, EventWriter writer)
    {
        var rest = content;
        if (!ProcText.NextLine(ref rest, out var line))
        {
            throw new ProcFormatException("loadavg: empty");
        }

        var load1 = ProcText.ParseDouble(ProcText.NextToken(ref line), "loadavg: load1");
        var load5 = ProcText.ParseDouble(ProcText.NextToken(ref line), "loadavg: load5");
        var load15 = ProcText.ParseDouble(ProcText.NextToken(ref line), "loadavg: load15");
        var tasks = ProcText.NextToken(ref line);
        var slash = tasks.IndexOf((byte)'/');
        if (slash < 0)
        {
            throw ProcText.Malformed("loadavg: running/total", tasks);
        }

        var running = ProcText.ParseUInt64(tasks[..slash], "loadavg: running");
        var total = ProcText.ParseUInt64(tasks[(slash + 1)..], "loadavg: total");
        var lastPid = ProcText.ParseUInt64(ProcText.NextToken(ref line), "loadavg: last_pid");
        if (!ProcText.Trim(line).IsEmpty)
        {
            throw ProcText.Malformed("loadavg: trailing text", line);
        }

        writer.BeginEvent(Type, timestampNs, 6);
        writer.Write(Load1, load1);
        writer.Write(Load5, load5);
        writer.Write(Load15, load15);
        writer.Write(Running, (long)running);
        writer.Write(Total, (long)total);
        writer.Write(LastPid, (long)lastPid);
        writer.EndEvent();
    }
}
