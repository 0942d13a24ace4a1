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

    /// <summary>The daemon's exit code once it has returned.</summary>
    public int ExitCode { get; private set; }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        _run = Task.Run(() => daemon.RunAsync(_stopping.Token), CancellationToken.None);
        _ = _run.ContinueWith(
            t =>
            {
                ExitCode = t.IsCompletedSuccessfully ? t.Result : 1;
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
        if (first == _run)
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
