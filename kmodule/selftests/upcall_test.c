// SPDX-License-Identifier: GPL-2.0
/*
 * Upcall channel: argv/envp content, rate limit, failure counting, sysctl
 * checks. The content check needs a helper that logs its arguments; the
 * guest harness provides one and names it in KINGEST_UPCALL_HELPER and
 * KINGEST_UPCALL_LOG (helpers run in init's root, not in a chroot).
 */
#include <stdlib.h>
#include <unistd.h>

#include "kt.h"

static void wait_settled(int fd, uint64_t want, struct kingest_stats *st)
{
	int i;

	/* Counting happens when the helper has been executed. */
	for (i = 0; i < 500; i++) {
		kt_stats(fd, st);
		if (st->ch[KINGEST_CH_UPCALL].emitted + st->ch[KINGEST_CH_UPCALL].dropped >= want)
			return;
		kt_sleep_ms(10);
	}
}

static void test_sysctl(void)
{
	char longp[400];

	memset(longp, 'a', sizeof(longp) - 1);
	longp[0] = '/';
	longp[sizeof(longp) - 1] = '\0';
	kt_ok(kt_sysctl_write(KINGEST_SYSCTL_UPCALL_HELPER, "bin/sh") == -EINVAL,
	      "upcall_helper relative path -> EINVAL");
	kt_ok(kt_sysctl_write(KINGEST_SYSCTL_UPCALL_HELPER, "") == -EINVAL,
	      "upcall_helper empty -> EINVAL");
	kt_ok(kt_sysctl_write(KINGEST_SYSCTL_UPCALL_HELPER, longp) == -EINVAL,
	      "upcall_helper of %zu bytes -> EINVAL", strlen(longp));
	kt_ok(kt_sysctl_write(KINGEST_SYSCTL_UPCALL_RATE, "-1") == -EINVAL,
	      "upcall_rate=-1 -> EINVAL");
	kt_ok(kt_sysctl_write(KINGEST_SYSCTL_UPCALL_RATE, "1001") == -EINVAL,
	      "upcall_rate=1001 -> EINVAL");
	kt_ok(kt_sysctl_write(KINGEST_SYSCTL_UPCALL_ENABLE, "2") == -EINVAL,
	      "upcall_enable=2 -> EINVAL");
}

static void test_missing_helper(int fd)
{
	struct kingest_stats a, b;
	uint8_t p = 1;
	int i;

	kt_ok(kt_sysctl_write(KINGEST_SYSCTL_UPCALL_HELPER, "/nonexistent/kingest-helper") == 0,
	      "upcall_helper set to a missing program");
	kt_sysctl_set(KINGEST_SYSCTL_UPCALL_RATE, 1000);
	kt_stats(fd, &a);
	for (i = 0; i < 3; i++)
		kt_inject(fd, KINGEST_CHF_UPCALL, KINGEST_EV_INJECT, &p, 1);
	wait_settled(fd, a.ch[KINGEST_CH_UPCALL].emitted + a.ch[KINGEST_CH_UPCALL].dropped + 3,
		     &b);
	kt_ok(b.ch[KINGEST_CH_UPCALL].errors - a.ch[KINGEST_CH_UPCALL].errors == 3 &&
	      b.ch[KINGEST_CH_UPCALL].dropped - a.ch[KINGEST_CH_UPCALL].dropped == 3,
	      "missing helper: 3 failures counted as errors and drops");
}

static void test_rate_limit(int fd)
{
	struct kingest_stats a, b;
	uint8_t p = 1;
	int i, accepted = 0;

	kt_sysctl_set(KINGEST_SYSCTL_UPCALL_RATE, 3);
	kt_sleep_ms(1100);	/* a fresh one-second window */
	kt_stats(fd, &a);
	for (i = 0; i < 20; i++)
		accepted += kt_inject(fd, KINGEST_CHF_UPCALL, KINGEST_EV_INJECT, &p, 1) != 0;
	wait_settled(fd, a.ch[KINGEST_CH_UPCALL].emitted + a.ch[KINGEST_CH_UPCALL].dropped + 20,
		     &b);
	kt_ok(accepted >= 3 && accepted <= 6, "upcall_rate=3: %d of 20 accepted", accepted);
	kt_ok(b.ch[KINGEST_CH_UPCALL].dropped - a.ch[KINGEST_CH_UPCALL].dropped >=
	      (uint64_t)(20 - accepted), "rate limited events counted as dropped");
	kt_sysctl_set(KINGEST_SYSCTL_UPCALL_RATE, 0);
	kt_ok(kt_inject(fd, KINGEST_CHF_UPCALL, KINGEST_EV_INJECT, &p, 1) == 0,
	      "upcall_rate=0 refuses every event");
}

