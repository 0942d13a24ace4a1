// SPDX-License-Identifier: GPL-2.0
/*
 * Keeps every consumer of the module busy until killed: with "dev" it
 * holds /dev/kingest open with the ring mapped, a signal subscription and
 * KINGEST_IOC_WAIT in a loop; with "wait" it only sleeps in
 * KINGEST_IOC_WAIT_READ on an empty ring, a minute at a time; otherwise it
 * listens on the genl group and reads the /proc files. Used by
 * unload_test.sh. Prints "ready" once set up.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "kt.h"
#include "kt_nl.h"

static void read_file(const char *path)
{
	char buf[4096];
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return;
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	close(fd);
}

int main(int argc, char **argv)
{
	bool dev = argc > 1 && !strcmp(argv[1], "dev");
	struct kingest_signal_sub sub = { .signo = SIGRTMIN + 6 };
	struct kingest_wait w = { .timeout_ms = 20 };
	static char buf[BUF_SIZE];
	struct timespec zero = { 0, 0 };
	struct kt_ring r;
	siginfo_t si;
	sigset_t set;
	int fd = -1, nl;

	if (argc > 1 && !strcmp(argv[1], "wait")) {
		struct kingest_wait_read wr = { .timeout_ms = KINGEST_WAIT_MAX_MS };

		fd = kt_open();
		if (kt_ring_map(&r, fd))
			kt_bail("map");
		printf("ready\n");
		fflush(stdout);
		for (;;) {
			kt_ring_drain(&r);
			wr.read_pos = r.pos;
			if (ioctl(fd, KINGEST_IOC_WAIT_READ, &wr) && errno != EINTR)
				kt_bail("WAIT_READ");
		}
	}
	sigemptyset(&set);
	sigaddset(&set, sub.signo);
	sigprocmask(SIG_BLOCK, &set, NULL);
	nl = nl_open();
	if (nl_join_events(nl))
		kt_bail("join genl events");
	if (dev) {
		fd = kt_open();
		if (kt_ring_map(&r, fd) || ioctl(fd, KINGEST_IOC_SUBSCRIBE_SIGNAL, &sub))
			kt_bail("map and subscribe");
	}
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		if (dev) {
			ioctl(fd, KINGEST_IOC_WAIT, &w);
			kt_ring_drain(&r);
			while (sigtimedwait(&set, &si, &zero) > 0)
				;
		}
		while (nl_recv(nl, buf, 0) > 0)
			;
		read_file("/proc/kingest/stats");
		read_file("/proc/kingest/sensors");
		read_file("/proc/sys/kingest/rate_hz");
		if (!dev)
			kt_sleep_ms(5);
	}
}
