/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * kingest: the user/kernel contract of the Ingest kernel module.
 *
 * This header is the single source of the ABI. The module, the C selftests
 * and the C# mirror (src/Ingest.Transports) are all derived from it. Every
 * structure has fixed-width fields, explicit padding and a static size that
 * is asserted at the bottom of this file, so a managed mirror can compare
 * sizes and offsets. After the first release the ABI only grows: new fields
 * go into reserved space or new structures, new ioctls get new numbers.
 *
 * All multi-byte fields are in the byte order of the kernel that produced
 * them (little endian on x86-64), including the UDP datagrams.
 *
 * Channels
 * --------
 * Every event the module produces (a sensor reading, a thermal image, a
 * netdevice change, an injected event) is offered to each enabled channel:
 *
 *   KINGEST_CH_RING    mmap ring on /dev/kingest
 *   KINGEST_CH_GENL    generic netlink family "kingest", group "events"
 *   KINGEST_CH_SIGNAL  thread-directed queued real-time signals (si_int)
 *   KINGEST_CH_UPCALL  call_usermodehelper() of sysctl kingest.upcall_helper
 *   KINGEST_CH_UDP     one UDP datagram per event from a kernel socket
 *   KINGEST_CH_PROC    /proc/kingest/{stats,sensors} (seq_file, pull only)
 *
 * Each push channel (all but PROC) keeps its own 64-bit sequence number,
 * starting at 1 after load. A sequence number is taken for every event
 * offered to an enabled channel (genl and signal: with at least one
 * listener or subscriber), *including* events that channel then drops
 * (ring full, queue full, rate limit, allocation failure), so a gap in the
 * sequence numbers seen by a consumer always equals the events it lost.
 * Each channel counts emitted, dropped and errors (see struct
 * kingest_channel_stats); emitted + dropped == last sequence number (until
 * KINGEST_IOC_RESET_STATS zeroes the counters; sequence numbers go on).
 * The signal channel counts per signal sent, one per subscriber. The UDP
 * and upcall channels count emitted once the datagram was sent or the
 * helper was executed, which may be shortly after the event.
 * For PROC, emitted counts sensor lines shown and dropped stays 0.
 */
#ifndef _UAPI_LINUX_KINGEST_H
#define _UAPI_LINUX_KINGEST_H

#include <linux/types.h>
#include <linux/ioctl.h>

#define KINGEST_ABI_VERSION	2	/* 2: KINGEST_IOC_WAIT_READ, signal si_code */
#define KINGEST_DEVICE_NAME	"kingest"	/* /dev/kingest, misc device */
#define KINGEST_PROC_DIR	"kingest"	/* /proc/kingest/ */
#define KINGEST_PROC_STATS	"stats"
#define KINGEST_PROC_SENSORS	"sensors"

/* ------------------------------------------------------------------------
 * Channel ids and enable bits
 */
#define KINGEST_CH_RING		0
#define KINGEST_CH_GENL		1
#define KINGEST_CH_SIGNAL	2
#define KINGEST_CH_UPCALL	3
#define KINGEST_CH_UDP		4
#define KINGEST_CH_PROC		5
#define KINGEST_CH_COUNT	6	/* channels defined by this version */
#define KINGEST_CH_SLOTS	8	/* room in struct kingest_stats */

#define KINGEST_CHF_RING	(1U << KINGEST_CH_RING)
#define KINGEST_CHF_GENL	(1U << KINGEST_CH_GENL)
#define KINGEST_CHF_SIGNAL	(1U << KINGEST_CH_SIGNAL)
#define KINGEST_CHF_UPCALL	(1U << KINGEST_CH_UPCALL)
#define KINGEST_CHF_UDP		(1U << KINGEST_CH_UDP)
#define KINGEST_CHF_PUSH	(KINGEST_CHF_RING | KINGEST_CHF_GENL | \
				 KINGEST_CHF_SIGNAL | KINGEST_CHF_UPCALL | \
				 KINGEST_CHF_UDP)

