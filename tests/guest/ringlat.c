// SPDX-License-Identifier: GPL-2.0
/*
 * ringlat: event-to-ack latency of whatever consumes /dev/kingest's ring
 * (the daemon), in the guest. Injects ring events (KINGEST_IOC_INJECT) at a
 * rate for a while; after each injection notes producer_pos (the record's
 * end) and the time; a second thread watches the published consumer_pos
 * (which the daemon advances once Kafka acknowledged) every 500 us (finer
 * polling costs the TCG guest more than it resolves) and notes when it
 * passes each end. Same ABI for ABI 1 and ABI 2 modules.
 *
 *   ringlat <events/s, 0 = as fast as possible> <seconds>
 * Prints "rate <achieved/s> n <samples> p50_ms <x> p99_ms <y> max_ms <z>".
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <linux/kingest.h>

#define MAX_SAMPLES (1 << 20)

static volatile uint64_t *producer_pos, *consumer_pos;
static uint64_t ends[MAX_SAMPLES];
static double sent_at[MAX_SAMPLES], acked_at[MAX_SAMPLES];
static volatile int nsamples, done, watched;

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void *watch(void *arg)
{
	struct timespec nap = { 0, 500 * 1000 };
	int next = 0;

	(void)arg;
	/* done 1: nothing more is injected; 2: main gave up waiting. */
	while (done != 2 && (!done || next < nsamples)) {
		uint64_t c = __atomic_load_n(consumer_pos, __ATOMIC_ACQUIRE);
		double t = now_ms();

		while (next < __atomic_load_n(&nsamples, __ATOMIC_ACQUIRE) && c >= ends[next])
			acked_at[next++] = t;
		nanosleep(&nap, NULL);
	}
	__atomic_store_n(&watched, 1, __ATOMIC_RELEASE);
	return NULL;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	struct kingest_inject inj = { .channels = KINGEST_CHF_RING, .type = KINGEST_EV_INJECT };
	uint8_t payload[40] = { 0 };
	double rate, secs, start, deadline, *lat;
	long page = sysconf(_SC_PAGESIZE);
	uint64_t sent = 0;
	pthread_t t;
	void *map;
	int fd, i, n;

	if (argc != 3)
		return 2;
	rate = atof(argv[1]);
	secs = atof(argv[2]);
	fd = open("/dev/kingest", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		perror("open /dev/kingest");
		return 1;
	}
	/* Meta, consumer and producer pages, read-only. */
	map = mmap(NULL, 3 * page, PROT_READ, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	consumer_pos = (uint64_t *)((char *)map + KINGEST_MMAP_CONSUMER_PGOFF * page);
	producer_pos = (uint64_t *)((char *)map + KINGEST_MMAP_PRODUCER_PGOFF * page);
	inj.len = sizeof(payload);
	inj.data = (uintptr_t)payload;
	pthread_create(&t, NULL, watch, NULL);
	start = now_ms();
	deadline = start + secs * 1e3;
	while (now_ms() < deadline) {
		if (rate > 0) {
			double due = start + sent * 1e3 / rate;
			double wait = due - now_ms();

			if (wait > 0) {
				struct timespec ts = { (time_t)(wait / 1e3),
							 (long)((wait - (time_t)(wait / 1e3) * 1e3) * 1e6) };

				nanosleep(&ts, NULL);
			}
		}
		if (ioctl(fd, KINGEST_IOC_INJECT, &inj) < 0) {
			perror("KINGEST_IOC_INJECT");
			return 1;
		}
		sent++;
		/* Every event at a low rate; about 1000 samples a second otherwise. */
		if ((rate > 0 && rate <= 1000) || sent % 1000 == 0) {
			if (nsamples < MAX_SAMPLES) {
				ends[nsamples] = __atomic_load_n(producer_pos, __ATOMIC_ACQUIRE);
				sent_at[nsamples] = now_ms();
				__atomic_store_n(&nsamples, nsamples + 1, __ATOMIC_RELEASE);
			}
		}
	}
	secs = (now_ms() - start) / 1e3;
	deadline = now_ms() + 120e3;
	done = 1;
	/* Until the watcher saw every sample acknowledged (not merely until the
	 * position passed the last: the watcher may not have looked yet).
	 */
	while (!__atomic_load_n(&watched, __ATOMIC_ACQUIRE) && now_ms() < deadline)
		usleep(10000);
	done = 2;
	pthread_join(t, NULL);
	lat = calloc(nsamples, sizeof(*lat));
	for (i = 0, n = 0; i < nsamples; i++)
		if (acked_at[i] > 0)
			lat[n++] = acked_at[i] - sent_at[i];
	qsort(lat, n, sizeof(*lat), cmp);
	printf("rate %.0f n %d acked %d p50_ms %.2f p99_ms %.2f max_ms %.2f\n", sent / secs,
	       nsamples, n, n ? lat[(n - 1) / 2] : -1.0, n ? lat[(int)(0.99 * (n - 1))] : -1.0,
	       n ? lat[n - 1] : -1.0);
	return n == nsamples ? 0 : 1;
}
