// SPDX-License-Identifier: GPL-2.0
/* Every ioctl command, hostile arguments, and the integer sysctl ranges. */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kt.h"

#define BAD_PTR ((void *)16)

static void test_info(int fd)
{
	struct kingest_info info;

	kt_ok(ioctl(fd, KINGEST_IOC_GET_INFO, &info) == 0 &&
	      info.abi_version == KINGEST_ABI_VERSION &&
	      info.page_size == (uint32_t)sysconf(_SC_PAGESIZE) &&
	      info.channel_count == KINGEST_CH_COUNT &&
	      info.max_sensors == KINGEST_MAX_SENSORS &&
	      info.max_payload == KINGEST_MAX_PAYLOAD && info.ring_data_size >= 65536,
	      "GET_INFO: version, page size, channels, limits");
	KT_ERRNO(ioctl(fd, KINGEST_IOC_GET_INFO, BAD_PTR), EFAULT, "GET_INFO: bad pointer -> EFAULT");
}

static void test_unknown(int fd)
{
	KT_ERRNO(ioctl(fd, _IO(KINGEST_IOC_MAGIC, 0x7f)), ENOTTY, "unknown command -> ENOTTY");
	KT_ERRNO(ioctl(fd, _IOW(KINGEST_IOC_MAGIC, 0x0a, int), 0), ENOTTY,
		 "next unused command number -> ENOTTY");
	KT_ERRNO(ioctl(fd, _IOW('T', 0x00, int), 0), ENOTTY, "foreign magic -> ENOTTY");
	KT_ERRNO(ioctl(fd, _IOR(KINGEST_IOC_MAGIC, 0x07, struct kingest_info), 0), EINVAL,
		 "GET_STATS number with a smaller size -> EINVAL");
	KT_ERRNO(ioctl(fd, _IOW(KINGEST_IOC_MAGIC, 0x08, struct kingest_stats), 0), EINVAL,
		 "INJECT number with a larger size -> EINVAL");
	KT_ERRNO(ioctl(fd, KINGEST_IOC_INJECT & ~(3U << 30), 0), EINVAL,
		 "INJECT number without direction bits -> EINVAL");
	KT_ERRNO(ioctl(fd, _IOW(KINGEST_IOC_MAGIC, 0x04, uint64_t), 0), EINVAL,
		 "SET_RATE with a 64-bit argument -> EINVAL");
}

static void test_rate(int fd)
{
	uint32_t rate;

	rate = 0;
	KT_ERRNO(ioctl(fd, KINGEST_IOC_SET_RATE, &rate), EINVAL, "SET_RATE 0 -> EINVAL");
	rate = KINGEST_RATE_MAX_HZ + 1;
	KT_ERRNO(ioctl(fd, KINGEST_IOC_SET_RATE, &rate), EINVAL, "SET_RATE max+1 -> EINVAL");
	KT_ERRNO(ioctl(fd, KINGEST_IOC_SET_RATE, BAD_PTR), EFAULT, "SET_RATE bad pointer -> EFAULT");
	rate = 250;
	kt_ok(ioctl(fd, KINGEST_IOC_SET_RATE, &rate) == 0 &&
	      kt_sysctl_get(KINGEST_SYSCTL_RATE_HZ) == 250, "SET_RATE 250 shows in sysctl rate_hz");
	rate = 10;
	ioctl(fd, KINGEST_IOC_SET_RATE, &rate);
}

static void test_threshold(int fd)
{
	struct kingest_threshold t = { .sensor_id = KINGEST_MAX_SENSORS, .threshold_mc = 0 };

	KT_ERRNO(ioctl(fd, KINGEST_IOC_SET_THRESHOLD, &t), EINVAL,
		 "SET_THRESHOLD sensor id 64 -> EINVAL");
	t.sensor_id = 0;
	t.threshold_mc = KINGEST_THRESHOLD_MAX_MC + 1;
	KT_ERRNO(ioctl(fd, KINGEST_IOC_SET_THRESHOLD, &t), EINVAL,
		 "SET_THRESHOLD above max -> EINVAL");
	t.threshold_mc = KINGEST_THRESHOLD_MIN_MC - 1;
	KT_ERRNO(ioctl(fd, KINGEST_IOC_SET_THRESHOLD, &t), EINVAL,
		 "SET_THRESHOLD below min -> EINVAL");
	KT_ERRNO(ioctl(fd, KINGEST_IOC_SET_THRESHOLD, BAD_PTR), EFAULT,
		 "SET_THRESHOLD bad pointer -> EFAULT");
	t.threshold_mc = -15000;
	kt_ok(ioctl(fd, KINGEST_IOC_SET_THRESHOLD, &t) == 0, "SET_THRESHOLD valid");
}

