namespace Ingest.Transports.Signals;

/// <summary>Configuration of a <see cref="SignalSource"/>.</summary>
public sealed class SignalSourceOptions
{
    /// <summary>Where the reader thread's ids are published unless configured otherwise.</summary>
    public const string DefaultThreadIdFile = "/run/ingest/signal.tid";

    /// <summary>Names the source within the "signal" channel.</summary>
    public string Name { get; init; } = "rt";

    /// <summary>The signals to read, each in SIGRTMIN+1..SIGRTMAX. Default: SIGRTMIN+6 (40).</summary>
    public IReadOnlyList<int> Signals { get; init; } = [RealtimeSignal.Default];

    /// <summary>
    /// User ids whose queued signals are accepted; others are counted as <c>denied_sender</c> and
    /// dropped. Default: root only, like the upcall socket. Signals the kernel originates (a
    /// positive si_code, the module's among them) are always accepted; a user process claiming
    /// si_pid 0 never is.
    /// </summary>
    public IReadOnlyList<uint> AllowedUids { get; init; } = [0];

    /// <summary>
    /// The kingest character device (e.g. /dev/kingest). When set, the reader thread subscribes
    /// itself with KINGEST_IOC_SUBSCRIBE_SIGNAL for the first of <see cref="Signals"/> (the module
    /// keeps one subscription per open file); when null, only stock senders (rt_tgsigqueueinfo to
    /// <see cref="SignalSource.ThreadId"/>) reach it.
    /// </summary>
    public string? Device { get; init; }

    /// <summary>
    /// File that receives "tgid tid\n" once the reader is ready, written atomically (temporary
    /// file + rename) and removed on stop. Null: not published.
    /// </summary>
    public string? ThreadIdFile { get; init; } = DefaultThreadIdFile;

    /// <summary>Throws <see cref="ArgumentException"/> describing the first invalid setting.</summary>
    public void Validate()
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(Name);
        if (Signals is null || Signals.Count == 0)
        {
            throw new ArgumentException("at least one signal must be configured", nameof(Signals));
        }

        for (var i = 0; i < Signals.Count; i++)
        {
            RealtimeSignal.Validate(Signals[i]);
            for (var j = 0; j < i; j++)
            {
                if (Signals[j] == Signals[i])
                {
                    throw new ArgumentException($"signal {Signals[i]} is listed twice", nameof(Signals));
                }
            }
        }

        ArgumentNullException.ThrowIfNull(AllowedUids);
    }
}