/* ------------------------------------------------------------------------
 * Event types (struct kingest_record.type, KINGEST_A_TYPE, signal payload)
 */
#define KINGEST_EV_PAD		0	/* ring only: skip to the next wrap */
#define KINGEST_EV_SENSOR	1	/* struct kingest_sensor_reading */
#define KINGEST_EV_IMAGE	2	/* struct kingest_thermal_image + pixels */
#define KINGEST_EV_NETDEV	3	/* struct kingest_netdev_event */
#define KINGEST_EV_INJECT	4	/* caller bytes (KINGEST_IOC_INJECT) */
/*
 * KINGEST_IOC_INJECT accepts any type except KINGEST_EV_PAD, so benchmarks
 * can inject records shaped like real ones. Consumers must count and skip
 * types they do not know.
 */

/* Largest payload of one event, in bytes (a "thermal image" up to 4 pages). */
#define KINGEST_MAX_PAYLOAD	16384

/* ------------------------------------------------------------------------
 * Record header: ring records and UDP datagrams
 *
 * len is header + payload in bytes, before padding. In the ring each record
 * starts 8-byte aligned: the next record starts at
 * KINGEST_RECORD_ALIGN_UP(len) bytes after this one. A record never wraps
 * around the end of the data area: when it does not fit in what is left,
 * the producer writes a KINGEST_EV_PAD record covering the rest of the data
 * area and places the record at offset 0. A pad record may be shorter than
 * the header (as little as 8 bytes); only its len and type are valid.
 * seq is the sequence number of the channel that carried the record.
 * ts_ns is ktime_get_real_ns() when the event was produced (Unix time).
 */
struct kingest_record {
	__u32 len;
	__u16 type;
	__u8 channel;	/* KINGEST_CH_* that carried it */
	__u8 flags;	/* KINGEST_RECF_* */
	__u64 seq;
	__u64 ts_ns;
	__u8 data[];
};

#define KINGEST_RECORD_HDR_SIZE	24
#define KINGEST_RECORD_ALIGN	8
#define KINGEST_RECORD_ALIGN_UP(len) \
	(((len) + KINGEST_RECORD_ALIGN - 1) & ~(__u64)(KINGEST_RECORD_ALIGN - 1))
#define KINGEST_RECORD_MAX	(KINGEST_RECORD_HDR_SIZE + KINGEST_MAX_PAYLOAD)

/* The payload was cut to fit the channel (upcall only, see below). */
#define KINGEST_RECF_TRUNCATED	0x01

