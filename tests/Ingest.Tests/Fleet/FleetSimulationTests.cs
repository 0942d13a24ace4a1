using System.Diagnostics;

namespace Ingest.Tests.Fleet;

/// <summary>
/// Issue 13's fleet simulation: 50 real daemons, one broker, `ingest fleet` as an operator runs it.
/// The heartbeat interval is 3 s (not the default 10) so the test fits in about a minute.
/// </summary>
public class FleetSimulationTests
{
    private const int Hosts = 50;
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(3);

    [Fact]
    public async Task Fifty_hosts_appear_and_exactly_the_killed_ones_go_stale()
    {
        await using var fleet = await SimulatedFleet.StartAsync(Hosts, Interval, readyTimeout: TimeSpan.FromMinutes(3));

        // Every host appears within 2 heartbeats of the last daemon being up: a view started then
        // reads the topic up to its end at that moment.
        await Task.Delay(2 * Interval, TestContext.Current.CancellationToken);
        var view = await fleet.ViewAsync();
        Assert.Equal(fleet.Hosts.Order(), view.Keys.Order());
        Assert.DoesNotContain(view, h => h.Value);

        // SIGKILL 5: exactly those 5 are stale within 3 heartbeats (stale = silent for more than
        // 3 intervals, and the last heartbeat can be up to one interval before the kill).
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

            await Task.Delay(500, TestContext.Current.CancellationToken);
        }

        Assert.Equal(killed, stale);
        Assert.Equal(Hosts, view.Count);
        Assert.True(clock.Elapsed <= deadline, $"stale after {clock.Elapsed.TotalSeconds:0.0} s");
    }
}
