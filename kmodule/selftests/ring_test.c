// SPDX-License-Identifier: GPL-2.0
/* The mmap ring: layout, content, order, wrap, overflow, hostile consumers. */
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kt.h"

static void fill(uint8_t *buf, uint32_t len, uint32_t salt)
{
	uint32_t i;

	for (i = 0; i < len; i++)
		buf[i] = (uint8_t)(salt * 31 + i);
}

static bool check(const uint8_t *buf, uint32_t len, uint32_t salt)
{
	uint32_t i;

	for (i = 0; i < len; i++)
		if (buf[i] != (uint8_t)(salt * 31 + i))
			return false;
	return true;
}

static void test_layout(struct kt_ring *r)
{
	long page = sysconf(_SC_PAGESIZE);
	const struct kingest_ring_meta *m = r->meta;

	kt_ok(m->magic == KINGEST_RING_MAGIC && m->abi_version == KINGEST_ABI_VERSION,
	      "meta page: magic and ABI version");
	kt_ok(m->page_size == (uint32_t)page && m->header_size == KINGEST_RECORD_HDR_SIZE &&
	      m->record_align == KINGEST_RECORD_ALIGN && m->max_record == KINGEST_RECORD_MAX,
	      "meta page: page size, header size, alignment, max record");
	kt_ok(m->data_size == r->size && (m->data_size & (m->data_size - 1)) == 0 &&
	      m->data_size >= 65536, "data area is a power of two >= 64 KiB (%llu)",
	      (unsigned long long)m->data_size);
	kt_ok(m->consumer_offset == KINGEST_MMAP_CONSUMER_PGOFF * (uint64_t)page &&
	      m->producer_offset == KINGEST_MMAP_PRODUCER_PGOFF * (uint64_t)page &&
	      m->data_offset == KINGEST_MMAP_DATA_PGOFF * (uint64_t)page,
	      "meta page: offsets match the header");
}

static void test_hostile_mmap(int fd, struct kt_ring *r)
{
	long page = sysconf(_SC_PAGESIZE);
	void *p;

	KT_ERRNO(mmap(NULL, r->map_len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) ==
		 MAP_FAILED ? -1 : 0, EPERM, "mmap: writable mapping of everything -> EPERM");
	KT_ERRNO(mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		      KINGEST_MMAP_DATA_PGOFF * page) == MAP_FAILED ? -1 : 0, EPERM,
		 "mmap: writable data page -> EPERM");
	KT_ERRNO(mmap(NULL, page, PROT_READ, MAP_PRIVATE, fd, 0) == MAP_FAILED ? -1 : 0,
		 EINVAL, "mmap: MAP_PRIVATE -> EINVAL");
	KT_ERRNO(mmap(NULL, r->map_len + page, PROT_READ, MAP_SHARED, fd, 0) ==
		 MAP_FAILED ? -1 : 0, EINVAL, "mmap: past the data area -> EINVAL");
	KT_ERRNO(mmap(NULL, page, PROT_READ, MAP_SHARED, fd,
		      (off_t)r->map_len) == MAP_FAILED ? -1 : 0, EINVAL,
		 "mmap: offset beyond the end -> EINVAL");
	p = mmap(NULL, page, PROT_READ, MAP_SHARED, fd, 0);
	kt_ok(p != MAP_FAILED, "mmap: read-only meta page alone");
	if (p != MAP_FAILED) {
		KT_ERRNO(mprotect(p, page, PROT_READ | PROT_WRITE), EACCES,
			 "mprotect(PROT_WRITE) on a read-only mapping -> EACCES");
		munmap(p, page);
	} else {
		kt_ok(false, "mprotect skipped");
	}
}

