namespace Ingest.Transports.Events;

/// <summary>
/// Which senders a source accepts events from, by the uid the kernel vouches for (a signal's
/// ssi_uid, a Unix peer's SO_PEERCRED). The signal and upcall sources share it; a denied sender
/// is counted by the source, never delivered.
/// </summary>
internal sealed class SenderPolicy(IEnumerable<uint> allowedUids)
{
    private readonly uint[] _allowedUids = [.. allowedUids];

    public bool IsAllowed(uint uid) => _allowedUids.AsSpan().Contains(uid);
}
