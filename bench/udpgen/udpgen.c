// SPDX-License-Identifier: MIT
/*
 * udpgen: a sendmmsg UDP load generator for the Ingest benchmarks.
 *
 *   udpgen --target IP:PORT [--size 100] [--rate 0] [--duration 5 | --count N]
 *          [--batch 64]
 *
 * Sends datagrams of --size bytes to --target (IPv4 "a.b.c.d:port" or IPv6
 * "[addr]:port") in sendmmsg batches of --batch, at --rate datagrams a second
 * (0: as fast as the socket takes them), for --duration seconds or --count
 * datagrams (both 0: until SIGINT/SIGTERM). The first 8 bytes of each
 * datagram are its sequence number (little endian), so a receiver can tell
 * loss from reordering. At exit it prints one JSON line on stdout:
 *
 *   {"target":"127.0.0.1:5555","size":100,"batch":64,"sent":N,"errors":E,
 *    "seconds":S,"rate":R}
 *
 * "sent" counts datagrams the kernel accepted; on loopback a datagram the
 * receiver's queue had no room for is still "sent" (the receiver counts it
 * as a kernel drop).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../common/benchutil.h"

#define MAX_PAYLOAD 65507
#define MAX_BATCH 1024

static void sleep_until(double when)
{
	struct timespec ts;

	ts.tv_sec = (time_t)when;
	ts.tv_nsec = (long)((when - (double)ts.tv_sec) * 1e9);
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR && !stop)
		;
}

static void print_usage(FILE *out)
{
	fprintf(out,
		"usage: udpgen --target IP:PORT [--size BYTES(100)] [--rate PER_SECOND(0=max)]\n"
		"              [--duration SECONDS(5) | --count N] [--batch N(64)]\n"
		"  --count and --duration both 0: send until SIGINT/SIGTERM\n");
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "target", required_argument, NULL, 't' },
		{ "size", required_argument, NULL, 's' },
		{ "rate", required_argument, NULL, 'r' },
		{ "duration", required_argument, NULL, 'd' },
		{ "count", required_argument, NULL, 'n' },
		{ "batch", required_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *target = NULL;
	double size = 100, rate = 0, duration = 5, count = 0, batch = 64;
	struct sockaddr_storage addr;
	socklen_t addr_len;
	struct mmsghdr *msgs;
	struct iovec *iov;
	unsigned char *payloads;
	uint64_t sent = 0, errors = 0, limit;
	double start, elapsed, deadline;
	int fd, opt, i, bad = 0;

	while ((opt = getopt_long(argc, argv, "t:s:r:d:n:b:h", options, NULL)) != -1) {
		switch (opt) {
		case 't':
			target = optarg;
			break;
		case 's':
			bad |= parse_number(optarg, 0, MAX_PAYLOAD, &size);
			break;
		case 'r':
			bad |= parse_number(optarg, 0, 1e12, &rate);
			break;
		case 'd':
			bad |= parse_number(optarg, 0, 1e9, &duration);
			break;
		case 'n':
			bad |= parse_number(optarg, 0, 1e18, &count);
			duration = 0;
			break;
		case 'b':
			bad |= parse_number(optarg, 1, MAX_BATCH, &batch);
			break;
		case 'h':
			print_usage(stdout);
			return 0;
		default:
			bad = 1;
		}
	}
	if (bad || !target || optind != argc) {
		print_usage(stderr);
		return 2;
	}
	if (parse_endpoint(target, 1, &addr, &addr_len) < 0) {
		fprintf(stderr, "udpgen: bad target '%s': %s\n", target,
			"expected ip:port (IPv6 as [addr]:port)");
		return 2;
	}

	fd = socket(addr.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, addr_len) < 0) {
		perror("udpgen: socket/connect");
		return 1;
	}

	/* One spare byte a slot keeps --size 0 a valid allocation. */
	payloads = alloc_slots((size_t)batch, (size_t)size + 1, &msgs, &iov);
	if (!payloads) {
		perror("udpgen: calloc");
		return 1;
	}
	memset(payloads, 'u', (size_t)batch * ((size_t)size + 1));
	for (i = 0; i < (int)batch; i++)
		iov[i].iov_len = (size_t)size;

	install_stop_handlers();
	signal(SIGPIPE, SIG_IGN);

	limit = (uint64_t)count;
	start = now_seconds();
	deadline = duration > 0 ? start + duration : 0;
	while (!stop) {
		uint64_t want = (uint64_t)batch;
		double now = now_seconds();
		int n;

		if (deadline > 0 && now >= deadline)
			break;
		if (limit > 0) {
			if (sent >= limit)
				break;
			if (limit - sent < want)
				want = limit - sent;
		}
		if (rate > 0) {
			/* Send what is due by now; when nothing is, sleep until the next one is. */
			uint64_t due = (uint64_t)((now - start) * rate) + 1;

			if (due <= sent) {
				sleep_until(start + (double)sent / rate);
				continue;
			}
			if (due - sent < want)
				want = due - sent;
		}

		for (i = 0; i < (int)want; i++) {
			uint64_t seq = sent + (uint64_t)i;

			memcpy(iov[i].iov_base, &seq, size < 8 ? (size_t)size : 8);
		}

		n = sendmmsg(fd, msgs, (unsigned int)want, 0);
		if (n < 0) {
			/*
			 * ECONNREFUSED: an ICMP error for an earlier datagram.
			 * ENOBUFS/EAGAIN: the device queue is full, back off.
			 */
			if (errno != EINTR)
				errors++;
			if (errno == ENOBUFS || errno == EAGAIN)
				sched_yield();
			continue;
		}
		sent += (uint64_t)n;
	}
	elapsed = now_seconds() - start;

	printf("{\"target\":\"%s\",\"size\":%d,\"batch\":%d,", target, (int)size, (int)batch);
	printf("\"sent\":%llu,\"errors\":%llu,\"seconds\":%.6f,\"rate\":%.1f}\n",
	       (unsigned long long)sent, (unsigned long long)errors, elapsed,
	       elapsed > 0 ? (double)sent / elapsed : 0.0);
	fflush(stdout);
	free(payloads);
	free(iov);
	free(msgs);
	close(fd);
	return 0;
}
