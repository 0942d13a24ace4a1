using Ingest.Transports.Kingest;
using Ingest.Transports.Ring;

namespace Ingest.Bench.Ring;

/// <summary>
/// The benchmark's producer: a thread that writes <c>count</c> 64-byte records (24-byte header,
/// 40-byte inject payload) through <see cref="RingProducer"/> as fast as the ring takes them,
/// publishing every <see cref="PublishEvery"/> records. When the ring is full it publishes and
/// sleeps briefly instead of dropping (the module would drop and count), so the figure measured is
/// the consumer's sustainable rate with nothing lost.
/// </summary>
internal sealed class RingLoad
{
    public const int RecordBytes = 64;
    public const int PayloadBytes = RecordBytes - KingestRecordHeader.Size;
    private const int PublishEvery = 256;

    private readonly MemoryRing _ring;
    private readonly long _count;
    private readonly Thread _thread;

    public RingLoad(MemoryRing ring, long count)
    {
        _ring = ring;
        _count = count;
        _thread = new Thread(Run) { IsBackground = true, Name = "ring producer" };
    }

    /// <summary>Times the producer found the ring full and waited.</summary>
    public long FullWaits { get; private set; }

    public void Start() => _thread.Start();

    public void Join() => _thread.Join();

    private void Run()
    {
        var producer = new RingProducer(_ring);
        Span<byte> payload = stackalloc byte[PayloadBytes];
        for (int i = 0; i < payload.Length; i++)
        {
            payload[i] = (byte)(i * 7);
        }

        ulong now = (ulong)(DateTime.UtcNow - DateTime.UnixEpoch).Ticks * 100;
        for (long n = 0; n < _count; n++)
        {
            while (!producer.HasRoom(PayloadBytes))
            {
                producer.Publish();
                FullWaits++;
                Thread.Sleep(1);
            }

            // A cheap moving timestamp: the consumer writes it into every event.
            producer.TryWrite(KingestEventType.Inject, payload, now + (ulong)n);
            if ((n & (PublishEvery - 1)) == PublishEvery - 1)
            {
                producer.Publish();
            }
        }

        producer.Publish();
    }
}
