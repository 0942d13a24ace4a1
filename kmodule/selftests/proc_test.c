// SPDX-License-Identifier: GPL-2.0
/* /proc/kingest/{stats,sensors}: content, reads of any size, gating. */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "kt.h"

#define STATS "/proc/" KINGEST_PROC_DIR "/" KINGEST_PROC_STATS
#define SENSORS "/proc/" KINGEST_PROC_DIR "/" KINGEST_PROC_SENSORS

/* Reads the whole file with read()s of chunk bytes. */
static int slurp(const char *path, char *buf, size_t len, size_t chunk)
{
	size_t off = 0;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	while (off < len - 1) {
		size_t want = chunk < len - 1 - off ? chunk : len - 1 - off;

		n = read(fd, buf + off, want);
		if (n <= 0)
			break;
		off += n;
	}
	close(fd);
	buf[off] = '\0';
	return (int)off;
}

static int lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static void test_stats(int fd)
{
	static const char *const names[] = { "ring", "genl", "signal", "upcall", "udp", "proc" };
	struct kingest_stats st;
	char whole[4096], bytewise[4096], *line, *save = NULL;
	int ch = 0, bad = 0;

	kt_stats(fd, &st);
	kt_ok(slurp(STATS, whole, sizeof(whole), 65536) > 0, "stats: readable");
	kt_ok(slurp(STATS, bytewise, sizeof(bytewise), 1) > 0 && !strcmp(whole, bytewise),
	      "stats: one-byte reads give the same text");
	kt_ok(slurp(STATS, bytewise, sizeof(bytewise), 7) > 0 && !strcmp(whole, bytewise),
	      "stats: seven-byte reads give the same text");
	kt_ok(lines(whole) == KINGEST_CH_COUNT, "stats: one line per channel");
	for (line = strtok_r(whole, "\n", &save); line; line = strtok_r(NULL, "\n", &save), ch++) {
		char name[16];
		unsigned long long e, d, r;

		if (sscanf(line, "%15s emitted %llu dropped %llu errors %llu", name, &e, &d, &r) != 4 ||
		    ch >= KINGEST_CH_COUNT || strcmp(name, names[ch]) ||
		    (ch != KINGEST_CH_PROC && (e != st.ch[ch].emitted || d != st.ch[ch].dropped ||
					       r != st.ch[ch].errors)))
			bad++;
	}
	kt_ok(bad == 0, "stats: names in channel order, counters equal GET_STATS");
}

static void test_sensors(int fd)
{
	struct kingest_threshold t = { .sensor_id = 2, .threshold_mc = -30000 };
	char whole[65536], chunked[65536];
	struct kingest_stats a, b;
	int id, n, bad = 0;
	char *p;

	kt_sysctl_set(KINGEST_SYSCTL_SENSOR_COUNT, 64);
	kt_sysctl_set(KINGEST_SYSCTL_RATE_HZ, 100);
	kt_ok(ioctl(fd, KINGEST_IOC_SET_THRESHOLD, &t) == 0, "SET_THRESHOLD sensor 2");
	kt_sysctl_set(KINGEST_SYSCTL_SENSORS_ENABLE, 1);
	/* Until every sensor has been read once (the last line has a time). */
	for (id = 0; id < 1000; id++) {
		unsigned long long ts = 0;

		n = slurp(SENSORS, whole, sizeof(whole), 65536);
		p = n > 0 ? strrchr(whole, '\n') : NULL;
		if (p) {
			*p = '\0';
			p = strrchr(whole, '\n');
			sscanf(p ? p + 1 : whole, "%*d %*d %*d %llu", &ts);
		}
		if (ts)
			break;
		kt_sleep_ms(10);
	}
	kt_sysctl_set(KINGEST_SYSCTL_SENSORS_ENABLE, 0);
	kt_sleep_ms(50);

	kt_stats(fd, &a);
	n = slurp(SENSORS, whole, sizeof(whole), 65536);
	kt_stats(fd, &b);
	kt_ok(n > 0 && lines(whole) == 64, "sensors: 64 lines for sensor_count=64");
	kt_ok(b.ch[KINGEST_CH_PROC].emitted - a.ch[KINGEST_CH_PROC].emitted == 64,
	      "stats: proc counts the lines shown");
	kt_ok(slurp(SENSORS, chunked, sizeof(chunked), 13) == n && !strcmp(whole, chunked),
	      "sensors: 13-byte reads give the same text");
	for (p = whole, id = 0; *p; id++) {
		int sid, mc, th, alarm;
		unsigned long long ts;

		if (sscanf(p, "%d %d %d %llu %d", &sid, &mc, &th, &ts, &alarm) != 5 || sid != id ||
		    ts == 0 || abs(mc - (-18000 + id * 250)) > 1800 ||
		    th != (id == 2 ? -30000 : -15000) || alarm != (mc > th))
			bad++;
		p = strchr(p, '\n');
		if (!p)
			break;
		p++;
	}
	kt_ok(bad == 0, "sensors: id, plausible reading, threshold, timestamp, alarm");

	kt_sysctl_set(KINGEST_SYSCTL_SENSOR_COUNT, 3);
	kt_ok(slurp(SENSORS, whole, sizeof(whole), 4096) > 0 && lines(whole) == 3,
	      "sensors: sensor_count=3 shows 3 lines");
	kt_sysctl_set(KINGEST_SYSCTL_PROC_ENABLE, 0);
	kt_ok(slurp(SENSORS, whole, sizeof(whole), 4096) == 0, "proc_enable=0: sensors reads empty");
	kt_sysctl_set(KINGEST_SYSCTL_PROC_ENABLE, 1);
	t.threshold_mc = -15000;
	ioctl(fd, KINGEST_IOC_SET_THRESHOLD, &t);
	kt_sysctl_set(KINGEST_SYSCTL_SENSOR_COUNT, 4);
	kt_sysctl_set(KINGEST_SYSCTL_RATE_HZ, 10);
}

int main(void)
{
	int fd = kt_open();

	kt_plan(12);
	kt_quiet(0);
	test_stats(fd);
	test_sensors(fd);
	close(fd);
	return kt_done();
}
