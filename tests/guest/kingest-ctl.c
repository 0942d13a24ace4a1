// SPDX-License-Identifier: GPL-2.0
/*
 * kingest-ctl: the guest scenario's injector, built at test time against
 * the uapi header, so the scenario does not depend on the daemon's C# ABI
 * mirror.
 *
 *   kingest-ctl inject <channel mask> <count> <tag> <gap ms>
 *       KINGEST_IOC_INJECT count events of type KINGEST_EV_INJECT; payload
 *       = u16 little-endian index (the signal channel carries these two
 *       bytes) + "<tag>-<index>". One line per event on stdout:
 *       "<index> <accepted mask> <payload hex>".
 *   kingest-ctl raw <channel mask> <type> <len>
 *       One event of any type with len bytes (byte i = i & 0xff): hostile
 *       or unknown input for the consumers. Prints the accepted mask.
 *   kingest-ctl stats
 *       KINGEST_IOC_GET_STATS as "<channel> <emitted> <dropped> <errors>".
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <linux/kingest.h>

static int open_device(void)
{
	int fd = open("/dev/kingest", O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		perror("open /dev/kingest");
		exit(1);
	}
	return fd;
}

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int inject(int argc, char **argv)
{
	unsigned char payload[128];
	struct kingest_inject req;
	unsigned int mask, count, gap, i, j;
	int fd, n, accepted;

	if (argc != 6)
		return 2;
	mask = (unsigned int)strtoul(argv[2], NULL, 0);
	count = (unsigned int)strtoul(argv[3], NULL, 0);
	gap = (unsigned int)strtoul(argv[5], NULL, 0);
	fd = open_device();
	for (i = 0; i < count; i++) {
		payload[0] = i & 0xff;
		payload[1] = (i >> 8) & 0xff;
		n = snprintf((char *)payload + 2, sizeof(payload) - 2, "%s-%u",
			     argv[4], i);
		if (n < 0 || (size_t)n >= sizeof(payload) - 2)
			return 2;
		memset(&req, 0, sizeof(req));
		req.channels = mask;
		req.type = KINGEST_EV_INJECT;
		req.len = (unsigned int)n + 2;
		req.data = (uintptr_t)payload;
		accepted = ioctl(fd, KINGEST_IOC_INJECT, &req);
		if (accepted < 0) {
			perror("KINGEST_IOC_INJECT");
			return 1;
		}
		printf("%u %d ", i, accepted);
		for (j = 0; j < req.len; j++)
			printf("%02x", payload[j]);
		printf("\n");
		fflush(stdout);
		if (gap)
			sleep_ms(gap);
	}
	close(fd);
	return 0;
}

static int raw(int argc, char **argv)
{
	static unsigned char payload[KINGEST_MAX_PAYLOAD];
	struct kingest_inject req;
	unsigned int i;
	int fd, accepted;

	if (argc != 5)
		return 2;
	memset(&req, 0, sizeof(req));
	req.channels = (unsigned int)strtoul(argv[2], NULL, 0);
	req.type = (unsigned short)strtoul(argv[3], NULL, 0);
	req.len = (unsigned int)strtoul(argv[4], NULL, 0);
	if (req.len > sizeof(payload))
		return 2;
	for (i = 0; i < req.len; i++)
		payload[i] = i & 0xff;
	req.data = (uintptr_t)payload;
	fd = open_device();
	accepted = ioctl(fd, KINGEST_IOC_INJECT, &req);
	if (accepted < 0) {
		perror("KINGEST_IOC_INJECT");
		return 1;
	}
	printf("%d\n", accepted);
	close(fd);
	return 0;
}

static int stats(void)
{
	struct kingest_stats st;
	unsigned int i;
	int fd = open_device();

	memset(&st, 0, sizeof(st));
	if (ioctl(fd, KINGEST_IOC_GET_STATS, &st) < 0) {
		perror("KINGEST_IOC_GET_STATS");
		return 1;
	}
	for (i = 0; i < st.channel_count && i < KINGEST_CH_SLOTS; i++)
		printf("%u %llu %llu %llu\n", i,
		       (unsigned long long)st.ch[i].emitted,
		       (unsigned long long)st.ch[i].dropped,
		       (unsigned long long)st.ch[i].errors);
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	int rc = 2;

	if (argc >= 2 && !strcmp(argv[1], "inject"))
		rc = inject(argc, argv);
	else if (argc >= 2 && !strcmp(argv[1], "raw"))
		rc = raw(argc, argv);
	else if (argc == 2 && !strcmp(argv[1], "stats"))
		rc = stats();
	if (rc == 2)
		fprintf(stderr,
			"usage: kingest-ctl inject <mask> <count> <tag> <gap ms> | raw <mask> <type> <len> | stats\n");
	return rc;
}
