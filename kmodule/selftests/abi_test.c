// SPDX-License-Identifier: GPL-2.0
/*
 * The ABI's static sizes and offsets. The C# mirror asserts the same
 * numbers; this program prints them (as TAP diagnostics) for comparison.
 */
#include "kt.h"

#define SIZE(t, n) do {							\
	kt_ok(sizeof(struct t) == (n), "sizeof(struct " #t ") == %d", (int)(n)); \
} while (0)
#define OFF(t, f, n) do {						\
	kt_ok(offsetof(struct t, f) == (n), "offsetof(" #t ", " #f ") == %d", (int)(n)); \
} while (0)

int main(void)
{
	kt_plan(32);
	SIZE(kingest_record, KINGEST_SIZEOF_RECORD);
	SIZE(kingest_ring_meta, KINGEST_SIZEOF_RING_META);
	SIZE(kingest_ring_consumer, KINGEST_SIZEOF_RING_CONSUMER);
	SIZE(kingest_ring_producer, KINGEST_SIZEOF_RING_PRODUCER);
	SIZE(kingest_sensor_reading, KINGEST_SIZEOF_SENSOR_READING);
	SIZE(kingest_thermal_image, KINGEST_SIZEOF_THERMAL_IMAGE);
	SIZE(kingest_netdev_event, KINGEST_SIZEOF_NETDEV_EVENT);
	SIZE(kingest_info, KINGEST_SIZEOF_INFO);
	SIZE(kingest_wait, KINGEST_SIZEOF_WAIT);
	SIZE(kingest_signal_sub, KINGEST_SIZEOF_SIGNAL_SUB);
	SIZE(kingest_threshold, KINGEST_SIZEOF_THRESHOLD);
	SIZE(kingest_channel_stats, KINGEST_SIZEOF_CHANNEL_STATS);
	SIZE(kingest_stats, KINGEST_SIZEOF_STATS);
	SIZE(kingest_inject, KINGEST_SIZEOF_INJECT);
	SIZE(kingest_wait_read, KINGEST_SIZEOF_WAIT_READ);
	OFF(kingest_record, type, 4);
	OFF(kingest_record, channel, 6);
	OFF(kingest_record, flags, 7);
	OFF(kingest_record, seq, 8);
	OFF(kingest_record, ts_ns, 16);
	OFF(kingest_record, data, 24);
	OFF(kingest_ring_meta, data_size, 16);
	OFF(kingest_ring_meta, record_align, 48);
	OFF(kingest_inject, data, 16);
	OFF(kingest_stats, ch, 8);
	OFF(kingest_wait, available, 8);
	OFF(kingest_wait_read, timeout_ms, 8);
	OFF(kingest_wait_read, available, 16);
	OFF(kingest_wait_read, producer_pos, 24);
	kt_ok(KINGEST_IOC_INJECT == 0x4018b708, "KINGEST_IOC_INJECT == 0x%08lx",
	      (unsigned long)KINGEST_IOC_INJECT);
	kt_ok(KINGEST_IOC_WAIT == 0xc010b701, "KINGEST_IOC_WAIT == 0x%08lx",
	      (unsigned long)KINGEST_IOC_WAIT);
	kt_ok(KINGEST_IOC_WAIT_READ == 0xc020b709, "KINGEST_IOC_WAIT_READ == 0x%08lx",
	      (unsigned long)KINGEST_IOC_WAIT_READ);
	return kt_done();
}