/* ------------------------------------------------------------------------
 * mmap ring on /dev/kingest
 *
 * The file is mapped in page units at these page offsets (byte offset =
 * pgoff * page size; x86-64 uses 4096, read it from the meta page or
 * sysconf):
 *
 *   pgoff 0   meta page      read-only   struct kingest_ring_meta
 *   pgoff 1   consumer page  read-write  struct kingest_ring_consumer
 *   pgoff 2   producer page  read-only   struct kingest_ring_producer
 *   pgoff 3   data area      read-only   data_size bytes (power of two)
 *
 * Any read-only mapping of a range inside [0, 3 pages + data_size) is
 * allowed (one mapping of everything is simplest). A writable mapping must
 * be exactly the consumer page (pgoff 1, one page); any other writable or
 * out-of-range mapping fails with -EPERM / -EINVAL. MAP_SHARED only.
 *
 * Positions are free-running byte counters (never reset); a record lives
 * at data + (pos & (data_size - 1)). The ring holds producer_pos -
 * consumer_pos bytes, never more than data_size.
 *
 * Memory ordering (the perf / BPF ringbuf protocol):
 *   producer (kernel): write record header and payload;
 *                      smp_store_release(&producer_pos, new_pos);
 *                      wake pollers and KINGEST_IOC_WAIT sleepers.
 *   consumer (user):   p = load_acquire(&producer_pos);
 *                      read records in [consumer_pos, p);
 *                      store_release(&consumer_pos, new_pos).
 *                      (C#: Volatile.Read / Volatile.Write.)
 *   kernel:            c = smp_load_acquire(&consumer_pos) before using the
 *                      space it frees.
 * The kernel validates every consumer_pos it reads: it must be 8-byte
 * aligned, not behind the last accepted value and not beyond producer_pos.
 * An invalid value is ignored (the last accepted one stays in force, so
 * the ring only fills), and counted in errors of the ring channel and in
 * kingest_ring_producer.bad_consumer.
 *
 * Full ring: the newest record is dropped and counted (dropped); unconsumed
 * data is never overwritten. Space for the pad record counts too.
 *
 * Two consumer positions (as the BPF ring buffer separates them):
 *   read position       how far the reader has read; private to the reader
 *   consumer_pos        what the reader has *acknowledged* (e.g. once Kafka
 *                       has the records) and published in the consumer page;
 *                       the producer may reuse space only before it
 * A reader that acknowledges late reads ahead of consumer_pos, so "there is
 * data beyond consumer_pos" is true all the time its batches are in flight.
 *
 * Waiting:
 *   KINGEST_IOC_WAIT_READ (ABI 2) takes the read position and sleeps until
 *     producer_pos moves beyond it (or timeout_ms passes). It also records
 *     the read position in the open file.
 *   poll()/select()/epoll report EPOLLIN | EPOLLRDNORM while producer_pos
 *     differs from
 *       - the read position of the last KINGEST_IOC_WAIT_READ on this open
 *         file, once one was made (call it with timeout_ms 0, then poll the
 *         device beside other fds: no lost wake-up, as poll rechecks after
 *         queueing itself); otherwise
 *       - the consumer_pos published in the consumer page (ABI 1 behaviour).
 *   KINGEST_IOC_WAIT (ABI 1, kept) sleeps until producer_pos differs from
 *     the published consumer_pos.
 * Wake-ups come from the producer after it publishes producer_pos, so a
 * reader that checks producer_pos after queueing itself misses nothing.
 */
#define KINGEST_MMAP_META_PGOFF		0
#define KINGEST_MMAP_CONSUMER_PGOFF	1
#define KINGEST_MMAP_PRODUCER_PGOFF	2
#define KINGEST_MMAP_DATA_PGOFF		3

#define KINGEST_RING_MAGIC	0x474e494bU	/* "KING" little endian */

struct kingest_ring_meta {
	__u32 magic;		/* KINGEST_RING_MAGIC */
	__u32 abi_version;	/* KINGEST_ABI_VERSION */
	__u32 page_size;	/* bytes per mmap page */
	__u32 header_size;	/* KINGEST_RECORD_HDR_SIZE */
	__u64 data_size;	/* power of two, >= 64 KiB */
	__u64 data_offset;	/* mmap byte offset of the data area */
	__u64 producer_offset;	/* mmap byte offset of the producer page */
	__u64 consumer_offset;	/* mmap byte offset of the consumer page */
	__u32 record_align;	/* KINGEST_RECORD_ALIGN */
	__u32 max_record;	/* KINGEST_RECORD_MAX */
};

struct kingest_ring_consumer {
	__u64 consumer_pos;	/* written by user space, release */
};

struct kingest_ring_producer {
	__u64 producer_pos;	/* written by the kernel, release */
	__u64 dropped;		/* records dropped because the ring was full */
	__u64 bad_consumer;	/* invalid consumer_pos values ignored */
};

/* ------------------------------------------------------------------------
 * Payloads
 */

/* KINGEST_EV_SENSOR: one reading of one simulated cold-room sensor. */
struct kingest_sensor_reading {
	__u32 sensor_id;	/* 0 .. sensor_count - 1 */
	__s32 milli_celsius;	/* reading */
	__s32 threshold_mc;	/* alarm threshold in force for this reading */
	__u32 flags;		/* KINGEST_SENSOR_* */
};

#define KINGEST_SENSOR_ALARM	0x01	/* milli_celsius > threshold_mc */
#define KINGEST_MAX_SENSORS	64

