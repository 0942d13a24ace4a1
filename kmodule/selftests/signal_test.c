// SPDX-License-Identifier: GPL-2.0
/* RT signals: thread-directed delivery, payload, order, hostile subscribes. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kt.h"

#define SIGNO (SIGRTMIN + 6)

static int subscribe(int fd, int signo, uint32_t flags)
{
	struct kingest_signal_sub sub = { .signo = signo, .flags = flags };

	return ioctl(fd, KINGEST_IOC_SUBSCRIBE_SIGNAL, &sub);
}

/* Takes one pending SIGNO of this thread, waiting up to ms. */
static int take(siginfo_t *si, int ms)
{
	sigset_t set;
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	sigemptyset(&set);
	sigaddset(&set, SIGNO);
	return sigtimedwait(&set, si, &ts);
}

static void test_hostile(int fd)
{
	KT_ERRNO(subscribe(fd, 0, 0), EINVAL, "subscribe: signal 0 -> EINVAL");
	KT_ERRNO(subscribe(fd, SIGKILL, 0), EINVAL, "subscribe: SIGKILL -> EINVAL");
	KT_ERRNO(subscribe(fd, 31, 0), EINVAL, "subscribe: 31 (below SIGRTMIN) -> EINVAL");
	KT_ERRNO(subscribe(fd, 65, 0), EINVAL, "subscribe: 65 (above SIGRTMAX) -> EINVAL");
	KT_ERRNO(subscribe(fd, -40, 0), EINVAL, "subscribe: negative -> EINVAL");
	KT_ERRNO(subscribe(fd, SIGNO, 1), EINVAL, "subscribe: flags != 0 -> EINVAL");
	KT_ERRNO(ioctl(fd, KINGEST_IOC_SUBSCRIBE_SIGNAL, (void *)16), EFAULT,
		 "subscribe: bad pointer -> EFAULT");
}

static void test_payload_order(int fd)
{
	enum { N = 50 };
	struct kingest_stats a, b;
	uint8_t p[2];
	siginfo_t si;
	int i, got = 0, bad = 0, first = -1;

	kt_ok(subscribe(fd, SIGNO, 0) == 0, "subscribe: SIGRTMIN+6 accepted");
	kt_stats(fd, &a);
	for (i = 0; i < N; i++) {
		p[0] = (uint8_t)i;
		p[1] = 0xA0;
		kt_inject(fd, KINGEST_CHF_SIGNAL, 0x42, p, 2);
	}
	kt_stats(fd, &b);
	kt_ok(b.ch[KINGEST_CH_SIGNAL].emitted - a.ch[KINGEST_CH_SIGNAL].emitted == N,
	      "stats: %d signals counted as emitted", N);
	for (i = 0; i < N; i++) {
		uint32_t v;

		if (take(&si, 2000) != SIGNO)
			break;
		v = (uint32_t)si.si_value.sival_int;
		if (first < 0)
			first = KINGEST_SIG_SEQ(v);
		if (si.si_code != KINGEST_SIG_CODE || si.si_band != KINGEST_SIG_BAND ||
		    (uint32_t)si.si_fd != v || KINGEST_SIG_TYPE(v) != 0x42 ||
		    KINGEST_SIG_DETAIL(v) != (uint32_t)(0xA000 | i) ||
		    KINGEST_SIG_SEQ(v) != (uint32_t)((first + i) & 0xff))
			bad++;
		got++;
	}
	kt_ok(got == N, "signals: %d of %d queued signals taken", got, N);
	kt_ok(bad == 0, "signals: module si_code and si_band, type, detail and seq order correct (%d bad)", bad);
	ioctl(fd, KINGEST_IOC_UNSUBSCRIBE_SIGNAL);
}

struct waiter {
	int fd;
	pid_t tid;
	volatile int ready;
	int got;
	uint32_t value;
};

