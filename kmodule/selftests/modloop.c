// SPDX-License-Identifier: GPL-2.0
/*
 * Loads and unloads a module count times in one process (finit_module and
 * delete_module), so a long load/unload run is not dominated by exec'ing
 * insmod and rmmod. Prints the number of full cycles; exit 0 if all ran.
 * With an upcall helper, each cycle turns upcalls on at their highest rate
 * (4 sensors at 100 Hz feed them) and unloads while they fire.
 * Usage: modloop <module.ko> <name> <count> [upcall helper]
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static int put(const char *name, const char *value)
{
	char path[128];
	int fd, ok;

	snprintf(path, sizeof(path), "/proc/sys/kingest/%s", name);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ok = write(fd, value, strlen(value)) == (ssize_t)strlen(value);
	close(fd);
	return ok ? 0 : -1;
}

static int upcalls_on(const char *helper)
{
	struct timespec ts = { 0, 20 * 1000 * 1000 };

	if (put("upcall_helper", helper) || put("upcall_rate", "1000") ||
	    put("rate_hz", "100") || put("upcall_enable", "1"))
		return -1;
	nanosleep(&ts, NULL);
	return 0;
}

int main(int argc, char **argv)
{
	int i, count, fd, done = 0;

	if (argc != 4 && argc != 5)
		return 2;
	count = atoi(argv[3]);
	fd = open(argv[1], O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		perror(argv[1]);
		return 1;
	}
	for (i = 0; i < count; i++) {
		if (syscall(SYS_finit_module, fd, "", 0)) {
			fprintf(stderr, "load %d: %s\n", i, strerror(errno));
			break;
		}
		if (argc == 5 && upcalls_on(argv[4])) {
			fprintf(stderr, "upcalls on %d: %s\n", i, strerror(errno));
			break;
		}
		if (syscall(SYS_delete_module, argv[2], O_NONBLOCK)) {
			fprintf(stderr, "unload %d: %s\n", i, strerror(errno));
			break;
		}
		done++;
	}
	printf("%d\n", done);
	return done == count ? 0 : 1;
}
