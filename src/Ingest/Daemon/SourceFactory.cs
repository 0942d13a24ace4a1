using Ingest.Configuration;
using Ingest.Transports.Events;
using Ingest.Transports.Proc;
using Ingest.Transports.Ring;
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
                    Format = options.Udp.Format,
                    Log = line => log.LogInformation("{Line}", line),
                }));
            }
        }

        if (options.Proc.Enabled)
        {
            var log = loggers.CreateLogger("proc");
            var defaultInterval = TimeSpan.FromSeconds(options.Proc.IntervalSeconds);
            var files = options.Proc.Files.Count > 0
                ? options.Proc.Files.Select(f => new ProcScrapeFile
                {
                    Path = f.Path,
                    Interval = f.IntervalSeconds is { } s ? TimeSpan.FromSeconds(s) : defaultInterval,
                    Parser = f.Parser,
                })
                : ProcScrapeOptions.DefaultFiles.Select(f => new ProcScrapeFile { Path = f.Path, Interval = defaultInterval });
            var scrape = new ProcScrapeOptions { Files = files.ToList(), Log = line => log.LogWarning("{Line}", line) };
            sources.AddRange(ProcFileSource.Create(scrape));
        }

        if (options.Ring.Enabled)
        {
            var log = loggers.CreateLogger("ring");
            sources.Add(RingSource.OpenDevice(new RingSourceOptions
            {
                DevicePath = options.Ring.DevicePath,
                MaxBurstRecords = options.Ring.MaxBurstRecords,
                Log = line => log.LogInformation("{Line}", line),
            }));
        }

        return sources;
    }
}
