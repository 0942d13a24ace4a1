using System.CommandLine;
using System.Diagnostics;
using Ingest.Fleet;
using Ingest.Sinks.Kafka;
using Spectre.Console;

namespace Ingest.Cli;

internal static class FleetCommand
{
    public static Command Create()
    {
        var bootstrap = new Option<string?>("--bootstrap", "-b") { Description = "Kafka bootstrap servers (default: INGEST_KAFKA__BOOTSTRAP)." };
        var topic = new Option<string>("--topic", "-t") { Description = "Topic the daemons publish heartbeats to.", DefaultValueFactory = _ => "kernel.events" };
        var hostGlob = new Option<string?>("--host") { Description = "Only hosts matching this glob (* and ?), e.g. 'line3-*'." };
        var sort = new Option<FleetSort>("--sort", "-s") { Description = "Row order: host, seen (silent longest first), events, drops, spool, alarm, cpu, rss.", DefaultValueFactory = _ => FleetSort.Host };
        var once = new Option<bool>("--once") { Description = "Read the recent past up to the topic's current end, print one table (or JSON document) and exit." };
        var json = new Option<bool>("--json") { Description = "Print JSON instead of a table (one document per refresh; with --once, one document)." };
        var since = new Option<double>("--since") { Description = "Seconds of the recent past to read before following.", DefaultValueFactory = _ => 60 };
        var refresh = new Option<double>("--refresh") { Description = "Seconds between two refreshes of the live view.", DefaultValueFactory = _ => 1 };
        var timeout = new Option<double>("--timeout") { Description = "With --once: seconds to wait for the topic and to catch up before printing what is known.", DefaultValueFactory = _ => 15 };
        var limit = new Option<int?>("--limit", "-n") { Description = "Rows shown at most (default: all with --once or --json, else what fits the terminal)." };
        var command = new Command("fleet", "A view of every host that publishes heartbeats: last seen (stale after 3 silent heartbeats), events/s per channel, drops, spool backlog, latest sensor alarm, last command outcome. Reads the recent past of the topic, then follows it.")
        {
            bootstrap, topic, hostGlob, sort, once, json, since, refresh, timeout, limit,
        };
        command.SetAction(async (parse, _) =>
        {
            var servers = parse.GetValue(bootstrap) ?? Environment.GetEnvironmentVariable("INGEST_KAFKA__BOOTSTRAP");
            if (string.IsNullOrWhiteSpace(servers))
            {
                await Console.Error.WriteLineAsync("ingest fleet: --bootstrap is required");
                return 2;
            }

            var refreshEvery = TimeSpan.FromSeconds(parse.GetValue(refresh));
            if (refreshEvery <= TimeSpan.Zero || parse.GetValue(since) < 0)
            {
                await Console.Error.WriteLineAsync("ingest fleet: --refresh must be positive and --since not negative");
                return 2;
            }

            var asJson = parse.GetValue(json);
            var oneShot = parse.GetValue(once);
            var rows = parse.GetValue(limit);
            if (rows is null && !oneShot && !asJson)
            {
                // The title, header, caption and borders take about 7 lines.
                rows = Math.Max(5, (Console.IsOutputRedirected ? 50 : Console.WindowHeight) - 7);
            }

            if (Console.IsOutputRedirected)
            {
                // A table written to a file or pipe is not cut to 80 columns.
                AnsiConsole.Profile.Width = 200;
            }

            var query = new FleetQuery { HostGlob = parse.GetValue(hostGlob), Sort = parse.GetValue(sort), Limit = rows };
            var state = new FleetState();
            using var shutdown = new Shutdown();
            using var reader = new KafkaRecentReader(servers, parse.GetValue(topic)!, DateTimeOffset.UtcNow.AddSeconds(-parse.GetValue(since)));
            if (oneShot)
            {
                var deadline = Stopwatch.StartNew();
                var limitWait = TimeSpan.FromSeconds(parse.GetValue(timeout));
                while (!shutdown.Token.IsCancellationRequested && !reader.CaughtUp && deadline.Elapsed < limitWait)
                {
                    Drain(reader, state, TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(200));
                }

                if (!reader.CaughtUp)
                {
                    await Console.Error.WriteLineAsync(reader.Assigned
                        ? $"ingest fleet: not caught up with the topic after {limitWait.TotalSeconds} s; printing what was read"
                        : $"ingest fleet: topic not found within {limitWait.TotalSeconds} s (no daemon has published yet?)");
                }

                Print(state, query, asJson);
                return 0;
            }

            if (asJson)
            {
                while (!shutdown.Token.IsCancellationRequested)
                {
                    Drain(reader, state, refreshEvery, TimeSpan.FromMilliseconds(100));
                    Print(state, query, asJson: true);
                }

                return 0;
            }

            var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            await AnsiConsole.Live(FleetTable.Build(state, query.Select(state.Hosts, now), now, query))
                .AutoClear(false)
                .StartAsync(async ctx =>
                {
                    while (!shutdown.Token.IsCancellationRequested)
                    {
                        await Task.Run(() => Drain(reader, state, refreshEvery, TimeSpan.FromMilliseconds(100)));
                        var at = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
                        ctx.UpdateTarget(FleetTable.Build(state, query.Select(state.Hosts, at), at, query));
                        ctx.Refresh();
                    }
                });
            return 0;
        });
        return command;
    }

    /// <summary>Applies every record that arrives within <paramref name="duration"/>.</summary>
    private static void Drain(KafkaRecentReader reader, FleetState state, TimeSpan duration, TimeSpan poll)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < duration)
        {
            var record = reader.Read(poll);
            if (record is not null)
            {
                state.Apply(record.Value);
            }
            else if (reader.CaughtUp && duration <= poll)
            {
                return;
            }
        }
    }

    private static void Print(FleetState state, FleetQuery query, bool asJson)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var rows = query.Select(state.Hosts, now);
        if (asJson)
        {
            using var stdout = Console.OpenStandardOutput();
            FleetJson.Write(stdout, state, rows, now);
            stdout.Write("\n"u8);
            stdout.Flush();
        }
        else
        {
            AnsiConsole.Write(FleetTable.Build(state, rows, now, query));
        }
    }
}