static void test_inject(int fd)
{
	static uint8_t big[KINGEST_MAX_PAYLOAD + 1];
	struct kingest_inject inj = { .channels = KINGEST_CHF_RING, .type = 5, .len = 1,
				      .data = (uintptr_t)big };

	inj.channels = 1U << KINGEST_CH_PROC;
	KT_ERRNO(ioctl(fd, KINGEST_IOC_INJECT, &inj), EINVAL, "INJECT on the pull channel -> EINVAL");
	inj.channels = 0x80000000U;
	KT_ERRNO(ioctl(fd, KINGEST_IOC_INJECT, &inj), EINVAL, "INJECT unknown channel bit -> EINVAL");
	inj.channels = KINGEST_CHF_RING;
	inj.type = KINGEST_EV_PAD;
	KT_ERRNO(ioctl(fd, KINGEST_IOC_INJECT, &inj), EINVAL, "INJECT type PAD -> EINVAL");
	inj.type = 5;
	inj.reserved = 1;
	KT_ERRNO(ioctl(fd, KINGEST_IOC_INJECT, &inj), EINVAL, "INJECT reserved != 0 -> EINVAL");
	inj.reserved = 0;
	inj.reserved2 = 1;
	KT_ERRNO(ioctl(fd, KINGEST_IOC_INJECT, &inj), EINVAL, "INJECT reserved2 != 0 -> EINVAL");
	inj.reserved2 = 0;
	inj.len = KINGEST_MAX_PAYLOAD + 1;
	KT_ERRNO(ioctl(fd, KINGEST_IOC_INJECT, &inj), EINVAL, "INJECT len > max -> EINVAL");
	inj.len = 0xffffffffU;
	KT_ERRNO(ioctl(fd, KINGEST_IOC_INJECT, &inj), EINVAL, "INJECT len 2^32-1 -> EINVAL");
	inj.len = 64;
	inj.data = 16;
	KT_ERRNO(ioctl(fd, KINGEST_IOC_INJECT, &inj), EFAULT, "INJECT bad data pointer -> EFAULT");
	inj.data = 0xffff800000000000ULL;
	KT_ERRNO(ioctl(fd, KINGEST_IOC_INJECT, &inj), EFAULT,
		 "INJECT kernel data pointer -> EFAULT");
	KT_ERRNO(ioctl(fd, KINGEST_IOC_INJECT, BAD_PTR), EFAULT, "INJECT bad struct pointer -> EFAULT");
	inj.data = (uintptr_t)big;
	inj.len = KINGEST_MAX_PAYLOAD;
	kt_ok(ioctl(fd, KINGEST_IOC_INJECT, &inj) == KINGEST_CHF_RING,
	      "INJECT maximal payload accepted by the ring");
	inj.len = 0;
	inj.data = 0;
	kt_ok(ioctl(fd, KINGEST_IOC_INJECT, &inj) == KINGEST_CHF_RING,
	      "INJECT empty payload with NULL data accepted");
	inj.channels = 0;
	kt_ok(ioctl(fd, KINGEST_IOC_INJECT, &inj) == 0, "INJECT on no channel returns 0");
}

static void test_stats(int fd)
{
	struct kingest_stats st;
	uint8_t b = 1;
	bool zero = true;
	int i;

	kt_inject(fd, KINGEST_CHF_RING, KINGEST_EV_INJECT, &b, 1);
	kt_stats(fd, &st);
	kt_ok(st.channel_count == KINGEST_CH_COUNT && st.ch[KINGEST_CH_RING].emitted > 0,
	      "GET_STATS: channel count and a nonzero counter");
	kt_ok(st.enabled == KINGEST_CHF_RING + (1U << KINGEST_CH_PROC),
	      "GET_STATS: enabled mask follows the sysctls (0x%x)", st.enabled);
	KT_ERRNO(ioctl(fd, KINGEST_IOC_GET_STATS, BAD_PTR), EFAULT, "GET_STATS bad pointer -> EFAULT");
	kt_ok(ioctl(fd, KINGEST_IOC_RESET_STATS) == 0, "RESET_STATS");
	kt_stats(fd, &st);
	for (i = 0; i < KINGEST_CH_SLOTS; i++)
		if (st.ch[i].emitted || st.ch[i].dropped || st.ch[i].errors)
			zero = false;
	kt_ok(zero, "RESET_STATS zeroes every counter");
}

/*
 * State-changing commands need a file opened for writing, not a capability:
 * the device node's mode (0600 root) decides who may open it so.
 */