static void test_content(int fd, struct kt_ring *r)
{
	enum { N = 200 };
	const struct kingest_record *rec;
	struct kingest_stats before, after;
	uint8_t buf[600];
	uint64_t t0, t1, first_seq = 0, last_ts = 0;
	int i, accepted = 0, bad_content = 0, bad_order = 0, n = 0;

	kt_ring_drain(r);
	kt_stats(fd, &before);
	t0 = kt_now_ns();
	for (i = 0; i < N; i++) {
		uint32_t len = (uint32_t)(i * 3) % sizeof(buf);

		fill(buf, len, i);
		if (kt_inject(fd, KINGEST_CHF_RING, 1000 + i, buf, len) == KINGEST_CHF_RING)
			accepted++;
	}
	t1 = kt_now_ns();
	kt_stats(fd, &after);
	kt_ok(accepted == N, "inject: %d of %d accepted by the ring", accepted, N);
	kt_ok(after.ch[KINGEST_CH_RING].emitted - before.ch[KINGEST_CH_RING].emitted == N &&
	      after.ch[KINGEST_CH_RING].dropped == before.ch[KINGEST_CH_RING].dropped,
	      "stats: ring emitted +%d, dropped +0", N);

	while ((rec = kt_ring_next(r))) {
		uint32_t len = (uint32_t)(n * 3) % sizeof(buf);

		if (n == 0)
			first_seq = rec->seq;
		if (rec->type != 1000 + n || rec->len != KINGEST_RECORD_HDR_SIZE + len ||
		    rec->channel != KINGEST_CH_RING || !check(rec->data, len, n))
			bad_content++;
		if (rec->seq != first_seq + n || rec->ts_ns < t0 || rec->ts_ns > t1 ||
		    rec->ts_ns < last_ts)
			bad_order++;
		last_ts = rec->ts_ns;
		n++;
	}
	kt_ring_release(r);
	kt_ok(n == N, "ring: read back %d records (want %d)", n, N);
	kt_ok(bad_content == 0, "ring: type, length, channel and payload intact (%d bad)",
	      bad_content);
	kt_ok(bad_order == 0, "ring: sequence numbers consecutive, timestamps in order (%d bad)",
	      bad_order);
}

static void test_wrap(int fd, struct kt_ring *r)
{
	static uint8_t buf[KINGEST_MAX_PAYLOAD];
	const struct kingest_record *rec;
	uint64_t start = kt_ring_produced(r), expect_seq = 0;
	uint32_t salt = 0, read_salt = 0;
	int bad = 0, count = 0;

	kt_ring_drain(r);
	r->pads = 0;
	/* Odd sizes so records land at every alignment relative to the end. */
	while (kt_ring_produced(r) - start < 3 * r->size) {
		uint32_t len = 1000 + (salt * 7919) % 9000;

		fill(buf, len, salt);
		if (kt_inject(fd, KINGEST_CHF_RING, KINGEST_EV_INJECT, buf, len) !=
		    KINGEST_CHF_RING) {
			bad++;
			break;
		}
		salt++;
		while ((rec = kt_ring_next(r))) {
			uint32_t want = 1000 + (read_salt * 7919) % 9000;

			if (expect_seq && rec->seq != expect_seq)
				bad++;
			expect_seq = rec->seq + 1;
			if (rec->len != KINGEST_RECORD_HDR_SIZE + want ||
			    !check(rec->data, want, read_salt))
				bad++;
			read_salt++;
			count++;
		}
		kt_ring_release(r);
	}
	kt_ok(bad == 0 && count == (int)salt,
	      "wrap: %d records over 3 ring lengths intact and in order", count);
	kt_ok(r->pads > 0, "wrap: pad records mark the wrap (%llu seen)",
	      (unsigned long long)r->pads);
}