/*
 * KINGEST_EV_IMAGE: a "thermal image" taken every tick from sensor 0 when
 * sysctl image_size > 0; followed by size bytes of pixels where
 * pixels[i] == (__u8)(frame + i), so consumers can verify large payloads.
 */
struct kingest_thermal_image {
	__u32 sensor_id;
	__u32 frame;		/* counts images since load, from 1 */
	__u32 size;		/* pixel bytes that follow */
	__u32 reserved;		/* 0 */
	__u8 pixels[];
};

/* KINGEST_EV_NETDEV: a netdevice notifier event. */
struct kingest_netdev_event {
	__u32 ifindex;
	__u32 event;		/* KINGEST_NETDEV_* */
	__u32 flags;		/* dev->flags (IFF_*) */
	__u32 mtu;
	char name[16];		/* IFNAMSIZ, NUL-terminated */
};

#define KINGEST_NETDEV_REGISTER		1
#define KINGEST_NETDEV_UNREGISTER	2
#define KINGEST_NETDEV_UP		3
#define KINGEST_NETDEV_DOWN		4
#define KINGEST_NETDEV_CHANGE		5

/* ------------------------------------------------------------------------
 * ioctls on /dev/kingest
 *
 * Unknown command: -ENOTTY. A known command number (KINGEST_IOC_MAGIC,
 * nr <= 0x09) with another size or direction: -EINVAL. Bad argument
 * pointer: -EFAULT. Out-of-range value, nonzero reserved field or bad
 * length: -EINVAL. Commands that
 * change state (SET_*, RESET_STATS, INJECT) need the file opened for
 * writing (O_WRONLY or O_RDWR; else -EPERM). /dev/kingest is mode 0600,
 * owner root: whoever may open it for writing may command the module, with
 * no capability needed (ABI 1 required CAP_SYS_ADMIN instead).
 */
#define KINGEST_IOC_MAGIC	0xB7

/* Static facts about this instance. */
struct kingest_info {
	__u32 abi_version;	/* KINGEST_ABI_VERSION */
	__u32 page_size;
	__u64 ring_data_size;
	__u32 channel_count;	/* KINGEST_CH_COUNT */
	__u32 max_sensors;	/* KINGEST_MAX_SENSORS */
	__u32 max_payload;	/* KINGEST_MAX_PAYLOAD */
	__u32 enabled;		/* KINGEST_CHF_* enabled now */
};

/*
 * KINGEST_IOC_WAIT: sleep until the ring has unconsumed data or timeout_ms
 * passes (0: do not sleep). Returns 0 with available set to the unconsumed
 * bytes (0 on timeout); -EINTR if a signal arrived first (retry; .NET's
 * runtime signals its threads, so callers must expect it).
 */
struct kingest_wait {
	__u32 timeout_ms;	/* in, <= KINGEST_WAIT_MAX_MS */
	__u32 reserved;		/* in, 0 */
	__u64 available;	/* out */
};

#define KINGEST_WAIT_MAX_MS	60000

/*
 * KINGEST_IOC_WAIT_READ (ABI 2): sleep until producer_pos differs from
 * read_pos, the caller's read position (not the published consumer_pos),
 * or timeout_ms passes (0: do not sleep). read_pos must be 8-byte aligned
 * and within data_size bytes behind producer_pos, else -EINVAL. Returns 0
 * with available = producer_pos - read_pos (0 on timeout) and producer_pos
 * (the value available was computed from); -EINTR as KINGEST_IOC_WAIT.
 * Records read_pos in the open file for poll() (see the ring section).
 */
struct kingest_wait_read {
	__u64 read_pos;		/* in */
	__u32 timeout_ms;	/* in, <= KINGEST_WAIT_MAX_MS */
	__u32 reserved;		/* in, 0 */
	__u64 available;	/* out */
	__u64 producer_pos;	/* out */
};

