using Ingest.Transports.Signals;

namespace Ingest.Transports.TestHost;

/// <summary>Runs a <see cref="SignalSource"/> in this process and reports it on stdout.</summary>
internal static class SignalHost
{
    public static async Task<int> RunAsync(int signo)
    {
        var source = new SignalSource(new SignalSourceOptions { Signals = [signo], ThreadIdFile = null });
        using var stop = new CancellationTokenSource();
        var run = source.RunAsync(new LineEventWriter(Console.Out), stop.Token);
        await source.Ready;
        Console.WriteLine($"ready {source.ProcessId} {source.ThreadId}");
        await Task.Run(Console.In.ReadToEnd);
        await stop.CancelAsync();
        await run;
        Console.WriteLine($"stopped received={source.Counters["received"].Value} denied_sender={source.Counters["denied_sender"].Value}");
        return 0;
    }
}