static void test_overflow(int fd, struct kt_ring *r)
{
	static uint8_t buf[KINGEST_MAX_PAYLOAD];
	struct kingest_stats before, after;
	uint64_t dropped_page = r->producer->dropped;
	const struct kingest_record *rec;
	int accepted = 0, extra = 25, i, bad = 0, n = 0, ret;
	uint64_t first_seq = 0, last_seq = 0;

	kt_ring_drain(r);
	kt_stats(fd, &before);
	/* Fill without consuming until the ring refuses. */
	for (;;) {
		fill(buf, sizeof(buf), accepted);
		ret = kt_inject(fd, KINGEST_CHF_RING, KINGEST_EV_INJECT, buf, sizeof(buf));
		if (ret != KINGEST_CHF_RING)
			break;
		accepted++;
		if (accepted > 100000)
			break;
	}
	kt_ok(ret == 0, "overflow: a full ring refuses the event (inject returned %d)", ret);
	for (i = 0; i < extra; i++)
		kt_inject(fd, KINGEST_CHF_RING, KINGEST_EV_INJECT, buf, sizeof(buf));
	kt_stats(fd, &after);
	kt_ok(after.ch[KINGEST_CH_RING].dropped - before.ch[KINGEST_CH_RING].dropped ==
	      (uint64_t)extra + 1, "overflow: %d drops counted in stats", extra + 1);
	kt_ok(r->producer->dropped - dropped_page == (uint64_t)extra + 1,
	      "overflow: producer page counts the same drops");
	kt_ok(kt_ring_produced(r) - r->pos <= r->size,
	      "overflow: never more than data_size unconsumed");
	/* Every accepted record is still intact: nothing was overwritten. */
	while ((rec = kt_ring_next(r))) {
		if (!n)
			first_seq = rec->seq;
		if (rec->seq != first_seq + n || !check(rec->data, sizeof(buf), n))
			bad++;
		last_seq = rec->seq;
		n++;
	}
	kt_ring_release(r);
	kt_ok(n == accepted && bad == 0,
	      "overflow: all %d accepted records intact, none overwritten", accepted);
	kt_inject(fd, KINGEST_CHF_RING, KINGEST_EV_INJECT, buf, 8);
	rec = kt_ring_next(r);
	kt_ok(rec && rec->seq == last_seq + extra + 2,
	      "overflow: the sequence gap after draining equals the drops");
	kt_ring_release(r);
}

static void test_bad_consumer(int fd, struct kt_ring *r)
{
	struct kingest_stats before, after;
	uint64_t bad_page = r->producer->bad_consumer;
	uint8_t b = 1;
	uint64_t good;

	/* Make the kernel accept the drained position before going hostile. */
	kt_ring_drain(r);
	kt_inject(fd, KINGEST_CHF_RING, KINGEST_EV_INJECT, &b, 1);
	kt_ring_drain(r);
	good = r->pos;
	kt_inject(fd, KINGEST_CHF_RING, KINGEST_EV_INJECT, &b, 1);
	kt_stats(fd, &before);
	__atomic_store_n(&r->consumer->consumer_pos, good + 3, __ATOMIC_RELEASE);
	kt_inject(fd, KINGEST_CHF_RING, KINGEST_EV_INJECT, &b, 1);
	__atomic_store_n(&r->consumer->consumer_pos, good + (1ULL << 40), __ATOMIC_RELEASE);
	kt_inject(fd, KINGEST_CHF_RING, KINGEST_EV_INJECT, &b, 1);
	__atomic_store_n(&r->consumer->consumer_pos, good - 8, __ATOMIC_RELEASE);
	kt_inject(fd, KINGEST_CHF_RING, KINGEST_EV_INJECT, &b, 1);
	kt_stats(fd, &after);
	bad_page = r->producer->bad_consumer - bad_page;
	kt_ok(bad_page == 3,
	      "bad consumer_pos: misaligned, ahead of producer, backwards all counted (%llu)",
	      (unsigned long long)bad_page);
	kt_ok(after.ch[KINGEST_CH_RING].errors - before.ch[KINGEST_CH_RING].errors == 3,
	      "bad consumer_pos: counted as ring errors");
	r->pos = good;
	kt_ring_release(r);
	kt_ok(kt_inject(fd, KINGEST_CHF_RING, KINGEST_EV_INJECT, &b, 1) == KINGEST_CHF_RING,
	      "bad consumer_pos: the ring works again after a valid position");
	kt_ring_drain(r);
}

struct delayed {
	int fd;
	unsigned int ms;
};

static void *inject_later(void *arg)
{
	struct delayed *d = arg;
	uint8_t b = 7;

	kt_sleep_ms(d->ms);
	kt_inject(d->fd, KINGEST_CHF_RING, KINGEST_EV_INJECT, &b, 1);
	return NULL;
}

