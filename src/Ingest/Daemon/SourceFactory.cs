using Ingest.Configuration;
using Ingest.Transports.Events;
using Ingest.Transports.Netlink;
using Ingest.Transports.Proc;
using Ingest.Transports.Ring;
using Ingest.Transports.Signals;
using Ingest.Transports.Udp;
using Ingest.Transports.Upcall;
using Microsoft.Extensions.Logging;

namespace Ingest.Daemon;

/// <summary>Builds the enabled sources from configuration. One place to see every channel the daemon can read.</summary>
public static class SourceFactory
{
    public static List<IEventSource> Create(IngestOptions options, ILoggerFactory loggers)
    {
        // The runtime directory holds sockets and the TID file: 0700, ours, or refused (a
        // predictable /tmp/ingest-USER may have been made by someone else first).
        Ingest.Transports.Files.PrivateFiles.EnsureDirectory(options.ResolvedRuntimeDirectory);
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
                    CoalesceDelay = TimeSpan.FromMicroseconds(options.Udp.CoalesceMicroseconds),
                    ReceiveThreadNice = options.Udp.ReceiveThreadNice,
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

        var netlinkLog = loggers.CreateLogger("netlink");
        var netlink = new NetlinkSourceOptions
        {
            ReceiveBufferSize = options.Netlink.ReceiveBufferBytes,
            NetworkNamespace = string.IsNullOrWhiteSpace(options.Netlink.NetworkNamespace) ? null : options.Netlink.NetworkNamespace,
        };
        if (options.Netlink.Enabled && options.Netlink.Uevent)
        {
            sources.Add(new UeventSource(netlink, netlinkLog));
        }

        if (options.Netlink.Enabled && options.Netlink.Rtnetlink)
        {
            sources.Add(new RtnetlinkSource(netlink, netlinkLog));
        }

        foreach (var pair in options.Netlink.Enabled ? options.Netlink.EffectiveGeneric : [])
        {
            var slash = pair.IndexOf('/', StringComparison.Ordinal);
            if (slash <= 0 || slash == pair.Length - 1)
            {
                throw new ConfigurationException($"Netlink:Generic: '{pair}' is not family/group (e.g. kingest/events)");
            }

            sources.Add(new GenericNetlinkSource(pair[..slash], pair[(slash + 1)..], netlink, netlinkLog));
        }

        var runtime = options.ResolvedRuntimeDirectory;
        var device = options.Ring.DevicePath;
        if (options.Signals.Enabled)
        {
            var signals = new SignalSourceOptions
            {
                Signals = options.Signals.Numbers.Count > 0 ? options.Signals.Numbers : [RealtimeSignal.Default],
                AllowedUids = options.Signals.AllowedUids.Count > 0 ? options.Signals.AllowedUids : [0],
                Device = options.Signals.Device switch
                {
                    "auto" => File.Exists(device) ? device : null,
                    "off" => null,
                    var path => path,
                },
                ThreadIdFile = options.Signals.ThreadIdFile ?? Path.Combine(runtime, "signal.tid"),
            };
            sources.Add(new SignalSource(signals));
        }

        if (options.Upcall.Enabled)
        {
            sources.Add(new UpcallSource(new UpcallSourceOptions
            {
                SocketPath = options.Upcall.SocketPath ?? Path.Combine(runtime, "upcall.sock"),
                AllowedUids = options.Upcall.AllowedUids.Count > 0 ? options.Upcall.AllowedUids : [0],
            }));
        }

        var ring = options.Ring.Enabled switch
        {
            "on" => true,
            "off" => false,
            _ => File.Exists(device), // "auto"; Validate refused anything else
        };
        if (ring)
        {
            var ringLog = loggers.CreateLogger("ring");
            sources.Add(RingSource.OpenDevice(new RingSourceOptions
            {
                DevicePath = device,
                MaxBurstRecords = options.Ring.MaxBurstRecords,
                Log = line => ringLog.LogInformation("{Line}", line),
            }));
        }

        return sources;
    }
}
