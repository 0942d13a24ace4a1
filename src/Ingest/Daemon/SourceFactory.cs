using Ingest.Configuration;
using Ingest.Transports.Events;
using Ingest.Transports.Udp;
using Microsoft.Extensions.Logging;

namespace Ingest.Daemon;

/// <summary>Builds the enabled sources from configuration. One place to see every channel the daemon can read.</summary>
public static class SourceFactory
{
    public static List<IEventSource> Create(IngestOptions options, ILoggerFactory loggers)
    {
        var sources = new List<IEventSource>();
        if (options.Udp.Enabled)
        {
            var log = loggers.CreateLogger("udp");
            foreach (var endpoint in options.Udp.EffectiveEndpoints)
            {
                sources.Add(new UdpSource(new UdpSourceOptions
                {
                    Endpoint = endpoint,
                    MaxDatagramSize = options.Udp.MaxDatagramBytes,
                    ReceiveBufferBytes = options.Udp.ReceiveBufferBytes,
                    Log = line => log.LogWarning("{Line}", line),
                }));
            }
        }

        return sources;
    }
}