static int count_lines(const char *path)
{
	FILE *f = fopen(path, "r");
	int n = 0, c;

	if (!f)
		return 0;
	while ((c = fgetc(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return n;
}

static void test_content(int fd)
{
	const char *helper = getenv("KINGEST_UPCALL_HELPER");
	const char *log = getenv("KINGEST_UPCALL_LOG");
	static uint8_t big[1000];
	uint8_t small[3] = { 0xde, 0xad, 0x01 };
	char line[4096], want[4096];
	int i, matched = 0, truncated_ok = 0;
	FILE *f;

	if (!helper || !log) {
		for (i = 0; i < 3; i++)
			kt_skip("KINGEST_UPCALL_HELPER/LOG not set (run in the guest harness)",
				"upcall content %d", i);
		return;
	}
	unlink(log);
	kt_sysctl_write(KINGEST_SYSCTL_UPCALL_HELPER, helper);
	kt_sysctl_set(KINGEST_SYSCTL_UPCALL_RATE, 1000);
	for (i = 0; i < (int)sizeof(big); i++)
		big[i] = (uint8_t)i;
	kt_inject(fd, KINGEST_CHF_UPCALL, 0x77, small, sizeof(small));
	kt_inject(fd, KINGEST_CHF_UPCALL, 0x78, big, sizeof(big));
	for (i = 0; i < 500 && count_lines(log) < 2; i++)
		kt_sleep_ms(10);
	kt_ok(count_lines(log) == 2, "helper ran once per event");
	f = fopen(log, "r");
	while (f && fgets(line, sizeof(line), f)) {
		/* The helper logs: argv1 argv2 argv3 | TYPE SEQ LEN TRUNCATED | argv5 PAYLOAD */
		unsigned int type, seq_a, seq_e, len, trunc;
		char ev[16], hex_a[1024], hex_e[1024];

		hex_a[0] = hex_e[0] = '\0';
		if (sscanf(line, "%15s %u %u | %*u %u %u %u | %1023s %1023s", ev, &type, &seq_a,
			   &seq_e, &len, &trunc, hex_a, hex_e) < 6)
			continue;
		if (strcmp(ev, "event") || seq_a != seq_e)
			continue;
		if (type == 0x77 && len == 3 && trunc == 0 && !strcmp(hex_a, "dead01") &&
		    !strcmp(hex_e, "dead01"))
			matched++;
		if (type == 0x78 && len == sizeof(big) && trunc == 1 &&
		    strlen(hex_a) == 2 * KINGEST_UPCALL_MAX_HEX && !strcmp(hex_a, hex_e)) {
			snprintf(want, sizeof(want), "000102030405");
			truncated_ok = !strncmp(hex_a, want, strlen(want));
		}
	}
	if (f)
		fclose(f);
	kt_ok(matched == 1, "argv and envp carry type, seq, length and hex payload");
	kt_ok(truncated_ok, "a long payload is cut to %d bytes and flagged",
	      KINGEST_UPCALL_MAX_HEX);
}

int main(void)
{
	int fd = kt_open();

	kt_plan(14);
	kt_quiet(KINGEST_CHF_UPCALL);
	test_sysctl();
	test_missing_helper(fd);
	test_rate_limit(fd);
	test_content(fd);
	kt_sysctl_set(KINGEST_SYSCTL_UPCALL_ENABLE, 0);
	kt_sysctl_set(KINGEST_SYSCTL_UPCALL_RATE, 10);
	close(fd);
	return kt_done();
}
