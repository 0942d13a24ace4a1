namespace Ingest.Transports.Upcall;

/// <summary>Configuration of an <see cref="UpcallSource"/>.</summary>
public sealed class UpcallSourceOptions
{
    public const string DefaultSocketPath = "/run/ingest/upcall.sock";

    /// <summary>Names the source within the "upcall" channel.</summary>
    public string Name { get; init; } = "helper";

    /// <summary>Where the helper connects; its directory is created (0755) if missing.</summary>
    public string SocketPath { get; init; } = DefaultSocketPath;

    /// <summary>Mode of the socket file: who may connect at all. Default 0600 (root's helper only).</summary>
    public UnixFileMode SocketMode { get; init; } = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>Peer uids (SO_PEERCRED) whose messages are read; others are counted as <c>denied_peer</c>.</summary>
    public IReadOnlyList<uint> AllowedUids { get; init; } = [0];

    /// <summary>Largest message read; longer ones are counted as <c>oversize</c> and dropped.</summary>
    public int MaxMessageBytes { get; init; } = 64 * 1024;

    /// <summary>Most strings (argc + envc) in one message; more is <c>malformed</c>.</summary>
    public int MaxStrings { get; init; } = 1024;

    /// <summary>How long an accepted peer may take to send its message before it is counted as <c>timeout</c>.</summary>
    public TimeSpan ReceiveTimeout { get; init; } = TimeSpan.FromSeconds(1);

    public void Validate()
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(Name);
        ArgumentException.ThrowIfNullOrWhiteSpace(SocketPath);
        if (System.Text.Encoding.UTF8.GetByteCount(SocketPath) >= 108)
        {
            throw new ArgumentException($"socket path '{SocketPath}' is longer than a Unix socket address allows (107 bytes)", nameof(SocketPath));
        }

        ArgumentNullException.ThrowIfNull(AllowedUids);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxMessageBytes, UpcallMessage.HeaderSize);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxStrings, 1);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(ReceiveTimeout, TimeSpan.Zero);
    }
}