static void test_unprivileged(int fd)
{
	int ro = open("/dev/" KINGEST_DEVICE_NAME, O_RDONLY | O_CLOEXEC);
	struct stat sb;
	uint32_t rate = 10;
	int status = -1;
	pid_t pid;

	kt_ok(stat("/dev/" KINGEST_DEVICE_NAME, &sb) == 0 && (sb.st_mode & 0777) == 0600 &&
	      sb.st_uid == 0, "/dev/kingest is mode 0600, owner root (%o)",
	      (unsigned int)(sb.st_mode & 0777));
	pid = fork();
	if (pid == 0) {
		struct kingest_stats st;
		uint8_t b = 1;
		int bad = 0;

		/* Root, but the file is read-only. */
		bad += ioctl(ro, KINGEST_IOC_SET_RATE, &rate) != -1 || errno != EPERM;
		bad += ioctl(ro, KINGEST_IOC_RESET_STATS) != -1 || errno != EPERM;
		bad += kt_inject(ro, KINGEST_CHF_RING, KINGEST_EV_INJECT, &b, 1) != -EPERM;
		bad += ioctl(ro, KINGEST_IOC_GET_STATS, &st) != 0;
		if (setgid(65534) || setuid(65534))
			_exit(10);
		/* No capability at all, but a file opened for writing. */
		bad += (ioctl(fd, KINGEST_IOC_SET_RATE, &rate) != 0) << 4;
		bad += (kt_inject(fd, KINGEST_CHF_RING, KINGEST_EV_INJECT, &b, 1) < 0) << 4;
		/* And nobody may open the device itself. */
		bad += (open("/dev/" KINGEST_DEVICE_NAME, O_RDONLY) != -1 || errno != EACCES) << 6;
		_exit(bad);
	}
	waitpid(pid, &status, 0);
	kt_ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "read-only file: SET_RATE, RESET_STATS, INJECT -> EPERM, GET_STATS works; "
	      "uid 65534 with a writable file may; uid 65534 cannot open (%d)",
	      WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	close(ro);
}

static void test_sysctl_ranges(void)
{
	static const struct {
		const char *name;
		const char *bad[3];
	} cases[] = {
		{ KINGEST_SYSCTL_RATE_HZ, { "0", "10001", "abc" } },
		{ KINGEST_SYSCTL_SENSOR_COUNT, { "0", "65", "-1" } },
		{ KINGEST_SYSCTL_SENSORS_ENABLE, { "2", "-1", "x" } },
		{ KINGEST_SYSCTL_IMAGE_SIZE, { "-1", "16369", "99999999999" } },
		{ KINGEST_SYSCTL_NETDEV_ENABLE, { "2", "-1", "" } },
		{ KINGEST_SYSCTL_RING_ENABLE, { "2", "-1", "1x" } },
		{ KINGEST_SYSCTL_GENL_ENABLE, { "2", "-1", "1x" } },
		{ KINGEST_SYSCTL_SIGNAL_ENABLE, { "2", "-1", "1x" } },
		{ KINGEST_SYSCTL_UPCALL_ENABLE, { "2", "-1", "1x" } },
		{ KINGEST_SYSCTL_UDP_ENABLE, { "2", "-1", "1x" } },
		{ KINGEST_SYSCTL_PROC_ENABLE, { "2", "-1", "1x" } },
		{ KINGEST_SYSCTL_UDP_PORT, { "0", "65536", "-5" } },
		{ KINGEST_SYSCTL_UPCALL_RATE, { "-1", "1001", "1e3" } },
	};
	unsigned int i, j;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		long before = kt_sysctl_get(cases[i].name);
		int rejected = 0;

		for (j = 0; j < 3; j++) {
			int err = kt_sysctl_write(cases[i].name, cases[i].bad[j]);

			/* An empty write is a no-op that succeeds. */
			rejected += err == -EINVAL || (!cases[i].bad[j][0] && err == 0);
		}
		kt_ok(rejected == 3 && kt_sysctl_get(cases[i].name) == before,
		      "sysctl %s: out-of-range and malformed values rejected, value kept",
		      cases[i].name);
	}
	kt_ok(kt_sysctl_write(KINGEST_SYSCTL_IMAGE_SIZE, "16368") == 0 &&
	      kt_sysctl_write(KINGEST_SYSCTL_IMAGE_SIZE, "0") == 0,
	      "sysctl image_size: the maximum is accepted");
}

int main(void)
{
	int fd = kt_open();

	kt_plan(52);
	kt_quiet(KINGEST_CHF_RING);
	test_info(fd);
	test_unknown(fd);
	test_rate(fd);
	test_threshold(fd);
	test_inject(fd);
	test_stats(fd);
	test_unprivileged(fd);
	test_sysctl_ranges();
	close(fd);
	return kt_done();
}
