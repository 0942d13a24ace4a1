using System.Diagnostics;
using System.Runtime.InteropServices;
using Ingest.Bench.Signals;
using Ingest.Testing;
using Ingest.Transports.Interop;
using Ingest.Transports.Upcall;
using Tmds.Linux;

namespace Ingest.Bench.Upcall;

/// <summary>
/// Upcall helper cost: spawns the real helper (static and dynamic builds) with the module's argv and
/// envp, one at a time with posix_spawn + waitpid, against the real UpcallSource. Reports the
/// helper's start-to-exit time, spawn-to-event-delivered time, and start-to-exit when no daemon
/// listens (the module's failure path).
/// </summary>
internal sealed class UpcallLatencyBenchmark : IBenchmark
{
    private const int SpawnsPerRun = 300;

    public string Name => "upcall";

    public string Description => $"upcall helper: {SpawnsPerRun} spawns per build, start-to-exit and spawn-to-event";

    public async Task RunAsync(BenchContext context, CancellationToken cancellationToken)
    {
        var work = Directory.CreateTempSubdirectory("ingest-bench-upcall-").FullName;
        try
        {
            var helpers = new (string Build, string Path)[]
            {
                ("static", BuildHelper(context, work, isStatic: true)),
                ("dynamic", BuildHelper(context, work, isStatic: false)),
            };
            foreach (var (build, path) in helpers)
            {
                var samples = await context.RepeatAsync($"upcall {build}", _ => RunOnceAsync(path, work, cancellationToken));
                context.Report.Add("upcall", $"{build} helper start-to-exit", BenchContext.Median(samples.Select(s => s.ExitMedian)), "µs", "median");
                context.Report.Add("upcall", $"{build} helper start-to-exit", BenchContext.Median(samples.Select(s => s.ExitP99)), "µs", "p99");
                context.Report.Add("upcall", $"{build} spawn-to-event", BenchContext.Median(samples.Select(s => s.EventMedian)), "µs", "median");
                context.Report.Add("upcall", $"{build} spawn-to-event", BenchContext.Median(samples.Select(s => s.EventP99)), "µs", "p99");
                context.Report.Add("upcall", $"{build} no daemon start-to-exit", BenchContext.Median(samples.Select(s => s.AbsentMedian)), "µs", "median, exit 2");
            }
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private static async Task<Sample> RunOnceAsync(string helper, string work, CancellationToken cancellationToken)
    {
        var socket = Path.Combine(work, "upcall.sock");
        long delivered = 0;
        var writer = new CountingEventWriter { OnEvent = t => Volatile.Write(ref delivered, t) };
        var source = new UpcallSource(new UpcallSourceOptions { SocketPath = socket });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var run = source.RunAsync(writer, stop.Token);
        await source.Ready;

        var exit = new double[SpawnsPerRun];
        var toEvent = new double[SpawnsPerRun];
        var absent = new double[SpawnsPerRun];
        using (var spawn = new HelperCommand(helper, socket))
        {
            for (var i = 0; i < SpawnsPerRun; i++)
            {
                var start = Stopwatch.GetTimestamp();
                Expect(0, spawn.Run());
                exit[i] = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
                var deadline = Stopwatch.GetTimestamp() + Stopwatch.Frequency * 10;
                while (writer.Count <= i && Stopwatch.GetTimestamp() < deadline)
                {
                    Thread.SpinWait(20);
                }

                Expect(i + 1, (int)writer.Count);
                toEvent[i] = Stopwatch.GetElapsedTime(start, Volatile.Read(ref delivered)).TotalMicroseconds;
            }
        }

        await stop.CancelAsync();
        await run;

        using (var spawn = new HelperCommand(helper, Path.Combine(work, "absent.sock")))
        {
            for (var i = 0; i < SpawnsPerRun; i++)
            {
                var start = Stopwatch.GetTimestamp();
                Expect(2, spawn.Run());
                absent[i] = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
            }
        }

        return new Sample(Percentile(exit, 0.5), Percentile(exit, 0.99), Percentile(toEvent, 0.5), Percentile(toEvent, 0.99), Percentile(absent, 0.5));
    }

    private static void Expect(int expected, int actual)
    {
        if (expected != actual)
        {
            throw new InvalidOperationException($"expected {expected}, got {actual}");
        }
    }

    private static double Percentile(double[] values, double p)
    {
        var sorted = values.Order().ToArray();
        return sorted[(int)Math.Min(sorted.Length - 1, Math.Ceiling(p * sorted.Length) - 1)];
    }

    private static string BuildHelper(BenchContext context, string work, bool isStatic)
    {
        var output = Path.Combine(work, isStatic ? "static" : "dynamic");
        var make = Process.Start(new ProcessStartInfo("make", ["-s", "-C", Path.Combine(context.RepoRoot, "src/Ingest.Transports/Upcall/helper"), $"OUT={output}", $"STATIC={(isStatic ? 1 : 0)}"]))!;
        make.WaitForExit();
        if (make.ExitCode != 0)
        {
            throw new InvalidOperationException("building the upcall helper failed");
        }

        return Path.Combine(output, "ingest-upcall");
    }

    private sealed record Sample(double ExitMedian, double ExitP99, double EventMedian, double EventP99, double AbsentMedian);

    /// <summary>The module's argv and envp for one sensor event, in native memory, spawned with posix_spawn.</summary>
    private sealed unsafe class HelperCommand : IDisposable
    {
        private readonly List<nint> _strings = [];
        private readonly byte** _argv;
        private readonly byte** _envp;

        public HelperCommand(string helper, string socket)
        {
            _argv = Array([helper, "event", "1", "42", "1700000000000000000", "000000001c4a0000d0070000"]);
            _envp = Array([
                "HOME=/", "PATH=/sbin:/bin:/usr/sbin:/usr/bin", "KINGEST_TYPE=1", "KINGEST_SEQ=42",
                "KINGEST_TS_NS=1700000000000000000", "KINGEST_LEN=16", "KINGEST_TRUNCATED=0",
                "KINGEST_PAYLOAD=000000001c4a0000d0070000", $"INGEST_UPCALL_SOCKET={socket}"]);
        }

        /// <summary>Spawns the helper and waits for it; returns its exit status.</summary>
        public int Run()
        {
            int pid, status;
            var error = Sys.posix_spawn(&pid, _argv[0], null, null, _argv, _envp);
            if (error != 0)
            {
                throw new ErrnoException("posix_spawn", error);
            }

            while (Sys.waitpid(pid, &status, 0) < 0)
            {
                if (Sys.LastErrno != LibC.EINTR)
                {
                    throw new ErrnoException("waitpid", Sys.LastErrno);
                }
            }

            return (status & 0x7f) == 0 ? (status >> 8) & 0xff : -1;
        }

        public void Dispose()
        {
            foreach (var s in _strings)
            {
                Marshal.FreeCoTaskMem(s);
            }

            NativeMemory.Free(_argv);
            NativeMemory.Free(_envp);
        }

        private byte** Array(string[] values)
        {
            var array = (byte**)NativeMemory.AllocZeroed((nuint)(values.Length + 1), (nuint)sizeof(byte*));
            for (var i = 0; i < values.Length; i++)
            {
                var s = Marshal.StringToCoTaskMemUTF8(values[i]);
                _strings.Add(s);
                array[i] = (byte*)s;
            }

            return array;
        }
    }
}
