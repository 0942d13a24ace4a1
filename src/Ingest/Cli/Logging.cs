using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace Ingest.Cli;

/// <summary>Logs go to stderr, one line each; stdout carries only data (bootstrap=, stats, events).</summary>
internal static class Logging
{
    public static ILoggerFactory Create(LogLevel level) => LoggerFactory.Create(builder =>
    {
        builder.SetMinimumLevel(level);
        // `ingest run`'s host: the daemon reports its own start-up failures, without a stack trace.
        builder.AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Warning);
        builder.AddFilter("Microsoft.Extensions.Hosting", LogLevel.Critical);
        builder.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss.fff ";
            o.ColorBehavior = LoggerColorBehavior.Disabled;
        });
        builder.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
    });
}
