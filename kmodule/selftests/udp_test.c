// SPDX-License-Identifier: GPL-2.0
/* UDP channel: datagram format, content, order, counters, sysctl checks. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "kt.h"

#define PORT 5599

static int listen_udp(uint16_t port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int size = 4 << 20;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size));
	if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)))
		kt_bail("bind udp %u", port);
	return fd;
}

static ssize_t recv_timeout(int fd, void *buf, size_t len, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	if (poll(&p, 1, ms) <= 0)
		return 0;
	return recv(fd, buf, len, 0);
}

static void test_datagrams(int kfd, int us)
{
	enum { N = 200 };
	static uint8_t buf[KINGEST_RECORD_MAX + 16];
	static uint8_t payload[KINGEST_MAX_PAYLOAD];
	const struct kingest_record *rec = (const void *)buf;
	struct kingest_stats a, b;
	uint64_t first = 0, t0 = kt_now_ns();
	int i, got = 0, bad = 0, accepted = 0;

	kt_stats(kfd, &a);
	for (i = 0; i < N; i++) {
		/* Every 50th is a maximal payload. */
		uint32_t len = i % 50 == 49 ? KINGEST_MAX_PAYLOAD : (uint32_t)(i * 5) % 700, j;

		for (j = 0; j < len; j++)
			payload[j] = (uint8_t)(i ^ j);
		accepted += kt_inject(kfd, KINGEST_CHF_UDP, 3000 + i, payload, len) ==
			    KINGEST_CHF_UDP;
	}
	kt_ok(accepted == N, "inject: %d of %d queued for UDP", accepted, N);
	for (i = 0; i < N; i++) {
		uint32_t want = i % 50 == 49 ? KINGEST_MAX_PAYLOAD : (uint32_t)(i * 5) % 700, j;
		ssize_t n = recv_timeout(us, buf, sizeof(buf), 3000);

		if (n <= 0)
			break;
		got++;
		if (!i)
			first = rec->seq;
		if ((size_t)n != KINGEST_RECORD_HDR_SIZE + want || rec->len != n ||
		    rec->type != 3000 + i || rec->channel != KINGEST_CH_UDP ||
		    rec->seq != first + i || rec->ts_ns < t0 || rec->flags) {
			bad++;
			continue;
		}
		for (j = 0; j < want; j++)
			if (rec->data[j] != (uint8_t)(i ^ j)) {
				bad++;
				break;
			}
	}
	kt_ok(got == N, "received %d of %d datagrams", got, N);
	kt_ok(bad == 0, "datagram = record header + payload, in seq order (%d bad)", bad);
	kt_sleep_ms(50);
	kt_stats(kfd, &b);
	kt_ok(b.ch[KINGEST_CH_UDP].emitted - a.ch[KINGEST_CH_UDP].emitted == N &&
	      b.ch[KINGEST_CH_UDP].dropped == a.ch[KINGEST_CH_UDP].dropped,
	      "stats: UDP emitted +%d", N);
}

static void test_queue_overflow(int kfd, int us)
{
	static uint8_t buf[KINGEST_RECORD_MAX + 16];
	struct kingest_stats a, b;
	uint8_t p[8] = { 0 };
	int i, accepted = 0, total = 3 * KINGEST_UDP_QUEUE_MAX, got = 0;

	kt_stats(kfd, &a);
	for (i = 0; i < total; i++)
		accepted += kt_inject(kfd, KINGEST_CHF_UDP, KINGEST_EV_INJECT, p, 8) != 0;
	while (recv_timeout(us, buf, sizeof(buf), 1000) > 0)
		got++;
	kt_stats(kfd, &b);
	kt_ok((b.ch[KINGEST_CH_UDP].emitted - a.ch[KINGEST_CH_UDP].emitted) +
	      (b.ch[KINGEST_CH_UDP].dropped - a.ch[KINGEST_CH_UDP].dropped) == (uint64_t)total,
	      "burst of %d: emitted + dropped == offered (%d queued, %d received)",
	      total, accepted, got);
	kt_ok(b.ch[KINGEST_CH_UDP].dropped - a.ch[KINGEST_CH_UDP].dropped ==
	      (uint64_t)(total - accepted), "burst: every refused event counted as dropped");
}

