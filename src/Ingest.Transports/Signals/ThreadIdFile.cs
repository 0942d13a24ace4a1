using System.Globalization;
using Ingest.Transports.Files;

namespace Ingest.Transports.Signals;

/// <summary>
/// Publishes "tgid tid\n" so stock senders know where to rt_tgsigqueueinfo. Written to a
/// temporary file (created O_EXCL|O_NOFOLLOW: a planted symlink is never written through) and
/// renamed over the target, so a reader never sees a partial line.
/// </summary>
internal static class ThreadIdFile
{
    public static void Write(string path, int tgid, int tid)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(directory);
        PrivateFiles.WriteAtomic(path, string.Create(CultureInfo.InvariantCulture, $"{tgid} {tid}\n"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
    }

    /// <summary>Reads a published file back: (tgid, tid).</summary>
    public static (int Tgid, int Tid) Read(string path)
    {
        var parts = PrivateFiles.ReadNoFollow(path).Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (parts.Length != 2)
        {
            throw new FormatException($"{path}: expected \"tgid tid\"");
        }

        return (int.Parse(parts[0], CultureInfo.InvariantCulture), int.Parse(parts[1], CultureInfo.InvariantCulture));
    }

    /// <summary>Removes the file if it still names this thread (a newer daemon may own it now).</summary>
    public static void Remove(string path, int tgid, int tid)
    {
        try
        {
            if (Read(path) == (tgid, tid))
            {
                File.Delete(path);
            }
        }
        catch (Exception e) when (e is IOException or FormatException or UnauthorizedAccessException)
        {
            // Gone or replaced: nothing of ours to remove.
        }
    }
}
