// SPDX-License-Identifier: GPL-2.0
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "kt.h"

static int planned, tests, failed;

void kt_plan(int n)
{
	planned = n;
	printf("TAP version 13\n1..%d\n", n);
	fflush(stdout);
}

static void vreport(bool cond, const char *directive, const char *fmt, va_list ap)
{
	tests++;
	if (!cond)
		failed++;
	printf("%s %d - ", cond ? "ok" : "not ok", tests);
	vprintf(fmt, ap);
	if (directive)
		printf(" # SKIP %s", directive);
	printf("\n");
	fflush(stdout);
}

void kt_ok(bool cond, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(cond, NULL, fmt, ap);
	va_end(ap);
}

void kt_skip(const char *why, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(true, why, fmt, ap);
	va_end(ap);
}

void kt_diag(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

int kt_done(void)
{
	if (tests != planned) {
		kt_diag("planned %d tests, ran %d", planned, tests);
		return 1;
	}
	return failed ? 1 : 0;
}

void kt_bail(const char *fmt, ...)
{
	va_list ap;

	printf("Bail out! ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf(" (errno %d: %s)\n", errno, strerror(errno));
	fflush(stdout);
	exit(1);
}

int kt_open(void)
{
	int fd = open("/dev/" KINGEST_DEVICE_NAME, O_RDWR | O_CLOEXEC);

	if (fd < 0)
		kt_bail("open /dev/kingest");
	return fd;
}

static void sysctl_path(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "/proc/sys/" KINGEST_SYSCTL_DIR "/%s", name);
}

int kt_sysctl_write(const char *name, const char *value)
{
	char path[128];
	ssize_t n;
	int fd, err = 0;

	sysctl_path(path, sizeof(path), name);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, value, strlen(value));
	if (n < 0)
		err = -errno;
	else if ((size_t)n != strlen(value))
		err = -EIO;
	close(fd);
	return err;
}

int kt_sysctl_set(const char *name, long value)
{
	char buf[32];
	int err;

	snprintf(buf, sizeof(buf), "%ld", value);
	err = kt_sysctl_write(name, buf);
	if (err) {
		errno = -err;
		kt_bail("sysctl %s=%ld", name, value);
	}
	return 0;
}

int kt_sysctl_read(const char *name, char *buf, size_t len)
{
	char path[128];
	ssize_t n;
	int fd;

	sysctl_path(path, sizeof(path), name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	if (n && buf[n - 1] == '\n')
		buf[n - 1] = '\0';
	return 0;
}

long kt_sysctl_get(const char *name)
{
	char buf[64];

	if (kt_sysctl_read(name, buf, sizeof(buf)))
		kt_bail("read sysctl %s", name);
	return strtol(buf, NULL, 10);
}

void kt_stats(int fd, struct kingest_stats *st)
{
	if (ioctl(fd, KINGEST_IOC_GET_STATS, st))
		kt_bail("KINGEST_IOC_GET_STATS");
}

int kt_inject(int fd, uint32_t channels, uint16_t type, const void *data,
	      uint32_t len)
{
	struct kingest_inject inj = {
		.channels = channels,
		.type = type,
		.len = len,
		.data = (uintptr_t)data,
	};
	int ret = ioctl(fd, KINGEST_IOC_INJECT, &inj);

	return ret < 0 ? -errno : ret;
}

void kt_quiet(uint32_t channels)
{
	static const char *const names[] = {
		KINGEST_SYSCTL_RING_ENABLE, KINGEST_SYSCTL_GENL_ENABLE,
		KINGEST_SYSCTL_SIGNAL_ENABLE, KINGEST_SYSCTL_UPCALL_ENABLE,
		KINGEST_SYSCTL_UDP_ENABLE,
	};
	unsigned int ch;

	kt_sysctl_set(KINGEST_SYSCTL_SENSORS_ENABLE, 0);
	kt_sysctl_set(KINGEST_SYSCTL_NETDEV_ENABLE, 0);
	for (ch = 0; ch < sizeof(names) / sizeof(names[0]); ch++)
		kt_sysctl_set(names[ch], !!(channels & (1U << ch)));
	/* Let a tick that was already running finish. */
	kt_sleep_ms(20);
}

uint64_t kt_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

void kt_sleep_ms(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

int kt_ring_map(struct kt_ring *r, int fd)
{
	long page = sysconf(_SC_PAGESIZE);
	struct kingest_info info;

	memset(r, 0, sizeof(*r));
	if (ioctl(fd, KINGEST_IOC_GET_INFO, &info))
		return -errno;
	r->fd = fd;
	r->size = info.ring_data_size;
	r->map_len = KINGEST_MMAP_DATA_PGOFF * page + r->size;
	r->map = mmap(NULL, r->map_len, PROT_READ, MAP_SHARED, fd, 0);
	if (r->map == MAP_FAILED)
		return -errno;
	r->consumer = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
			   KINGEST_MMAP_CONSUMER_PGOFF * page);
	if (r->consumer == MAP_FAILED) {
		munmap(r->map, r->map_len);
		return -errno;
	}
	r->meta = r->map;
	r->producer = (const void *)((char *)r->map + r->meta->producer_offset);
	r->data = (const uint8_t *)r->map + r->meta->data_offset;
	r->pos = __atomic_load_n(&r->consumer->consumer_pos, __ATOMIC_ACQUIRE);
	return 0;
}

void kt_ring_unmap(struct kt_ring *r)
{
	munmap(r->consumer, sysconf(_SC_PAGESIZE));
	munmap(r->map, r->map_len);
}

uint64_t kt_ring_produced(const struct kt_ring *r)
{
	return __atomic_load_n(&r->producer->producer_pos, __ATOMIC_ACQUIRE);
}

void kt_ring_release(struct kt_ring *r)
{
	__atomic_store_n(&r->consumer->consumer_pos, r->pos, __ATOMIC_RELEASE);
}

void kt_ring_drain(struct kt_ring *r)
{
	r->pos = kt_ring_produced(r);
	kt_ring_release(r);
}

const struct kingest_record *kt_ring_next(struct kt_ring *r)
{
	for (;;) {
		uint64_t prod = kt_ring_produced(r);
		const struct kingest_record *rec;

		if (r->pos == prod)
			return NULL;
		rec = (const void *)(r->data + (r->pos & (r->size - 1)));
		r->pos += KINGEST_RECORD_ALIGN_UP(rec->len);
		if (rec->type != KINGEST_EV_PAD)
			return rec;
		r->pads++;
	}
}
