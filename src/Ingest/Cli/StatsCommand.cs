using System.CommandLine;
using System.Net.Sockets;
using System.Text.Json;
using Ingest.Telemetry;

namespace Ingest.Cli;

internal static class StatsCommand
{
    public static Command Create()
    {
        var socket = new Option<string?>("--socket", "-s") { Description = "The daemon's control socket (default: as `ingest run` chooses; see Stats:ControlSocket)." };
        var json = new Option<bool>("--json") { Description = "Print the raw JSON snapshot, for scripts." };
        var command = new Command("stats", "Show a running daemon's per-source received, delivered, dropped and queue figures.")
        {
            socket, json,
        };
        command.SetAction(async (parse, ct) =>
        {
            var path = parse.GetValue(socket) ?? ControlSocket.DefaultPath();
            StatsSnapshot snapshot;
            try
            {
                snapshot = await ControlSocket.ReadAsync(path, ct);
            }
            catch (Exception e) when (e is SocketException or IOException or JsonException)
            {
                await Console.Error.WriteLineAsync($"ingest stats: no ingest daemon answered on {path} ({e.Message}); is `ingest run` running? --socket chooses another path");
                return 1;
            }

            Console.Write(parse.GetValue(json)
                ? JsonSerializer.Serialize(snapshot, StatsJsonContext.Default.StatsSnapshot) + Environment.NewLine
                : StatsFormatter.Table(snapshot));
            return 0;
        });
        return command;
    }
}
