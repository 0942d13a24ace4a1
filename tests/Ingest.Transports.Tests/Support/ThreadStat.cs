using System.Globalization;

namespace Ingest.Transports.Tests.Support;

/// <summary>A thread's nice value as the kernel reports it (/proc/.../stat, field 19).</summary>
internal static class ThreadStat
{
    /// <summary>The calling thread's nice value.</summary>
    public static int CurrentNice() => Nice("/proc/thread-self/stat");

    /// <summary>The nice value in a stat file, e.g. /proc/self/task/TID/stat.</summary>
    public static int Nice(string statPath)
    {
        var stat = File.ReadAllText(statPath);

        // The command name (field 2) may hold spaces and parentheses: count fields after its ')'.
        return int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[19 - 3], CultureInfo.InvariantCulture);
    }
}
