// SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note
/*
 * Prints every size, offset, constant and ioctl number of the kingest uapi
 * header as one flat JSON object; KingestAbiTests compares it with the C#
 * mirror. Built by the test with gcc against kmodule/include/uapi.
 */
#include <stddef.h>
#include <stdio.h>
#include <linux/kingest.h>

static int first = 1;

static void num(const char *name, long long value)
{
	printf("%s\n  \"%s\": %lld", first ? "{" : ",", name, value);
	first = 0;
}

static void str(const char *name, const char *value)
{
	printf("%s\n  \"%s\": \"%s\"", first ? "{" : ",", name, value);
	first = 0;
}

#define SIZE(s)		num("sizeof." #s, (long long)sizeof(struct s))
#define OFF(s, f)	num("offsetof." #s "." #f, (long long)offsetof(struct s, f))
#define FSIZE(s, f)	num("fieldsize." #s "." #f, (long long)sizeof(((struct s *)0)->f))
#define CONST(c)	num("const." #c, (long long)(c))
#define STR(c)		str("string." #c, c)

/* Sample si_int values decoded by the header's macros. */
static const unsigned int sig_samples[] = {
	0x01a38ff3u, 0x01057f80u, 0x02ff1234u, 0x03014abcu,
	0x04ffffffu, 0xffffffffu, 0x00000000u,
};

static void sig(unsigned int v)
{
	char name[64];

	snprintf(name, sizeof(name), "sig.%08x.type", v);
	num(name, KINGEST_SIG_TYPE(v));
	snprintf(name, sizeof(name), "sig.%08x.seq", v);
	num(name, KINGEST_SIG_SEQ(v));
	snprintf(name, sizeof(name), "sig.%08x.detail", v);
	num(name, KINGEST_SIG_DETAIL(v));
	snprintf(name, sizeof(name), "sig.%08x.sensor_alarm", v);
	num(name, KINGEST_SIG_SENSOR_ALARM(v));
	snprintf(name, sizeof(name), "sig.%08x.sensor_id", v);
	num(name, KINGEST_SIG_SENSOR_ID(v));
	snprintf(name, sizeof(name), "sig.%08x.sensor_degc", v);
	num(name, KINGEST_SIG_SENSOR_DEGC(v));
	snprintf(name, sizeof(name), "sig.%08x.netdev_event", v);
	num(name, KINGEST_SIG_NETDEV_EVENT(v));
	snprintf(name, sizeof(name), "sig.%08x.netdev_ifindex", v);
	num(name, KINGEST_SIG_NETDEV_IFINDEX(v));
}

