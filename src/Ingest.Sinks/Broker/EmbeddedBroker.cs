using System.Runtime.InteropServices;
using Ingest.Sinks.Kafka;
using static Ingest.Sinks.Broker.MockClusterNative;

namespace Ingest.Sinks.Broker;

/// <summary>
/// An in-process Kafka cluster: librdkafka's mock cluster, listening on 127.0.0.1 ephemeral TCP
/// ports and speaking the Kafka protocol to any client in any process (kcat, Confluent, Java).
/// Used as the broker of <c>ingest broker</c>, of <c>ingest run</c> without a configured Kafka,
/// and of the integration tests (with fault injection).
/// </summary>
/// <remarks>
/// Topics are auto-created on first use with <see cref="AutoCreatedPartitions"/> partitions (fixed
/// by librdkafka; use <see cref="CreateTopic"/> for another count). The mock keeps only about
/// 5 MiB per partition: older records are dropped beyond that. Broker ids are 1..brokers.
/// </remarks>
public sealed class EmbeddedBroker : IDisposable
{
    /// <summary>Partitions of a topic auto-created by the mock cluster (librdkafka's built-in default).</summary>
    public const int AutoCreatedPartitions = 4;

    private readonly Lock _gate = new();
    private nint _handle;
    private nint _cluster;

    private EmbeddedBroker(nint handle, nint cluster, int brokers, string bootstrapServers)
    {
        _handle = handle;
        _cluster = cluster;
        BrokerCount = brokers;
        BootstrapServers = bootstrapServers;
    }

    /// <summary>Comma-separated host:port list of the mock brokers.</summary>
    public string BootstrapServers { get; }

    /// <summary>Number of brokers; their ids are 1..BrokerCount.</summary>
    public int BrokerCount { get; }

    /// <summary>Starts a mock cluster with <paramref name="brokers"/> brokers, listening at once.</summary>
    public static unsafe EmbeddedBroker Start(int brokers = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(brokers, 1);
        LibRdKafka.EnsureLoaded();

        const int ErrSize = 512;
        byte* errstr = stackalloc byte[ErrSize];
        nint conf = rd_kafka_conf_new();
        // The handle only hosts the cluster: it connects nowhere, so keep its notices quiet.
        if (rd_kafka_conf_set(conf, "log_level", "3", errstr, ErrSize) != RD_KAFKA_CONF_OK)
        {
            rd_kafka_conf_destroy(conf);
            throw new InvalidOperationException($"rd_kafka_conf_set: {Marshal.PtrToStringUTF8((nint)errstr)}");
        }

        nint handle = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, ErrSize);
        if (handle == 0)
        {
            rd_kafka_conf_destroy(conf);
            throw new InvalidOperationException($"rd_kafka_new: {Marshal.PtrToStringUTF8((nint)errstr)}");
        }

        nint cluster = rd_kafka_mock_cluster_new(handle, brokers);
        if (cluster == 0)
        {
            rd_kafka_destroy(handle);
            throw new InvalidOperationException("rd_kafka_mock_cluster_new failed (see librdkafka log)");
        }

        string bootstraps = Marshal.PtrToStringUTF8((nint)rd_kafka_mock_cluster_bootstraps(cluster))!;
        return new EmbeddedBroker(handle, cluster, brokers, bootstraps);
    }

    /// <summary>
    /// Runs a cluster in the foreground until <paramref name="ct"/> is cancelled (the engine of
    /// <c>ingest broker</c>): starts it, creates <paramref name="topics"/>, calls
    /// <paramref name="started"/> (e.g. to print <see cref="BootstrapServers"/>), waits, disposes.
    /// </summary>
    public static async Task RunAsync(
        int brokers,
        IReadOnlyList<KeyValuePair<string, int>> topics,
        Action<EmbeddedBroker> started,
        CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(topics);
        ArgumentNullException.ThrowIfNull(started);
        using EmbeddedBroker broker = Start(brokers);
        foreach (var (topic, partitions) in topics)
        {
            broker.CreateTopic(topic, partitions, Math.Min(brokers, 3));
        }

        started(broker);
        try
        {
            await Task.Delay(Timeout.Infinite, ct).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // Normal shutdown.
        }
    }

    /// <summary>Creates <paramref name="topic"/> with an explicit partition count.</summary>
    public void CreateTopic(string topic, int partitions, int replicationFactor = 1)
    {
        ArgumentException.ThrowIfNullOrEmpty(topic);
        ArgumentOutOfRangeException.ThrowIfLessThan(partitions, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(replicationFactor, 1);
        Check(rd_kafka_mock_topic_create(Cluster, topic, partitions, replicationFactor), "rd_kafka_mock_topic_create");
    }

    /// <summary>Disconnects broker <paramref name="brokerId"/> (-1: all) and refuses new connections.</summary>
    public void SetBrokerDown(int brokerId) =>
        Check(rd_kafka_mock_broker_set_down(Cluster, brokerId), "rd_kafka_mock_broker_set_down");

    /// <summary>Lets broker <paramref name="brokerId"/> (-1: all) accept connections again.</summary>
    public void SetBrokerUp(int brokerId) =>
        Check(rd_kafka_mock_broker_set_up(Cluster, brokerId), "rd_kafka_mock_broker_set_up");

    /// <summary>Delays every response of broker <paramref name="brokerId"/> (-1: all) by <paramref name="rtt"/>.</summary>
    public void SetBrokerRtt(int brokerId, TimeSpan rtt) =>
        Check(rd_kafka_mock_broker_set_rtt(Cluster, brokerId, checked((int)rtt.TotalMilliseconds)), "rd_kafka_mock_broker_set_rtt");

    /// <summary>
    /// Fails the next <c>errorCodes.Length</c> requests of Kafka API <paramref name="apiKey"/>
    /// (0 = Produce, 1 = Fetch, 3 = Metadata, ...) with the given Kafka error codes, in order.
    /// librdkafka's <c>-195</c> (RD_KAFKA_RESP_ERR__TRANSPORT) makes the broker disconnect instead.
    /// </summary>
    public unsafe void PushRequestErrors(short apiKey, params int[] errorCodes)
    {
        ArgumentNullException.ThrowIfNull(errorCodes);
        fixed (int* errors = errorCodes)
        {
            rd_kafka_mock_push_request_errors_array(Cluster, apiKey, (nuint)errorCodes.Length, errors);
        }
    }

    /// <summary>Drops errors still queued by <see cref="PushRequestErrors"/> for <paramref name="apiKey"/>.</summary>
    public void ClearRequestErrors(short apiKey) => rd_kafka_mock_clear_request_errors(Cluster, apiKey);

    /// <summary>Stops the listeners and frees the cluster; connected clients see the brokers vanish.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_cluster != 0)
            {
                rd_kafka_mock_cluster_destroy(_cluster);
                _cluster = 0;
            }

            if (_handle != 0)
            {
                rd_kafka_destroy(_handle);
                _handle = 0;
            }
        }
    }

    private nint Cluster
    {
        get
        {
            nint cluster = Volatile.Read(ref _cluster);
            ObjectDisposedException.ThrowIf(cluster == 0, this);
            return cluster;
        }
    }

    private static void Check(int err, string call)
    {
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
        {
            throw new InvalidOperationException($"{call}: {ErrorText(err)} ({err})");
        }
    }
}
