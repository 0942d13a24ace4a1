using System.Diagnostics;
using Ingest.Spool;
using Ascii = System.Text.Encoding;

namespace Ingest.Tests.Spool;

public sealed class SegmentLogTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"ingest-spool-test-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }

    [Fact]
    public void Frames_come_back_in_append_order_with_their_timestamps()
    {
        using var log = SegmentLog.Open(_dir, 1 << 20, 4096);
        for (var i = 0; i < 100; i++)
        {
            Assert.True(log.TryAppend(Payload(i), 1000 + i));
        }

        Assert.True(Directory.GetFiles(_dir, "*.seg").Length > 1, "4 KiB segments: 100 frames span several");
        Assert.Equal(100, log.Records);
        Assert.Equal(1000, log.OldestTimestampMs);
        for (var i = 0; i < 100; i++)
        {
            Assert.True(log.TryRead(out var frame));
            Assert.Equal(Payload(i), frame.Payload);
            Assert.Equal(1000 + i, frame.TimestampMs);
        }

        Assert.False(log.TryRead(out _));
        Assert.Equal(0, log.CorruptFrames);
    }

    [Fact]
    public void A_reopened_log_resumes_after_the_committed_frames_and_deletes_replayed_segments()
    {
        SpoolPosition after30;
        using (var log = SegmentLog.Open(_dir, 1 << 20, 4096))
        {
            for (var i = 0; i < 100; i++)
            {
                log.TryAppend(Payload(i), i);
            }

            SpoolFrame frame = default;
            for (var i = 0; i < 30; i++)
            {
                Assert.True(log.TryRead(out frame));
            }

            after30 = frame.Next;
            log.Commit(after30, 30);

            // Read further without committing: those frames come back after the restart.
            for (var i = 0; i < 20; i++)
            {
                Assert.True(log.TryRead(out _));
            }
        }

        using (var log = SegmentLog.Open(_dir, 1 << 20, 4096))
        {
            Assert.Equal(70, log.Records);
            Assert.Equal(30, log.OldestTimestampMs);
            for (var i = 30; i < 100; i++)
            {
                Assert.True(log.TryRead(out var frame));
                Assert.Equal(Payload(i), frame.Payload);
            }

            // New appends go after the old frames, in a new segment.
            Assert.True(log.TryAppend(Payload(100), 100));
            Assert.True(log.TryRead(out var last));
            Assert.Equal(Payload(100), last.Payload);
            log.Commit(last.Next, 71);
            Assert.Equal(0, log.Records);
            Assert.Equal(0, log.Bytes);
            Assert.Empty(Directory.GetFiles(_dir, "*.seg"));

            // The next append starts a fresh segment, read after the committed position.
            Assert.True(log.TryAppend(Payload(101), 101));
            Assert.True(log.TryRead(out var next));
            Assert.Equal(Payload(101), next.Payload);
        }

        using (var log = SegmentLog.Open(_dir, 1 << 20, 4096))
        {
            Assert.Equal(1, log.Records);
            Assert.True(log.TryRead(out var again));
            Assert.Equal(Payload(101), again.Payload);
        }
    }

    [Fact]
    public void Rewind_reads_uncommitted_frames_again()
    {
        using var log = SegmentLog.Open(_dir, 1 << 20, 1 << 16);
        for (var i = 0; i < 10; i++)
        {
            log.TryAppend(Payload(i), i);
        }

        Assert.True(log.TryRead(out var first));
        log.Commit(first.Next, 1);
        for (var i = 1; i < 6; i++)
        {
            Assert.True(log.TryRead(out _));
        }

        log.Rewind();
        Assert.True(log.TryRead(out var again));
        Assert.Equal(Payload(1), again.Payload);
    }

    [Fact]
    public void A_torn_tail_is_skipped_and_counted_and_the_next_segment_is_read()
    {
        using (var log = SegmentLog.Open(_dir, 1 << 20, 1 << 16))
        {
            for (var i = 0; i < 3; i++)
            {
                log.TryAppend(Payload(i), i);
            }
        }

        // A SIGKILL in the middle of the third write: its frame is cut short.
        var segment = Directory.GetFiles(_dir, "*.seg").Single();
        using (var file = new FileStream(segment, FileMode.Open))
        {
            file.SetLength(file.Length - 7);
        }

        using (var log = SegmentLog.Open(_dir, 1 << 20, 1 << 16))
        {
            Assert.Equal(2, log.Records);
            Assert.True(log.TryAppend(Payload(3), 3));
            var read = ReadAll(log);
            Assert.Equal([Payload(0), Payload(1), Payload(3)], read);
            Assert.Equal(1, log.CorruptFrames);
        }
    }

    [Fact]
    public void Damage_at_random_offsets_loses_only_the_damaged_frames()
    {
        var random = new Random(9);
        var spans = new List<(long Start, long End, byte[] Payload)>();
        using (var log = SegmentLog.Open(_dir, 1 << 24, 1 << 24))
        {
            for (var i = 0; i < 500; i++)
            {
                var payload = Payload(i, 50 + random.Next(400));
                var before = log.Bytes;
                log.TryAppend(payload, i);
                spans.Add((before, log.Bytes, payload));
            }
        }

        var segment = Directory.GetFiles(_dir, "*.seg").Single();
        var bytes = File.ReadAllBytes(segment);
        var damaged = new HashSet<int>();
        for (var k = 0; k < 12; k++)
        {
            var offset = random.Next(bytes.Length);
            bytes[offset] ^= (byte)(1 + random.Next(255));
            damaged.Add(spans.FindIndex(s => offset >= s.Start && offset < s.End));
        }

        File.WriteAllBytes(segment, bytes);
        using (var log = SegmentLog.Open(_dir, 1 << 24, 1 << 24))
        {
            var read = ReadAll(log).Select(Ascii.ASCII.GetString).ToHashSet();
            for (var i = 0; i < spans.Count; i++)
            {
                if (!damaged.Contains(i))
                {
                    Assert.Contains(Ascii.ASCII.GetString(spans[i].Payload), read);
                }
            }

            Assert.True(read.Count <= spans.Count - damaged.Count);
            Assert.InRange(log.CorruptFrames, 1, damaged.Count);
        }
    }

    [Fact]
    public void A_damaged_position_file_replays_from_the_start_rather_than_skip()
    {
        using (var log = SegmentLog.Open(_dir, 1 << 20, 1 << 16))
        {
            log.TryAppend(Payload(0), 0);
            log.TryAppend(Payload(1), 1);
            Assert.True(log.TryRead(out var frame));
            log.Commit(frame.Next, 1);
        }

        var position = Path.Combine(_dir, "position");
        var bytes = File.ReadAllBytes(position);
        bytes[10] ^= 0xff;
        File.WriteAllBytes(position, bytes);
        using (var log = SegmentLog.Open(_dir, 1 << 20, 1 << 16))
        {
            Assert.Equal([Payload(0), Payload(1)], ReadAll(log));
            Assert.Equal(1, log.CorruptFrames);
        }
    }

    [Fact]
    public void The_size_limit_refuses_appends_until_replayed_segments_are_deleted()
    {
        using var log = SegmentLog.Open(_dir, 64 * 1024, 16 * 1024);
        var appended = 0;
        while (log.TryAppend(Payload(appended, 1000), appended))
        {
            appended++;
        }

        Assert.True(appended > 40);
        Assert.True(log.Bytes <= 64 * 1024, $"bytes {log.Bytes}");
        Assert.Equal(1, log.FullRefusals);
        Assert.False(log.TryAppend(Payload(0, 1000), 0));
        Assert.Equal(2, log.FullRefusals);

        var read = 0;
        SpoolFrame frame = default;
        while (log.TryRead(out var f))
        {
            frame = f;
            read++;
        }

        Assert.Equal(appended, read);
        log.Commit(frame.Next, read);
        Assert.True(log.Bytes < 16 * 1024);
        Assert.True(log.TryAppend(Payload(1, 1000), 1));
    }

    [Fact]
    public void A_full_disk_refuses_cleanly_and_leaves_no_damage()
    {
        if (!Environment.IsPrivilegedProcess || !File.Exists("/bin/mount"))
        {
            Assert.Skip("needs root to mount a 256 KiB tmpfs (a real ENOSPC)");
        }

        Directory.CreateDirectory(_dir);
        if (Run("/bin/mount", $"-t tmpfs -o size=256k ingest-spool-test {_dir}") != 0)
        {
            Assert.Skip("mount -t tmpfs failed here (no privilege to mount)");
        }

        try
        {
            var spool = Path.Combine(_dir, "spool");
            var appended = 0;
            using (var log = SegmentLog.Open(spool, 1L << 30, 1L << 20))
            {
                while (log.TryAppend(Payload(appended, 3000), appended))
                {
                    appended++;
                }

                Assert.True(appended > 20, $"appended {appended}");
                Assert.Equal(1, log.FullRefusals);
            }

            using (var log = SegmentLog.Open(spool, 1L << 30, 1L << 20))
            {
                var read = ReadAll(log);
                Assert.Equal(appended, read.Count);
                Assert.Equal(0, log.CorruptFrames);
            }
        }
        finally
        {
            Run("/bin/umount", _dir);
        }
    }

    [Fact]
    public void A_second_process_cannot_open_the_same_folder()
    {
        using var log = SegmentLog.Open(_dir, 1 << 20, 4096);
        var e = Assert.Throws<IOException>(() => SegmentLog.Open(_dir, 1 << 20, 4096));
        Assert.Contains("cannot take its lock file", e.Message, StringComparison.Ordinal);
        Assert.Contains("another process", e.Message, StringComparison.Ordinal);
    }

    private static List<byte[]> ReadAll(SegmentLog log)
    {
        var list = new List<byte[]>();
        while (log.TryRead(out var frame))
        {
            list.Add(frame.Payload);
        }

        return list;
    }

    private static byte[] Payload(int i, int size = 100)
    {
        var text = $"frame {i:D6} ";
        return Ascii.ASCII.GetBytes(string.Concat(Enumerable.Repeat(text, (size / text.Length) + 1))[..size]);
    }

    private static int Run(string file, string args)
    {
        using var p = Process.Start(new ProcessStartInfo(file, args) { RedirectStandardError = true, RedirectStandardOutput = true })!;
        p.WaitForExit();
        return p.ExitCode;
    }
}
