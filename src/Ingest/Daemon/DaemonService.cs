using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Systemd;
using Microsoft.Extensions.Logging;

namespace Ingest.Daemon;

/// <summary>
/// <see cref="IngestDaemon"/> as the host's one hosted service. <see cref="StartAsync"/> returns
/// once every source is started, so the host's ApplicationStarted (and with it systemd's
/// READY=1) means ready; <see cref="StopAsync"/> cancels the daemon and waits for its drain and
/// flush, which the host's shutdown timeout is set to outlast.
/// </summary>
internal sealed class DaemonService(IngestDaemon daemon, IHostApplicationLifetime lifetime, ILoggerFactory loggers, ISystemdNotifier? notifier = null) : IHostedService
{
    private readonly CancellationTokenSource _stopping = new();
    private readonly ILogger _logger = loggers.CreateLogger("ingest");
    private Task<int>? _run;

    /// <summary>The daemon's exit code once it has returned (1 if it threw).</summary>
    public int ExitCode => _run is { IsCompletedSuccessfully: true } run ? run.Result : 1;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        _run = Task.Run(() => daemon.RunAsync(_stopping.Token), CancellationToken.None);
        _ = _run.ContinueWith(
            t =>
            {
                if (t.Exception is { } e)
                {
                    _logger.LogError("{Message}", e.InnerException?.Message);
                }

                // The daemon returned by itself (bad configuration, a failed pipeline): end the host.
                lifetime.StopApplication();
            },
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);

        // A SIGTERM during start-up cancels the wait; StopAsync then stops the daemon.
        var cancelled = Task.Delay(Timeout.Infinite, cancellationToken);
        var first = await Task.WhenAny(daemon.Started, _run, cancelled).ConfigureAwait(false);

        // Checked whichever task won: a daemon that returned at once also stopped the host, which
        // cancels this wait; the start must fail then, or the host would still report READY=1.
        if (_run.IsCompleted)
        {
            // It never started: no READY=1. The daemon has logged why; RunCommand returns ExitCode.
            throw new DaemonStartException();
        }

        if (first == daemon.Started && notifier is { IsEnabled: true })
        {
            notifier.Notify(new ServiceState($"STATUS=running {daemon.Started.Result} source(s)"));
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_stopping.IsCancellationRequested)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_run is not null)
        {
            // Not cut short by cancellationToken: the host's ShutdownTimeout exceeds the flush timeout.
            await ((Task)_run).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

    }
}

/// <summary>The daemon returned before its sources started; its exit code is <see cref="DaemonService.ExitCode"/>.</summary>
internal sealed class DaemonStartException() : Exception("the daemon did not start");
