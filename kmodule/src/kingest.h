/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kingest internals shared by the module's files. The user-visible
 * contract is include/uapi/linux/kingest.h.
 */
#ifndef _KINGEST_INTERNAL_H
#define _KINGEST_INTERNAL_H

#include <linux/atomic.h>
#include <linux/types.h>
#include <linux/kingest.h>

/*
 * An event as produced by a source, before a channel frames it. data
 * points at len payload bytes that stay valid for the duration of
 * kingest_emit() only; channels that defer copy it.
 */
struct kingest_event {
	u16 type;
	u32 len;
	u64 ts_ns;
	const void *data;
	u16 sig_detail;		/* bits 15..0 of the signal payload */
};

struct kingest_counters {
	atomic64_t emitted;
	atomic64_t dropped;
	atomic64_t errors;
};

extern struct kingest_counters kingest_stats[KINGEST_CH_COUNT];

/* sysctl-backed settings, read with READ_ONCE() where they are used */
struct kingest_config {
	int rate_hz;
	int sensor_count;
	int sensors_enable;
	int image_size;
	int netdev_enable;
	int enable[KINGEST_CH_COUNT];
	int udp_port;
	int upcall_rate;
	char udp_addr[16];
	char upcall_helper[KINGEST_UPCALL_HELPER_MAX];
};

extern struct kingest_config kingest_cfg;

static inline void kingest_count(unsigned int ch, bool ok)
{
	atomic64_inc(ok ? &kingest_stats[ch].emitted : &kingest_stats[ch].dropped);
}

static inline void kingest_count_error(unsigned int ch)
{
	atomic64_inc(&kingest_stats[ch].errors);
}

static inline bool kingest_enabled(unsigned int ch)
{
	return READ_ONCE(kingest_cfg.enable[ch]) != 0;
}

u32 kingest_enabled_mask(void);

/* Offers ev to each enabled channel in mask; returns the channels that took it. */
u32 kingest_emit(const struct kingest_event *ev, u32 mask);

/* sysctl.c: consistent snapshots of settings that do not fit a word */
void kingest_udp_dest(__be32 *addr, u16 *port);
void kingest_upcall_helper(char *buf, size_t size);

/* ring.c: /dev/kingest, the mmap ring and the ioctls */
int kingest_dev_init(unsigned int ring_size_kb);
void kingest_dev_exit(void);
bool kingest_ring_emit(const struct kingest_event *ev);

/* genl.c */
int kingest_genl_init(void);
void kingest_genl_exit(void);
bool kingest_genl_has_listeners(void);
bool kingest_genl_emit(const struct kingest_event *ev);

/* signal.c */
struct file;
int kingest_signal_subscribe(struct file *file, int signo);
void kingest_signal_unsubscribe(struct file *file);
bool kingest_signal_has_subscribers(void);
bool kingest_signal_emit(const struct kingest_event *ev);
void kingest_signal_exit(void);

/* defer.c: channels that run from a workqueue (UDP, upcall) */
int kingest_defer_init(void);
void kingest_defer_stop(void);
void kingest_defer_exit(void);
bool kingest_udp_emit(const struct kingest_event *ev);
bool kingest_upcall_emit(const struct kingest_event *ev);

/* sensors.c: the sensor bank and the netdevice notifier */
int kingest_sensors_init(void);
void kingest_sensors_exit(void);
int kingest_sensor_set_threshold(u32 id, s32 threshold_mc);

struct kingest_sensor_state {
	s32 milli_celsius;
	s32 threshold_mc;
	u64 ts_ns;
};

void kingest_sensor_get(u32 id, struct kingest_sensor_state *out);

/* proc.c */
int kingest_proc_init(void);
void kingest_proc_exit(void);

/* sysctl.c */
int kingest_sysctl_init(void);
void kingest_sysctl_exit(void);

#endif /* _KINGEST_INTERNAL_H */
