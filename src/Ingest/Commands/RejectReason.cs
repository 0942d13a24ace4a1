namespace Ingest.Commands;

/// <summary>
/// Why a record was refused before its signature checked out. Such records get no result of
/// their own (anyone can write them, so answering each would let junk cost a publish each):
/// they are counted by reason and summarised in one rate-limited result.
/// </summary>
public enum RejectReason
{
    /// <summary>Longer than Commands:MaxRecordBytes.</summary>
    Oversized,

    /// <summary>Not a MessagePack envelope of exactly v, kid, body, sig.</summary>
    Malformed,

    /// <summary>The kid is not a trusted key.</summary>
    UnknownKeyId,

    /// <summary>The signature does not verify over the body.</summary>
    BadSignature,
}

/// <summary>Wire and counter names of <see cref="RejectReason"/>.</summary>
public static class RejectReasonNames
{
    public static string ToWire(this RejectReason reason) => reason switch
    {
        RejectReason.Oversized => "oversized",
        RejectReason.Malformed => "malformed",
        RejectReason.UnknownKeyId => "unknown_kid",
        RejectReason.BadSignature => "bad_signature",
        _ => throw new ArgumentOutOfRangeException(nameof(reason)),
    };
}
