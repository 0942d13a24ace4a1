/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared helpers of the kingest selftests: TAP output, the device, the
 * ring, sysctls and counters. Each test is one program printing TAP.
 */
#ifndef KT_H
#define KT_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <linux/kingest.h>

/* ---- TAP ---- */
void kt_plan(int n);
void kt_ok(bool cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void kt_skip(const char *why, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void kt_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int kt_done(void);	/* exit status: 0 if every test passed */
void kt_bail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* expect fn result -1 with errno e */
#define KT_ERRNO(expr, e, ...) do {					\
	errno = 0;							\
	long _r = (long)(expr);						\
	int _e = errno;							\
	kt_ok(_r == -1 && _e == (e), __VA_ARGS__);			\
	if (!(_r == -1 && _e == (e)))					\
		kt_diag("  got %ld errno %d (%s), want errno %d (%s)",	\
			_r, _e, strerror(_e), (e), strerror(e));	\
} while (0)

/* ---- device, sysctl, counters ---- */
int kt_open(void);			/* /dev/kingest, bails on failure */
int kt_sysctl_write(const char *name, const char *value);	/* 0 or -errno */
int kt_sysctl_set(const char *name, long value);		/* bails on failure */
long kt_sysctl_get(const char *name);
int kt_sysctl_read(const char *name, char *buf, size_t len);
void kt_stats(int fd, struct kingest_stats *st);
int kt_inject(int fd, uint32_t channels, uint16_t type, const void *data,
	      uint32_t len);	/* accepted mask, or -errno */
/* A quiet module: no sensors, no netdev events, the given channels only. */
void kt_quiet(uint32_t channels);
uint64_t kt_now_ns(void);
void kt_sleep_ms(unsigned int ms);

/* ---- ring consumer ---- */
struct kt_ring {
	int fd;
	void *map;		/* meta, consumer (ro view), producer, data */
	size_t map_len;
	struct kingest_ring_consumer *consumer;	/* writable mapping */
	const struct kingest_ring_meta *meta;
	const struct kingest_ring_producer *producer;
	const uint8_t *data;
	uint64_t size;
	uint64_t pos;		/* our consumer position */
	uint64_t pads;		/* pad records skipped */
};

int kt_ring_map(struct kt_ring *r, int fd);
void kt_ring_unmap(struct kt_ring *r);
void kt_ring_drain(struct kt_ring *r);	/* consume everything produced so far */
/* Next non-pad record or NULL; valid until kt_ring_release(). */
const struct kingest_record *kt_ring_next(struct kt_ring *r);
void kt_ring_release(struct kt_ring *r);	/* publish pos */
uint64_t kt_ring_produced(const struct kt_ring *r);

#endif
