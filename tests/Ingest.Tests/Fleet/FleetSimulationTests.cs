using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Ingest.Tests.Fleet;

[CollectionDefinition(nameof(FleetSimulationCollection), DisableParallelization = true)]
public sealed class FleetSimulationCollection;

/// <summary>
/// Issue 13's fleet simulation: 50 real daemons, each in its own network namespace, one broker,
/// `ingest fleet` and `ingest send` as an operator runs them. The heartbeat interval is 3 s (not
/// the default 10) so the whole scenario fits in about two minutes. Fifty daemons saturate two
/// cores for a while: run alone, so neither they nor the timing-sensitive daemon tests beside them
/// fail for want of CPU.
/// </summary>
[Collection(nameof(FleetSimulationCollection))]
public partial class FleetSimulationTests
{
    private const int Hosts = 50;
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(3);

    [Fact]
    public async Task Fifty_hosts_are_seen_commanded_and_the_killed_ones_named()
    {
        if (SimulatedFleet.Unavailable is { } why)
        {
            Assert.Skip(why);
        }

        var ct = TestContext.Current.CancellationToken;
        await using var fleet = await SimulatedFleet.StartAsync(Hosts, Interval, readyTimeout: TimeSpan.FromMinutes(3));
        var hostsFile = Path.Combine(fleet.Root, "hosts.txt");
        await File.WriteAllLinesAsync(hostsFile, ["# the whole fleet", .. fleet.Hosts], ct);

        // Every host appears within 2 heartbeats of the last daemon being up: a view started then
        // reads the topic up to its end at that moment.
        await Task.Delay(2 * Interval, ct);
        var view = await fleet.ViewAsync();
        Assert.Equal(fleet.Hosts.Order(), view.Keys.Order());
        Assert.DoesNotContain(view, h => h.Value);

        // --dry-run lists the targets and sends nothing.
        var dry = await fleet.SendAsync("--hosts-file", hostsFile, "--sysctl", $"{SimulatedFleet.Sysctl}=4321", "--dry-run");
        Assert.True(dry.ExitCode == 0, dry.Stderr);
        Assert.Equal(fleet.Hosts.Select(h => $"target {h}"), dry.StdoutText.Split('\n').Where(l => l.StartsWith("target ", StringComparison.Ordinal)));

        // A fleet command to all 50: 50 `applied` within 10 s, each write in its host's namespace.
        var first = await fleet.SendAsync("--hosts-file", hostsFile, "--sysctl", $"{SimulatedFleet.Sysctl}=1234", "--timeout", "10");
        Assert.True(first.ExitCode == 0, $"exit {first.ExitCode}: {first.StdoutText} {first.Stderr}");
        var lines = first.StdoutText.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(fleet.Hosts.Order(), lines.Where(l => l.StartsWith("applied ", StringComparison.Ordinal)).Select(l => HostOf().Match(l).Groups[1].Value).Order());
        var summary = Assert.Single(lines, l => l.StartsWith("summary: ", StringComparison.Ordinal));
        TestContext.Current.TestOutputHelper?.WriteLine($"first fleet command: {summary}");
        Assert.Contains($"{Hosts} applied, 0 refused or failed, 0 timed out, of {Hosts} host(s)", summary, StringComparison.Ordinal);
        Assert.True(double.Parse(SecondsOf().Match(summary).Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) <= 10, summary);
        Assert.All(fleet.Hosts, h => Assert.Equal("1234", fleet.SysctlValue(h)));

        // SIGKILL 5: exactly those 5 are stale within 3 heartbeats (stale = silent for more than
        // 3 intervals; the last heartbeat can be up to one interval before the kill).
        string[] killed = ["fleet-03", "fleet-14", "fleet-25", "fleet-36", "fleet-47"];
        fleet.Kill(killed);
        var clock = Stopwatch.StartNew();
        var deadline = (4 * Interval) + TimeSpan.FromSeconds(20);
        string[] stale;
        while (true)
        {
            view = await fleet.ViewAsync();
            stale = [.. view.Where(h => h.Value).Select(h => h.Key).Order()];
            if (stale.SequenceEqual(killed) || clock.Elapsed > deadline)
            {
                break;
            }

            await Task.Delay(500, ct);
        }

        TestContext.Current.TestOutputHelper?.WriteLine($"stale {string.Join(' ', stale)} after {clock.Elapsed.TotalSeconds:0.0} s (interval {Interval.TotalSeconds} s)");
        Assert.Equal(killed, stale);
        Assert.Equal(Hosts, view.Count);
        Assert.True(clock.Elapsed <= deadline, $"stale after {clock.Elapsed.TotalSeconds:0.0} s");

        // The hosts seen in the last minute still include the 5: the command to them times out,
        // exit 3, naming exactly them; the 45 others apply it.
        var second = await fleet.SendAsync("--hosts-seen", "fleet-*", "--sysctl", $"{SimulatedFleet.Sysctl}=2345", "--timeout", "5");
        Assert.True(second.ExitCode == 3, $"exit {second.ExitCode}: {second.StdoutText} {second.Stderr}");
        lines = second.StdoutText.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        TestContext.Current.TestOutputHelper?.WriteLine($"second fleet command (exit {second.ExitCode}): {string.Join(" | ", lines.Where(l => !l.StartsWith("applied ", StringComparison.Ordinal)))}");
        Assert.Equal($"timed out: {string.Join(' ', killed)}", Assert.Single(lines, l => l.StartsWith("timed out: ", StringComparison.Ordinal)));
        Assert.Contains($"{Hosts - killed.Length} applied, 0 refused or failed, {killed.Length} timed out, of {Hosts} host(s)", Assert.Single(lines, l => l.StartsWith("summary: ", StringComparison.Ordinal)), StringComparison.Ordinal);
        Assert.All(fleet.Hosts, h => Assert.Equal(killed.Contains(h) ? "1234" : "2345", fleet.SysctlValue(h)));
    }

    [GeneratedRegex(@"host=(\S+)")]
    private static partial Regex HostOf();

    [GeneratedRegex(@" in ([0-9.]+) s")]
    private static partial Regex SecondsOf();
}