static void test_wait_poll(int fd, struct kt_ring *r)
{
	struct kingest_wait w = { .timeout_ms = 30 };
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	struct delayed d = { fd, 100 };
	pthread_t t;
	uint8_t b = 1;
	int err;

	kt_ring_drain(r);
	kt_ok(ioctl(fd, KINGEST_IOC_WAIT, &w) == 0 && w.available == 0,
	      "WAIT: empty ring times out with available 0");
	kt_ok(poll(&pfd, 1, 0) == 0, "poll: empty ring is not readable");
	pthread_create(&t, NULL, inject_later, &d);
	w.timeout_ms = KINGEST_WAIT_MAX_MS;
	err = ioctl(fd, KINGEST_IOC_WAIT, &w);
	kt_ok(err == 0 && w.available > 0,
	      "WAIT: wakes when another thread produces (available %llu)",
	      (unsigned long long)w.available);
	pthread_join(t, NULL);
	kt_ok(poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLIN), "poll: POLLIN with data");
	kt_ring_drain(r);
	d.ms = 50;
	pthread_create(&t, NULL, inject_later, &d);
	kt_ok(poll(&pfd, 1, KINGEST_WAIT_MAX_MS) == 1 && (pfd.revents & POLLIN),
	      "poll: wakes when another thread produces");
	pthread_join(t, NULL);
	kt_ring_drain(r);
	kt_inject(fd, KINGEST_CHF_RING, KINGEST_EV_INJECT, &b, 1);
	w.timeout_ms = 0;
	kt_ok(ioctl(fd, KINGEST_IOC_WAIT, &w) == 0 && w.available ==
	      KINGEST_RECORD_ALIGN_UP(KINGEST_RECORD_HDR_SIZE + 1),
	      "WAIT: timeout 0 reports the unconsumed bytes");
	kt_ring_drain(r);

	w.reserved = 1;
	KT_ERRNO(ioctl(fd, KINGEST_IOC_WAIT, &w), EINVAL, "WAIT: reserved != 0 -> EINVAL");
	w.reserved = 0;
	w.timeout_ms = KINGEST_WAIT_MAX_MS + 1;
	KT_ERRNO(ioctl(fd, KINGEST_IOC_WAIT, &w), EINVAL, "WAIT: timeout too long -> EINVAL");
	KT_ERRNO(ioctl(fd, KINGEST_IOC_WAIT, (void *)8), EFAULT, "WAIT: bad pointer -> EFAULT");
}

static int wait_read(int fd, uint64_t read_pos, uint32_t timeout_ms,
		     struct kingest_wait_read *w)
{
	memset(w, 0, sizeof(*w));
	w->read_pos = read_pos;
	w->timeout_ms = timeout_ms;
	return ioctl(fd, KINGEST_IOC_WAIT_READ, w);
}

/*
 * ABI 2: waiting on the read position while records read but not yet
 * acknowledged hold the published consumer position back.
 */
