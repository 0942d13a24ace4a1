using System.Buffers;
using Microsoft.Win32.SafeHandles;

namespace Ingest.Transports.Proc;

/// <summary>
/// Reads a whole file into one pooled buffer, reading until end of file rather than trusting the
/// size (seq_files report 0), and keeping the buffer grown for the next read.
/// </summary>
internal sealed class ProcFileReader(int initialSize, int maxSize) : IDisposable
{
    private byte[] _buffer = ArrayPool<byte>.Shared.Rent(initialSize);

    /// <summary>The capacity the buffer has grown to.</summary>
    public int Capacity => _buffer.Length;

    /// <summary>
    /// Reads <paramref name="path"/> whole. The span is valid until the next call.
    /// Throws <see cref="FileNotFoundException"/>/<see cref="DirectoryNotFoundException"/> when the
    /// file is gone, <see cref="ProcFileTooLargeException"/> past the size limit, IOException otherwise.
    /// </summary>
    public ReadOnlySpan<byte> Read(string path)
    {
        using SafeFileHandle handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        var length = 0;
        while (true)
        {
            if (length == _buffer.Length)
            {
                Grow(path);
            }

            var read = RandomAccess.Read(handle, _buffer.AsSpan(length), length);
            if (read == 0)
            {
                return _buffer.AsSpan(0, length);
            }

            length += read;
        }
    }

    public void Dispose()
    {
        var buffer = Interlocked.Exchange(ref _buffer, []);
        if (buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private void Grow(string path)
    {
        if (_buffer.Length >= maxSize)
        {
            throw new ProcFileTooLargeException($"{path} is larger than {maxSize} bytes");
        }

        var larger = ArrayPool<byte>.Shared.Rent((int)Math.Min(Math.Max((long)_buffer.Length * 2, 4096), maxSize));
        _buffer.AsSpan().CopyTo(larger);
        if (_buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
        }

        _buffer = larger;
    }
}
