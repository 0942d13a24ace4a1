using System.ComponentModel;
using System.Globalization;
using System.Runtime.InteropServices;

namespace Ingest.Bench.Support;

/// <summary>One thread's counters from /proc/PID/task/TID: name, CPU and how often it slept.</summary>
/// <param name="Tid">Thread id.</param>
/// <param name="Name">comm: the thread's name, cut to 15 bytes by the kernel.</param>
/// <param name="CpuTicks">utime + stime, in clock ticks (<see cref="ProcStat.TicksPerSecond"/>).</param>
/// <param name="RunNs">Time on a CPU (schedstat), in nanoseconds.</param>
/// <param name="VoluntarySwitches">Times the thread blocked: each is a later wake-up.</param>
/// <param name="InvoluntarySwitches">Times the scheduler preempted it.</param>
internal sealed record ThreadSample(int Tid, string Name, long CpuTicks, long RunNs, long VoluntarySwitches, long InvoluntarySwitches);

/// <summary>
/// Reads a process's CPU, memory and per-thread counters from /proc, as an operator would
/// (`ps`, `top -H`). Reads race with threads that end: a vanished thread is skipped.
/// </summary>
internal static partial class ProcStat
{
    /// <summary>USER_HZ: the unit of utime/stime, 100 on every Linux ABI the daemon runs on.</summary>
    public const int TicksPerSecond = 100;

    public const double NsPerTick = 1e9 / TicksPerSecond;

    /// <summary>utime + stime of the whole process (threads that ended included), in ticks.</summary>
    public static long CpuTicks(int pid)
    {
        var fields = StatFields(File.ReadAllText($"/proc/{pid}/stat"), out _);
        return long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// CPU time of the whole process in nanoseconds, threads that ended included: the process's
    /// CPU-time clock (clock_getcpuclockid(3); the kernel's exact run time, as schedstat counts it).
    /// utime + stime count the same time in 10 ms ticks, too coarse for an idle daemon's 60 ms a
    /// minute; schedstat per thread is exact but misses the thread-pool workers that ended.
    /// </summary>
    public static long CpuNs(int pid)
    {
        // MAKE_PROCESS_CPUCLOCK(pid, CPUCLOCK_SCHED) from the kernel's posix-timers.h, which is
        // what glibc's clock_getcpuclockid returns; any user may read it for any process.
        var clock = (~pid << 3) | 2;
        if (clock_gettime(clock, out var ts) != 0)
        {
            throw new Win32Exception(Marshal.GetLastPInvokeError(), $"the CPU clock of process {pid}");
        }

        return (ts.Seconds * 1_000_000_000) + ts.Nanoseconds;
    }

    /// <summary>Resident set size now (VmRSS), in bytes.</summary>
    public static long RssBytes(int pid) => StatusKilobytes($"/proc/{pid}/status", "VmRSS:") * 1024;

    /// <summary>Peak resident set size (VmHWM), in bytes.</summary>
    public static long PeakRssBytes(int pid) => StatusKilobytes($"/proc/{pid}/status", "VmHWM:") * 1024;

    public static int ThreadCount(int pid) => Directory.GetDirectories($"/proc/{pid}/task").Length;

    public static List<ThreadSample> Threads(int pid)
    {
        var threads = new List<ThreadSample>();
        foreach (var task in Directory.EnumerateDirectories($"/proc/{pid}/task"))
        {
            try
            {
                var fields = StatFields(File.ReadAllText(Path.Combine(task, "stat")), out var name);
                var schedstat = File.ReadAllText(Path.Combine(task, "schedstat"));
                long voluntary = 0, involuntary = 0;
                foreach (var line in File.ReadLines(Path.Combine(task, "status")))
                {
                    if (line.StartsWith("voluntary_ctxt_switches:", StringComparison.Ordinal))
                    {
                        voluntary = long.Parse(line.AsSpan(line.IndexOf(':') + 1).Trim(), CultureInfo.InvariantCulture);
                    }
                    else if (line.StartsWith("nonvoluntary_ctxt_switches:", StringComparison.Ordinal))
                    {
                        involuntary = long.Parse(line.AsSpan(line.IndexOf(':') + 1).Trim(), CultureInfo.InvariantCulture);
                    }
                }

                threads.Add(new ThreadSample(
                    int.Parse(Path.GetFileName(task), CultureInfo.InvariantCulture),
                    name,
                    long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture),
                    long.Parse(schedstat.AsSpan(0, schedstat.IndexOf(' ')), CultureInfo.InvariantCulture),
                    voluntary,
                    involuntary));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // the thread ended between listing and reading
            }
        }

        return threads;
    }

    /// <summary>The fields after "(comm)": index 0 is field 3 (state), 11 utime, 12 stime (proc(5)).</summary>
    private static string[] StatFields(string stat, out string name)
    {
        // comm may hold spaces and parentheses: it ends at the last ')'.
        var open = stat.IndexOf('(', StringComparison.Ordinal);
        var close = stat.LastIndexOf(')');
        name = stat[(open + 1)..close];
        return stat[(close + 2)..].Split(' ');
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int clock_gettime(int clockId, out Timespec ts);

    [StructLayout(LayoutKind.Sequential)]
    private struct Timespec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    private static long StatusKilobytes(string path, string key)
    {
        foreach (var line in File.ReadLines(path))
        {
            if (line.StartsWith(key, StringComparison.Ordinal))
            {
                return long.Parse(line.AsSpan(key.Length).Trim().TrimEnd("kB").Trim(), CultureInfo.InvariantCulture);
            }
        }

        return 0;
    }
}
