namespace Ingest.Transports.Udp;

/// <summary>How a <see cref="UdpSource"/> turns a datagram into an event.</summary>
public enum UdpDatagramFormat
{
    /// <summary>A <c>datagram</c> event: the sender and the payload bytes as they came.</summary>
    Raw,

    /// <summary>The kingest module's datagrams (<see cref="KingestDatagramParser"/>): typed events.</summary>
    Kingest,
}
