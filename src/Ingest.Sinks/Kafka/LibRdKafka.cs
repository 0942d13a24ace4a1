using System.Reflection;
using System.Runtime.InteropServices;
using Confluent.Kafka;

namespace Ingest.Sinks.Kafka;

/// <summary>
/// Loads the librdkafka native library this project is built against (2.15.1) before anything in
/// Confluent.Kafka can pick up another copy (Debian's librdkafka1 2.0.2 lacks entry points the
/// consumer needs), and points this assembly's own P/Invokes (the mock cluster) at the same file.
/// </summary>
/// <remarks>
/// Search order: the <c>INGEST_LIBRDKAFKA</c> environment variable when set (only that path is
/// tried), else <c>librdkafka.so.1</c> next to <see cref="AppContext.BaseDirectory"/>.
/// </remarks>
public static class LibRdKafka
{
    /// <summary>Environment variable that overrides the native library path.</summary>
    public const string PathVariable = "INGEST_LIBRDKAFKA";

    /// <summary>Oldest librdkafka accepted (0xMMmmrrxx, as <c>rd_kafka_version()</c>).</summary>
    public const int MinimumVersion = 0x020f0100;

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

            string path = ResolvePath(Environment.GetEnvironmentVariable(PathVariable), AppContext.BaseDirectory);
            if (Library.IsLoaded)
            {
                throw new InvalidOperationException(
                    $"librdkafka was loaded by Confluent.Kafka before {nameof(LibRdKafka)}.{nameof(EnsureLoaded)}() " +
                    $"could load '{path}'; call it before creating any Kafka client.");
            }

            // Load by full path first so a failure names the file.
            if (!NativeLibrary.TryLoad(path, out s_handle))
            {
                throw new DllNotFoundException($"librdkafka could not be loaded from '{path}' (set {PathVariable} to override).");
            }

            // Confluent's own P/Invokes ask for "librdkafka" (probing would find no .so.1, or
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
                    $"librdkafka at '{path}' is {Library.VersionString}; Ingest needs 2.15.1 or later.");
            }

            Volatile.Write(ref s_path, path);
            return path;
        }
    }

    /// <summary>The file to load: the override when set (only that), else librdkafka.so.1 in <paramref name="baseDirectory"/>.</summary>
    internal static string ResolvePath(string? overridePath, string baseDirectory)
    {
        string path = string.IsNullOrEmpty(overridePath)
            ? Path.Combine(baseDirectory, "librdkafka.so.1")
            : Path.GetFullPath(overridePath);
        if (!File.Exists(path))
        {
            throw new DllNotFoundException(
                $"librdkafka 2.15.1 not found at '{path}' (set {PathVariable} to its path, or run 'make deps').");
        }

        return path;
    }

    private static nint Resolve(string libraryName, Assembly assembly, DllImportSearchPath? searchPath) => libraryName switch
    {
        NativeName => s_handle,
        "libdl" => NativeLibrary.TryLoad("libdl.so.2", out nint libdl) ? libdl : 0,
        _ => 0,
    };
}
