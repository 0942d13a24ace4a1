using Ingest.Commands;

namespace Ingest.Tests.Commands;

public sealed class ReplayStoreTests : IDisposable
{
    private const long Now = 1_800_000_000_000;
    private readonly string _dir = Directory.CreateTempSubdirectory("ingest-replay-").FullName;

    private string FilePath => Path.Combine(_dir, ReplayStore.FileName);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Ids_survive_a_reopen_until_their_retention_ends()
    {
        using (var store = ReplayStore.Open(_dir, Now))
        {
            Assert.True(store.TryAdd("a", Now + 1000, Now));
            Assert.True(store.TryAdd("b", Now + 5000, Now));
            Assert.False(store.TryAdd("a", Now + 1000, Now + 10));
        }

        using (var store = ReplayStore.Open(_dir, Now + 2000))
        {
            Assert.False(store.Contains("a", Now + 2000));
            Assert.True(store.Contains("b", Now + 2000));
            Assert.Equal(1, store.Count);
            Assert.Equal(1, store.StaleDropped);
        }

        // Compaction rewrote the file with the high-water mark and the live entry only.
        Assert.Equal($"t {Now + 2000}\n{Now + 5000} b\n", File.ReadAllText(FilePath));
    }

    [Fact]
    public void Store_file_and_directory_are_private()
    {
        using var store = ReplayStore.Open(Path.Combine(_dir, "state"), Now);
        store.TryAdd("a", Now + 1000, Now);

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(store.Path));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.Combine(_dir, "state")));
    }

    [Theory]
    [InlineData("garbage\n")]
    [InlineData("123\n")]
    [InlineData("abc id\n")]
    [InlineData("123 bad id\n")]
    [InlineData("-5 id\n")]
    public void Corrupted_store_fails_closed_with_a_clear_error(string content)
    {
        File.WriteAllText(FilePath, $"{Now + 1000} good\n{content}");

        var e = Assert.Throws<ReplayStoreCorruptException>(() => ReplayStore.Open(_dir, Now));

        Assert.Contains("corrupted at line 2", e.Message, StringComparison.Ordinal);
        Assert.Contains("ResetReplayStore", e.Message, StringComparison.Ordinal);
        // Failing closed leaves the evidence as it was.
        Assert.Equal($"{Now + 1000} good\n{content}", File.ReadAllText(FilePath));
    }

    [Fact]
    public void Reset_discards_a_corrupted_store()
    {
        File.WriteAllText(FilePath, "garbage\n");

        using var store = ReplayStore.Open(_dir, Now, reset: true);

        Assert.Equal(0, store.Count);
        Assert.Equal($"t {Now}\n", File.ReadAllText(FilePath));
    }

    [Fact]
    public void Unterminated_last_line_from_an_interrupted_append_is_dropped_and_counted()
    {
        File.WriteAllText(FilePath, $"{Now + 1000} whole\n{Now + 1000} tor");

        using var store = ReplayStore.Open(_dir, Now);

        Assert.Equal(1, store.TornLines);
        Assert.True(store.Contains("whole", Now));
        Assert.False(store.Contains("tor", Now));
    }

    [Fact]
    public void Done_marks_survive_a_reopen_and_a_recorded_id_without_one_is_pending()
    {
        using (var store = ReplayStore.Open(_dir, Now))
        {
            Assert.True(store.TryAdd("applied", Now + 5000, Now));
            store.MarkDone("applied", Now);
            Assert.True(store.TryAdd("interrupted", Now + 5000, Now));
            Assert.Equal(ReplayState.Done, store.Lookup("applied", Now));
            Assert.Equal(ReplayState.Pending, store.Lookup("interrupted", Now));
        }

        using (var store = ReplayStore.Open(_dir, Now + 10))
        {
            Assert.Equal(ReplayState.Done, store.Lookup("applied", Now + 10));
            Assert.Equal(ReplayState.Pending, store.Lookup("interrupted", Now + 10));
            Assert.Equal(ReplayState.Unknown, store.Lookup("never", Now + 10));
        }
    }

    [Fact]
    public void The_high_water_mark_is_persisted_and_a_clock_stepped_back_does_not_revive_ids()
    {
        using (var store = ReplayStore.Open(_dir, Now))
        {
            Assert.True(store.TryAdd("a", Now + 1000, Now + 5000));
        }

        // Reopened with a clock an hour behind: the mark (Now + 5000) still judges expiry.
        using (var store = ReplayStore.Open(_dir, Now - 3_600_000))
        {
            Assert.Equal(Now + 5000, store.HighWaterMs);
            Assert.Equal(Now + 5000, store.EffectiveNow(Now - 3_600_000));
            Assert.False(store.Contains("a", Now - 3_600_000));
            Assert.Equal(1, store.StaleDropped);
        }
    }

    [Fact]
    public void The_store_compacts_while_running()
    {
        using var store = ReplayStore.Open(_dir, Now);
        for (int i = 0; i < 10_000; i++)
        {
            long now = Now + i;
            string id = $"id-{i}";
            Assert.True(store.TryAdd(id, now + 10, now));
            store.MarkDone(id, now);
        }

        Assert.True(store.Compactions > 1, $"compactions: {store.Compactions}");
        Assert.True(store.Count < 5000, $"live ids: {store.Count}");
        int lines = File.ReadAllLines(FilePath).Length;
        Assert.True(lines < 9000, $"lines in the file: {lines}");
        Assert.Equal(ReplayState.Done, store.Lookup("id-9999", Now + 9999));
    }

    [Fact]
    public void Refuses_ids_that_would_break_the_line_format()
    {
        using var store = ReplayStore.Open(_dir, Now);

        Assert.Throws<ArgumentException>(() => store.TryAdd("a b", Now + 1, Now));
        Assert.Throws<ArgumentException>(() => store.TryAdd("a\nb", Now + 1, Now));
    }
}
