using System.Diagnostics;
using Ingest.Testing;
using Ingest.Transports.Interop;
using Ingest.Transports.Signals;
using Tmds.Linux;

namespace Ingest.Bench.Signals;

/// <summary>
/// signalfd rate: one sender thread queues RT signals to the source's reader thread with
/// rt_tgsigqueueinfo as fast as it can (retrying on EAGAIN when the RT queue is full); the real
/// SignalSource reads them into a counting writer. Rate = signals / (first send .. last event).
/// </summary>
internal sealed class SignalRateBenchmark : IBenchmark
{
    private const int SignalsPerRun = 200_000;

    public string Name => "signals";

    public string Description => $"RT signal source: {SignalsPerRun:N0} thread-directed signals through signalfd";

    public async Task RunAsync(BenchContext context, CancellationToken cancellationToken)
    {
        var retries = new List<double>();
        var rates = await context.RepeatAsync("signals", async _ =>
        {
            var (rate, eagain) = await RunOnceAsync(cancellationToken);
            retries.Add(eagain);
            return rate;
        });

        context.Report.Add("signals", "signalfd rate", BenchContext.Median(rates), "signals/s", $"1 sender thread, {SignalsPerRun:N0} per run");
        context.Report.Add("signals", "sender EAGAIN retries", BenchContext.Median(retries), "per run", "RT queue full: sender waits");
    }

    private static async Task<(double Rate, double Retries)> RunOnceAsync(CancellationToken cancellationToken)
    {
        var writer = new CountingEventWriter();
        var source = new SignalSource(new SignalSourceOptions { ThreadIdFile = null });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var run = source.RunAsync(writer, stop.Token);
        await source.Ready;

        long retries = 0;
        var start = Stopwatch.GetTimestamp();
        var sender = new Thread(() =>
        {
            for (var i = 0; i < SignalsPerRun; i++)
            {
                while (RealtimeSignal.TryQueue(source.ProcessId, source.ThreadId, RealtimeSignal.Default, i) == LibC.EAGAIN)
                {
                    retries++;
                    Thread.Yield();
                }
            }
        });
        sender.Start();
        sender.Join();
        var deadline = Stopwatch.GetTimestamp() + Stopwatch.Frequency * 30;
        while (writer.Count < SignalsPerRun && Stopwatch.GetTimestamp() < deadline)
        {
            await Task.Delay(1, cancellationToken);
        }

        var seconds = Stopwatch.GetElapsedTime(start, writer.LastEndTimestamp).TotalSeconds;
        await stop.CancelAsync();
        await run;
        if (writer.Count != SignalsPerRun)
        {
            throw new InvalidOperationException($"sent {SignalsPerRun} signals, {writer.Count} arrived");
        }

        return (SignalsPerRun / seconds, retries);
    }
}
