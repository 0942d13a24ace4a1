namespace Ingest.Transports.Effectors;

/// <summary>
/// A sysctl name checked to stay inside the sysctl tree: dotted ("net.ipv4.tcp_keepalive_time")
/// or slashed ("net/ipv4/tcp_keepalive_time"), as sysctl(8) accepts. A name with a '/' is taken
/// literally (its dots are part of segment names, e.g. VLAN interfaces); otherwise dots separate
/// segments.
/// </summary>
public sealed class SysctlKey
{
    /// <summary>Longer names do not exist in the kernel; the bound keeps hostile input cheap.</summary>
    public const int MaxLength = 255;

    private SysctlKey(string name, string[] segments)
    {
        Name = name;
        Segments = segments;
    }

    /// <summary>The dotted name: segments joined with '.' (the form allowlists are written in).</summary>
    public string Name { get; }

    /// <summary>Path segments under the sysctl root; none is empty, ".", ".." or contains '/'.</summary>
    public IReadOnlyList<string> Segments { get; }

    /// <summary>For messages: the dotted name, or the relative path when a segment has a dot (so it is unambiguous).</summary>
    public string DisplayName => Segments.Any(static s => s.Contains('.', StringComparison.Ordinal)) ? RelativePath : Name;

    /// <summary>The relative path under the root ("net/ipv4/tcp_keepalive_time").</summary>
    public string RelativePath => string.Join('/', Segments);

    /// <summary>
    /// Parses <paramref name="text"/>; on failure returns false with a human-readable reason.
    /// Refused: empty, too long, absolute, empty segments, "." or "..", NUL, and any character
    /// outside [A-Za-z0-9_.-/].
    /// </summary>
    public static bool TryParse(string? text, out SysctlKey? key, out string? error)
    {
        key = null;
        if (string.IsNullOrEmpty(text))
        {
            error = "sysctl key is empty";
            return false;
        }

        if (text.Length > MaxLength)
        {
            error = $"sysctl key is longer than {MaxLength} characters";
            return false;
        }

        foreach (char c in text)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.' or '/'))
            {
                error = $"sysctl key '{Printable(text)}' contains a character outside [A-Za-z0-9_.-/]";
                return false;
            }
        }

        if (text[0] == '/')
        {
            error = $"sysctl key '{text}' is an absolute path; keys are relative to /proc/sys";
            return false;
        }

        if (text.Contains("..", StringComparison.Ordinal))
        {
            error = $"sysctl key '{text}' contains '..'";
            return false;
        }

        bool slashed = text.Contains('/', StringComparison.Ordinal);
        string[] segments = text.Split(slashed ? '/' : '.');
        foreach (string segment in segments)
        {
            if (segment.Length == 0 || segment == ".")
            {
                error = $"sysctl key '{text}' has an empty segment";
                return false;
            }
        }

        key = new SysctlKey(string.Join('.', segments), segments);
        error = null;
        return true;
    }

    public override string ToString() => Name;

    private static string Printable(string text)
    {
        var chars = text.ToCharArray();
        for (int i = 0; i < chars.Length; i++)
        {
            if (char.IsControl(chars[i]))
            {
                chars[i] = '?';
            }
        }

        return new string(chars);
    }
}
