namespace Ingest.Sinks.Kafka;

/// <summary>
/// The partition librdkafka's default partitioner (<c>consistent_random</c>) picks for a key:
/// CRC-32 (IEEE 802.3, as zlib's crc32) of the key bytes, unsigned, modulo the partition count.
/// Empty and null keys are partitioned randomly by librdkafka and have no fixed partition.
/// (The Java client's default, murmur2, differs: set <c>partitioner=murmur2_random</c> to match it.)
/// </summary>
public static class KafkaPartitioner
{
    private static readonly uint[] s_table = BuildTable();

    /// <summary>Partition in [0, <paramref name="partitionCount"/>) for a non-empty key.</summary>
    public static int PartitionFor(ReadOnlySpan<byte> key, int partitionCount)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(partitionCount, 1);
        if (key.IsEmpty)
        {
            throw new ArgumentException("librdkafka partitions empty keys randomly; there is no fixed partition.", nameof(key));
        }

        return (int)(Crc32(key) % (uint)partitionCount);
    }

    /// <summary>CRC-32/ISO-HDLC: reflected polynomial 0xEDB88320, init and final xor 0xFFFFFFFF.</summary>
    internal static uint Crc32(ReadOnlySpan<byte> data)
    {
        uint[] table = s_table;
        uint crc = 0xFFFFFFFFu;
        foreach (byte b in data)
        {
            crc = table[(crc ^ b) & 0xFF] ^ (crc >> 8);
        }

        return ~crc;
    }

    private static uint[] BuildTable()
    {
        var table = new uint[256];
        for (uint i = 0; i < table.Length; i++)
        {
            uint c = i;
            for (int k = 0; k < 8; k++)
            {
                c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            }

            table[i] = c;
        }

        return table;
    }
}