/*
 * KINGEST_IOC_SUBSCRIBE_SIGNAL: the calling *thread* receives every event
 * as a queued signal signo (SIGRTMIN..SIGRTMAX, checked against the
 * kernel's SIGRTMIN of 32, so 32..64; glibc reserves 32 and 33, and .NET
 * uses SIGRTMIN (34) for its own thread activation: .NET callers should use
 * SIGRTMIN + 6 (40)). The signal is thread-directed (it is never delivered
 * to another thread of the process) and carries:
 *   si_code  == KINGEST_SIG_CODE (POLL_MSG, 3): a positive si_code, which
 *               the kernel refuses from rt_sigqueueinfo()/
 *               rt_tgsigqueueinfo() for any process but the sender itself
 *               (ABI 1 sent SI_QUEUE with si_pid 0, which any process
 *               allowed to signal the receiver could forge);
 *   si_band  == KINGEST_SIG_BAND (signalfd: ssi_band). The only other way a
 *               process can get a positive si_code queued to another one,
 *               F_SETOWN/F_SETSIG, sets si_band to a poll mask (and a
 *               child's exit_signal puts its pid there), never this value;
 *   si_fd    == the payload below; it is the same storage as si_int, so
 *               sigwaitinfo() callers read it as si_int and signalfd
 *               readers as ssi_fd (ssi_int stays 0 for this layout).
 * A receiver accepts a signal as the module's only if both si_code and
 * si_band match. The thread must block signo and take it
 * with sigwaitinfo()/signalfd, or handle it: an unhandled RT signal kills
 * the process. One subscription per open file; subscribing again replaces
 * it; it ends with KINGEST_IOC_UNSUBSCRIBE_SIGNAL or when the file is
 * closed. At most KINGEST_MAX_SIGNAL_SUBS files subscribe at once (-EBUSY).
 * A signal the kernel cannot queue (RLIMIT_SIGPENDING) is dropped and
 * counted.
 */
struct kingest_signal_sub {
	__s32 signo;
	__u32 flags;		/* 0 */
};

#define KINGEST_MAX_SIGNAL_SUBS	16

#define KINGEST_SIG_CODE	3		/* POLL_MSG */
#define KINGEST_SIG_BAND	0x4b494e47	/* "GNIK": not a poll mask */

/*
 * si_int payload (32 bits, read it as unsigned):
 *   bits 31..24  event type (KINGEST_EV_*, low 8 bits)
 *   bits 23..16  signal channel sequence number modulo 256
 *   bits 15..0   detail, by type:
 *     SENSOR  bit 15 alarm, bits 14..8 sensor id,
 *             bits 7..0 reading in whole degrees C as __s8 (clamped)
 *     IMAGE   frame number, low 16 bits
 *     NETDEV  bits 15..12 KINGEST_NETDEV_*, bits 11..0 ifindex low 12 bits
 *     other   first two payload bytes, little endian (0 if shorter)
 */
#define KINGEST_SIG_TYPE(v)		(((__u32)(v) >> 24) & 0xff)
#define KINGEST_SIG_SEQ(v)		(((__u32)(v) >> 16) & 0xff)
#define KINGEST_SIG_DETAIL(v)		((__u32)(v) & 0xffff)
#define KINGEST_SIG_SENSOR_ALARM(v)	(((__u32)(v) >> 15) & 0x1)
#define KINGEST_SIG_SENSOR_ID(v)	(((__u32)(v) >> 8) & 0x7f)
#define KINGEST_SIG_SENSOR_DEGC(v)	((__s8)((__u32)(v) & 0xff))
#define KINGEST_SIG_NETDEV_EVENT(v)	(((__u32)(v) >> 12) & 0xf)
#define KINGEST_SIG_NETDEV_IFINDEX(v)	((__u32)(v) & 0xfff)

/* KINGEST_IOC_SET_RATE takes a __u32 sensor rate in Hz. */
#define KINGEST_RATE_MIN_HZ	1
#define KINGEST_RATE_MAX_HZ	10000

