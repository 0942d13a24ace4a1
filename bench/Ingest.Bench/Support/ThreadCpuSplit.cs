using System.Globalization;
using System.Text;

namespace Ingest.Bench.Support;

/// <summary>
/// Where a process's CPU went between two <see cref="ProcStat.Threads"/> snapshots, by thread
/// name (threads of one name, e.g. the thread-pool workers, are summed), as a Markdown table.
/// </summary>
internal static class ThreadCpuSplit
{
    public sealed record Row(string Name, int Threads, long CpuTicks, long RunNs, long VoluntarySwitches, long InvoluntarySwitches);

    public static List<Row> Between(IReadOnlyList<ThreadSample> before, IReadOnlyList<ThreadSample> after)
    {
        var start = before.ToDictionary(t => t.Tid);
        return after
            .Select(t => start.TryGetValue(t.Tid, out var b)
                ? t with { CpuTicks = t.CpuTicks - b.CpuTicks, RunNs = t.RunNs - b.RunNs, VoluntarySwitches = t.VoluntarySwitches - b.VoluntarySwitches, InvoluntarySwitches = t.InvoluntarySwitches - b.InvoluntarySwitches }
                : t)
            .GroupBy(t => t.Name, StringComparer.Ordinal)
            .Select(g => new Row(g.Key, g.Count(), g.Sum(t => t.CpuTicks), g.Sum(t => t.RunNs), g.Sum(t => t.VoluntarySwitches), g.Sum(t => t.InvoluntarySwitches)))
            .OrderByDescending(r => r.CpuTicks)
            .ThenByDescending(r => r.VoluntarySwitches)
            .ToList();
    }

    /// <summary>Several runs' splits added up by thread name (threads: the most any run had).</summary>
    public static List<Row> Sum(IEnumerable<List<Row>> runs) =>
        runs.SelectMany(r => r)
            .GroupBy(r => r.Name, StringComparer.Ordinal)
            .Select(g => new Row(g.Key, g.Max(r => r.Threads), g.Sum(r => r.CpuTicks), g.Sum(r => r.RunNs), g.Sum(r => r.VoluntarySwitches), g.Sum(r => r.InvoluntarySwitches)))
            .OrderByDescending(r => r.CpuTicks)
            .ThenByDescending(r => r.VoluntarySwitches)
            .ToList();

    /// <summary>
    /// ticks (utime + stime), run time (schedstat: exact, where ticks miss short wake-ups), µs per
    /// event (when <paramref name="events"/> &gt; 0), share and wake-ups, one row per thread name.
    /// </summary>
    public static string CpuMarkdown(IReadOnlyList<Row> rows, long events)
    {
        var total = Math.Max(1, rows.Sum(r => r.CpuTicks));
        var totalRun = Math.Max(1, rows.Sum(r => r.RunNs));
        var sb = new StringBuilder();
        sb.AppendLine("| thread (comm) | threads | CPU ticks | run ms (schedstat) | µs/event | share | voluntary switches |");
        sb.AppendLine("|---|---:|---:|---:|---:|---:|---:|");
        foreach (var r in rows.Where(r => r.CpuTicks > 0 || r.VoluntarySwitches > 0))
        {
            var perEvent = events > 0 ? (r.CpuTicks * ProcStat.NsPerTick / 1000 / events).ToString("F2", CultureInfo.InvariantCulture) : "";
            sb.AppendLine(CultureInfo.InvariantCulture, $"| `{r.Name}` | {r.Threads} | {r.CpuTicks} | {r.RunNs / 1e6:F1} | {perEvent} | {100.0 * r.RunNs / totalRun:F0} % | {r.VoluntarySwitches} |");
        }

        sb.AppendLine(CultureInfo.InvariantCulture, $"| total | {rows.Sum(r => r.Threads)} | {rows.Sum(r => r.CpuTicks)} | {rows.Sum(r => r.RunNs) / 1e6:F1} | {(events > 0 ? (total * ProcStat.NsPerTick / 1000 / events).ToString("F2", CultureInfo.InvariantCulture) : "")} | 100 % | {rows.Sum(r => r.VoluntarySwitches)} |");
        return sb.ToString();
    }
}
