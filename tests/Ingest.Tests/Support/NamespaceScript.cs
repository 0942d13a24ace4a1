using System.Diagnostics;
using System.Text;

namespace Ingest.Tests.Support;

/// <summary>
/// Runs a test's bash script in private namespaces (<c>unshare</c>), bounded to 5 minutes, and
/// gathers what the script printed plus the daemon's log it left in its folder. What the command
/// tests that change a kernel or mount state share; where no namespace can be made, the test is
/// skipped with unshare's reason.
/// </summary>
/// <remarks>
/// Every step a script takes must be bounded, so a hang names its step instead of eating the
/// limit: the script is sourced after <see cref="Prelude"/>, whose <c>start_daemon</c> and
/// <c>stop_daemon</c> bound the daemon's start (30 s to <c>bootstrap=</c>) and stop (30 s after
/// SIGTERM, then each thread's name and kernel wait channel on stderr and SIGKILL). If the limit
/// still hits, the whole process tree is killed and the test fails with everything printed so
/// far, both daemon logs included, before the temporary folder goes.
/// </remarks>
internal static class NamespaceScript
{
    private static readonly TimeSpan s_limit = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Shell functions every script may use. <c>start_daemon ARGS...</c> starts <c>$ingest run
    /// ARGS</c> (output to daemon.out / daemon.err) and sets <c>daemon</c> and <c>bs</c>; if no
    /// broker address came within 30 s it prints <c>bootstrap=none</c>, stops the daemon and ends
    /// the script. <c>stop_daemon</c> prints
    /// <c>daemon=RC</c>, or <c>daemon=hung</c> when it had to be killed.
    /// <c>publish_raw FILE</c> publishes a file to kernel.commands with kcat, bounded.
    /// </summary>
    private const string Prelude = """
        set -u
        start_daemon() {
          "$ingest" run "$@" > daemon.out 2> daemon.err &
          daemon=$!
          local i
          for i in $(seq 300); do
            grep -q '^bootstrap=' daemon.out && break
            kill -0 "$daemon" 2> /dev/null || break
            sleep 0.1
          done
          bs=$(sed -n 's/^bootstrap=//p' daemon.out)
          if [ -z "$bs" ]; then
            # Nothing after this can work: end here instead of timing out step by step.
            echo "bootstrap=none"; echo "no bootstrap= from the daemon within 30 s" >&2
            stop_daemon; exit 3
          fi
        }
        stop_daemon() {
          kill -TERM "$daemon" 2> /dev/null
          local i
          for i in $(seq 300); do kill -0 "$daemon" 2> /dev/null || break; sleep 0.1; done
          if kill -0 "$daemon" 2> /dev/null; then
            echo "daemon still running 30 s after SIGTERM; its threads (name, state, wait channel):" >&2
            local t
            for t in /proc/"$daemon"/task/*; do
              echo "  $(cat "$t/comm") $(cut -d' ' -f3 "$t/stat") $(cat "$t/wchan" 2> /dev/null)" >&2
            done
            kill -KILL "$daemon"; wait "$daemon"; echo "daemon=hung"
          else
            wait "$daemon"; echo "daemon=$?"
          fi
        }
        publish_raw() {
          timeout 60 kcat -b "$bs" -P -X message.timeout.ms=30000 -t kernel.commands -k "$1" "$2" || echo "kcat=$?"
        }

        """;

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
    /// Runs <c>DIRECTORY/scenario.sh</c> (after <see cref="Prelude"/>, with <c>ingest</c> set to
    /// the CLI and the folder as working directory) under <c>unshare NAMESPACES --</c>, e.g.
    /// <c>["--net"]</c> or <c>["--mount", "--propagation", "private"]</c>.
    /// </summary>
    public static async Task<Outcome> RunAsync(string directory, string what, params string[] namespaces)
    {
        File.WriteAllText(Path.Combine(directory, "prelude.sh"), Prelude);
        var info = new ProcessStartInfo("/usr/bin/unshare")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = directory,
        };
        info.Environment["ingest"] = CliProcess.ExecutablePath;

        // A spool of its own, as CliProcess gives every daemon: the default (/var/lib/ingest/spool
        // as root) is locked by whichever test's daemon runs beside this one.
        info.Environment["INGEST_SPOOL__DIRECTORY"] = Path.Combine(directory, "spool");
        foreach (string arg in namespaces.Concat(["--", "bash", "-c", ". ./prelude.sh && . ./scenario.sh"]))
        {
            info.ArgumentList.Add(arg);
        }

        var output = new StringBuilder();
        var stderr = new StringBuilder();
        using var process = new Process { StartInfo = info };
        process.OutputDataReceived += (_, e) => Append(output, e.Data);
        process.ErrorDataReceived += (_, e) => Append(stderr, e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        limit.CancelAfter(s_limit);
        try
        {
            // Also waits for both streams to reach their end.
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
            var partial = new Outcome(Snapshot(output), Snapshot(stderr), ReadLog(directory, "daemon.err"));
            Assert.Fail($"the {what} script did not finish within {s_limit.TotalMinutes:0} minutes; killed. What it printed:\n"
                + partial.Context($"--- daemon.out\n{ReadLog(directory, "daemon.out")}"));
        }

        var outcome = new Outcome(Snapshot(output), Snapshot(stderr), ReadLog(directory, "daemon.err"));
        if (outcome.Output.Length == 0 && outcome.Stderr.Contains("unshare failed", StringComparison.Ordinal))
        {
            Assert.Skip($"cannot create {what} here: {outcome.Stderr.Trim()}");
        }

        return outcome;
    }

    private static void Append(StringBuilder to, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (to)
        {
            to.Append(line).Append('\n');
        }
    }

    private static string Snapshot(StringBuilder from)
    {
        lock (from)
        {
            return from.ToString();
        }
    }

    private static string ReadLog(string directory, string name)
    {
        string path = Path.Combine(directory, name);
        return File.Exists(path) ? File.ReadAllText(path) : "";
    }
}