/* KINGEST_IOC_SET_THRESHOLD: alarm threshold of one sensor. */
struct kingest_threshold {
	__u32 sensor_id;	/* < KINGEST_MAX_SENSORS */
	__s32 threshold_mc;	/* KINGEST_THRESHOLD_MIN_MC..MAX_MC */
};

#define KINGEST_THRESHOLD_MIN_MC	(-100000)
#define KINGEST_THRESHOLD_MAX_MC	100000

/* Counters of one channel; see the top of this file. */
struct kingest_channel_stats {
	__u64 emitted;
	__u64 dropped;
	__u64 errors;
};

/* KINGEST_IOC_GET_STATS: slots >= channel_count are zero. */
struct kingest_stats {
	__u32 channel_count;	/* out: KINGEST_CH_COUNT */
	__u32 enabled;		/* out: KINGEST_CHF_* */
	struct kingest_channel_stats ch[KINGEST_CH_SLOTS];
};

/*
 * KINGEST_IOC_INJECT: emit one event with the caller's type and payload on
 * each channel in channels that is enabled (bits outside KINGEST_CHF_PUSH:
 * -EINVAL). Returns the mask of channels that accepted the event (ring
 * space, queue room, a signal subscriber...), which may be 0.
 */
struct kingest_inject {
	__u32 channels;		/* KINGEST_CHF_* */
	__u16 type;		/* any but KINGEST_EV_PAD */
	__u16 reserved;		/* 0 */
	__u32 len;		/* payload bytes, <= KINGEST_MAX_PAYLOAD */
	__u32 reserved2;	/* 0 */
	__u64 data;		/* user pointer to len bytes */
};

#define KINGEST_IOC_GET_INFO	_IOR(KINGEST_IOC_MAGIC, 0x00, struct kingest_info)
#define KINGEST_IOC_WAIT	_IOWR(KINGEST_IOC_MAGIC, 0x01, struct kingest_wait)
#define KINGEST_IOC_SUBSCRIBE_SIGNAL \
	_IOW(KINGEST_IOC_MAGIC, 0x02, struct kingest_signal_sub)
#define KINGEST_IOC_UNSUBSCRIBE_SIGNAL	_IO(KINGEST_IOC_MAGIC, 0x03)
#define KINGEST_IOC_SET_RATE	_IOW(KINGEST_IOC_MAGIC, 0x04, __u32)
#define KINGEST_IOC_SET_THRESHOLD \
	_IOW(KINGEST_IOC_MAGIC, 0x05, struct kingest_threshold)
#define KINGEST_IOC_RESET_STATS	_IO(KINGEST_IOC_MAGIC, 0x06)
#define KINGEST_IOC_GET_STATS	_IOR(KINGEST_IOC_MAGIC, 0x07, struct kingest_stats)
#define KINGEST_IOC_INJECT	_IOW(KINGEST_IOC_MAGIC, 0x08, struct kingest_inject)
#define KINGEST_IOC_WAIT_READ	_IOWR(KINGEST_IOC_MAGIC, 0x09, struct kingest_wait_read)

/* ------------------------------------------------------------------------
 * Generic netlink: family "kingest", version 1, multicast group "events"
 *
 * KINGEST_CMD_EVENT   kernel -> group "events", one message per event:
 *                     TYPE, SEQ (genl channel), TS_NS, PAYLOAD.
 * Permissions: subscribing to "events" and KINGEST_CMD_GET_STATS need
 * CAP_NET_ADMIN (GENL_MCAST_CAP_NET_ADMIN in the socket's network
 * namespace's user namespace; GENL_ADMIN_PERM in the initial one). A
 * kernel without GENL_MCAST_CAP_NET_ADMIN (mainline before 6.7, and
 * stable trees without its backport; Debian 12's 6.1 and 6.12 have it)
 * lets any local user subscribe to "events": there, keep genl_enable 0 if
 * events must not reach unprivileged users (GET_STATS is restricted on
 * every kernel).
 *
 * KINGEST_CMD_GET_STATS  request with an optional CHANNEL
 *                     (u32 < KINGEST_CH_COUNT); the reply, same command,
 *                     holds one nested STATS per channel (or only the one
 *                     asked for), each with STAT_CHANNEL, STAT_EMITTED,
 *                     STAT_DROPPED, STAT_ERRORS. Strict validation: unknown
 *                     or malformed attributes fail with -EINVAL/-ERANGE.
 */
