using System.Diagnostics;
using Ingest.Transports.Interop;
using Ingest.Transports.Tests.Fakes;
using Ingest.Transports.Tests.Signals;
using Ingest.Transports.Tests.Support;
using Ingest.Transports.Upcall;
using Tmds.Linux;

namespace Ingest.Transports.Tests.Upcall;

/// <summary>The real helper binary and raw clients against an UpcallSource on a real Unix socket.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class UpcallSourceTests : IAsyncLifetime
{
    private readonly string _dir;
    private readonly string _socket;
    private readonly CancellationTokenSource _stop = new();
    private readonly RecordingEventWriter _writer = new();
    private UpcallSource? _source;
    private Task? _run;

    public UpcallSourceTests()
    {
        _dir = WorldReachable.CreateDirectory("ingest-upcall-"); // searchable by the setpriv tests' uid
        _socket = Path.Combine(_dir, "run", "upcall.sock");
    }

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
    public async Task Helper_forwards_argv_and_env_with_its_credentials()
    {
        var helper = UpcallHelperBinary.PathOrSkip();
        await StartAsync(new UpcallSourceOptions { SocketPath = _socket });
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(_socket));

        var (exit, pid) = await RunHelperAsync(helper, ["alpha", "b c", "ünïcode", ""], new() { ["FOO"] = "bar", ["EMPTY"] = "", ["EQ"] = "a=b" });
        Assert.Equal(0, exit);

        var e = await SingleEventAsync();
        Assert.Equal("upcall", e.Type);
        Assert.Equal((long)pid, e.Get<long>("pid"));
        Assert.Equal((long)LibC.geteuid(), e.Get<long>("uid"));
        Assert.Equal(new List<object?> { helper, "alpha", "b c", "ünïcode", "" }, e.Get<List<object?>>("argv"));
        Assert.Equal(
            new Dictionary<string, object?> { ["FOO"] = "bar", ["EMPTY"] = "", ["EQ"] = "a=b", ["INGEST_UPCALL_SOCKET"] = _socket },
            e.Get<Dictionary<string, object?>>("env"));
        Assert.False(e.Data.ContainsKey("kingest"));
        Assert.Equal(1, _source!.Counters["received"].Value);
    }

    [Fact]
    public async Task Kingest_argv_is_decoded_into_typed_fields_and_its_timestamp()
    {
        var helper = UpcallHelperBinary.PathOrSkip();
        await StartAsync(new UpcallSourceOptions { SocketPath = _socket });

        var (exit, _) = await RunHelperAsync(
            helper,
            ["event", "1", "42", "1700000000123456789", "0a0bff"],
            new() { ["KINGEST_TYPE"] = "1", ["KINGEST_LEN"] = "300", ["KINGEST_TRUNCATED"] = "1", ["KINGEST_PAYLOAD"] = "0a0bff" });
        Assert.Equal(0, exit);

        var e = await SingleEventAsync();
        Assert.Equal(1700000000123456789L, e.TimestampNs);
        var k = e.Get<Dictionary<string, object?>>("kingest");
        Assert.Equal(1L, k["type"]);
        Assert.Equal(42UL, k["seq"]);
        Assert.Equal(1700000000123456789L, k["ts_ns"]);
        Assert.Equal(new byte[] { 0x0a, 0x0b, 0xff }, k["payload"]);
        Assert.Equal(300L, k["len"]);
        Assert.Equal(true, k["truncated"]);
    }

    [Fact]
    public async Task Kingest_argv_that_does_not_parse_is_counted_and_kept_as_a_plain_upcall()
    {
        await StartAsync(new UpcallSourceOptions { SocketPath = _socket });
        UpcallWire.SendOnce(_socket, UpcallWire.Encode(["/sbin/kingest-upcall", "event", "1", "42", "-5", "0a"], []));
        UpcallWire.SendOnce(_socket, UpcallWire.Encode(["/sbin/kingest-upcall", "event", "1", "42", "5", "0A"], []));

        var events = await _writer.WaitForAsync(_ => true, 2);
        Assert.Equal(2, events.Count);
        Assert.All(events, e => Assert.False(e.Data.ContainsKey("kingest")));
        Assert.Equal(2, _source!.Counters["malformed_kingest"].Value);
    }

    [Fact]
    public async Task Helper_exits_non_zero_at_once_when_no_daemon_listens()
    {
        var helper = UpcallHelperBinary.PathOrSkip();

        // No socket file at all.
        var (exit, _) = await RunHelperAsync(helper, ["x"], [], socket: Path.Combine(_dir, "absent.sock"));
        Assert.Equal(2, exit);

        // A socket file that a dead daemon left behind: nobody listens.
        var stale = Path.Combine(_dir, "stale.sock");
        BindWithoutListening(stale);
        (exit, _) = await RunHelperAsync(helper, ["x"], [], socket: stale);
        Assert.Equal(2, exit);
    }

    [Fact]
    public async Task Peer_with_a_uid_not_allowed_is_counted_and_dropped()
    {
        var helper = UpcallHelperBinary.PathOrSkip();
        if (LibC.geteuid() != 0)
        {
            Assert.Skip("needs root to run the helper as uid 65534 through setpriv");
        }

        // Mode 0666 lets uid 65534 connect at all; SO_PEERCRED is what refuses it.
        await StartAsync(new UpcallSourceOptions { SocketPath = _socket, SocketMode = (UnixFileMode)0b110_110_110 });
        File.SetUnixFileMode(Path.GetDirectoryName(_socket)!, (UnixFileMode)0b111_101_101);

        await RunHelperAsync(helper, ["from-nobody"], [], asUid: 65534);
        Assert.True(await WaitForCounterAsync("denied_peer", 1), "denied_peer did not reach 1");

        var (exit, _) = await RunHelperAsync(helper, ["from-root"], []);
        Assert.Equal(0, exit);
        var e = await SingleEventAsync();
        Assert.Equal("from-root", e.Get<List<object?>>("argv")[1]);
        Assert.Equal(1, _source!.Counters["received"].Value);
    }

    [Fact]
    public async Task Malformed_and_oversized_messages_are_counted_and_the_source_continues()
    {
        await StartAsync(new UpcallSourceOptions { SocketPath = _socket, MaxMessageBytes = 1024, MaxStrings = 8 });

        UpcallWire.SendOnce(_socket, "not an upcall"u8);                                           // bad magic
        UpcallWire.SendOnce(_socket, UpcallWire.Encode(["a", "b"], [], argcOverride: 3));         // fewer strings than counted
        UpcallWire.SendOnce(_socket, [.. UpcallWire.Encode(["a"], []), (byte)'x']);               // trailing bytes
        UpcallWire.SendOnce(_socket, UpcallWire.Encode(["a"], ["NOEQUALS"]));                     // env entry without '='
        UpcallWire.SendOnce(_socket, UpcallWire.Encode(["a"], ["=v"]));                           // empty env key
        UpcallWire.SendOnce(_socket, UpcallWire.Encode(["a"], ["K=1", "K=2"]));                   // duplicate env key
        UpcallWire.SendOnce(_socket, UpcallWire.Encode(["a", "b", "c", "d", "e"], ["A=1", "B=2", "C=3", "D=4"])); // 9 strings > 8
        UpcallWire.SendOnce(_socket, [.. UpcallWire.Encode(["a"], [])[..12], 0xff, 0xfe, 0]);     // not UTF-8
        var closedFd = UpcallWire.Connect(_socket);                                              // connects, sends nothing
        LibC.close(closedFd);
        UpcallWire.SendOnce(_socket, UpcallWire.Encode([new string('x', 1100)], []));             // oversize
        UpcallWire.SendOnce(_socket, UpcallWire.Encode(["still", "working"], ["K=V"]));

        var e = await SingleEventAsync();
        Assert.Equal(new List<object?> { "still", "working" }, e.Get<List<object?>>("argv"));
        Assert.Equal(9, _source!.Counters["malformed"].Value);
        Assert.Equal(1, _source.Counters["oversize"].Value);
    }

    [Fact]
    public async Task Peer_that_sends_nothing_times_out_without_stalling_the_source()
    {
        await StartAsync(new UpcallSourceOptions { SocketPath = _socket, ReceiveTimeout = TimeSpan.FromMilliseconds(100) });
        var silent = UpcallWire.Connect(_socket);
        try
        {
            UpcallWire.SendOnce(_socket, UpcallWire.Encode(["after"], []));
            var e = await SingleEventAsync();
            Assert.Equal("after", e.Get<List<object?>>("argv")[0]);
            Assert.Equal(1, _source!.Counters["timeout"].Value);
        }
        finally
        {
            LibC.close(silent);
        }
    }

    [Fact]
    public async Task Stale_socket_is_replaced_but_a_live_one_or_a_regular_file_is_refused()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(_socket)!);
        BindWithoutListening(_socket);
        await StartAsync(new UpcallSourceOptions { SocketPath = _socket });
        UpcallWire.SendOnce(_socket, UpcallWire.Encode(["replaced"], []));
        await SingleEventAsync();

        var second = new UpcallSource(new UpcallSourceOptions { SocketPath = _socket });
        var live = await Assert.ThrowsAsync<IOException>(() => second.RunAsync(new RecordingEventWriter(), _stop.Token));
        Assert.Contains("already running", live.Message, StringComparison.Ordinal);

        var file = Path.Combine(_dir, "regular");
        await File.WriteAllTextAsync(file, "keep me", TestContext.Current.CancellationToken);
        var third = new UpcallSource(new UpcallSourceOptions { SocketPath = file });
        await Assert.ThrowsAsync<IOException>(() => third.RunAsync(new RecordingEventWriter(), _stop.Token));
        Assert.Equal("keep me", await File.ReadAllTextAsync(file, TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Stopping_removes_the_socket()
    {
        await StartAsync(new UpcallSourceOptions { SocketPath = _socket });
        Assert.True(File.Exists(_socket));
        await _stop.CancelAsync();
        await _run!.WaitAsync(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken);
        Assert.False(File.Exists(_socket));
    }

    private async Task StartAsync(UpcallSourceOptions options)
    {
        _source = new UpcallSource(options);
        _run = _source.RunAsync(_writer, _stop.Token);
        await _source.Ready.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
    }

    /// <summary>Waits for exactly one event; on failure the message shows the source's counters.</summary>
    private async Task<RecordedEvent> SingleEventAsync()
    {
        var events = await _writer.WaitForAsync(_ => true);
        Assert.True(events.Count == 1, $"expected one event, got {events.Count}; counters: {string.Join(", ", _source!.Counters.All)}");
        return events[0];
    }

    private async Task<bool> WaitForCounterAsync(string name, long value)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (_source!.Counters[name].Value < value && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10, TestContext.Current.CancellationToken);
        }

        return _source.Counters[name].Value == value;
    }

    /// <summary>Runs the helper with exactly <paramref name="env"/> plus INGEST_UPCALL_SOCKET; returns (exit code, pid).</summary>
    private async Task<(int Exit, int Pid)> RunHelperAsync(string helper, string[] args, Dictionary<string, string> env, string? socket = null, uint? asUid = null)
    {
        var info = new ProcessStartInfo { UseShellExecute = false, RedirectStandardError = true };
        if (asUid is { } uid)
        {
            info.FileName = "setpriv";
            foreach (var a in TestHostProcess.SetprivArgs(uid))
            {
                info.ArgumentList.Add(a);
            }

            info.ArgumentList.Add(helper);
            info.WorkingDirectory = Path.GetDirectoryName(helper); // the test's own cwd may be private
        }
        else
        {
            info.FileName = helper;
        }

        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }

        info.Environment.Clear();
        foreach (var (k, v) in env)
        {
            info.Environment[k] = v;
        }

        info.Environment["INGEST_UPCALL_SOCKET"] = socket ?? _socket;
        using var process = Process.Start(info)!;
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await process.WaitForExitAsync(cts.Token);
        return (process.ExitCode, process.Id);
    }

    private static unsafe void BindWithoutListening(string path)
    {
        var fd = Sys.Check(LibC.socket(LibC.AF_UNIX, LibC.SOCK_SEQPACKET, 0), "socket");
        var address = UnixSocketAddress.Create(path);
        Sys.Check(LibC.bind(fd, (sockaddr*)&address, (uint)sizeof(sockaddr_un)), "bind");
        LibC.close(fd);
    }
}
