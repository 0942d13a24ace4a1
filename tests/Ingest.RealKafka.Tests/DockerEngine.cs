using System.Net;
using System.Net.Sockets;

namespace Ingest.RealKafka.Tests;

/// <summary>
/// Finds a Docker engine the way Testcontainers would (DOCKER_HOST, else /var/run/docker.sock)
/// and pings it (GET /_ping), so a missing engine is a clear skip reason rather than a timeout.
/// </summary>
public static class DockerEngine
{
    private static readonly Lazy<string?> Unavailable = new(Probe);

    /// <summary>Null when an engine answered the ping; otherwise why the suite cannot run.</summary>
    public static string? UnavailableReason => Unavailable.Value;

    /// <summary>CI sets INGEST_REQUIRE_DOCKER=1: there a missing engine fails the suite instead of skipping it.</summary>
    public static bool Required => Environment.GetEnvironmentVariable("INGEST_REQUIRE_DOCKER") == "1";

    private static string? Probe()
    {
        var host = Environment.GetEnvironmentVariable("DOCKER_HOST");
        EndPoint endpoint;
        string where;
        if (string.IsNullOrEmpty(host) || host.StartsWith("unix://", StringComparison.Ordinal))
        {
            var path = string.IsNullOrEmpty(host) ? "/var/run/docker.sock" : host["unix://".Length..];
            if (!File.Exists(path))
            {
                return $"no Docker engine: DOCKER_HOST is {(string.IsNullOrEmpty(host) ? "unset" : host)} and {path} does not exist";
            }

            endpoint = new UnixDomainSocketEndPoint(path);
            where = path;
        }
        else if (host.StartsWith("tcp://", StringComparison.Ordinal) && Uri.TryCreate("http://" + host["tcp://".Length..], UriKind.Absolute, out var uri))
        {
            endpoint = new DnsEndPoint(uri.Host, uri.Port);
            where = host;
        }
        else
        {
            return $"no Docker engine: unsupported DOCKER_HOST '{host}'";
        }

        try
        {
            using var socket = new Socket(endpoint.AddressFamily == AddressFamily.Unix ? AddressFamily.Unix : AddressFamily.InterNetwork, SocketType.Stream, endpoint.AddressFamily == AddressFamily.Unix ? ProtocolType.Unspecified : ProtocolType.Tcp);
            socket.ReceiveTimeout = 3000;
            socket.SendTimeout = 3000;
            socket.Connect(endpoint);
            socket.Send(System.Text.Encoding.ASCII.GetBytes("GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n"));
            var buffer = new byte[512];
            var read = socket.Receive(buffer);
            var answer = System.Text.Encoding.ASCII.GetString(buffer, 0, read);
            return answer.StartsWith("HTTP/1.", StringComparison.Ordinal) && answer.Contains(" 200 ", StringComparison.Ordinal)
                ? null
                : $"Docker engine at {where} did not answer /_ping with 200: {answer.Split('\n')[0].Trim()}";
        }
        catch (SocketException e)
        {
            return $"no Docker engine: {where} refused the ping ({e.SocketErrorCode}: {e.Message})";
        }
    }
}
