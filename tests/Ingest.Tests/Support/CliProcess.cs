using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Ingest.Tests.Support;

/// <summary>
/// The real `ingest` executable, as `make build` publishes it (NativeAOT, out/ingest/ingest), as a
/// child process: lines of stdout are collected as they come, and it can be sent SIGTERM like a
/// service manager would.
/// </summary>
internal sealed partial class CliProcess : IDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _stdout = new();
    private readonly System.Text.StringBuilder _stderr = new();

    private CliProcess(Process process)
    {
        _process = process;
        _process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                _stdout.Enqueue(e.Data);
            }
        };
        _process.ErrorDataReceived += (_, e) =>
        {
            lock (_stderr)
            {
                _stderr.AppendLine(e.Data);
            }
        };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    private static readonly Lazy<string> Published = new(() =>
    {
        string path = Path.Combine(Telemetry.IngestMetricsTests.RepoRoot(), "out", "ingest", "ingest");
        return File.Exists(path)
            ? path
            : throw new InvalidOperationException($"{path} is missing: run `make build` first (tests that spawn the CLI run the published NativeAOT executable, as shipped)");
    });

    /// <summary>
    /// The published executable (`make build`; `make test-dotnet` builds it first), not the JIT
    /// apphost beside the tests: what ships, what the guest and the benchmarks run.
    /// </summary>
    public static string ExecutablePath => Published.Value;

    public IReadOnlyList<string> Stdout => [.. _stdout];

    public string Stderr
    {
        get
        {
            lock (_stderr)
            {
                return _stderr.ToString();
            }
        }
    }

    public bool HasExited => _process.HasExited;

    public int Pid => _process.Id;

    public int ExitCode => _process.ExitCode;

    public static CliProcess Start(params string[] args) => Start(new Dictionary<string, string>(), args);

    /// <summary>Starts ingest with <paramref name="environment"/> added to the test's own environment.</summary>
    public static CliProcess Start(IReadOnlyDictionary<string, string> environment, params string[] args) => StartProgram(ExecutablePath, environment, args);

    /// <summary>Any program (e.g. `ip netns exec NAME ingest ...`), collected the same way.</summary>
    public static CliProcess StartProgram(string program, params string[] args) => StartProgram(program, new Dictionary<string, string>(), args);

    private static CliProcess StartProgram(string program, IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var psi = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var (name, value) in environment)
        {
            psi.Environment[name] = value;
        }

        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        // Every daemon a test starts gets a spool of its own (a flag or --set still wins).
        psi.Environment["INGEST_SPOOL__DIRECTORY"] = Path.Combine(Path.GetTempPath(), $"ingest-test-spool-{Guid.NewGuid():N}");
        return new CliProcess(Process.Start(psi) ?? throw new InvalidOperationException("could not start ingest"));
    }

    /// <summary>Waits for a stdout line starting with <paramref name="prefix"/> and returns it.</summary>
    public async Task<string> WaitForLineAsync(string prefix, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (DateTime.UtcNow < deadline)
        {
            var line = _stdout.FirstOrDefault(l => l.StartsWith(prefix, StringComparison.Ordinal));
            if (line is not null)
            {
                return line;
            }

            if (_process.HasExited)
            {
                break;
            }

            await Task.Delay(20);
        }

        throw new TimeoutException($"no line starting with '{prefix}' (exited={_process.HasExited}); stdout: {string.Join('\n', _stdout)}; stderr: {Stderr}");
    }

    public void Terminate() => Assert.Equal(0, kill(_process.Id, 15));

    /// <summary>SIGKILL: no shutdown path runs.</summary>
    public void Kill()
    {
        Assert.Equal(0, kill(_process.Id, 9));
        _process.WaitForExit();
    }

    public int ProcessId => _process.Id;

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cts.Token);
        _process.WaitForExit(); // drains the asynchronous output readers
        return _process.ExitCode;
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }

        _process.Dispose();
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int kill(int pid, int signal);
}
