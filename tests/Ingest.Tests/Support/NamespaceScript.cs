using System.Diagnostics;

namespace Ingest.Tests.Support;

/// <summary>
/// Runs a test's bash script in private namespaces (<c>unshare</c>), bounded to 5 minutes, and
/// gathers what the script printed plus the daemon's log it left in its folder. What the command
/// tests that change a kernel or mount state share; where no namespace can be made, the test is
/// skipped with unshare's reason.
/// </summary>
internal static class NamespaceScript
{
    private static readonly TimeSpan s_limit = TimeSpan.FromMinutes(5);

    /// <summary>What one run printed.</summary>
    /// <param name="Output">The script's stdout.</param>
    /// <param name="Stderr">The script's stderr.</param>
    /// <param name="DaemonLog">The folder's daemon.err, or empty.</param>
    internal sealed record Outcome(string Output, string Stderr, string DaemonLog)
    {
        /// <summary>Non-empty stdout lines.</summary>
        public string[] Lines { get; } = Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);

        /// <summary>Everything, for an assertion message.</summary>
        public string Context(string? extra = null) =>
            $"{Output}\n--- stderr\n{Stderr}\n{(extra is null ? "" : extra + "\n")}--- daemon\n{DaemonLog}";
    }

    /// <summary>
    /// Runs <c>bash DIRECTORY/scenario.sh</c> under <c>unshare NAMESPACES --</c>, e.g.
    /// <c>["--net"]</c> or <c>["--mount", "--propagation", "private"]</c>.
    /// </summary>
    public static async Task<Outcome> RunAsync(string directory, string what, params string[] namespaces)
    {
        var info = new ProcessStartInfo("/usr/bin/unshare") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string arg in namespaces.Concat(["--", "bash", Path.Combine(directory, "scenario.sh")]))
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info)!;
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        limit.CancelAfter(s_limit);
        var stderrTask = process.StandardError.ReadToEndAsync(limit.Token);
        string output = await process.StandardOutput.ReadToEndAsync(limit.Token);
        await process.WaitForExitAsync(limit.Token);
        string stderr = await stderrTask;
        if (output.Length == 0 && stderr.Contains("unshare failed", StringComparison.Ordinal))
        {
            Assert.Skip($"cannot create {what} here: {stderr.Trim()}");
        }

        string daemonLog = Path.Combine(directory, "daemon.err");
        return new Outcome(output, stderr, File.Exists(daemonLog) ? File.ReadAllText(daemonLog) : "");
    }
}
