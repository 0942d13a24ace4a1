using Ingest.Transports.Files;
using Ingest.Transports.Signals;

namespace Ingest.Transports.Tests.Files;

/// <summary>
/// The runtime directory and its files against the attacks a predictable /tmp/ingest-USER
/// invites: a directory made first by another user, a symlink in its place, symlinks planted at
/// the TID file's temporary and final names.
/// </summary>
public sealed partial class PrivateFilesTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ingest-private-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void A_missing_runtime_directory_is_created_0700()
    {
        string runtime = Path.Combine(_dir, "run");

        PrivateFiles.EnsureDirectory(runtime);

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(runtime));
        PrivateFiles.EnsureDirectory(runtime); // idempotent
    }

    [Fact]
    public void A_directory_owned_by_another_user_is_refused()
    {
        if (Environment.UserName != "root")
        {
            Assert.Skip("needs root to give a directory to another user");
        }

        string runtime = Path.Combine(_dir, "theirs");
        Directory.CreateDirectory(runtime);
        Assert.Equal(0, Chown(runtime, 65534, 65534));

        var e = Assert.Throws<UnauthorizedAccessException>(() => PrivateFiles.EnsureDirectory(runtime));
        Assert.Contains("owned by uid 65534", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_symlink_in_place_of_the_directory_is_refused()
    {
        string target = Path.Combine(_dir, "elsewhere");
        Directory.CreateDirectory(target);
        string runtime = Path.Combine(_dir, "link");
        File.CreateSymbolicLink(runtime, target);

        var e = Assert.Throws<UnauthorizedAccessException>(() => PrivateFiles.EnsureDirectory(runtime));
        Assert.Contains("symlink", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Our_own_world_writable_directory_is_narrowed_to_0700()
    {
        string runtime = Path.Combine(_dir, "loose");
        Directory.CreateDirectory(runtime);
        File.SetUnixFileMode(runtime, (UnixFileMode)0x1FF);

        PrivateFiles.EnsureDirectory(runtime);

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(runtime));
    }

    [Fact]
    public void The_tid_file_never_writes_through_planted_symlinks()
    {
        string victim = Path.Combine(_dir, "victim");
        File.WriteAllText(victim, "untouched\n");
        string tid = Path.Combine(_dir, "signal.tid");
        // At the temporary name the writer uses, and at the final name.
        File.CreateSymbolicLink(Path.Combine(_dir, $".signal.tid.{Environment.ProcessId}.tmp"), victim);
        File.CreateSymbolicLink(tid, victim);

        ThreadIdFile.Write(tid, 123, 456);

        Assert.Equal("untouched\n", File.ReadAllText(victim));
        Assert.Null(new FileInfo(tid).LinkTarget);
        Assert.Equal((123, 456), ThreadIdFile.Read(tid));
    }

    [Fact]
    public void The_tid_file_is_not_read_through_a_symlink()
    {
        string elsewhere = Path.Combine(_dir, "elsewhere.tid");
        File.WriteAllText(elsewhere, "1 2\n");
        string tid = Path.Combine(_dir, "signal.tid");
        File.CreateSymbolicLink(tid, elsewhere);

        Assert.ThrowsAny<IOException>(() => ThreadIdFile.Read(tid));
    }

    private static int Chown(string path, int owner, int group) => chown(path, owner, group);

    [System.Runtime.InteropServices.LibraryImport("libc", SetLastError = true, StringMarshalling = System.Runtime.InteropServices.StringMarshalling.Utf8)]
    private static partial int chown(string path, int owner, int group);
}
