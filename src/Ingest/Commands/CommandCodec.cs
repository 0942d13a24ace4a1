using Ingest.Encoding.MessagePack;
using MessagePackWriter = global::MessagePack.MessagePackWriter;

namespace Ingest.Commands;

/// <summary>
/// The wire format of kernel.commands values. The envelope is
/// <c>{"v":1, "kid":str, "body":bin, "sig":bin}</c>; <c>body</c> is the MessagePack map
/// <c>{"v","id","host","issued_at","expires_at","op","args"}</c> and <c>sig</c> is ECDSA P-256
/// / SHA-256 (IEEE P1363, 64 bytes) over exactly the body bytes. Signing opaque bytes means the
/// verifier never re-encodes anything: no canonicalisation to get wrong, and the parser only
/// ever sees bytes whose signature already checked out.
/// </summary>
public static class CommandCodec
{
    public const int Version = 1;

    /// <summary>ECDSA P-256 signature in IEEE P1363 form (r || s).</summary>
    public const int SignatureLength = 64;

    /// <summary>Tight limits: a command is small and its fields are few.</summary>
    public static readonly MessagePackReaderOptions ReaderOptions = new()
    {
        MaxDepth = 4,
        MaxStringLength = 4096,
        MaxBinaryLength = 64 * 1024,
        MaxCollectionCount = 32,
    };

    /// <summary>The body bytes, keys in the documented order, smallest integer forms.</summary>
    public static byte[] EncodeBody(CommandRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        using var buffer = new PooledBufferWriter(256);
        var writer = new MessagePackWriter(buffer);
        writer.WriteMapHeader(7);
        writer.Write("v");
        writer.Write((long)Version);
        writer.Write("id");
        writer.Write(request.Id);
        writer.Write("host");
        writer.Write(request.Host);
        writer.Write("issued_at");
        writer.Write(request.IssuedAtMs);
        writer.Write("expires_at");
        writer.Write(request.ExpiresAtMs);
        writer.Write("op");
        writer.Write(request.Op);
        writer.Write("args");
        request.Args.WriteTo(ref writer);
        writer.Flush();
        return buffer.ToArray();
    }

    public static byte[] EncodeEnvelope(string kid, ReadOnlySpan<byte> body, ReadOnlySpan<byte> signature)
    {
        ArgumentException.ThrowIfNullOrEmpty(kid);
        using var buffer = new PooledBufferWriter(body.Length + signature.Length + 64);
        var writer = new MessagePackWriter(buffer);
        writer.WriteMapHeader(4);
        writer.Write("v");
        writer.Write((long)Version);
        writer.Write("kid");
        writer.Write(kid);
        writer.Write("body");
        writer.Write(body);
        writer.Write("sig");
        writer.Write(signature);
        writer.Flush();
        return buffer.ToArray();
    }

    /// <summary>Splits an envelope; every field must be present exactly once with its type.</summary>
    public static bool TryDecodeEnvelope(ReadOnlySpan<byte> value, out CommandEnvelope envelope, out string? error)
    {
        envelope = default;
        MessagePackValue map;
        try
        {
            map = MessagePackValue.Parse(value, ReaderOptions);
        }
        catch (Exception e) when (e is MessagePackFormatException or FormatException or OverflowException)
        {
            error = $"malformed MessagePack: {e.Message}";
            return false;
        }

        if (!ExpectKeys(map, ["v", "kid", "body", "sig"], out error))
        {
            error = "envelope: " + error;
            return false;
        }

        if (!TryInt(map["v"], out long version) || version != Version)
        {
            error = $"envelope: unsupported version (expected v={Version})";
            return false;
        }

        MessagePackValue kid = map["kid"], body = map["body"], sig = map["sig"];
        if (kid.Type != MessagePackType.String || body.Type != MessagePackType.Binary || sig.Type != MessagePackType.Binary)
        {
            error = "envelope: kid must be str, body and sig bin";
            return false;
        }

        envelope = new CommandEnvelope(kid.AsString(), body.AsBytes().ToArray(), sig.AsBytes().ToArray());
        return true;
    }

    /// <summary>Parses a body whose signature has been verified.</summary>
    public static bool TryDecodeBody(ReadOnlySpan<byte> body, out CommandRequest? request, out string? error)
    {
        request = null;
        MessagePackValue map;
        try
        {
            map = MessagePackValue.Parse(body, ReaderOptions);
        }
        catch (Exception e) when (e is MessagePackFormatException or FormatException or OverflowException)
        {
            error = $"body: malformed MessagePack: {e.Message}";
            return false;
        }

        if (!ExpectKeys(map, ["v", "id", "host", "issued_at", "expires_at", "op", "args"], out error))
        {
            error = "body: " + error;
            return false;
        }

        if (!TryInt(map["v"], out long version) || version != Version)
        {
            error = $"body: unsupported version (expected v={Version})";
            return false;
        }

        if (!TryString(map["id"], out string? id) || !CommandRequest.IsValidId(id))
        {
            error = $"body: id must be 1..{CommandRequest.MaxIdLength} characters of [A-Za-z0-9._:-]";
            return false;
        }

        if (!TryString(map["host"], out string? host) || host.Length == 0)
        {
            error = "body: host must be a non-empty str";
            return false;
        }

        if (!TryInt(map["issued_at"], out long issuedAt) || !TryInt(map["expires_at"], out long expiresAt))
        {
            error = "body: issued_at and expires_at must be integers (Unix milliseconds)";
            return false;
        }

        if (!TryString(map["op"], out string? op))
        {
            error = "body: op must be a str";
            return false;
        }

        MessagePackValue args = map["args"];
        if (args.Type != MessagePackType.Map)
        {
            error = "body: args must be a map";
            return false;
        }

        foreach (var entry in args.Entries)
        {
            if (entry.Key.Type != MessagePackType.String)
            {
                error = "body: args keys must be str";
                return false;
            }
        }

        request = new CommandRequest(id, host, issuedAt, expiresAt, op, args);
        error = null;
        return true;
    }

    /// <summary>True when <paramref name="map"/> is a map of exactly these str keys, each once.</summary>
    private static bool ExpectKeys(MessagePackValue map, string[] keys, out string? error)
    {
        if (map.Type != MessagePackType.Map)
        {
            error = "not a map";
            return false;
        }

        var entries = map.Entries;
        if (entries.Count != keys.Length)
        {
            error = $"expected exactly the keys {string.Join(", ", keys)}";
            return false;
        }

        Span<bool> seen = stackalloc bool[keys.Length];
        foreach (var entry in entries)
        {
            int index = entry.Key.Type == MessagePackType.String ? Array.IndexOf(keys, entry.Key.AsString()) : -1;
            if (index < 0 || seen[index])
            {
                error = $"unexpected or repeated key; expected exactly {string.Join(", ", keys)}";
                return false;
            }

            seen[index] = true;
        }

        error = null;
        return true;
    }

    internal static bool TryInt(MessagePackValue value, out long result)
    {
        result = 0;
        if (value.Type != MessagePackType.Integer)
        {
            return false;
        }

        try
        {
            result = value.AsInt64();
            return true;
        }
        catch (OverflowException)
        {
            return false;
        }
    }

    internal static bool TryString(MessagePackValue value, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out string? result)
    {
        result = value.Type == MessagePackType.String ? value.AsString() : null;
        return result is not null;
    }
}