int main(void)
{
	size_t i;

	SIZE(kingest_record);
	OFF(kingest_record, len);
	OFF(kingest_record, type);
	OFF(kingest_record, channel);
	OFF(kingest_record, flags);
	OFF(kingest_record, seq);
	OFF(kingest_record, ts_ns);
	OFF(kingest_record, data);

	SIZE(kingest_ring_meta);
	OFF(kingest_ring_meta, magic);
	OFF(kingest_ring_meta, abi_version);
	OFF(kingest_ring_meta, page_size);
	OFF(kingest_ring_meta, header_size);
	OFF(kingest_ring_meta, data_size);
	OFF(kingest_ring_meta, data_offset);
	OFF(kingest_ring_meta, producer_offset);
	OFF(kingest_ring_meta, consumer_offset);
	OFF(kingest_ring_meta, record_align);
	OFF(kingest_ring_meta, max_record);

	SIZE(kingest_ring_consumer);
	OFF(kingest_ring_consumer, consumer_pos);

	SIZE(kingest_ring_producer);
	OFF(kingest_ring_producer, producer_pos);
	OFF(kingest_ring_producer, dropped);
	OFF(kingest_ring_producer, bad_consumer);

	SIZE(kingest_sensor_reading);
	OFF(kingest_sensor_reading, sensor_id);
	OFF(kingest_sensor_reading, milli_celsius);
	OFF(kingest_sensor_reading, threshold_mc);
	OFF(kingest_sensor_reading, flags);

	SIZE(kingest_thermal_image);
	OFF(kingest_thermal_image, sensor_id);
	OFF(kingest_thermal_image, frame);
	OFF(kingest_thermal_image, size);
	OFF(kingest_thermal_image, reserved);
	OFF(kingest_thermal_image, pixels);

	SIZE(kingest_netdev_event);
	OFF(kingest_netdev_event, ifindex);
	OFF(kingest_netdev_event, event);
	OFF(kingest_netdev_event, flags);
	OFF(kingest_netdev_event, mtu);
	OFF(kingest_netdev_event, name);
	FSIZE(kingest_netdev_event, name);

	SIZE(kingest_info);
	OFF(kingest_info, abi_version);
	OFF(kingest_info, page_size);
	OFF(kingest_info, ring_data_size);
	OFF(kingest_info, channel_count);
	OFF(kingest_info, max_sensors);
	OFF(kingest_info, max_payload);
	OFF(kingest_info, enabled);

	SIZE(kingest_wait_read);
	OFF(kingest_wait_read, read_pos);
	OFF(kingest_wait_read, timeout_ms);
	OFF(kingest_wait_read, reserved);
	OFF(kingest_wait_read, available);
	OFF(kingest_wait_read, producer_pos);
	SIZE(kingest_wait);
	OFF(kingest_wait, timeout_ms);
	OFF(kingest_wait, reserved);
	OFF(kingest_wait, available);

	SIZE(kingest_signal_sub);
	OFF(kingest_signal_sub, signo);
	OFF(kingest_signal_sub, flags);

	SIZE(kingest_threshold);
	OFF(kingest_threshold, sensor_id);
	OFF(kingest_threshold, threshold_mc);

	SIZE(kingest_channel_stats);
	OFF(kingest_channel_stats, emitted);
	OFF(kingest_channel_stats, dropped);
	OFF(kingest_channel_stats, errors);

	SIZE(kingest_stats);
	OFF(kingest_stats, channel_count);
	OFF(kingest_stats, enabled);
	OFF(kingest_stats, ch);
	FSIZE(kingest_stats, ch);

	SIZE(kingest_inject);
	OFF(kingest_inject, channels);
	OFF(kingest_inject, type);
	OFF(kingest_inject, reserved);
	OFF(kingest_inject, len);
	OFF(kingest_inject, reserved2);
	OFF(kingest_inject, data);

	CONST(KINGEST_ABI_VERSION);
	CONST(KINGEST_CH_RING);
	CONST(KINGEST_CH_GENL);
	CONST(KINGEST_CH_SIGNAL);
	CONST(KINGEST_CH_UPCALL);
	CONST(KINGEST_CH_UDP);
	CONST(KINGEST_CH_PROC);
	CONST(KINGEST_CH_COUNT);
	CONST(KINGEST_CH_SLOTS);
	CONST(KINGEST_CHF_RING);
	CONST(KINGEST_CHF_GENL);
	CONST(KINGEST_CHF_SIGNAL);
	CONST(KINGEST_CHF_UPCALL);
	CONST(KINGEST_CHF_UDP);
	CONST(KINGEST_CHF_PUSH);
	CONST(KINGEST_EV_PAD);
	CONST(KINGEST_EV_SENSOR);
	CONST(KINGEST_EV_IMAGE);
	CONST(KINGEST_EV_NETDEV);
	CONST(KINGEST_EV_INJECT);
	CONST(KINGEST_MAX_PAYLOAD);
	CONST(KINGEST_RECORD_HDR_SIZE);
	CONST(KINGEST_RECORD_ALIGN);
	CONST(KINGEST_RECORD_MAX);
	CONST(KINGEST_RECF_TRUNCATED);
	CONST(KINGEST_MMAP_META_PGOFF);
	CONST(KINGEST_MMAP_CONSUMER_PGOFF);
	CONST(KINGEST_MMAP_PRODUCER_PGOFF);
	CONST(KINGEST_MMAP_DATA_PGOFF);
	CONST(KINGEST_RING_MAGIC);
	CONST(KINGEST_SENSOR_ALARM);
	CONST(KINGEST_MAX_SENSORS);
	CONST(KINGEST_NETDEV_REGISTER);
	CONST(KINGEST_NETDEV_UNREGISTER);
	CONST(KINGEST_NETDEV_UP);
	CONST(KINGEST_NETDEV_DOWN);
	CONST(KINGEST_NETDEV_CHANGE);
	CONST(KINGEST_IOC_MAGIC);
	CONST(KINGEST_WAIT_MAX_MS);
	CONST(KINGEST_MAX_SIGNAL_SUBS);
	CONST(KINGEST_SIG_CODE);
	CONST(KINGEST_SIG_BAND);
	CONST(KINGEST_RATE_MIN_HZ);
	CONST(KINGEST_RATE_MAX_HZ);
	CONST(KINGEST_THRESHOLD_MIN_MC);
	CONST(KINGEST_THRESHOLD_MAX_MC);
	CONST(KINGEST_CMD_UNSPEC);
	CONST(KINGEST_CMD_EVENT);
	CONST(KINGEST_CMD_GET_STATS);
	CONST(KINGEST_CMD_MAX);
	CONST(KINGEST_A_UNSPEC);
	CONST(KINGEST_A_TYPE);
	CONST(KINGEST_A_SEQ);
	CONST(KINGEST_A_TS_NS);
	CONST(KINGEST_A_PAYLOAD);
	CONST(KINGEST_A_CHANNEL);
	CONST(KINGEST_A_STATS);
	CONST(KINGEST_A_PAD);
	CONST(KINGEST_A_MAX);
	CONST(KINGEST_A_STAT_UNSPEC);
	CONST(KINGEST_A_STAT_CHANNEL);
	CONST(KINGEST_A_STAT_EMITTED);
	CONST(KINGEST_A_STAT_DROPPED);
	CONST(KINGEST_A_STAT_ERRORS);
	CONST(KINGEST_A_STAT_PAD);
	CONST(KINGEST_A_STAT_MAX);
	CONST(KINGEST_GENL_VERSION);
	CONST(KINGEST_UDP_QUEUE_MAX);
	CONST(KINGEST_UPCALL_QUEUE_MAX);
	CONST(KINGEST_UPCALL_MAX_HEX);
	CONST(KINGEST_UPCALL_HELPER_MAX);
	CONST(KINGEST_SIZEOF_RECORD);
	CONST(KINGEST_SIZEOF_RING_META);
	CONST(KINGEST_SIZEOF_RING_CONSUMER);
	CONST(KINGEST_SIZEOF_RING_PRODUCER);
	CONST(KINGEST_SIZEOF_SENSOR_READING);
	CONST(KINGEST_SIZEOF_THERMAL_IMAGE);
	CONST(KINGEST_SIZEOF_NETDEV_EVENT);
	CONST(KINGEST_SIZEOF_INFO);
	CONST(KINGEST_SIZEOF_WAIT);
	CONST(KINGEST_SIZEOF_SIGNAL_SUB);
	CONST(KINGEST_SIZEOF_THRESHOLD);
	CONST(KINGEST_SIZEOF_CHANNEL_STATS);
	CONST(KINGEST_SIZEOF_STATS);
	CONST(KINGEST_SIZEOF_INJECT);
	CONST(KINGEST_SIZEOF_WAIT_READ);
	num("alignup.0", KINGEST_RECORD_ALIGN_UP(0));
	num("alignup.1", KINGEST_RECORD_ALIGN_UP(1));
	num("alignup.24", KINGEST_RECORD_ALIGN_UP(24));
	num("alignup.25", KINGEST_RECORD_ALIGN_UP(25));
	num("alignup.16408", KINGEST_RECORD_ALIGN_UP(16408));

	CONST(KINGEST_IOC_GET_INFO);
	CONST(KINGEST_IOC_WAIT);
	CONST(KINGEST_IOC_SUBSCRIBE_SIGNAL);
	CONST(KINGEST_IOC_UNSUBSCRIBE_SIGNAL);
	CONST(KINGEST_IOC_SET_RATE);
	CONST(KINGEST_IOC_SET_THRESHOLD);
	CONST(KINGEST_IOC_RESET_STATS);
	CONST(KINGEST_IOC_GET_STATS);
	CONST(KINGEST_IOC_INJECT);
	CONST(KINGEST_IOC_WAIT_READ);

	STR(KINGEST_DEVICE_NAME);
	STR(KINGEST_PROC_DIR);
	STR(KINGEST_PROC_STATS);
	STR(KINGEST_PROC_SENSORS);
	STR(KINGEST_GENL_NAME);
	STR(KINGEST_GENL_MCGRP);
	STR(KINGEST_SYSCTL_DIR);
	STR(KINGEST_SYSCTL_RATE_HZ);
	STR(KINGEST_SYSCTL_SENSOR_COUNT);
	STR(KINGEST_SYSCTL_SENSORS_ENABLE);
	STR(KINGEST_SYSCTL_IMAGE_SIZE);
	STR(KINGEST_SYSCTL_NETDEV_ENABLE);
	STR(KINGEST_SYSCTL_RING_ENABLE);
	STR(KINGEST_SYSCTL_GENL_ENABLE);
	STR(KINGEST_SYSCTL_SIGNAL_ENABLE);
	STR(KINGEST_SYSCTL_UPCALL_ENABLE);
	STR(KINGEST_SYSCTL_UDP_ENABLE);
	STR(KINGEST_SYSCTL_PROC_ENABLE);
	STR(KINGEST_SYSCTL_UDP_ADDR);
	STR(KINGEST_SYSCTL_UDP_PORT);
	STR(KINGEST_SYSCTL_UPCALL_HELPER);
	STR(KINGEST_SYSCTL_UPCALL_RATE);

	for (i = 0; i < sizeof(sig_samples) / sizeof(sig_samples[0]); i++)
		sig(sig_samples[i]);

	printf("\n}\n");
	return 0;
}