static void *waiter_main(void *arg)
{
	struct waiter *w = arg;
	siginfo_t si;

	w->tid = (pid_t)syscall(SYS_gettid);
	if (subscribe(w->fd, SIGNO, 0))
		return NULL;
	__atomic_store_n(&w->ready, 1, __ATOMIC_RELEASE);
	if (take(&si, 5000) == SIGNO) {
		w->got = 1;
		w->value = (uint32_t)si.si_value.sival_int;
	}
	return NULL;
}

static void test_thread_directed(void)
{
	struct waiter w = { .fd = kt_open() };
	int main_fd = kt_open();
	uint8_t p[2] = { 0x34, 0x12 };
	sigset_t pending;
	pthread_t t;

	pthread_create(&t, NULL, waiter_main, &w);
	while (!__atomic_load_n(&w.ready, __ATOMIC_ACQUIRE))
		kt_sleep_ms(1);
	kt_inject(main_fd, KINGEST_CHF_SIGNAL, KINGEST_EV_INJECT, p, 2);
	pthread_join(t, NULL);
	kt_ok(w.got && KINGEST_SIG_DETAIL(w.value) == 0x1234,
	      "thread-directed: the subscribing thread got it");
	sigpending(&pending);
	kt_ok(!sigismember(&pending, SIGNO), "thread-directed: the main thread did not");
	close(w.fd);
	close(main_fd);
}

static void test_close_ends(int fd)
{
	int other = kt_open();
	struct kingest_stats a, b;
	siginfo_t si;
	uint8_t p = 1;

	kt_ok(subscribe(fd, SIGNO, 0) == 0 && subscribe(other, SIGNO, 0) == 0,
	      "two files subscribe the same thread");
	kt_inject(fd, KINGEST_CHF_SIGNAL, KINGEST_EV_INJECT, &p, 1);
	kt_ok(take(&si, 2000) == SIGNO && take(&si, 2000) == SIGNO,
	      "two subscriptions: one signal each");
	close(other);
	kt_ok(ioctl(fd, KINGEST_IOC_UNSUBSCRIBE_SIGNAL) == 0, "unsubscribe");
	kt_stats(fd, &a);
	kt_inject(fd, KINGEST_CHF_SIGNAL, KINGEST_EV_INJECT, &p, 1);
	kt_stats(fd, &b);
	kt_ok(take(&si, 100) < 0 &&
	      a.ch[KINGEST_CH_SIGNAL].emitted == b.ch[KINGEST_CH_SIGNAL].emitted,
	      "after close and unsubscribe: no signal, nothing counted");
}

static void test_limit(void)
{
	int fds[KINGEST_MAX_SIGNAL_SUBS + 1], i, ok = 0;

	for (i = 0; i < KINGEST_MAX_SIGNAL_SUBS; i++) {
		fds[i] = kt_open();
		ok += subscribe(fds[i], SIGNO, 0) == 0;
	}
	fds[i] = kt_open();
	kt_ok(ok == KINGEST_MAX_SIGNAL_SUBS, "%d subscriptions accepted", ok);
	KT_ERRNO(subscribe(fds[i], SIGNO, 0), EBUSY, "one more subscription -> EBUSY");
	for (i = 0; i <= KINGEST_MAX_SIGNAL_SUBS; i++)
		close(fds[i]);
}

static void test_overflow(int fd)
{
	struct kingest_stats a, b;
	struct rlimit lim = { 8, 8 }, old;
	uint8_t p = 1;
	siginfo_t si;
	int i, taken = 0;

	getrlimit(RLIMIT_SIGPENDING, &old);
	setrlimit(RLIMIT_SIGPENDING, &lim);
	subscribe(fd, SIGNO, 0);
	kt_stats(fd, &a);
	for (i = 0; i < 20; i++)
		kt_inject(fd, KINGEST_CHF_SIGNAL, KINGEST_EV_INJECT, &p, 1);
	kt_stats(fd, &b);
	while (take(&si, 100) == SIGNO)
		taken++;
	setrlimit(RLIMIT_SIGPENDING, &old);
	kt_ok(b.ch[KINGEST_CH_SIGNAL].dropped - a.ch[KINGEST_CH_SIGNAL].dropped ==
	      (uint64_t)(20 - taken) && taken > 0 && taken < 20,
	      "RLIMIT_SIGPENDING: %d delivered, the rest counted as dropped", taken);
	ioctl(fd, KINGEST_IOC_UNSUBSCRIBE_SIGNAL);
}