#define KINGEST_GENL_NAME	"kingest"
#define KINGEST_GENL_VERSION	1
#define KINGEST_GENL_MCGRP	"events"

enum kingest_genl_cmd {
	KINGEST_CMD_UNSPEC,
	KINGEST_CMD_EVENT,
	KINGEST_CMD_GET_STATS,
	__KINGEST_CMD_MAX,
};

#define KINGEST_CMD_MAX (__KINGEST_CMD_MAX - 1)

enum kingest_genl_attr {
	KINGEST_A_UNSPEC,
	KINGEST_A_TYPE,		/* u16 */
	KINGEST_A_SEQ,		/* u64 */
	KINGEST_A_TS_NS,	/* u64 */
	KINGEST_A_PAYLOAD,	/* binary, same bytes as the ring payload */
	KINGEST_A_CHANNEL,	/* u32, GET_STATS request filter */
	KINGEST_A_STATS,	/* nested kingest_genl_stat_attr, repeated */
	KINGEST_A_PAD,		/* alignment of u64 attributes */
	__KINGEST_A_MAX,
};

#define KINGEST_A_MAX (__KINGEST_A_MAX - 1)

enum kingest_genl_stat_attr {
	KINGEST_A_STAT_UNSPEC,
	KINGEST_A_STAT_CHANNEL,	/* u32 */
	KINGEST_A_STAT_EMITTED,	/* u64 */
	KINGEST_A_STAT_DROPPED,	/* u64 */
	KINGEST_A_STAT_ERRORS,	/* u64 */
	KINGEST_A_STAT_PAD,
	__KINGEST_A_STAT_MAX,
};

#define KINGEST_A_STAT_MAX (__KINGEST_A_STAT_MAX - 1)

/* ------------------------------------------------------------------------
 * UDP channel
 *
 * One datagram per event, sent from a workqueue to udp_addr:udp_port
 * (default 127.0.0.1:5555): a struct kingest_record header (channel
 * KINGEST_CH_UDP, seq of the UDP channel) immediately followed by the
 * payload; datagram length == len, no padding. Events wait in a bounded
 * queue of KINGEST_UDP_QUEUE_MAX; overflow is dropped and counted; send
 * failures are counted as errors.
 */
#define KINGEST_UDP_QUEUE_MAX	4096

/* ------------------------------------------------------------------------
 * Upcall channel
 *
 * call_usermodehelper(upcall_helper, argv, envp, UMH_WAIT_EXEC) per event
 * from an ordered workqueue (it returns once the helper was exec'd),
 * at most upcall_rate per second (more are dropped and counted), queued
 * at most KINGEST_UPCALL_QUEUE_MAX deep. Failures to start are errors.
 *   argv: [0] helper path, [1] "event", [2] type (decimal),
 *         [3] seq (decimal, upcall channel), [4] ts_ns (decimal),
 *         [5] payload as lowercase hex (at most KINGEST_UPCALL_MAX_HEX
 *             payload bytes; "" if empty)
 *   envp: KINGEST_TYPE=<type> KINGEST_SEQ=<seq> KINGEST_TS_NS=<ts>
 *         KINGEST_LEN=<full payload bytes> KINGEST_TRUNCATED=<0|1>
 *         KINGEST_PAYLOAD=<same hex as argv[5]>
 *         HOME=/ PATH=/sbin:/bin:/usr/sbin:/usr/bin
 */
#define KINGEST_UPCALL_QUEUE_MAX	64
#define KINGEST_UPCALL_MAX_HEX		256

