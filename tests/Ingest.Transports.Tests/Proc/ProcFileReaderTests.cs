using System.Text;
using Ingest.Transports.Proc;

namespace Ingest.Transports.Tests.Proc;

public sealed class ProcFileReaderTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ingest-proc-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Reads_a_file_larger_than_a_MiB_whole_growing_its_buffer()
    {
        var path = Path.Combine(_dir, "big");
        var text = new StringBuilder();
        for (var i = 0; text.Length <= 1536 * 1024; i++)
        {
            text.Append("line ").Append(i).Append(" of a synthetic seq_file\n");
        }

        File.WriteAllText(path, text.ToString());
        using var reader = new ProcFileReader(4096, 64 * 1024 * 1024);

        var content = reader.Read(path);

        Assert.True(content.Length > 1024 * 1024);
        Assert.True(content.SequenceEqual(File.ReadAllBytes(path)));
        Assert.True(reader.Capacity >= content.Length);
    }

    [Fact]
    public void Reads_a_live_seq_file_that_reports_size_zero()
    {
        Assert.Equal(0, new FileInfo("/proc/self/mountinfo").Length);
        using var reader = new ProcFileReader(64, 64 * 1024 * 1024);

        var content = reader.Read("/proc/self/mountinfo").ToArray();

        Assert.NotEmpty(content);
        Assert.Equal((byte)'\n', content[^1]);
    }

    [Fact]
    public void Refuses_a_file_past_the_limit()
    {
        var path = Path.Combine(_dir, "large");
        File.WriteAllBytes(path, new byte[10_000]);
        using var reader = new ProcFileReader(1024, 4096);

        Assert.Throws<ProcFileTooLargeException>(() => reader.Read(path).Length);
    }

    [Fact]
    public void A_missing_file_throws_FileNotFound()
    {
        using var reader = new ProcFileReader(1024, 4096);

        Assert.Throws<FileNotFoundException>(() => reader.Read(Path.Combine(_dir, "absent")).Length);
    }
}
