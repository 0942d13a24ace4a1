// SPDX-License-Identifier: GPL-2.0
/*
 * ingest-upcall: the helper the kernel spawns (sysctl kingest.upcall_helper).
 *
 * It forwards its argv and envp to the Ingest daemon as one SOCK_SEQPACKET
 * message and exits; it never waits for an answer. Spawn-to-exit time is
 * what matters, so it only uses system calls and string functions: no stdio,
 * no allocation, nothing written to a terminal the kernel does not give it.
 *
 * Wire format (host byte order):
 *   u32 magic "IUP1" (0x31505549), u32 argc, u32 envc,
 *   then argc + envc strings, each NUL-terminated, argv first.
 * The message is exactly that long.
 *
 * Socket: $INGEST_UPCALL_SOCKET if set, else INGEST_UPCALL_DEFAULT_SOCKET.
 *
 * Exit status:
 *   0  the message was handed to the daemon's socket
 *   1  any other failure (bad socket path, socket(), send())
 *   2  the daemon is not running (no socket file, or nobody listening)
 *   3  timed out (the daemon's accept backlog stayed full)
 *   4  argv and envp do not fit in one message
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#ifndef INGEST_UPCALL_DEFAULT_SOCKET
#define INGEST_UPCALL_DEFAULT_SOCKET "/run/ingest/upcall.sock"
#endif
#ifndef INGEST_UPCALL_TIMEOUT_MS
#define INGEST_UPCALL_TIMEOUT_MS 500
#endif

#define UPCALL_MAGIC	0x31505549u
#define UPCALL_MAX	65536	/* the daemon's default limit */

enum {
	EXIT_SENT = 0,
	EXIT_ERROR = 1,
	EXIT_NO_DAEMON = 2,
	EXIT_TIMEOUT = 3,
	EXIT_TOO_LARGE = 4,
};

static unsigned char message[UPCALL_MAX];

static int append(size_t *len, const char *s)
{
	size_t n = strlen(s) + 1;

	if (n > sizeof(message) - *len)
		return -1;
	memcpy(message + *len, s, n);
	*len += n;
	return 0;
}

static int build(int argc, char **argv, char **envp, size_t *len)
{
	uint32_t header[3] = { UPCALL_MAGIC, (uint32_t)argc, 0 };
	int i;

	while (envp[header[2]])
		header[2]++;
	memcpy(message, header, sizeof(header));
	*len = sizeof(header);
	for (i = 0; i < argc; i++)
		if (append(len, argv[i]))
			return -1;
	for (i = 0; envp[i]; i++)
		if (append(len, envp[i]))
			return -1;
	return 0;
}

int main(int argc, char **argv, char **envp)
{
	const char *path = getenv("INGEST_UPCALL_SOCKET");
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct timeval timeout = {
		.tv_sec = INGEST_UPCALL_TIMEOUT_MS / 1000,
		.tv_usec = (INGEST_UPCALL_TIMEOUT_MS % 1000) * 1000,
	};
	size_t len;
	int fd;

	if (!path || !*path)
		path = INGEST_UPCALL_DEFAULT_SOCKET;
	if (strlen(path) >= sizeof(addr.sun_path))
		return EXIT_ERROR;
	strcpy(addr.sun_path, path);

	if (build(argc, argv, envp, &len))
		return EXIT_TOO_LARGE;

	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return EXIT_ERROR;
	/* Bounds both a connect() that waits for backlog room and the send. */
	if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout)))
		return EXIT_ERROR;
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr))) {
		if (errno == ENOENT || errno == ECONNREFUSED)
			return EXIT_NO_DAEMON;
		if (errno == EAGAIN || errno == ETIMEDOUT)
			return EXIT_TIMEOUT;
		return EXIT_ERROR;
	}
	if (send(fd, message, len, MSG_NOSIGNAL) != (ssize_t)len)
		return errno == EAGAIN ? EXIT_TIMEOUT : EXIT_ERROR;
	return EXIT_SENT;
}