/* ------------------------------------------------------------------------
 * sysctls: /proc/sys/kingest/<name>; writes outside [min, max] or of
 * malformed strings fail with -EINVAL and change nothing.
 *   name            type    default             range
 *   rate_hz         int     10                  1..10000
 *   sensor_count    int     4                   1..64
 *   sensors_enable  int     1                   0..1  (sensor hrtimer)
 *   image_size      int     0 (no image)        0..16368 (pixel bytes;
 *                                               header + pixels fit
 *                                               KINGEST_MAX_PAYLOAD)
 *   netdev_enable   int     1                   0..1
 *   ring_enable     int     1                   0..1
 *   genl_enable     int     1                   0..1
 *   signal_enable   int     1                   0..1
 *   upcall_enable   int     0                   0..1
 *   udp_enable      int     1                   0..1
 *   proc_enable     int     1                   0..1 (0: sensors file
 *                                               reads empty)
 *   udp_addr        string  "127.0.0.1"         dotted IPv4
 *   udp_port        int     5555                1..65535
 *   upcall_helper   string  "/sbin/kingest-upcall"  absolute path, < 256
 *   upcall_rate     int     10                  0..1000 per second
 * Module parameter (load time only): ring_size_kb, power of two,
 * 64..65536, default 1024.
 */
#define KINGEST_SYSCTL_DIR		"kingest"
#define KINGEST_SYSCTL_RATE_HZ		"rate_hz"
#define KINGEST_SYSCTL_SENSOR_COUNT	"sensor_count"
#define KINGEST_SYSCTL_SENSORS_ENABLE	"sensors_enable"
#define KINGEST_SYSCTL_IMAGE_SIZE	"image_size"
#define KINGEST_SYSCTL_NETDEV_ENABLE	"netdev_enable"
#define KINGEST_SYSCTL_RING_ENABLE	"ring_enable"
#define KINGEST_SYSCTL_GENL_ENABLE	"genl_enable"
#define KINGEST_SYSCTL_SIGNAL_ENABLE	"signal_enable"
#define KINGEST_SYSCTL_UPCALL_ENABLE	"upcall_enable"
#define KINGEST_SYSCTL_UDP_ENABLE	"udp_enable"
#define KINGEST_SYSCTL_PROC_ENABLE	"proc_enable"
#define KINGEST_SYSCTL_UDP_ADDR		"udp_addr"
#define KINGEST_SYSCTL_UDP_PORT		"udp_port"
#define KINGEST_SYSCTL_UPCALL_HELPER	"upcall_helper"
#define KINGEST_SYSCTL_UPCALL_RATE	"upcall_rate"
#define KINGEST_UPCALL_HELPER_MAX	256

/*
 * /proc/kingest/stats, one line per channel:
 *   "<name> emitted <n> dropped <n> errors <n>"   name: ring genl signal
 *                                                upcall udp proc
 * /proc/kingest/sensors, one line per sensor:
 *   "<id> <milli_celsius> <threshold_mc> <ts_ns> <alarm 0|1>"
 */

/* Static sizes: the C# mirror asserts the same numbers. */
#define KINGEST_SIZEOF_RECORD		24
#define KINGEST_SIZEOF_RING_META	56
#define KINGEST_SIZEOF_RING_CONSUMER	8
#define KINGEST_SIZEOF_RING_PRODUCER	24
#define KINGEST_SIZEOF_SENSOR_READING	16
#define KINGEST_SIZEOF_THERMAL_IMAGE	16
#define KINGEST_SIZEOF_NETDEV_EVENT	32
#define KINGEST_SIZEOF_INFO		32
#define KINGEST_SIZEOF_WAIT		16
#define KINGEST_SIZEOF_SIGNAL_SUB	8
#define KINGEST_SIZEOF_THRESHOLD	8
#define KINGEST_SIZEOF_CHANNEL_STATS	24
#define KINGEST_SIZEOF_STATS		200
#define KINGEST_SIZEOF_INJECT		24
#define KINGEST_SIZEOF_WAIT_READ	32

#endif /* _UAPI_LINUX_KINGEST_H */
