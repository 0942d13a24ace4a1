namespace Ingest.Heartbeat;

/// <summary>
/// The daemon's own resident memory and CPU time, and CPU use between two samples
/// (100 = one core busy). Sampled once per heartbeat.
/// </summary>
internal sealed class ProcessUsage
{
    private TimeSpan _lastCpu;
    private long _lastTicks;

    public ProcessUsage()
    {
        _lastCpu = Environment.CpuUsage.TotalTime;
        _lastTicks = Environment.TickCount64;
    }

    public long RssBytes { get; private set; }

    public double CpuSeconds { get; private set; }

    public double CpuPercent { get; private set; }

    public void Sample()
    {
        // Environment.WorkingSet is VmRSS on Linux.
        RssBytes = Environment.WorkingSet;
        var cpu = Environment.CpuUsage.TotalTime;
        var ticks = Environment.TickCount64;
        var elapsedMs = ticks - _lastTicks;
        CpuSeconds = cpu.TotalSeconds;
        CpuPercent = elapsedMs > 0 ? Math.Round((cpu - _lastCpu).TotalMilliseconds * 100 / elapsedMs, 2) : 0;
        _lastCpu = cpu;
        _lastTicks = ticks;
    }
}
