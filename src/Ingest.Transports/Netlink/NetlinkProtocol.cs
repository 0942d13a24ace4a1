namespace Ingest.Transports.Netlink;

/// <summary>The netlink protocols the sources speak (the third argument of socket(2)).</summary>
public enum NetlinkProtocol
{
    Route = 0,
    KobjectUevent = 15,
    Generic = 16,
}
