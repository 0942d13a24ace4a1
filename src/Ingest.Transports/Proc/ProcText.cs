using System.Buffers.Text;
using System.Text;

namespace Ingest.Transports.Proc;

/// <summary>Byte-level tokenizing of /proc text: lines, whitespace-separated tokens, numbers.</summary>
internal static class ProcText
{
    /// <summary>Takes the next line (without its '\n') off <paramref name="rest"/>; false at the end.</summary>
    public static bool NextLine(ref ReadOnlySpan<byte> rest, out ReadOnlySpan<byte> line)
    {
        if (rest.IsEmpty)
        {
            line = default;
            return false;
        }

        var newline = rest.IndexOf((byte)'\n');
        if (newline < 0)
        {
            line = rest;
            rest = default;
        }
        else
        {
            line = rest[..newline];
            rest = rest[(newline + 1)..];
        }

        return true;
    }

    /// <summary>Takes the next run of non-blank bytes off <paramref name="rest"/>; empty at the end.</summary>
    public static ReadOnlySpan<byte> NextToken(ref ReadOnlySpan<byte> rest)
    {
        rest = TrimStart(rest);
        var end = rest.IndexOfAny((byte)' ', (byte)'\t');
        ReadOnlySpan<byte> token;
        if (end < 0)
        {
            token = rest;
            rest = default;
        }
        else
        {
            token = rest[..end];
            rest = rest[end..];
        }

        return token;
    }

    public static ReadOnlySpan<byte> Trim(ReadOnlySpan<byte> text) => TrimStart(text).TrimEnd(" \t\r"u8);

    public static ReadOnlySpan<byte> TrimStart(ReadOnlySpan<byte> text) => text.TrimStart(" \t"u8);

    public static ulong ParseUInt64(ReadOnlySpan<byte> token, string what)
    {
        if (!Utf8Parser.TryParse(token, out ulong value, out var consumed) || consumed != token.Length || token.IsEmpty)
        {
            throw Malformed(what, token);
        }

        return value;
    }

    public static double ParseDouble(ReadOnlySpan<byte> token, string what)
    {
        if (!Utf8Parser.TryParse(token, out double value, out var consumed) || consumed != token.Length || token.IsEmpty)
        {
            throw Malformed(what, token);
        }

        return value;
    }

    public static ProcFormatException Malformed(string what, ReadOnlySpan<byte> found) =>
        new($"{what}: unexpected '{Encoding.UTF8.GetString(found[..Math.Min(found.Length, 80)])}'");
}
