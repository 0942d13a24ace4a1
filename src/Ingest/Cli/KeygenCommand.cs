using System.CommandLine;
using Ingest.Commands;

namespace Ingest.Cli;

internal static class KeygenCommand
{
    public static Command Create()
    {
        var directory = new Option<DirectoryInfo>("--out", "-o") { Description = "Directory for the key files.", DefaultValueFactory = _ => new DirectoryInfo(".") };
        var name = new Option<string>("--name", "-n") { Description = "File name stem: <name>.key (private, 0600) and <name>.pub (public, 0644).", DefaultValueFactory = _ => "ingest-command" };
        var host = new Option<string?>("--host") { Description = "Make a host's result-signing key instead: HOST.key goes in the host's Commands:HostKey, HOST.pub to operators (ingest send --host-pub DIR)." };
        var command = new Command("keygen", "Make an ECDSA P-256 key pair. For signing commands (default): the private key stays with operators; hosts list the .pub file in Commands:TrustedKeys. With --host HOST, for signing HOST's results. Prints the key id.")
        {
            directory, name, host,
        };
        command.SetAction(async (parse, _) =>
        {
            var dir = parse.GetValue(directory)!;
            var hostId = parse.GetValue(host);
            var stem = hostId ?? parse.GetValue(name)!;
            if (stem.Length == 0 || stem.Contains('/', StringComparison.Ordinal) || stem is "." or "..")
            {
                await Console.Error.WriteLineAsync($"ingest keygen: {(hostId is null ? "--name" : "--host")} must be a plain file name");
                return 2;
            }

            try
            {
                dir.Create();
                var privatePath = Path.Combine(dir.FullName, stem + ".key");
                var publicPath = Path.Combine(dir.FullName, stem + ".pub");
                var kid = CommandKeys.Generate(privatePath, publicPath);
                Console.WriteLine($"kid={kid}");
                Console.WriteLine($"private={privatePath}");
                Console.WriteLine($"public={publicPath}");
                return 0;
            }
            catch (Exception e) when (e is CommandKeyException or IOException or UnauthorizedAccessException)
            {
                await Console.Error.WriteLineAsync($"ingest keygen: {e.Message}");
                return 1;
            }
        });
        return command;
    }
}
