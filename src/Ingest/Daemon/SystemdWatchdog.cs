using System.Globalization;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Systemd;

namespace Ingest.Daemon;

/// <summary>
/// Pings systemd's watchdog (WATCHDOG=1) at half of WatchdogSec while <see cref="IngestDaemon.Healthy"/>:
/// a failed pipeline or command path, or a process too wedged to run this timer, stops the pings
/// and systemd restarts the service. Idle unless systemd set WATCHDOG_USEC for this process.
/// </summary>
internal sealed class SystemdWatchdog(IngestDaemon daemon, ISystemdNotifier? notifier = null) : BackgroundService
{
    private static readonly ServiceState Ping = new("WATCHDOG=1");

    /// <summary>The ping period systemd asks for (half its timeout), or null when it asks for none.</summary>
    internal static TimeSpan? Period(string? usec, string? pid, int self)
    {
        if (!long.TryParse(usec, NumberStyles.None, CultureInfo.InvariantCulture, out long us) || us <= 0)
        {
            return null;
        }

        // WATCHDOG_PID names the process systemd expects pings from; a child that inherited it does not ping.
        if (!string.IsNullOrEmpty(pid) && pid != self.ToString(CultureInfo.InvariantCulture))
        {
            return null;
        }

        return TimeSpan.FromMicroseconds(us / 2);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (notifier is not { IsEnabled: true } ||
            Period(Environment.GetEnvironmentVariable("WATCHDOG_USEC"), Environment.GetEnvironmentVariable("WATCHDOG_PID"), Environment.ProcessId) is not { } period)
        {
            return;
        }

        using var timer = new PeriodicTimer(period);
        try
        {
            do
            {
                if (daemon.Healthy)
                {
                    notifier.Notify(Ping);
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
        }
        catch (OperationCanceledException)
        {
            // Stopping: STOPPING=1 is the host's to send.
        }
    }
}
