using Ingest.Transports.Effectors;

namespace Ingest.Commands;

/// <summary>
/// Sysctls that make the kernel execute a path as root (core dump pipes, module loader, hotplug
/// and poweroff helpers, usermode-helper capabilities, binfmt interpreters, the module's own
/// upcall helper). A signed command may never write one, whatever the allowlist says: a leaked
/// operator key must not mean root on every host. Matched on path segments.
/// </summary>
public static class ExecSinkSysctls
{
    /// <summary>Exact keys.</summary>
    private static readonly string[][] s_keys =
    [
        ["kernel", "core_pattern"],
        ["kernel", "modprobe"],
        ["kernel", "hotplug"],
        ["kernel", "poweroff_cmd"],
        ["kingest", "upcall_helper"],
    ];

    /// <summary>Whole subtrees (the directory and everything under it).</summary>
    private static readonly string[][] s_subtrees =
    [
        ["kernel", "usermodehelper"],
        ["fs", "binfmt_misc"],
    ];

    /// <summary>The refused names as documented: kernel.core_pattern, ..., fs.binfmt_misc.*.</summary>
    public static IEnumerable<string> Names =>
        s_keys.Select(k => string.Join('.', k)).Concat(s_subtrees.Select(s => string.Join('.', s) + ".*"));

    /// <summary>True when writing <paramref name="key"/> is always refused.</summary>
    public static bool IsRefused(SysctlKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        IReadOnlyList<string> segments = key.Segments;
        foreach (string[] exact in s_keys)
        {
            if (segments.Count == exact.Length && StartsWith(segments, exact))
            {
                return true;
            }
        }

        foreach (string[] subtree in s_subtrees)
        {
            if (StartsWith(segments, subtree))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// The refused name a rule would cover, or null: an exact rule naming one, or a prefix rule
    /// that is an ancestor of one or lies inside a refused subtree.
    /// </summary>
    public static string? CoveredBy(IReadOnlyList<string> rule, bool isPrefix)
    {
        ArgumentNullException.ThrowIfNull(rule);
        foreach (string[] exact in s_keys)
        {
            bool covered = isPrefix
                ? exact.Length > rule.Count && StartsWith(exact, rule)
                : exact.Length == rule.Count && StartsWith(rule, exact);
            if (covered)
            {
                return string.Join('.', exact);
            }
        }

        foreach (string[] subtree in s_subtrees)
        {
            if (StartsWith(rule, subtree) || (isPrefix && subtree.Length > rule.Count && StartsWith(subtree, rule)))
            {
                return string.Join('.', subtree) + ".*";
            }
        }

        return null;
    }

    private static bool StartsWith(IReadOnlyList<string> segments, IReadOnlyList<string> prefix)
    {
        if (segments.Count < prefix.Count)
        {
            return false;
        }

        for (int i = 0; i < prefix.Count; i++)
        {
            if (!string.Equals(segments[i], prefix[i], StringComparison.Ordinal))
            {
                return false;
            }
        }

        return true;
    }
}
