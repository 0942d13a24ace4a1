namespace Ingest.Transports.Tests.Support;

/// <summary>
/// Temporary directories another uid can reach. Tests that run something as uid 65534 copy it here
/// first: a clone under a 0700 directory (mktemp -d, /root) keeps the build tree from that uid.
/// </summary>
internal static class WorldReachable
{
    private const UnixFileMode Traversable = UnixFileMode.OtherExecute;

    private const UnixFileMode Mode0755 = (UnixFileMode)0b111_101_101;

    /// <summary>A fresh 0755 directory under the first of $TMPDIR, /tmp, /dev/shm whose every ancestor other users may search.</summary>
    public static string CreateDirectory(string prefix)
    {
        foreach (string root in new[] { Path.GetTempPath(), "/tmp", "/dev/shm" })
        {
            if (Directory.Exists(root) && IsTraversable(root))
            {
                string dir = Path.Combine(root, prefix + Path.GetRandomFileName());
                Directory.CreateDirectory(dir);
                File.SetUnixFileMode(dir, Mode0755);
                return dir;
            }
        }

        throw new InvalidOperationException("no temporary directory that other users can reach ($TMPDIR, /tmp, /dev/shm)");
    }

    /// <summary>
    /// Copies <paramref name="files"/> (under <paramref name="baseDirectory"/>, keeping their relative
    /// paths: a RID-less build keeps native-specific assemblies under runtimes/) into a fresh
    /// world-reachable directory (readable, executables stay executable).
    /// </summary>
    public static string CopyFiles(string prefix, string baseDirectory, IEnumerable<string> files)
    {
        string dir = CreateDirectory(prefix);
        foreach (string file in files)
        {
            string target = Path.Combine(dir, Path.GetRelativePath(baseDirectory, file));
            var parent = dir;
            foreach (var segment in Path.GetDirectoryName(Path.GetRelativePath(baseDirectory, file))!.Split('/', StringSplitOptions.RemoveEmptyEntries))
            {
                parent = Path.Combine(parent, segment);
                if (!Directory.Exists(parent))
                {
                    Directory.CreateDirectory(parent);
                    File.SetUnixFileMode(parent, Mode0755);
                }
            }

            File.Copy(file, target);
            UnixFileMode mode = File.GetUnixFileMode(file) | UnixFileMode.UserRead | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
            if ((mode & UnixFileMode.UserExecute) != 0)
            {
                mode |= UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;
            }

            File.SetUnixFileMode(target, mode);
        }

        return dir;
    }

    /// <summary>True when every directory from / down to <paramref name="path"/> grants others search (x).</summary>
    public static bool IsTraversable(string path)
    {
        for (var dir = new DirectoryInfo(Path.GetFullPath(path)); dir is not null; dir = dir.Parent)
        {
            if ((dir.UnixFileMode & Traversable) == 0)
            {
                return false;
            }
        }

        return true;
    }
}
