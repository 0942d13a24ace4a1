using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Confluent.Kafka;

namespace Ingest.Sinks.Kafka;

/// <summary>
/// The one librdkafka producer call Confluent.Kafka does not wrap: rd_kafka_purge (rdkafka.h),
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
    public static int Purge(IProducer<byte[], byte[]> producer, int flags)
    {
        if (LibrdkafkaHandle(producer.Handle) is not SafeHandle handle || handle.IsInvalid || handle.IsClosed)
        {
            return -1;
        }

        bool added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            return rd_kafka_purge(handle.DangerousGetHandle(), flags);
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
}
