// SPDX-License-Identifier: GPL-2.0
/*
 * Real-time signal channel: each subscribed thread gets every event as a
 * thread-directed queued signal carrying the encoded event in si_int.
 * Thread-directed because a process-directed RT signal may land on any
 * thread, and in a runtime with many threads that one may not block it.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/signal.h>
#include <linux/spinlock.h>

#include "kingest.h"

struct kingest_sub {
	const struct file *file;	/* owner; NULL when the slot is free */
	struct task_struct *task;	/* referenced */
	int signo;
};

static DEFINE_SPINLOCK(sub_lock);
static struct kingest_sub subs[KINGEST_MAX_SIGNAL_SUBS];
static unsigned int nr_subs;
static u64 sig_seq;

int kingest_signal_subscribe(struct file *file, int signo)
{
	struct task_struct *old = NULL;
	struct kingest_sub *free = NULL;
	unsigned int i;
	int err = 0;

	if (signo < SIGRTMIN || signo > SIGRTMAX)
		return -EINVAL;

	get_task_struct(current);
	spin_lock_bh(&sub_lock);
	for (i = 0; i < ARRAY_SIZE(subs); i++) {
		if (subs[i].file == file) {
			old = subs[i].task;
			free = &subs[i];
			break;
		}
		if (!subs[i].file && !free)
			free = &subs[i];
	}
	if (!free) {
		err = -EBUSY;
	} else {
		if (!old)
			WRITE_ONCE(nr_subs, nr_subs + 1);
		free->file = file;
		free->task = current;
		free->signo = signo;
	}
	spin_unlock_bh(&sub_lock);

	if (err)
		put_task_struct(current);
	if (old)
		put_task_struct(old);
	return err;
}

void kingest_signal_unsubscribe(struct file *file)
{
	struct task_struct *task = NULL;
	unsigned int i;

	spin_lock_bh(&sub_lock);
	for (i = 0; i < ARRAY_SIZE(subs); i++) {
		if (subs[i].file == file) {
			task = subs[i].task;
			subs[i].file = NULL;
			subs[i].task = NULL;
			WRITE_ONCE(nr_subs, nr_subs - 1);
			break;
		}
	}
	spin_unlock_bh(&sub_lock);
	if (task)
		put_task_struct(task);
}

bool kingest_signal_has_subscribers(void)
{
	return READ_ONCE(nr_subs) != 0;
}

bool kingest_signal_emit(const struct kingest_event *ev)
{
	struct kernel_siginfo info;
	bool any = false;
	unsigned int i;
	u32 payload;
	int err;

	spin_lock_bh(&sub_lock);
	sig_seq++;
	payload = (u32)(ev->type & 0xff) << 24 | (u32)(sig_seq & 0xff) << 16 |
		  ev->sig_detail;
	for (i = 0; i < ARRAY_SIZE(subs); i++) {
		if (!subs[i].file)
			continue;
		/*
		 * A positive si_code (SIL_POLL layout: no si_pid/si_uid for
		 * the kernel to rewrite) that no other process can queue with
		 * this si_band; see kingest.h.
		 */
		clear_siginfo(&info);
		info.si_signo = subs[i].signo;
		info.si_code = KINGEST_SIG_CODE;
		info.si_band = KINGEST_SIG_BAND;
		info.si_fd = (int)payload;
		/* send_sig_info() targets this one thread (PIDTYPE_PID). */
		err = send_sig_info(subs[i].signo, &info, subs[i].task);
		/* -EAGAIN: RLIMIT_SIGPENDING; -ESRCH: the thread has exited. */
		kingest_count(KINGEST_CH_SIGNAL, !err);
		if (err && err != -EAGAIN)
			kingest_count_error(KINGEST_CH_SIGNAL);
		any |= !err;
	}
	spin_unlock_bh(&sub_lock);
	return any;
}

void kingest_signal_exit(void)
{
	unsigned int i;

	/* Every file is closed by now; this only guards against leaks. */
	for (i = 0; i < ARRAY_SIZE(subs); i++) {
		if (subs[i].task)
			put_task_struct(subs[i].task);
		subs[i].file = NULL;
		subs[i].task = NULL;
	}
	nr_subs = 0;
}
