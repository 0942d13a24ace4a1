using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;

namespace Ingest.Bench.Support;

/// <summary>
/// A process the benchmark measures from outside, as an operator would: its stdout lines, its
/// CPU time (summed over its threads, in nanoseconds, from /proc) and its peak RSS.
/// </summary>
internal sealed partial class ChildProcess : IDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _lines = new();
    private readonly ConcurrentQueue<string> _errors = new();

    private ChildProcess(Process process)
    {
        _process = process;
        _process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                _lines.Enqueue(e.Data);
            }
        };
        _process.ErrorDataReceived += (_, e) =>
        {
            // The last 50 lines are kept: for the error when the process fails to start, and for
            // a post-mortem of one that stopped working.
            if (e.Data is not null)
            {
                _errors.Enqueue(e.Data);
                while (_errors.Count > 50)
                {
                    _errors.TryDequeue(out string? _);
                }
            }
        };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    public IReadOnlyCollection<string> Lines => _lines;

    /// <summary>Its stderr lines (logs), kept for a post-mortem.</summary>
    public IReadOnlyCollection<string> ErrorLines => _errors;

    public static ChildProcess Start(string path, params string[] args)
    {
        var psi = new ProcessStartInfo(path) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        return new ChildProcess(Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {path}"));
    }

    public async Task<string> WaitForLineAsync(string prefix, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline && !_process.HasExited)
        {
            var line = _lines.FirstOrDefault(l => l.StartsWith(prefix, StringComparison.Ordinal));
            if (line is not null)
            {
                return line;
            }

            await Task.Delay(20).ConfigureAwait(false);
        }

        throw new TimeoutException($"{_process.StartInfo.FileName}: no '{prefix}' line (exited={_process.HasExited}); stderr: {string.Join(" | ", _errors)}");
    }

    /// <summary>CPU time of all threads so far, from /proc/PID/task/*/schedstat (ns, exact).</summary>
    public long CpuNanoseconds()
    {
        long total = 0;
        foreach (var task in Directory.EnumerateDirectories($"/proc/{Id}/task"))
        {
            try
            {
                var text = File.ReadAllText(Path.Combine(task, "schedstat"));
                total += long.Parse(text.AsSpan(0, text.IndexOf(' ')), CultureInfo.InvariantCulture);
            }
            catch (IOException)
            {
                // the thread ended between listing and reading
            }
        }

        return total;
    }

    /// <summary>Current resident set size (VmRSS) in bytes.</summary>
    public long RssBytes()
    {
        foreach (var line in File.ReadLines($"/proc/{Id}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                return long.Parse(line.AsSpan(6).Trim().TrimEnd("kB").Trim(), CultureInfo.InvariantCulture) * 1024;
            }
        }

        return 0;
    }

    /// <summary>Peak resident set size (VmHWM) in bytes.</summary>
    public long PeakRssBytes() => ProcStat.PeakRssBytes(Id);

    /// <summary>Waits for the process to end by itself; returns its exit code.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cts.Token).ConfigureAwait(false);
        _process.WaitForExit(); // drains the asynchronous output readers
        return _process.ExitCode;
    }

    public async Task<int> TerminateAsync(TimeSpan timeout)
    {
        if (!_process.HasExited)
        {
            _ = kill(_process.Id, 15);
        }

        using var cts = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cts.Token).ConfigureAwait(false);
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

    [LibraryImport("libc")]
    private static partial int kill(int pid, int signal);
}
