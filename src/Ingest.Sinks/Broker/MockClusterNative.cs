using System.Runtime.InteropServices;
using Ingest.Sinks.Kafka;

namespace Ingest.Sinks.Broker;

/// <summary>
/// Exact declarations from librdkafka's rdkafka.h / rdkafka_mock.h (2.16.0) used to run the mock
/// cluster. Resolved to the library <see cref="LibRdKafka.EnsureLoaded"/> loaded.
/// </summary>
internal static unsafe partial class MockClusterNative
{
    private const string Lib = LibRdKafka.NativeName;

    /// <summary>rd_kafka_type_t RD_KAFKA_PRODUCER.</summary>
    public const int RD_KAFKA_PRODUCER = 0;

    /// <summary>rd_kafka_conf_res_t RD_KAFKA_CONF_OK.</summary>
    public const int RD_KAFKA_CONF_OK = 0;

    /// <summary>rd_kafka_resp_err_t RD_KAFKA_RESP_ERR_NO_ERROR.</summary>
    public const int RD_KAFKA_RESP_ERR_NO_ERROR = 0;

    [LibraryImport(Lib)]
    public static partial nint rd_kafka_conf_new();

    [LibraryImport(Lib)]
    public static partial void rd_kafka_conf_destroy(nint conf);

    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int rd_kafka_conf_set(nint conf, string name, string value, byte* errstr, nuint errstrSize);

    /// <summary>Takes ownership of <paramref name="conf"/> on success only.</summary>
    [LibraryImport(Lib)]
    public static partial nint rd_kafka_new(int type, nint conf, byte* errstr, nuint errstrSize);

    [LibraryImport(Lib)]
    public static partial void rd_kafka_destroy(nint rk);

    [LibraryImport(Lib)]
    public static partial byte* rd_kafka_err2str(int err);

    [LibraryImport(Lib)]
    public static partial nint rd_kafka_mock_cluster_new(nint rk, int brokerCount);

    [LibraryImport(Lib)]
    public static partial void rd_kafka_mock_cluster_destroy(nint mcluster);

    [LibraryImport(Lib)]
    public static partial byte* rd_kafka_mock_cluster_bootstraps(nint mcluster);

    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int rd_kafka_mock_topic_create(nint mcluster, string topic, int partitionCount, int replicationFactor);

    [LibraryImport(Lib)]
    public static partial int rd_kafka_mock_broker_set_down(nint mcluster, int brokerId);

    [LibraryImport(Lib)]
    public static partial int rd_kafka_mock_broker_set_up(nint mcluster, int brokerId);

    /// <summary>Changes the address a broker advertises in metadata; its listener stays where it is.</summary>
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
    public static partial void rd_kafka_mock_broker_set_host_port(nint mcluster, int brokerId, string host, int port);

    [LibraryImport(Lib)]
    public static partial int rd_kafka_mock_broker_set_rtt(nint mcluster, int brokerId, int rttMs);

    [LibraryImport(Lib)]
    public static partial void rd_kafka_mock_push_request_errors_array(nint mcluster, short apiKey, nuint count, int* errors);

    [LibraryImport(Lib)]
    public static partial void rd_kafka_mock_clear_request_errors(nint mcluster, short apiKey);

    /// <summary>pthread_sigmask's SIG_SETMASK.</summary>
    public const int SIG_SETMASK = 2;

    /// <summary>Bytes of glibc's sigset_t (1024 bits).</summary>
    public const int SigsetBytes = 128;

    [LibraryImport("libc")]
    public static partial int sigfillset(byte* set);

    [LibraryImport("libc")]
    public static partial int pthread_sigmask(int how, byte* set, byte* oldset);

    public static string ErrorText(int err) => Marshal.PtrToStringUTF8((nint)rd_kafka_err2str(err)) ?? err.ToString();
}
