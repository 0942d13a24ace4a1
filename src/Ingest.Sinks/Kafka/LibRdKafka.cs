using System.Reflection;
using System.Runtime.InteropServices;
using Confluent.Kafka;

namespace Ingest.Sinks.Kafka;

/// <summary>
/// Loads the librdkafka native library from the <c>librdkafka.redist</c> package (2.16.0) before
/// anything in Confluent.Kafka can pick up another copy (Debian's librdkafka1 2.0.2 lacks entry
/// points the consumer needs), and points this assembly's own P/Invokes (the mock cluster) at the
/// same file, so both share one mapped library.
/// </summary>
/// <remarks>
/// Search order: the <c>INGEST_LIBRDKAFKA</c> environment variable when set (only that path is
/// tried); else, next to <see cref="AppContext.BaseDirectory"/> (a RID-specific publish such as
/// <c>make build</c>) and then under <c>runtimes/linux-&lt;arch&gt;/native/</c> (a portable build:
/// tests, <c>dotnet run</c>), the redist's <c>librdkafka.so</c> and then its
/// <c>centos8-librdkafka.so</c>. The first needs RHEL's <c>libsasl2.so.3</c> (GSSAPI); the second
/// links its dependencies statically and is the one that loads on Debian and Ubuntu.
/// </remarks>
public static class LibRdKafka
{
    /// <summary>Environment variable that overrides the native library path.</summary>
    public const string PathVariable = "INGEST_LIBRDKAFKA";

    /// <summary>Oldest librdkafka accepted (0xMMmmrrxx, as <c>rd_kafka_version()</c>).</summary>
    public const int MinimumVersion = 0x02100000;

    /// <summary>The redist's glibc builds, in the order tried.</summary>
    internal static readonly string[] FileNames = ["librdkafka.so", "centos8-librdkafka.so"];

    /// <summary>Library name used by this assembly's <see cref="LibraryImportAttribute"/> declarations.</summary>
    internal const string NativeName = "librdkafka";

    private static readonly Lock s_gate = new();
    private static string? s_path;
    private static nint s_handle;
    private static bool s_resolversSet;

    /// <summary>
    /// Loads librdkafka once per process and returns the full path of the file that was loaded.
    /// Idempotent and thread-safe.
    /// </summary>
    /// <exception cref="DllNotFoundException">No library at the path tried (named in the message).</exception>
    /// <exception cref="InvalidOperationException">
    /// Confluent.Kafka already loaded a library of its own choosing, or the version is too old.
    /// </exception>
    public static string EnsureLoaded()
    {
        if (Volatile.Read(ref s_path) is { } loaded)
        {
            return loaded;
        }

        lock (s_gate)
        {
            if (s_path is not null)
            {
                return s_path;
            }

            IReadOnlyList<string> candidates = Candidates(Environment.GetEnvironmentVariable(PathVariable), AppContext.BaseDirectory);
            if (Library.IsLoaded)
            {
                throw new InvalidOperationException(
                    $"librdkafka was loaded by Confluent.Kafka before {nameof(LibRdKafka)}.{nameof(EnsureLoaded)}() " +
                    "could load its own copy; call it before creating any Kafka client.");
            }

            // Load by full path so a failure names the files and why each did not load.
            string path = Load(candidates, out s_handle);

            // Confluent's own P/Invokes ask for "librdkafka" (probing could find another copy, or
            // Debian's copy) and, for Library.Load, "libdl" (only libdl.so.2 exists without
            // libc6-dev): answer both for its assembly as for ours.
            if (!s_resolversSet)
            {
                NativeLibrary.SetDllImportResolver(typeof(Library).Assembly, Resolve);
                NativeLibrary.SetDllImportResolver(typeof(LibRdKafka).Assembly, Resolve);
                s_resolversSet = true;
            }

            Library.Load(path);
            if (Library.Version < MinimumVersion)
            {
                throw new InvalidOperationException(
                    $"librdkafka at '{path}' is {Library.VersionString}; Ingest needs 2.16.0 or later.");
            }

            Volatile.Write(ref s_path, path);
            return path;
        }
    }

    /// <summary>
    /// The files to try, in order: the override when set (only that), else each of
    /// <see cref="FileNames"/> in <paramref name="baseDirectory"/> and then in its
    /// <c>runtimes/linux-&lt;arch&gt;/native/</c>; only those that exist.
    /// </summary>
    /// <exception cref="DllNotFoundException">None exists; the message names every path tried.</exception>
    internal static IReadOnlyList<string> Candidates(string? overridePath, string baseDirectory)
    {
        string[] tried = string.IsNullOrEmpty(overridePath)
            ? [.. from dir in new[] { baseDirectory, Path.Combine(baseDirectory, "runtimes", NativeRid, "native") }
                  from name in FileNames
                  select Path.Combine(dir, name)]
            : [Path.GetFullPath(overridePath)];
        string[] present = Array.FindAll(tried, File.Exists);
        if (present.Length == 0)
        {
            throw new DllNotFoundException(
                $"librdkafka not found at {string.Join(", ", tried.Select(p => $"'{p}'"))} " +
                $"(set {PathVariable} to its path, or restore the librdkafka.redist package).");
        }

        return present;
    }

    /// <summary>The redist's folder for this process: runtimes/linux-x64, linux-arm64, ...</summary>
    internal static string NativeRid => "linux-" + RuntimeInformation.ProcessArchitecture.ToString().ToLowerInvariant();

    private static string Load(IReadOnlyList<string> candidates, out nint handle)
    {
        var errors = new List<string>(candidates.Count);
        foreach (string path in candidates)
        {
            try
            {
                handle = NativeLibrary.Load(path);
                return path;
            }
            catch (DllNotFoundException e)
            {
                // e.g. librdkafka.so needs libsasl2.so.3, which Debian does not have: try the next.
                errors.Add($"'{path}': {e.Message}");
            }
        }

        throw new DllNotFoundException($"librdkafka could not be loaded (set {PathVariable} to override): {string.Join("; ", errors)}");
    }

    private static nint Resolve(string libraryName, Assembly assembly, DllImportSearchPath? searchPath) => libraryName switch
    {
        NativeName => s_handle,
        "libdl" => NativeLibrary.TryLoad("libdl.so.2", out nint libdl) ? libdl : 0,
        _ => 0,
    };
}
