using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Confluent.Kafka;

namespace Ingest.Sinks.Kafka;

/// <summary>
/// The librdkafka producer calls Confluent.Kafka does not wrap: rd_kafka_purge and a queue yield (rdkafka.h),
/// on the handle of a producer Confluent.Kafka built. Resolved to the library
/// <see cref="LibRdKafka.EnsureLoaded"/> loaded, so it is the producer's own copy.
/// </summary>
internal static partial class ProducerNative
{
    /// <summary>RD_KAFKA_PURGE_F_QUEUE: messages not yet sent to a broker.</summary>
    public const int PurgeQueue = 0x1;

    /// <summary>RD_KAFKA_PURGE_F_INFLIGHT: messages in requests awaiting a response (their outcome is unknown).</summary>
    public const int PurgeInFlight = 0x2;

    /// <summary>Purges <paramref name="producer"/>'s messages; their delivery reports come with the next poll or flush.</summary>
    /// <returns>librdkafka's error code (0 = done), or -1 when the handle is gone.</returns>
    public static int Purge(IProducer<byte[], byte[]> producer, int flags) =>
        WithHandle(producer, rk => rd_kafka_purge(rk, flags));

    /// <summary>
    /// Ends the wait of a poll blocked on the producer's main queue (or of the next one) from
    /// another thread: rd_kafka_queue_yield on rd_kafka_queue_get_main. (rd_kafka_yield only
    /// works from inside a callback of the polling thread.) False when the handle is gone.
    /// </summary>
    public static bool Yield(IProducer<byte[], byte[]> producer) =>
        WithHandle(producer, rk =>
        {
            nint queue = rd_kafka_queue_get_main(rk);
            if (queue == 0)
            {
                return -1;
            }

            rd_kafka_queue_yield(queue);
            rd_kafka_queue_destroy(queue);
            return 0;
        }) == 0;

    private static int WithHandle(IProducer<byte[], byte[]> producer, Func<nint, int> call)
    {
        if (LibrdkafkaHandle(producer.Handle) is not SafeHandle handle || handle.IsInvalid || handle.IsClosed)
        {
            return -1;
        }

        bool added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            return call(handle.DangerousGetHandle());
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
    }

    // Confluent.Kafka keeps the rd_kafka_t* in an internal SafeHandle (Handle.LibrdkafkaHandle, of
    // the internal type SafeKafkaHandle). An unsafe accessor reaches it without reflection, so the
    // NativeAOT build keeps and binds it at compile time; a rename in Confluent.Kafka fails the
    // first call with MissingMethodException (FlushOrPurgeTests and the shutdown purge test).
    [UnsafeAccessor(UnsafeAccessorKind.Method, Name = "get_LibrdkafkaHandle")]
    [return: UnsafeAccessorType("Confluent.Kafka.Impl.SafeKafkaHandle, Confluent.Kafka")]
    private static extern object? LibrdkafkaHandle(Handle handle);

    [LibraryImport(LibRdKafka.NativeName)]
    private static partial int rd_kafka_purge(nint rk, int purgeFlags);

    [LibraryImport(LibRdKafka.NativeName)]
    private static partial nint rd_kafka_queue_get_main(nint rk);

    [LibraryImport(LibRdKafka.NativeName)]
    private static partial void rd_kafka_queue_yield(nint rkqu);

    [LibraryImport(LibRdKafka.NativeName)]
    private static partial void rd_kafka_queue_destroy(nint rkqu);
}
