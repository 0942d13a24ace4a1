// SPDX-License-Identifier: MIT
/*
 * udpfloor: the floor for the Ingest UDP benchmarks, a bare recvmmsg loop
 * that only counts datagrams.
 *
 *   udpfloor --bind IP:PORT [--batch 64] [--rcvbuf 8388608] [--count N]
 *            [--idle-ms 0]
 *
 * Binds --bind (port 0: any free port), sets the receive buffer like
 * `ingest run` does (SO_RCVBUFFORCE, else SO_RCVBUF) and asks for the
 * socket's drop count (SO_RXQ_OVFL), then prints "ready port=P" on stdout
 * and reads with recvmmsg(MSG_WAITFORONE) in batches of --batch, touching
 * nothing but the counts. It stops on SIGINT/SIGTERM, once --count datagrams
 * are accounted for (received + dropped), or --idle-ms after the last
 * datagram when --idle-ms > 0. At exit it prints one JSON line:
 *
 *   {"received":N,"kernel_dropped":D,"batches":B,"seconds":S,
 *    "cpu_us":C,"ns_per_datagram":X}
 *
 * "seconds" runs from the first datagram to the last; "cpu_us" is this
 * process's user + system time (getrusage), the same clock as
 * /proc/PID/stat's utime + stime.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <linux/sock_diag.h>
#include <time.h>
#include <unistd.h>

#include "../common/benchutil.h"

#define MAX_BATCH 1024
#define SLOT_BYTES 65536
/* Room for the drop count's cmsg (a u32), 8-byte aligned. */
#define CONTROL_BYTES 64

static uint64_t cpu_microseconds(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000u +
	       (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

/* The socket's cumulative drop count, when the datagram carries it. */
static int read_drop_count(struct msghdr *hdr, uint32_t *drops)
{
	struct cmsghdr *cmsg;

	for (cmsg = CMSG_FIRSTHDR(hdr); cmsg; cmsg = CMSG_NXTHDR(hdr, cmsg)) {
		if (cmsg->cmsg_level == SOL_SOCKET && cmsg->cmsg_type == SO_RXQ_OVFL) {
			memcpy(drops, CMSG_DATA(cmsg), sizeof(*drops));
			return 1;
		}
	}
	return 0;
}

/* The socket's cumulative drop count from SO_MEMINFO, or the last one seen. */
static uint32_t socket_drops(int fd, uint32_t seen)
{
	uint32_t info[SK_MEMINFO_VARS];
	socklen_t len = sizeof(info);

	if (getsockopt(fd, SOL_SOCKET, SO_MEMINFO, info, &len) < 0 ||
	    len <= SK_MEMINFO_DROPS * sizeof(uint32_t))
		return seen;
	return info[SK_MEMINFO_DROPS];
}

static void print_usage(FILE *out)
{
	fprintf(out,
		"usage: udpfloor --bind IP:PORT [--batch N(64)] [--rcvbuf BYTES(8388608)]\n"
		"                [--count N(0=unlimited)] [--idle-ms MS(0=never)]\n");
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "bind", required_argument, NULL, 'l' },
		{ "batch", required_argument, NULL, 'b' },
		{ "rcvbuf", required_argument, NULL, 'r' },
		{ "count", required_argument, NULL, 'n' },
		{ "idle-ms", required_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *bind_text = NULL;
	double batch = 64, rcvbuf = 8388608, count = 0, idle_ms = 0;
	struct sockaddr_storage addr;
	socklen_t addr_len;
	struct timeval poll_interval = { .tv_sec = 0, .tv_usec = 100000 };
	struct mmsghdr *msgs;
	struct iovec *iov;
	unsigned char *slots, *control;
	uint64_t received = 0, batches = 0, limit, cpu_before, cpu;
	uint32_t drops = 0, drop_seen;
	double first = 0, last = 0;
	int fd, opt, i, size, one = 1, bad = 0;

	while ((opt = getopt_long(argc, argv, "l:b:r:n:i:h", options, NULL)) != -1) {
		switch (opt) {
		case 'l':
			bind_text = optarg;
			break;
		case 'b':
			bad |= parse_number(optarg, 1, MAX_BATCH, &batch);
			break;
		case 'r':
			bad |= parse_number(optarg, 0, 1 << 30, &rcvbuf);
			break;
		case 'n':
			bad |= parse_number(optarg, 0, 1e18, &count);
			break;
		case 'i':
			bad |= parse_number(optarg, 0, 1e9, &idle_ms);
			break;
		case 'h':
			print_usage(stdout);
			return 0;
		default:
			bad = 1;
		}
	}
	if (bad || !bind_text || optind != argc) {
		print_usage(stderr);
		return 2;
	}
	if (parse_endpoint(bind_text, 0, &addr, &addr_len) < 0) {
		fprintf(stderr, "udpfloor: bad --bind '%s': %s\n", bind_text,
			"expected ip:port (IPv6 as [addr]:port)");
		return 2;
	}

	fd = socket(addr.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&addr, addr_len) < 0 ||
	    getsockname(fd, (struct sockaddr *)&addr, &addr_len) < 0) {
		perror("udpfloor: socket/bind");
		return 1;
	}
	size = (int)rcvbuf;
	if (size > 0 && setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof(one));
	/* Like ingest's stop-check interval: wake to look at the stop conditions. */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &poll_interval, sizeof(poll_interval));

	slots = alloc_slots((size_t)batch, SLOT_BYTES, &msgs, &iov);
	control = calloc((size_t)batch, CONTROL_BYTES);
	if (!slots || !control) {
		perror("udpfloor: alloc");
		return 1;
	}

	install_stop_handlers();
	printf("ready port=%d\n", endpoint_port(&addr));
	fflush(stdout);

	limit = (uint64_t)count;
	cpu_before = cpu_microseconds();
	while (!stop) {
		int n;

		for (i = 0; i < (int)batch; i++) {
			msgs[i].msg_hdr.msg_control = control + (size_t)i * CONTROL_BYTES;
			msgs[i].msg_hdr.msg_controllen = CONTROL_BYTES;
		}
		n = recvmmsg(fd, msgs, (unsigned int)batch, MSG_WAITFORONE, NULL);
		if (n > 0) {
			last = now_seconds();
			if (received == 0)
				first = last;
			received += (uint64_t)n;
			batches++;
			for (i = 0; i < n; i++)
				if (read_drop_count(&msgs[i].msg_hdr, &drop_seen) &&
				    (int32_t)(drop_seen - drops) > 0)
					drops = drop_seen;
		} else if (n < 0 && errno != EAGAIN && errno != EINTR) {
			perror("udpfloor: recvmmsg");
			return 1;
		} else {
			drops = socket_drops(fd, drops);
		}
		if (limit > 0 && received + drops >= limit)
			break;
		if (idle_ms > 0 && received > 0 && now_seconds() - last >= idle_ms / 1000)
			break;
	}

	/* A drop at the end of a burst rides on no datagram: read the socket's total. */
	drops = socket_drops(fd, drops);
	cpu = cpu_microseconds() - cpu_before;
	printf("{\"received\":%llu,\"kernel_dropped\":%u,\"batches\":%llu,\"seconds\":%.6f,",
	       (unsigned long long)received, drops, (unsigned long long)batches, last - first);
	printf("\"cpu_us\":%llu,\"ns_per_datagram\":%.1f}\n",
	       (unsigned long long)cpu, received ? (double)cpu * 1000 / (double)received : 0.0);
	fflush(stdout);
	free(control);
	free(slots);
	free(iov);
	free(msgs);
	close(fd);
	return 0;
}
