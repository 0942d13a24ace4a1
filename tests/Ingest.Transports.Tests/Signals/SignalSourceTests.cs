using Ingest.Transports.Interop;
using Ingest.Transports.Kingest;
using Ingest.Transports.Signals;
using Ingest.Transports.Tests.Fakes;
using Tmds.Linux;

namespace Ingest.Transports.Tests.Signals;

/// <summary>Real RT signals, thread-directed at a SignalSource running in this process.</summary>
public sealed class SignalSourceTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ingest-signal-").FullName;
    private readonly CancellationTokenSource _stop = new();
    private readonly RecordingEventWriter _writer = new();
    private SignalSource? _source;
    private Task? _run;

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        if (_run is not null)
        {
            await _run.WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        _stop.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task Thread_directed_signal_arrives_with_exact_value_pid_and_uid()
    {
        var source = await StartAsync(new SignalSourceOptions { ThreadIdFile = Path.Combine(_dir, "signal.tid") });

        // The published file names the reader thread, as a stock sender would read it.
        var (tgid, tid) = ThreadIdFile.Read(Path.Combine(_dir, "signal.tid"));
        Assert.Equal((Environment.ProcessId, source.ThreadId), (tgid, tid));
        Assert.NotEqual(Environment.ProcessId, tid);

        Assert.Equal(0, RealtimeSignal.TryQueue(tgid, tid, RealtimeSignal.Default, 123456789));

        var e = Assert.Single(await _writer.WaitForAsync(_ => true));
        Assert.Equal("signal", e.Type);
        Assert.Equal((long)RealtimeSignal.Default, e.Get<long>("signo"));
        Assert.Equal((long)LibC.SI_QUEUE, e.Get<long>("code"));
        Assert.Equal("user", e.Get<string>("origin"));
        Assert.Equal((long)Environment.ProcessId, e.Get<long>("pid"));
        Assert.Equal((long)LibC.getuid(), e.Get<long>("uid"));
        Assert.Equal(123456789L, e.Get<long>("value"));
        Assert.Equal(6, e.Data.Count);
        Assert.InRange(e.TimestampNs, DateTime.UtcNow.AddMinutes(-1).Subtract(DateTime.UnixEpoch).Ticks * 100, DateTime.UtcNow.Subtract(DateTime.UnixEpoch).Ticks * 100);
    }

    [Fact]
    public async Task Burst_arrives_complete_and_in_order_on_every_configured_signal()
    {
        int[] signals = [RealtimeSignal.Min + 3, RealtimeSignal.Max];
        var source = await StartAsync(new SignalSourceOptions { Signals = signals, ThreadIdFile = null });
        const int PerSignal = 5000;
        var sent = 0;
        var rejected = 0;
        for (var i = 0; i < PerSignal; i++)
        {
            foreach (var signo in signals)
            {
                int errno;
                while ((errno = RealtimeSignal.TryQueue(source.ProcessId, source.ThreadId, signo, i)) == LibC.EAGAIN)
                {
                    // The receiver's RT queue is full: the sender's problem; wait for it to drain.
                    rejected++;
                    Thread.Yield();
                }

                Assert.Equal(0, errno);
                sent++;
            }
        }

        var events = await _writer.WaitForAsync(_ => true, sent, TimeSpan.FromSeconds(30));
        Assert.Equal(sent, events.Count);
        Assert.Equal(sent, source.Counters["received"].Value);
        foreach (var signo in signals)
        {
            // Queued RT signals of one number are delivered in the order they were sent.
            var values = events.Where(e => e.Get<long>("signo") == signo).Select(e => e.Get<long>("value"));
            Assert.Equal(Enumerable.Range(0, PerSignal).Select(v => (long)v), values);
        }

        TestContext.Current.SendDiagnosticMessage($"burst: sent {sent}, EAGAIN retries {rejected}");
    }

    [Fact]
    public async Task Sender_whose_uid_is_not_allowed_is_counted_and_dropped()
    {
        // This process (root in CI) is not allowed; the kernel still lets it signal, so the policy decides.
        var source = await StartAsync(new SignalSourceOptions { AllowedUids = [4242], ThreadIdFile = null });
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(0, RealtimeSignal.TryQueue(source.ProcessId, source.ThreadId, RealtimeSignal.Default, i));
        }

        Assert.Equal(0, SendAs(source, uid: 4242, pid: 777, value: 99));

        var e = Assert.Single(await _writer.WaitForAsync(_ => true));
        Assert.Equal(99L, e.Get<long>("value"));
        Assert.Equal(4242L, e.Get<long>("uid"));
        Assert.Equal(3, source.Counters["denied_sender"].Value);
        Assert.Equal(4, source.Counters["received"].Value);
    }

    [Fact]
    public void Module_signal_payload_is_decoded()
    {
        // Only the kernel can queue a positive si_code at another thread, so the module's shape is
        // fed to the reader's handler directly; the guest scenario receives real ones.
        var source = new SignalSource(new SignalSourceOptions { AllowedUids = [], ThreadIdFile = null });

        // Sensor event, seq 0x2a, alarm, sensor 5, -3 degrees.
        var sensor = (1u << 24) | (0x2au << 16) | (1u << 15) | (5u << 8) | 0xfd;
        source.Handle(_writer, ModuleSiginfo((int)sensor), 1);

        // Netdev event: type 3, seq 7, KINGEST_NETDEV_UP (3), ifindex 0x123.
        var netdev = (3u << 24) | (7u << 16) | (3u << 12) | 0x123;
        source.Handle(_writer, ModuleSiginfo((int)netdev), 2);
        _writer.Flush();

        var events = _writer.Snapshot();
        Assert.Equal(2, events.Count);
        Assert.All(events, e => Assert.Equal("module", e.Get<string>("origin")));
        Assert.Equal((long)(int)sensor, events[0].Get<long>("value"));
        var s = events[0].Get<Dictionary<string, object?>>("kingest");
        Assert.Equal(new Dictionary<string, object?> { ["type"] = 1L, ["seq"] = 0x2aL, ["sensor_id"] = 5L, ["degrees_c"] = -3L, ["alarm"] = true }, s);
        var n = events[1].Get<Dictionary<string, object?>>("kingest");
        Assert.Equal(new Dictionary<string, object?> { ["type"] = 3L, ["seq"] = 7L, ["netdev_event"] = 3L, ["ifindex"] = 0x123L }, n);
        Assert.Equal(0, source.Counters["denied_sender"].Value);
    }

    [Fact]
    public async Task Signals_queued_before_the_stop_are_read_not_lost()
    {
        var source = await StartAsync(new SignalSourceOptions());
        const int count = 200;
        for (var i = 0; i < count; i++)
        {
            Assert.Equal(0, RealtimeSignal.TryQueue(source.ProcessId, source.ThreadId, RealtimeSignal.Default, i));
        }

        // Stop at once: the wake-up fd and the signalfd are both readable; the queue is drained.
        await _stop.CancelAsync();
        await _run!.WaitAsync(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken);

        var events = _writer.Snapshot();
        Assert.Equal(Enumerable.Range(0, count).Select(i => (long)i), events.Select(e => e.Get<long>("value")));
        Assert.Equal(count, source.Counters["received"].Value);
    }

    [Fact]
    public void A_positive_si_code_with_another_band_is_the_kernel_not_the_module()
    {
        // What F_SETSIG on a descriptor makes the kernel queue: POLL_* code, a poll mask in si_band.
        var source = new SignalSource(new SignalSourceOptions { AllowedUids = [], ThreadIdFile = null });
        var info = ModuleSiginfo(0x01050000);
        info.ssi_band = 0x41;
        source.Handle(_writer, info, 1);
        _writer.Flush();

        var e = Assert.Single(_writer.Snapshot());
        Assert.Equal("kernel", e.Get<string>("origin"));
        Assert.False(e.Data.ContainsKey("kingest"));
    }

    [Fact]
    public async Task Forged_module_signal_of_abi_1_from_a_user_process_is_denied()
    {
        // ABI 1's module shape (SI_QUEUE, si_pid 0, si_uid 0) with uid 0 allowed: impersonation, denied.
        var source = await StartAsync(new SignalSourceOptions { AllowedUids = [0, LibC.getuid()], ThreadIdFile = null });
        Assert.Equal(0, SendAs(source, uid: 0, pid: 0, value: 0x01050000));
        Assert.Equal(0, RealtimeSignal.TryQueue(source.ProcessId, source.ThreadId, RealtimeSignal.Default, 7));

        var e = Assert.Single(await _writer.WaitForAsync(_ => true));
        Assert.Equal("user", e.Get<string>("origin"));
        Assert.Equal(7L, e.Get<long>("value"));
        Assert.Equal(1, source.Counters["denied_sender"].Value);
        Assert.Equal(2, source.Counters["received"].Value);
    }

    [Fact]
    public async Task Stopping_ends_the_reader_and_removes_the_thread_id_file()
    {
        var path = Path.Combine(_dir, "run", "signal.tid");
        var source = await StartAsync(new SignalSourceOptions { ThreadIdFile = path });
        Assert.True(File.Exists(path));
        var tid = source.ThreadId;

        await _stop.CancelAsync();
        await _run!.WaitAsync(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken);

        Assert.False(File.Exists(path));
        Assert.True(SignalDisposition.IsIgnored(RealtimeSignal.Default));

        // The thread is gone: a sender learns so instead of the signal vanishing.
        Assert.Equal(LibC.ESRCH, RealtimeSignal.TryQueue(source.ProcessId, tid, RealtimeSignal.Default, 1));
    }

    [Fact]
    public async Task Absent_device_fails_with_a_clear_error()
    {
        var source = new SignalSource(new SignalSourceOptions { Device = Path.Combine(_dir, "kingest"), ThreadIdFile = null });
        var e = await Assert.ThrowsAsync<FileNotFoundException>(() => source.RunAsync(_writer, _stop.Token));
        Assert.Contains("kingest module", e.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<FileNotFoundException>(() => source.Ready);
    }

    [Fact]
    public async Task Device_that_is_not_kingest_fails_the_subscribe_ioctl()
    {
        var source = new SignalSource(new SignalSourceOptions { Device = "/dev/null", ThreadIdFile = null });
        var e = await Assert.ThrowsAsync<ErrnoException>(() => source.RunAsync(_writer, _stop.Token));
        Assert.Equal(LibC.ENOTTY, e.Errno);
        Assert.Contains("KINGEST_IOC_SUBSCRIBE_SIGNAL", e.Call, StringComparison.Ordinal);
    }

    private async Task<SignalSource> StartAsync(SignalSourceOptions options)
    {
        _source = new SignalSource(options);
        _run = _source.RunAsync(_writer, _stop.Token);
        await _source.Ready.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        return _source;
    }

    /// <summary>The module's signal as signalfd returns it (SIL_POLL layout: si_band, payload in si_fd).</summary>
    private static signalfd_siginfo ModuleSiginfo(int value) => new()
    {
        ssi_signo = (uint)RealtimeSignal.Default,
        ssi_code = KingestAbi.SignalCode,
        ssi_band = KingestAbi.SignalBand,
        ssi_fd = value,
    };

    /// <summary>Queues a signal with a chosen si_pid and si_uid, as any sender may claim.</summary>
    private static unsafe int SendAs(SignalSource source, uint uid, int pid, int value)
    {
        var info = default(rt_siginfo);
        info.si_signo = RealtimeSignal.Default;
        info.si_code = LibC.SI_QUEUE;
        info.si_pid = pid;
        info.si_uid = uid;
        info.si_value = value;
        return Sys.rt_tgsigqueueinfo(source.ProcessId, source.ThreadId, RealtimeSignal.Default, &info) == 0 ? 0 : Sys.LastErrno;
    }
}