static void test_sysctl(int kfd)
{
	char v[64];
	int us;
	uint8_t p = 9;
	static uint8_t buf[256];

	kt_ok(kt_sysctl_write(KINGEST_SYSCTL_UDP_ADDR, "300.1.1.1") == -EINVAL,
	      "udp_addr=300.1.1.1 -> EINVAL");
	kt_ok(kt_sysctl_write(KINGEST_SYSCTL_UDP_ADDR, "localhost") == -EINVAL,
	      "udp_addr=localhost -> EINVAL");
	kt_ok(kt_sysctl_write(KINGEST_SYSCTL_UDP_ADDR, "127.0.0.1.5") == -EINVAL,
	      "udp_addr with trailing junk -> EINVAL");
	kt_ok(kt_sysctl_write(KINGEST_SYSCTL_UDP_ADDR,
			      "127.000000000000000000000000000.0.1") == -EINVAL,
	      "udp_addr overlong -> EINVAL");
	kt_ok(kt_sysctl_write(KINGEST_SYSCTL_UDP_ADDR, "") == -EINVAL, "udp_addr empty -> EINVAL");
	kt_ok(kt_sysctl_read(KINGEST_SYSCTL_UDP_ADDR, v, sizeof(v)) == 0 &&
	      !strcmp(v, "127.0.0.1"), "udp_addr unchanged after bad writes (%s)", v);
	kt_ok(kt_sysctl_write(KINGEST_SYSCTL_UDP_PORT, "0") == -EINVAL, "udp_port=0 -> EINVAL");
	kt_ok(kt_sysctl_write(KINGEST_SYSCTL_UDP_PORT, "65536") == -EINVAL,
	      "udp_port=65536 -> EINVAL");
	kt_ok(kt_sysctl_write(KINGEST_SYSCTL_UDP_PORT, "12x") == -EINVAL,
	      "udp_port=12x -> EINVAL");
	kt_ok(kt_sysctl_get(KINGEST_SYSCTL_UDP_PORT) == PORT, "udp_port unchanged");

	/* A new destination takes effect for the next datagram. */
	us = listen_udp(PORT + 1);
	kt_ok(kt_sysctl_write(KINGEST_SYSCTL_UDP_ADDR, "127.0.0.2") == 0 &&
	      kt_sysctl_write(KINGEST_SYSCTL_UDP_ADDR, "127.0.0.1\n") == 0,
	      "udp_addr accepts a valid address, with or without newline");
	kt_sysctl_set(KINGEST_SYSCTL_UDP_PORT, PORT + 1);
	kt_inject(kfd, KINGEST_CHF_UDP, KINGEST_EV_INJECT, &p, 1);
	kt_ok(recv_timeout(us, buf, sizeof(buf), 3000) == KINGEST_RECORD_HDR_SIZE + 1,
	      "udp_port change redirects the next datagram");
	close(us);
}

int main(void)
{
	int kfd = kt_open(), us;

	kt_plan(18);
	kt_quiet(KINGEST_CHF_UDP);
	kt_sysctl_write(KINGEST_SYSCTL_UDP_ADDR, "127.0.0.1");
	kt_sysctl_set(KINGEST_SYSCTL_UDP_PORT, PORT);
	us = listen_udp(PORT);
	test_datagrams(kfd, us);
	test_queue_overflow(kfd, us);
	test_sysctl(kfd);
	close(us);
	kt_sysctl_set(KINGEST_SYSCTL_UDP_PORT, 5555);
	close(kfd);
	return kt_done();
}
