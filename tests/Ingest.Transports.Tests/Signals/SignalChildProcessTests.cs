using Ingest.Transports.Interop;
using Ingest.Transports.Signals;
using Tmds.Linux;

namespace Ingest.Transports.Tests.Signals;

/// <summary>
/// Signals a child process, so that a wrong assumption about signal delivery kills the child,
/// not the test runner.
/// </summary>
public class SignalChildProcessTests
{
    private static readonly int Signo = RealtimeSignal.Default;

    [Fact]
    public async Task Process_directed_signals_do_not_kill_a_process_running_the_source()
    {
        using var child = TestHostProcess.Start(["signal-source", $"{Signo}"]);
        var ready = await child.WaitForLineAsync("ready ");
        Assert.True(ready is not null, $"child did not start: {child.StandardErrorSoFar()}");
        var tid = int.Parse(ready.Split(' ')[2], System.Globalization.CultureInfo.InvariantCulture);

        // Process-directed, each of which would terminate a process with the default disposition.
        Assert.Equal(0, LibC.sigqueue(child.Pid, Signo, new sigval { sigval_int = 7 }));
        Assert.Equal(0, LibC.kill(child.Pid, Signo));

        // Then a thread-directed one, which must still reach the reader: the child is alive and reading.
        Assert.Equal(0, RealtimeSignal.TryQueue(child.Pid, tid, Signo, 99));
        // (A process-directed one may be read first, see below: wait for this one by its value.)
        var delivered = await child.WaitForLineAsync("signal ", " value=99");
        Assert.True(delivered is not null, $"the thread-directed signal did not arrive; child printed: {string.Join(" | ", child.Lines)}");

        Assert.Equal(0, await child.StopAsync());

        // The process-directed ones are discarded: the main thread, which the kernel checks, does not
        // block them. While it briefly blocks all signals (glibc's pthread_create does), one may queue
        // for the process instead and be read by the reader, which is harmless. Nothing else appears.
        var signals = child.Lines.Where(l => l.StartsWith("signal ", StringComparison.Ordinal)).ToList();
        Assert.All(signals, l => Assert.Matches(" value=(7|0|99)( |$)", l));
        Assert.Contains($"stopped received={signals.Count} denied_sender=0", child.Lines);
        TestContext.Current.SendDiagnosticMessage($"process-directed signals read: {signals.Count - 1} of 2");
    }

    [Fact]
    public async Task Without_the_source_the_same_signal_kills_a_dotnet_process()
    {
        // The hazard the source guards against is real: the default action of an RT signal is to terminate.
        using var child = TestHostProcess.Start(["idle", $"{Signo}"]);
        Assert.NotNull(await child.WaitForLineAsync("ready "));

        Assert.Equal(0, LibC.sigqueue(child.Pid, Signo, new sigval { sigval_int = 7 }));

        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await child.Process.WaitForExitAsync(cts.Token);
        Assert.Equal(128 + Signo, child.Process.ExitCode);
    }

    [Fact]
    public async Task Forged_module_signal_from_a_user_process_is_counted_denied_sender()
    {
        using var host = TestHostProcess.Start(["signal-source", $"{Signo}"]);
        var ready = await host.WaitForLineAsync("ready ");
        Assert.True(ready is not null, $"child did not start: {host.StandardErrorSoFar()}");
        var tid = ready.Split(' ')[2];

        // ABI 1's module signal exactly (SI_QUEUE, si_pid 0, si_uid 0: an allowed uid), from another
        // process; and ABI 2's positive si_code, which the kernel must refuse from that process.
        using (var forger = TestHostProcess.Start(["forge", $"{host.Pid}", tid, $"{Signo}", $"{0x01050000}"]))
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await forger.Process.WaitForExitAsync(cts.Token);
            Assert.True(forger.Process.ExitCode == 0, $"forger: exit {forger.Process.ExitCode} {forger.StandardErrorSoFar()}");
        }

        // A genuine user sender after it, so the host's reader has provably processed the forgery.
        Assert.Equal(0, RealtimeSignal.TryQueue(host.Pid, int.Parse(tid, System.Globalization.CultureInfo.InvariantCulture), Signo, 6));
        var delivered = await host.WaitForLineAsync("signal ");
        Assert.NotNull(delivered);
        Assert.Contains(" value=6", delivered, StringComparison.Ordinal);

        Assert.Equal(0, await host.StopAsync());
        Assert.Single(host.Lines, l => l.StartsWith("signal ", StringComparison.Ordinal));
        Assert.DoesNotContain(host.Lines, l => l.Contains("module", StringComparison.Ordinal));
        Assert.Contains("stopped received=2 denied_sender=1", host.Lines);
    }

    [Fact]
    public async Task Sender_running_as_another_uid_is_counted_and_dropped()
    {
        if (LibC.geteuid() != 0)
        {
            Assert.Skip("needs root to run a sender as uid 65534 through setpriv");
        }

        using var host = TestHostProcess.Start(["signal-source", $"{Signo}"]);
        var ready = await host.WaitForLineAsync("ready ");
        Assert.True(ready is not null, $"child did not start: {host.StandardErrorSoFar()}");
        var tid = ready.Split(' ')[2];

        // Kernel permission to signal root comes from CAP_KILL; the source's policy (root only) rejects uid 65534.
        using (var sender = TestHostProcess.Start(["send", $"{host.Pid}", tid, $"{Signo}", "5"], asUid: 65534))
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await sender.Process.WaitForExitAsync(cts.Token);
            Assert.True(sender.Process.ExitCode == 0, $"sender as uid 65534 failed: exit {sender.Process.ExitCode} {sender.StandardErrorSoFar()}");
        }

        // A root sender after it, so the host's reader has provably processed the earlier one.
        Assert.Equal(0, RealtimeSignal.TryQueue(host.Pid, int.Parse(tid, System.Globalization.CultureInfo.InvariantCulture), Signo, 6));
        var delivered = await host.WaitForLineAsync("signal ");
        Assert.NotNull(delivered);
        Assert.Contains(" value=6", delivered, StringComparison.Ordinal);

        Assert.Equal(0, await host.StopAsync());
        Assert.Single(host.Lines, l => l.StartsWith("signal ", StringComparison.Ordinal));
        Assert.Contains("stopped received=2 denied_sender=1", host.Lines);
    }
}
