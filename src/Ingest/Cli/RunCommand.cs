using System.CommandLine;
using System.Globalization;
using Ingest.Configuration;
using Ingest.Daemon;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Systemd;
using Microsoft.Extensions.Logging;

namespace Ingest.Cli;

internal static class RunCommand
{
    public static Command Create()
    {
        var config = new Option<FileInfo?>("--config", "-c") { Description = "JSON configuration file (see docs/configuration.md)." };
        var bootstrap = new Option<string?>("--bootstrap", "-b") { Description = "Kafka bootstrap servers. Without it (and without Kafka:Bootstrap in config or INGEST_KAFKA__BOOTSTRAP), the embedded broker starts in-process." };
        var hostId = new Option<string?>("--host-id") { Description = "Host id: the record key and \"host\" field. Default: the machine's host name; required with commands (machine-id = /etc/machine-id)." };
        var udp = new Option<string[]>("--udp") { Description = "UDP endpoint ip:port to listen on (repeatable). Default 127.0.0.1:5555.", AllowMultipleArgumentsPerToken = false };
        var noUdp = new Option<bool>("--no-udp") { Description = "Do not listen for UDP datagrams." };
        var noProc = new Option<bool>("--no-proc") { Description = "Do not scrape /proc files." };
        var procInterval = new Option<double?>("--proc-interval") { Description = "Seconds between /proc scrapes (default 10)." };
        var statsInterval = new Option<int?>("--stats-interval") { Description = "Seconds between stats lines on stdout; 0 = none (default 10)." };
        var kafkaProperty = new Option<string[]>("--kafka-property", "-X") { Description = "librdkafka producer property name=value, passed through (repeatable)." };
        var set = new Option<string[]>("--set") { Description = "Any configuration key=value, e.g. Pipeline:Batch:LingerMs=5 (repeatable)." };
        var spoolDir = new Option<string?>("--spool-dir") { Description = "Folder of the durable spool (Spool:Directory). Default /var/lib/ingest/spool as root, else $XDG_STATE_HOME/ingest/spool." };
        var verbose = new Option<bool>("--verbose", "-v") { Description = "Debug logging." };

        var command = new Command("run", "Run the daemon: read kernel events and publish them to Kafka until SIGTERM/SIGINT, then flush and exit 0. Prints bootstrap=<servers> as the first line.")
        {
            config, bootstrap, hostId, udp, noUdp, noProc, procInterval, statsInterval, kafkaProperty, spoolDir, set, verbose,
        };

        command.SetAction(async (parse, _) =>
        {
            var overrides = new List<KeyValuePair<string, string?>>();
            void Add(string key, string? value) => overrides.Add(new(key, value));

            if (parse.GetValue(bootstrap) is { } b)
            {
                Add("Kafka:Bootstrap", b);
            }

            if (parse.GetValue(hostId) is { } h)
            {
                Add("HostId", h);
            }

            var endpoints = parse.GetValue(udp) ?? [];
            for (var i = 0; i < endpoints.Length; i++)
            {
                Add($"Udp:Endpoints:{i}", endpoints[i]);
            }

            if (parse.GetValue(noUdp))
            {
                Add("Udp:Enabled", "false");
            }

            if (parse.GetValue(noProc))
            {
                Add("Proc:Enabled", "false");
            }

            if (parse.GetValue(procInterval) is { } pi)
            {
                Add("Proc:IntervalSeconds", pi.ToString(CultureInfo.InvariantCulture));
            }

            if (parse.GetValue(spoolDir) is { } sd)
            {
                Add("Spool:Directory", sd);
            }

            if (parse.GetValue(statsInterval) is { } si)
            {
                Add("Stats:IntervalSeconds", si.ToString(CultureInfo.InvariantCulture));
            }

            try
            {
                foreach (var p in parse.GetValue(kafkaProperty) ?? [])
                {
                    var (name, value) = SplitAssignment(p, "--kafka-property");
                    Add($"Kafka:Properties:{name}", value);
                }

                foreach (var s in parse.GetValue(set) ?? [])
                {
                    var (name, value) = SplitAssignment(s, "--set");
                    Add(name, value);
                }

                var options = ConfigurationLoader.Load(parse.GetValue(config)?.FullName, overrides);
                using var loggers = Logging.Create(parse.GetValue(verbose) ? LogLevel.Debug : LogLevel.Information);
                return await RunHostedAsync(new IngestDaemon(options, loggers, Console.Out), options.ShutdownTimeoutSeconds, loggers);
            }
            catch (ConfigurationException e)
            {
                await Console.Error.WriteLineAsync($"ingest run: {e.Message}");
                return 2;
            }
        });
        return command;
    }

    /// <summary>
    /// Runs the daemon under Microsoft.Extensions.Hosting with systemd integration: Type=notify
    /// readiness once every source is started, STOPPING=1 on shutdown, watchdog pings. SIGTERM
    /// (and SIGINT outside systemd) stops the host, which waits for the daemon's drain and flush.
    /// </summary>
    internal static async Task<int> RunHostedAsync(IngestDaemon daemon, int flushTimeoutSeconds, ILoggerFactory loggers)
    {
        using var host = new HostBuilder()
            .UseSystemd()
            .ConfigureServices(services =>
            {
                services.AddSingleton(loggers);
                services.AddSingleton(daemon);
                services.AddSingleton<DaemonService>();
                services.AddHostedService(sp => sp.GetRequiredService<DaemonService>());
                services.AddHostedService<SystemdWatchdog>();
                // The host must not give up on the daemon's flush: it stops first, then the margin.
                services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(flushTimeoutSeconds + ShutdownMarginSeconds));
                services.Configure<ConsoleLifetimeOptions>(o => o.SuppressStatusMessages = true);
                if (!SystemdHelpers.IsSystemdService() && !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("NOTIFY_SOCKET")))
                {
                    // UseSystemd() only looks at the parent process (systemd itself). A service
                    // manager that set NOTIFY_SOCKET (a wrapper script, NotifyAccess=all, a
                    // supervisor speaking sd_notify) is answered the same way.
                    services.AddSingleton<ISystemdNotifier, SystemdNotifier>();
                    services.AddSingleton<IHostLifetime, SystemdLifetime>();
                }
            })
            .Build();
        var service = host.Services.GetRequiredService<DaemonService>();
        try
        {
            await host.RunAsync();
        }
        catch (DaemonStartException)
        {
        }

        return service.ExitCode;
    }

    /// <summary>Seconds the host waits beyond the daemon's flush timeout before abandoning it.</summary>
    internal const int ShutdownMarginSeconds = 10;

    internal static (string Name, string Value) SplitAssignment(string text, string option)
    {
        var eq = text.IndexOf('=', StringComparison.Ordinal);
        if (eq <= 0)
        {
            throw new ConfigurationException($"{option} expects name=value (got '{text}')");
        }

        return (text[..eq].Trim(), text[(eq + 1)..]);
    }
}
