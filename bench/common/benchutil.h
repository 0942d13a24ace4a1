/* SPDX-License-Identifier: MIT */
/*
 * What the C benchmark tools (udpgen, udpfloor) share: the stop flag and its
 * signal handlers, a monotonic clock, strict number and endpoint parsing, and
 * the mmsghdr/iovec arrays over one buffer of fixed-size slots.
 */
#ifndef INGEST_BENCH_UTIL_H
#define INGEST_BENCH_UTIL_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

/* User space: volatile sig_atomic_t is what C allows a signal handler to set. */
static volatile sig_atomic_t stop;

static void on_signal(int signo)
{
	(void)signo;
	stop = 1;
}

/* SIGINT and SIGTERM end the main loop; the tools then print their JSON line. */
static inline void install_stop_handlers(void)
{
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
}

static inline double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A whole-string number in [min, max]; -1 on anything else. */
static inline int parse_number(const char *text, double min, double max, double *value)
{
	char *end;

	errno = 0;
	*value = strtod(text, &end);
	return errno || *text == '\0' || *end != '\0' || *value < min || *value > max ? -1 : 0;
}

/*
 * "a.b.c.d:port" or "[v6addr]:port" into addr/len. min_port is 0 where "any
 * free port" makes sense (a bind), 1 where it does not (a target).
 */
static inline int parse_endpoint(const char *text, long min_port,
				 struct sockaddr_storage *addr, socklen_t *len)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *port_text;
	char *end;
	long port;
	size_t host_len;

	if (text[0] == '[') {
		const char *close = strstr(text, "]:");

		if (!close)
			return -1;
		host_len = (size_t)(close - text - 1);
		if (host_len >= sizeof(host))
			return -1;
		memcpy(host, text + 1, host_len);
		port_text = close + 2;
	} else {
		const char *colon = strchr(text, ':');

		if (!colon || strchr(colon + 1, ':'))
			return -1;
		host_len = (size_t)(colon - text);
		if (host_len >= sizeof(host))
			return -1;
		memcpy(host, text, host_len);
		port_text = colon + 1;
	}
	host[host_len] = '\0';

	errno = 0;
	port = strtol(port_text, &end, 10);
	if (errno || *port_text == '\0' || *end != '\0' || port < min_port || port > 65535)
		return -1;

	memset(addr, 0, sizeof(*addr));
	if (text[0] == '[') {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)addr;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1)
			return -1;
		*len = sizeof(*sin6);
	} else {
		struct sockaddr_in *sin = (struct sockaddr_in *)addr;

		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
			return -1;
		*len = sizeof(*sin);
	}
	return 0;
}

/* The port of a bound IPv4 or IPv6 socket address, host order. */
static inline int endpoint_port(const struct sockaddr_storage *addr)
{
	if (addr->ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)addr)->sin6_port);
	return ntohs(((const struct sockaddr_in *)addr)->sin_port);
}

/*
 * count mmsghdrs, each with one iovec over its own slot_bytes of one buffer.
 * Returns the buffer (free it and *msgs, *iov), or NULL with nothing allocated.
 */
static inline unsigned char *alloc_slots(size_t count, size_t slot_bytes,
					 struct mmsghdr **msgs, struct iovec **iov)
{
	unsigned char *slots = calloc(count, slot_bytes);
	size_t i;

	*msgs = calloc(count, sizeof(**msgs));
	*iov = calloc(count, sizeof(**iov));
	if (!slots || !*msgs || !*iov) {
		free(slots);
		free(*msgs);
		free(*iov);
		return NULL;
	}
	for (i = 0; i < count; i++) {
		(*iov)[i].iov_base = slots + i * slot_bytes;
		(*iov)[i].iov_len = slot_bytes;
		(*msgs)[i].msg_hdr.msg_iov = &(*iov)[i];
		(*msgs)[i].msg_hdr.msg_iovlen = 1;
	}
	return slots;
}

#endif /* INGEST_BENCH_UTIL_H */
