using System.Runtime.InteropServices;
using System.Text.Unicode;

namespace Ingest.Transports.Upcall;

/// <summary>
/// One helper message: u32 magic "IUP1" (0x31505549), u32 argc, u32 envc (host byte order, as the
/// helper on the same machine wrote them), then
/// argc + envc NUL-terminated UTF-8 strings, argv first; nothing after the last NUL. Every env
/// string is KEY=VALUE with a non-empty key, and keys are unique.
/// </summary>
internal readonly ref struct UpcallMessage
{
    public const uint Magic = 0x31505549;
    public const int HeaderSize = 12;

    private readonly ReadOnlySpan<byte> _strings;

    private UpcallMessage(ReadOnlySpan<byte> strings, int argc, int envc)
    {
        _strings = strings;
        ArgCount = argc;
        EnvCount = envc;
    }

    public int ArgCount { get; }

    public int EnvCount { get; }

    /// <summary>Validates <paramref name="message"/> completely, so that writing it afterwards cannot fail half way.</summary>
    public static bool TryParse(ReadOnlySpan<byte> message, int maxStrings, out UpcallMessage parsed)
    {
        parsed = default;
        if (message.Length < HeaderSize || MemoryMarshal.Read<uint>(message) != Magic)
        {
            return false;
        }

        var argc = MemoryMarshal.Read<uint>(message[4..]);
        var envc = MemoryMarshal.Read<uint>(message[8..]);
        if (argc > (uint)maxStrings || envc > (uint)maxStrings - argc)
        {
            return false;
        }

        var strings = message[HeaderSize..];
        if (!Utf8.IsValid(strings))
        {
            return false;
        }

        // Exactly argc + envc terminated strings, and nothing after the last one.
        var rest = strings;
        var total = (int)(argc + envc);
        for (var i = 0; i < total; i++)
        {
            var end = rest.IndexOf((byte)0);
            if (end < 0)
            {
                return false;
            }

            if (i >= argc && !IsEnvEntry(rest[..end]))
            {
                return false;
            }

            rest = rest[(end + 1)..];
        }

        if (!rest.IsEmpty)
        {
            return false;
        }

        parsed = new UpcallMessage(strings, (int)argc, (int)envc);
        return !parsed.HasDuplicateEnvKey();
    }

    public Enumerator GetEnumerator() => new(_strings);

    /// <summary>The <paramref name="index"/>th argv string (0-based), walking from the start.</summary>
    public ReadOnlySpan<byte> Arg(int index)
    {
        var e = GetEnumerator();
        for (var i = 0; i <= index; i++)
        {
            e.MoveNext();
        }

        return e.Current;
    }

    /// <summary>The value of env entry <paramref name="key"/>, if present.</summary>
    public bool TryGetEnv(ReadOnlySpan<byte> key, out ReadOnlySpan<byte> value)
    {
        var e = GetEnumerator();
        for (var i = 0; i < ArgCount; i++)
        {
            e.MoveNext();
        }

        for (var i = 0; i < EnvCount; i++)
        {
            e.MoveNext();
            var entry = e.Current;
            var eq = entry.IndexOf((byte)'=');
            if (entry[..eq].SequenceEqual(key))
            {
                value = entry[(eq + 1)..];
                return true;
            }
        }

        value = default;
        return false;
    }

    private static bool IsEnvEntry(ReadOnlySpan<byte> entry) => entry.IndexOf((byte)'=') > 0;

    private bool HasDuplicateEnvKey()
    {
        var outer = GetEnumerator();
        for (var i = 0; i < ArgCount; i++)
        {
            outer.MoveNext();
        }

        for (var i = 0; i < EnvCount; i++)
        {
            outer.MoveNext();
            var a = outer.Current;
            var key = a[..(a.IndexOf((byte)'=') + 1)];
            var inner = outer;
            for (var j = i + 1; j < EnvCount; j++)
            {
                inner.MoveNext();
                if (inner.Current.StartsWith(key))
                {
                    return true;
                }
            }
        }

        return false;
    }

    /// <summary>Walks the strings in order (argv, then env), without their NULs.</summary>
    public ref struct Enumerator(ReadOnlySpan<byte> strings)
    {
        private ReadOnlySpan<byte> _rest = strings;

        public ReadOnlySpan<byte> Current { get; private set; }

        public bool MoveNext()
        {
            var end = _rest.IndexOf((byte)0);
            if (end < 0)
            {
                return false;
            }

            Current = _rest[..end];
            _rest = _rest[(end + 1)..];
            return true;
        }
    }
}
