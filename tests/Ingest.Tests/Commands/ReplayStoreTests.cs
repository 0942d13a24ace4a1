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

        // Compaction rewrote the file with the live entry only.
        Assert.Equal($"{Now + 5000} b\n", File.ReadAllText(FilePath));
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
        Assert.Equal("", File.ReadAllText(FilePath));
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
    public void Refuses_ids_that_would_break_the_line_format()
    {
        using var store = ReplayStore.Open(_dir, Now);

        Assert.Throws<ArgumentException>(() => store.TryAdd("a b", Now + 1, Now));
        Assert.Throws<ArgumentException>(() => store.TryAdd("a\nb", Now + 1, Now));
    }
}