/*
 * What another process can make arrive at a subscribed thread: it must
 * never look like the module's signal (positive si_code + KINGEST_SIG_BAND).
 */
static void test_forged(void)
{
	pid_t self = getpid(), tid = (pid_t)syscall(SYS_gettid), child;
	int status = -1, i, seen_queue = 0, seen_poll = 0, lookalike = 0;
	siginfo_t si;

	while (take(&si, 0) == SIGNO)
		;	/* nothing left over from the tests before */
	child = fork();
	if (child == 0) {
		struct f_owner_ex owner = { F_OWNER_TID, tid };
		siginfo_t f;
		int bad = 0, p[2];

		/* ABI 1's module signal, forged exactly: SI_QUEUE, si_pid 0. */
		memset(&f, 0, sizeof(f));
		f.si_signo = SIGNO;
		f.si_code = SI_QUEUE;
		f.si_pid = 0;
		f.si_value.sival_int = 0x42000000;
		bad |= syscall(SYS_rt_tgsigqueueinfo, self, tid, SIGNO, &f) != 0;
		/* The module's si_code: the kernel refuses it from another process. */
		f.si_code = KINGEST_SIG_CODE;
		f.si_band = KINGEST_SIG_BAND;
		bad |= (syscall(SYS_rt_tgsigqueueinfo, self, tid, SIGNO, &f) != -1 ||
			errno != EPERM) << 1;
		/* A positive si_code the kernel queues for us: F_SETSIG on a pipe. */
		bad |= (pipe(p) || fcntl(p[0], F_SETOWN_EX, &owner) ||
			fcntl(p[0], F_SETSIG, SIGNO) ||
			fcntl(p[0], F_SETFL, O_ASYNC | O_NONBLOCK) ||
			write(p[1], "x", 1) != 1) << 2;
		_exit(bad);
	}
	waitpid(child, &status, 0);
	kt_ok(WIFEXITED(status) && !(WEXITSTATUS(status) & 2),
	      "forged: rt_tgsigqueueinfo with the module's si_code from another process -> EPERM");
	for (i = 0; i < 8 && take(&si, 300) == SIGNO; i++) {
		if (si.si_code == KINGEST_SIG_CODE && si.si_band == KINGEST_SIG_BAND)
			lookalike++;
		else if (si.si_code == SI_QUEUE && si.si_pid == 0)
			seen_queue++;
		else if (si.si_code > 0)
			seen_poll++;
	}
	kt_ok(WIFEXITED(status) && !(WEXITSTATUS(status) & 1) && seen_queue == 1 && !lookalike,
	      "forged: SI_QUEUE/si_pid 0 from a user process arrives, with si_code SI_QUEUE");
	/* The write, and the write end's close at exit, each queue one. */
	kt_ok(WIFEXITED(status) && !(WEXITSTATUS(status) & 4) && seen_poll >= 1 && !lookalike,
	      "forged: F_SETSIG's positive si_code carries a poll band, not KINGEST_SIG_BAND");
	kt_diag("forger exit %d, SI_QUEUE seen %d, positive seen %d, look-alikes %d",
		WIFEXITED(status) ? WEXITSTATUS(status) : -1, seen_queue, seen_poll, lookalike);
}

int main(void)
{
	sigset_t set;
	int fd;

	/* Block before any thread exists so every thread inherits it. */
	sigemptyset(&set);
	sigaddset(&set, SIGNO);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	fd = kt_open();
	kt_plan(23);
	kt_quiet(KINGEST_CHF_SIGNAL);
	test_hostile(fd);
	test_forged();
	test_payload_order(fd);
	test_thread_directed();
	test_close_ends(fd);
	test_limit();
	test_overflow(fd);
	close(fd);
	return kt_done();
}
