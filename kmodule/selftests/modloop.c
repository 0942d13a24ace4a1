// SPDX-License-Identifier: GPL-2.0
/*
 * Loads and unloads a module count times in one process (finit_module and
 * delete_module), so a long load/unload run is not dominated by exec'ing
 * insmod and rmmod. Prints the number of full cycles; exit 0 if all ran.
 * Usage: modloop <module.ko> <name> <count>
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int i, count, fd, done = 0;

	if (argc != 4)
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
		if (syscall(SYS_delete_module, argv[2], O_NONBLOCK)) {
			fprintf(stderr, "unload %d: %s\n", i, strerror(errno));
			break;
		}
		done++;
	}
	printf("%d\n", done);
	return done == count ? 0 : 1;
}