static void test_wait_read(int fd, struct kt_ring *r)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	struct kingest_wait v1 = { .timeout_ms = 0 };
	struct kingest_wait_read w;
	struct delayed d = { fd, 100 };
	const struct kingest_record *rec;
	uint64_t acked, read_pos, prod;
	pthread_t t;
	uint8_t b = 3;
	int fd2, n = 0;

	kt_ring_drain(r);
	acked = r->pos;
	kt_inject(fd, KINGEST_CHF_RING, KINGEST_EV_INJECT, &b, 1);
	kt_inject(fd, KINGEST_CHF_RING, KINGEST_EV_INJECT, &b, 1);
	/* Read both, publish nothing: the records are "in flight". */
	while ((rec = kt_ring_next(r)))
		n++;
	read_pos = r->pos;
	prod = kt_ring_produced(r);
	kt_ok(n == 2 && read_pos == prod && r->consumer->consumer_pos == acked,
	      "WAIT_READ: two records read, none acknowledged");
	kt_ok(ioctl(fd, KINGEST_IOC_WAIT, &v1) == 0 && v1.available == prod - acked,
	      "WAIT (ABI 1) counts the in-flight bytes as available (%llu)",
	      (unsigned long long)v1.available);
	kt_ok(wait_read(fd, read_pos, 30, &w) == 0 && w.available == 0 &&
	      w.producer_pos == prod, "WAIT_READ at the read position times out, available 0");
	kt_ok(poll(&pfd, 1, 0) == 0,
	      "poll after WAIT_READ uses the read position: not readable");
	kt_ok(wait_read(fd, acked, 0, &w) == 0 && w.available == prod - acked,
	      "WAIT_READ at the acknowledged position reports the unread bytes");
	kt_ok(poll(&pfd, 1, 0) == 1, "poll follows the last WAIT_READ position");
	wait_read(fd, read_pos, 0, &w);
	pthread_create(&t, NULL, inject_later, &d);
	kt_ok(wait_read(fd, read_pos, KINGEST_WAIT_MAX_MS, &w) == 0 && w.available ==
	      KINGEST_RECORD_ALIGN_UP(KINGEST_RECORD_HDR_SIZE + 1),
	      "WAIT_READ wakes when another thread produces (available %llu)",
	      (unsigned long long)w.available);
	pthread_join(t, NULL);
	kt_ok(poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLIN),
	      "poll: POLLIN once records exist beyond the read position");
	wait_read(fd, w.producer_pos, 0, &w);
	d.ms = 50;
	pthread_create(&t, NULL, inject_later, &d);
	kt_ok(poll(&pfd, 1, KINGEST_WAIT_MAX_MS) == 1,
	      "poll on the read position wakes when another thread produces");
	pthread_join(t, NULL);

	/* Another open file keeps ABI 1 poll semantics. */
	fd2 = kt_open();
	pfd.fd = fd2;
	kt_ok(poll(&pfd, 1, 0) == 1, "poll on a file without WAIT_READ: published position");
	close(fd2);
	pfd.fd = fd;
	kt_ring_drain(r);

	/* Hostile positions and arguments. */
	prod = kt_ring_produced(r);
	KT_ERRNO(wait_read(fd, prod + 8, 10, &w), EINVAL,
		 "WAIT_READ: position ahead of the producer -> EINVAL");
	KT_ERRNO(wait_read(fd, prod - 4, 10, &w), EINVAL,
		 "WAIT_READ: unaligned position -> EINVAL");
	KT_ERRNO(wait_read(fd, prod - r->size - 8, 10, &w), EINVAL,
		 "WAIT_READ: more than the ring behind the producer -> EINVAL");
	KT_ERRNO(wait_read(fd, UINT64_MAX - 7, 10, &w), EINVAL,
		 "WAIT_READ: position near 2^64 -> EINVAL");
	memset(&w, 0, sizeof(w));
	w.read_pos = prod;
	w.reserved = 1;
	KT_ERRNO(ioctl(fd, KINGEST_IOC_WAIT_READ, &w), EINVAL, "WAIT_READ: reserved != 0 -> EINVAL");
	w.reserved = 0;
	w.timeout_ms = KINGEST_WAIT_MAX_MS + 1;
	KT_ERRNO(ioctl(fd, KINGEST_IOC_WAIT_READ, &w), EINVAL,
		 "WAIT_READ: timeout too long -> EINVAL");
	KT_ERRNO(ioctl(fd, KINGEST_IOC_WAIT_READ, (void *)8), EFAULT,
		 "WAIT_READ: bad pointer -> EFAULT");
	KT_ERRNO(ioctl(fd, _IOWR(KINGEST_IOC_MAGIC, 0x09, struct kingest_wait), &v1), EINVAL,
		 "WAIT_READ number with the ABI 1 size -> EINVAL");
	kt_ok(wait_read(fd, prod, 0, &w) == 0 && w.available == 0,
	      "WAIT_READ still works after the hostile calls");
}

int main(void)
{
	struct kt_ring r;
	int fd = kt_open(), err;

	kt_plan(55);
	kt_quiet(KINGEST_CHF_RING);
	err = kt_ring_map(&r, fd);
	if (err) {
		errno = -err;
		kt_bail("map the ring");
	}
	test_layout(&r);
	test_hostile_mmap(fd, &r);
	test_content(fd, &r);
	test_wrap(fd, &r);
	test_overflow(fd, &r);
	test_bad_consumer(fd, &r);
	test_wait_poll(fd, &r);
	test_wait_read(fd, &r);
	kt_ring_unmap(&r);
	close(fd);
	return kt_done();
}
