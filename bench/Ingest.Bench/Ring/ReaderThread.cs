using System.Globalization;

namespace Ingest.Bench.Ring;

/// <summary>
/// The ring source's reader thread in /proc/self/task (named "ring ..." by SourceThread) and the
/// CPU time it used: schedstat's nanoseconds on CPU, or utime + stime in clock ticks without it.
/// </summary>
internal sealed class ReaderThread
{
    private readonly string _task;

    private ReaderThread(string task) => _task = task;

    public static ReaderThread Find()
    {
        foreach (string task in Directory.GetDirectories("/proc/self/task"))
        {
            string comm;
            try
            {
                comm = File.ReadAllText(Path.Combine(task, "comm")).Trim();
            }
            catch (IOException)
            {
                continue;
            }

            if (comm.StartsWith("ring ", StringComparison.Ordinal))
            {
                return new ReaderThread(task);
            }
        }

        throw new InvalidOperationException("no \"ring ...\" thread in /proc/self/task");
    }

    public long CpuNs()
    {
        string schedstat = Path.Combine(_task, "schedstat");
        if (File.Exists(schedstat))
        {
            return long.Parse(File.ReadAllText(schedstat).Split(' ')[0], CultureInfo.InvariantCulture);
        }

        // stat: fields after the ")" of comm; utime and stime are fields 14 and 15 (1-based).
        string stat = File.ReadAllText(Path.Combine(_task, "stat"));
        string[] rest = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        long ticks = long.Parse(rest[11], CultureInfo.InvariantCulture) + long.Parse(rest[12], CultureInfo.InvariantCulture);
        return ticks * 10_000_000;
    }
}
