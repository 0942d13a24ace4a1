using System.Net;
using System.Runtime.InteropServices;
using Confluent.Kafka;
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
/// librdkafka picks the listener ports; with a fixed port, each broker is also reachable (and
/// advertised) at 127.0.0.1:port+id-1 through a relay.
/// </remarks>
public sealed class EmbeddedBroker : IDisposable
{
    /// <summary>Partitions of a topic auto-created by the mock cluster (librdkafka's built-in default).</summary>
    public const int AutoCreatedPartitions = 4;

    private readonly Lock _gate = new();
    private readonly List<TcpForwarder> _relays = [];
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
    public string BootstrapServers { get; private set; }

    /// <summary>Number of brokers; their ids are 1..BrokerCount.</summary>
    public int BrokerCount { get; }

    /// <summary>Starts a mock cluster with <paramref name="brokers"/> brokers, listening at once.</summary>
    /// <param name="brokers">Broker count; ids are 1..brokers.</param>
    /// <param name="port">
    /// 0: ephemeral ports. Otherwise broker <c>id</c> is served at 127.0.0.1:<c>port + id - 1</c>
    /// (e.g. 9092 for <c>ingest broker --port 9092</c>).
    /// </param>
    public static EmbeddedBroker Start(int brokers = 1, int port = 0)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(brokers, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(port);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port + brokers - 1, IPEndPoint.MaxPort);
        EmbeddedBroker broker = StartMock(brokers);
        if (port != 0)
        {
            try
            {
                broker.ServeAtFixedPorts(port);
            }
            catch
            {
                broker.Dispose();
                throw;
            }
        }

        return broker;
    }

    private static unsafe EmbeddedBroker StartMock(int brokers)
    {
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

        // The mock cluster's thread inherits this thread's signal mask (rd_kafka_new masks its own
        // threads; rd_kafka_mock_cluster_new does not). With signals open it may run the
        // runtime's SIGCONT handler after a SIGSTOP'd broker is resumed, and then its poll()
        // fails with EINTR and the thread ends ("Mock cluster failed to poll"): the broker is gone.
        byte* all = stackalloc byte[SigsetBytes];
        byte* saved = stackalloc byte[SigsetBytes];
        sigfillset(all);
        pthread_sigmask(SIG_SETMASK, all, saved);
        nint cluster;
        try
        {
            cluster = rd_kafka_mock_cluster_new(handle, brokers);
        }
        finally
        {
            pthread_sigmask(SIG_SETMASK, saved, null);
        }

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
    /// <c>ingest broker</c>): starts it on ephemeral ports, creates <paramref name="topics"/>
    /// (name, partitions), calls <paramref name="started"/> (e.g. to print
    /// <see cref="BootstrapServers"/>), waits, disposes.
    /// </summary>
    public static Task RunAsync(
        int brokers,
        IReadOnlyList<KeyValuePair<string, int>> topics,
        Action<EmbeddedBroker> started,
        CancellationToken ct) => RunAsync(brokers, port: 0, topics, started, ct);

    /// <summary>As the other overload, serving broker <c>id</c> at 127.0.0.1:<c>port + id - 1</c> when <paramref name="port"/> is non-zero.</summary>
    public static async Task RunAsync(
        int brokers,
        int port,
        IReadOnlyList<KeyValuePair<string, int>> topics,
        Action<EmbeddedBroker> started,
        CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(topics);
        ArgumentNullException.ThrowIfNull(started);
        using EmbeddedBroker broker = Start(brokers, port);
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

    /// <summary>
    /// Relays 127.0.0.1:port+id-1 to each broker's own listener and advertises the relay, so
    /// every client connection, bootstrap and per-broker, goes through the fixed ports.
    /// </summary>
    private void ServeAtFixedPorts(int port)
    {
        // Ask the cluster which listener belongs to which broker id rather than assume an order.
        Metadata metadata;
        using (var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = BootstrapServers })
            .SetLogHandler((_, _) => { })
            .Build())
        {
            metadata = admin.GetMetadata(TimeSpan.FromSeconds(10));
        }

        var addresses = new List<string>(BrokerCount);
        foreach (BrokerMetadata mock in metadata.Brokers.OrderBy(b => b.BrokerId))
        {
            int fixedPort = port + mock.BrokerId - 1;
            var relay = new TcpForwarder(
                new IPEndPoint(IPAddress.Loopback, fixedPort),
                new IPEndPoint(IPAddress.Parse(mock.Host), mock.Port));
            _relays.Add(relay);
            rd_kafka_mock_broker_set_host_port(Cluster, mock.BrokerId, "127.0.0.1", fixedPort);
            addresses.Add($"127.0.0.1:{fixedPort}");
        }

        if (addresses.Count != BrokerCount)
        {
            throw new InvalidOperationException($"mock cluster reported {addresses.Count} of {BrokerCount} brokers");
        }

        BootstrapServers = string.Join(',', addresses);
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
            foreach (TcpForwarder relay in _relays)
            {
                relay.Dispose();
            }

            _relays.Clear();
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
