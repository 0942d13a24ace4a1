using System.Diagnostics;
using Ingest.Transports.Tests.Support;

namespace Ingest.Transports.Tests.Signals;

/// <summary>
/// Starts tests/Ingest.Transports.TestHost (copied beside the tests by its project reference) as a
/// child process, optionally under another uid through setpriv, and reads its stdout line by line.
/// </summary>
internal sealed class TestHostProcess : IDisposable
{
    private readonly Process _process;
    private readonly List<string> _lines = [];
    private readonly SemaphoreSlim _lineArrived = new(0);

    private TestHostProcess(Process process)
    {
        _process = process;
        _process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (_lines)
                {
                    _lines.Add(e.Data);
                }

                _lineArrived.Release();
            }
        };
        _process.BeginOutputReadLine();
    }

    private const string AssemblyName = "Ingest.Transports.TestHost";

    // The build tree may sit under a 0700 directory (a clone under mktemp -d or /root): another uid
    // runs a copy of the host and the assemblies beside it from a world-reachable directory.
    private static readonly Lazy<string> ReachableCopy = new(() =>
    {
        string dir = WorldReachable.CopyFiles("ingest-testhost-", AppContext.BaseDirectory, Directory.EnumerateFiles(AppContext.BaseDirectory, "*", SearchOption.AllDirectories)
            .Where(f => f.EndsWith(".dll", StringComparison.Ordinal) || Path.GetFileName(f).StartsWith(AssemblyName + ".", StringComparison.Ordinal)));
        AppDomain.CurrentDomain.ProcessExit += (_, _) => Directory.Delete(dir, recursive: true);
        return dir;
    });

    public static string AssemblyPath => Path.Combine(AppContext.BaseDirectory, AssemblyName + ".dll");

    public int Pid => _process.Id;

    public Process Process => _process;

    /// <summary>Runs the host; with <paramref name="asUid"/>, through setpriv as that uid keeping CAP_KILL.</summary>
    public static TestHostProcess Start(IEnumerable<string> args, uint? asUid = null)
    {
        var info = new ProcessStartInfo
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (asUid is { } uid)
        {
            info.FileName = "setpriv";
            foreach (var a in SetprivArgs(uid))
            {
                info.ArgumentList.Add(a);
            }

            info.ArgumentList.Add(DotnetHost);
            info.WorkingDirectory = ReachableCopy.Value;
            info.ArgumentList.Add(Path.Combine(ReachableCopy.Value, AssemblyName + ".dll"));
        }
        else
        {
            info.FileName = DotnetHost;
            info.ArgumentList.Add(AssemblyPath);
        }

        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }

        return new TestHostProcess(Process.Start(info)!);
    }

    /// <summary>
    /// setpriv arguments that switch to <paramref name="uid"/> but keep CAP_KILL (ambient), so the
    /// process may signal a root process at all and the daemon's own uid policy is what decides.
    /// </summary>
    public static string[] SetprivArgs(uint uid) =>
        ["--reuid", $"{uid}", "--regid", $"{uid}", "--clear-groups", "--inh-caps", "+kill", "--ambient-caps", "+kill"];

    public static string DotnetHost => Environment.ProcessPath is { } p && Path.GetFileNameWithoutExtension(p) == "dotnet" ? p : "dotnet";

    /// <summary>Waits for a line starting with <paramref name="prefix"/>; null if the child exits or time runs out.</summary>
    public Task<string?> WaitForLineAsync(string prefix, TimeSpan? timeout = null) => WaitForLineAsync(prefix, "", timeout);

    /// <summary>Waits for a line that starts with <paramref name="prefix"/> and contains <paramref name="containing"/>.</summary>
    public async Task<string?> WaitForLineAsync(string prefix, string containing, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (DateTime.UtcNow < deadline)
        {
            lock (_lines)
            {
                var found = _lines.Find(l => l.StartsWith(prefix, StringComparison.Ordinal) && l.Contains(containing, StringComparison.Ordinal));
                if (found is not null)
                {
                    return found;
                }
            }

            await _lineArrived.WaitAsync(TimeSpan.FromMilliseconds(100));
        }

        return null;
    }

    public IReadOnlyList<string> Lines
    {
        get
        {
            lock (_lines)
            {
                return [.. _lines];
            }
        }
    }

    /// <summary>Closes the child's stdin (its signal to stop) and waits for it to exit.</summary>
    public async Task<int> StopAsync()
    {
        _process.StandardInput.Close();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await _process.WaitForExitAsync(cts.Token);
        return _process.ExitCode;
    }

    public string StandardErrorSoFar() => _process.HasExited ? _process.StandardError.ReadToEnd() : "";

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
        }

        _process.Dispose();
        _lineArrived.Dispose();
    }
}
