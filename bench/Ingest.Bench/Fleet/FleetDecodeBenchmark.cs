using System.Diagnostics;
using Ingest.Fleet;

namespace Ingest.Bench.Fleet;

/// <summary>
/// The fleet view's reading cost alone, on one thread: real heartbeat records of 10,000 hosts
/// applied to <see cref="FleetState"/> round after round. 10,000 hosts at the default 10 s
/// interval publish 1,000 heartbeats/s; the ratio says how far one core is from that.
/// </summary>
public sealed class FleetDecodeBenchmark : IBenchmark
{
    private const int Hosts = 10_000;
    private const int Rounds = 50;

    public string Name => "fleet-decode";

    public string Description => $"FleetState.Apply on {Hosts:N0} hosts' heartbeat records, one thread";

    public async Task RunAsync(BenchContext context, CancellationToken cancellationToken)
    {
        var template = await HeartbeatRecords.TemplateEventAsync().ConfigureAwait(false);
        var nowNs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1_000_000;
        var records = Enumerable.Range(0, Hosts)
            .Select(i => HeartbeatRecords.For($"sensor-{i:D6}", HeartbeatRecords.WithTimestamp(template, nowNs + i)))
            .ToArray();
        var samples = await context.RepeatAsync("fleet-decode", _ => Task.FromResult(Once(records))).ConfigureAwait(false);
        var perSecond = BenchContext.Median(samples.Select(s => s.PerSecond));
        context.Report.Add("fleet-decode", "heartbeats applied", perSecond, "records/s", $"{records[0].Length} B each; {perSecond / (Hosts / 10.0):N0}x the 1,000/s of 10,000 hosts at 10 s");
        context.Report.Add("fleet-decode", "time per heartbeat", BenchContext.Median(samples.Select(s => 1e9 / s.PerSecond)), "ns");
        context.Report.Add("fleet-decode", "allocated per heartbeat (known host)", BenchContext.Median(samples.Select(s => s.BytesPerRecord)), "B");
    }

    private static (double PerSecond, double BytesPerRecord) Once(byte[][] records)
    {
        var state = new FleetState();
        foreach (var r in records)
        {
            state.Apply(r);
        }

        var allocated = GC.GetAllocatedBytesForCurrentThread();
        var clock = Stopwatch.StartNew();
        for (var round = 0; round < Rounds; round++)
        {
            foreach (var r in records)
            {
                state.Apply(r);
            }
        }

        var elapsed = clock.Elapsed.TotalSeconds;
        var count = (double)Rounds * records.Length;
        if (state.Hosts.Count != Hosts || state.Malformed != 0)
        {
            throw new InvalidOperationException($"fleet-decode: {state.Hosts.Count} hosts, {state.Malformed} malformed");
        }

        return (count / elapsed, (GC.GetAllocatedBytesForCurrentThread() - allocated) / count);
    }
}
