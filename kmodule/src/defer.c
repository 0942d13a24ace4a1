// SPDX-License-Identifier: GPL-2.0
/*
 * Channels that may sleep: UDP datagrams from a kernel socket and
 * call_usermodehelper() upcalls. Events are copied into a bounded FIFO per
 * channel in whatever context they come from and sent from an ordered
 * workqueue, so each channel keeps the order of its sequence numbers.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/in.h>
#include <linux/jiffies.h>
#include <linux/kernel.h>
#include <linux/list.h>
#include <linux/net.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/umh.h>
#include <linux/workqueue.h>
#include <net/net_namespace.h>
#include <net/sock.h>

#include "kingest.h"

struct kingest_pending {
	struct list_head node;
	u32 full_len;			/* payload bytes before truncation */
	struct kingest_record rec;	/* rec.len covers the copied bytes */
};

struct kingest_defer {
	spinlock_t lock;		/* queue, depth, stopped, seq, window */
	struct list_head queue;
	unsigned int depth;
	unsigned int max_depth;
	u32 max_payload;		/* longer payloads are truncated */
	unsigned int ch;
	bool stopped;
	u64 seq;
	/* upcall rate limit: a one-second window */
	unsigned long window_start;
	unsigned int window_count;
	struct work_struct work;
	/* One ordered queue per channel: an upcall waits for its exec. */
	struct workqueue_struct *wq;
	void (*send)(struct kingest_pending *p);
};

static struct socket *udp_sock;

static void udp_send(struct kingest_pending *p);
static void upcall_send(struct kingest_pending *p);

static struct kingest_defer udp_chan = {
	.max_depth = KINGEST_UDP_QUEUE_MAX,
	.max_payload = KINGEST_MAX_PAYLOAD,
	.ch = KINGEST_CH_UDP,
	.send = udp_send,
};

static struct kingest_defer upcall_chan = {
	.max_depth = KINGEST_UPCALL_QUEUE_MAX,
	.max_payload = KINGEST_UPCALL_MAX_HEX,
	.ch = KINGEST_CH_UPCALL,
	.send = upcall_send,
};

/* Caller holds dc->lock. */
static bool upcall_rate_ok(struct kingest_defer *dc)
{
	unsigned int rate = READ_ONCE(kingest_cfg.upcall_rate);

	if (time_after(jiffies, dc->window_start + HZ)) {
		dc->window_start = jiffies;
		dc->window_count = 0;
	}
	if (dc->window_count >= rate)
		return false;
	dc->window_count++;
	return true;
}

static bool defer_enqueue(struct kingest_defer *dc, const struct kingest_event *ev)
{
	u32 len = min(ev->len, dc->max_payload);
	struct kingest_pending *p;
	unsigned long flags;
	bool ok = false;

	p = kmalloc(struct_size(p, rec.data, len), GFP_ATOMIC);

	spin_lock_irqsave(&dc->lock, flags);
	dc->seq++;
	if (!p || dc->stopped || dc->depth >= dc->max_depth)
		goto out;
	if (dc == &upcall_chan && !upcall_rate_ok(dc))
		goto out;
	p->full_len = ev->len;
	p->rec.len = KINGEST_RECORD_HDR_SIZE + len;
	p->rec.type = ev->type;
	p->rec.channel = dc->ch;
	p->rec.flags = len < ev->len ? KINGEST_RECF_TRUNCATED : 0;
	p->rec.seq = dc->seq;
	p->rec.ts_ns = ev->ts_ns;
	memcpy(p->rec.data, ev->data, len);
	list_add_tail(&p->node, &dc->queue);
	dc->depth++;
	ok = true;
out:
	spin_unlock_irqrestore(&dc->lock, flags);
	if (ok) {
		queue_work(dc->wq, &dc->work);
	} else {
		kfree(p);
		/* Emitted is counted once the send worked. */
		kingest_count(dc->ch, false);
	}
	return ok;
}

static void defer_work(struct work_struct *work)
{
	struct kingest_defer *dc = container_of(work, struct kingest_defer, work);
	struct kingest_pending *p;
	unsigned long flags;

	for (;;) {
		spin_lock_irqsave(&dc->lock, flags);
		p = list_first_entry_or_null(&dc->queue, struct kingest_pending, node);
		if (p) {
			list_del(&p->node);
			dc->depth--;
		}
		spin_unlock_irqrestore(&dc->lock, flags);
		if (!p)
			break;
		dc->send(p);
		cond_resched();
	}
}

static void udp_send(struct kingest_pending *p)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct kvec iov = { .iov_base = &p->rec, .iov_len = p->rec.len };
	struct msghdr msg = {
		.msg_name = &sin,
		.msg_namelen = sizeof(sin),
		.msg_flags = MSG_DONTWAIT | MSG_NOSIGNAL,
	};
	u16 port;
	int ret;

	kingest_udp_dest(&sin.sin_addr.s_addr, &port);
	sin.sin_port = htons(port);
	ret = kernel_sendmsg(udp_sock, &msg, &iov, 1, iov.iov_len);
	kingest_count(KINGEST_CH_UDP, ret == (int)iov.iov_len);
	if (ret != (int)iov.iov_len)
		kingest_count_error(KINGEST_CH_UDP);
	kfree(p);
}

#define UPCALL_ARGC	6
#define UPCALL_ENVC	8

/* Everything one upcall needs, freed by upcall_cleanup(). */
struct kingest_upcall {
	char *argv[UPCALL_ARGC + 1];
	char *envp[UPCALL_ENVC + 1];
	char path[KINGEST_UPCALL_HELPER_MAX];
	char num[3][24];
	char hex[2 * KINGEST_UPCALL_MAX_HEX + 1];
	char env[UPCALL_ENVC][2 * KINGEST_UPCALL_MAX_HEX + 32];
};

/*
 * With UMH_WAIT_EXEC this runs inside call_usermodehelper_exec(), on our
 * own workqueue, so flushing that queue before unload means no module code
 * runs afterwards (with UMH_NO_WAIT it ran from the kernel's umh worker,
 * which unload could not wait for).
 */
static void upcall_cleanup(struct subprocess_info *info)
{
	kfree(info->data);
}

static void upcall_send(struct kingest_pending *p)
{
	u32 len = p->rec.len - KINGEST_RECORD_HDR_SIZE;
	struct subprocess_info *info;
	struct kingest_upcall *u;
	unsigned int i;
	int ret;

	u = kzalloc(sizeof(*u), GFP_KERNEL);
	if (!u)
		goto fail;
	kingest_upcall_helper(u->path, sizeof(u->path));
	snprintf(u->num[0], sizeof(u->num[0]), "%u", p->rec.type);
	snprintf(u->num[1], sizeof(u->num[1]), "%llu", p->rec.seq);
	snprintf(u->num[2], sizeof(u->num[2]), "%llu", p->rec.ts_ns);
	bin2hex(u->hex, p->rec.data, len);
	u->hex[2 * len] = '\0';

	u->argv[0] = u->path;
	u->argv[1] = "event";
	for (i = 0; i < 3; i++)
		u->argv[2 + i] = u->num[i];
	u->argv[5] = u->hex;

	snprintf(u->env[0], sizeof(u->env[0]), "KINGEST_TYPE=%s", u->num[0]);
	snprintf(u->env[1], sizeof(u->env[1]), "KINGEST_SEQ=%s", u->num[1]);
	snprintf(u->env[2], sizeof(u->env[2]), "KINGEST_TS_NS=%s", u->num[2]);
	snprintf(u->env[3], sizeof(u->env[3]), "KINGEST_LEN=%u", p->full_len);
	snprintf(u->env[4], sizeof(u->env[4]), "KINGEST_TRUNCATED=%u",
		 p->rec.flags & KINGEST_RECF_TRUNCATED ? 1 : 0);
	snprintf(u->env[5], sizeof(u->env[5]), "KINGEST_PAYLOAD=%s", u->hex);
	snprintf(u->env[6], sizeof(u->env[6]), "HOME=/");
	snprintf(u->env[7], sizeof(u->env[7]),
		 "PATH=/sbin:/bin:/usr/sbin:/usr/bin");
	for (i = 0; i < UPCALL_ENVC; i++)
		u->envp[i] = u->env[i];

	info = call_usermodehelper_setup(u->path, u->argv, u->envp, GFP_KERNEL,
					 NULL, upcall_cleanup, u);
	if (!info) {
		kfree(u);
		goto fail;
	}
	/*
	 * Returns once the helper was exec'd (not when it exits), having
	 * called upcall_cleanup() on every path: only our worker waits, and
	 * upcall_rate bounds how often.
	 */
	ret = call_usermodehelper_exec(info, UMH_WAIT_EXEC);
	kingest_count(KINGEST_CH_UPCALL, ret == 0);
	if (ret)
		kingest_count_error(KINGEST_CH_UPCALL);
	kfree(p);
	return;
fail:
	kingest_count(KINGEST_CH_UPCALL, false);
	kingest_count_error(KINGEST_CH_UPCALL);
	kfree(p);
}

bool kingest_udp_emit(const struct kingest_event *ev)
{
	return defer_enqueue(&udp_chan, ev);
}

bool kingest_upcall_emit(const struct kingest_event *ev)
{
	return defer_enqueue(&upcall_chan, ev);
}

static void defer_chan_init(struct kingest_defer *dc)
{
	spin_lock_init(&dc->lock);
	INIT_LIST_HEAD(&dc->queue);
	INIT_WORK(&dc->work, defer_work);
	dc->window_start = jiffies;
}

int kingest_defer_init(void)
{
	int err = -ENOMEM;

	defer_chan_init(&udp_chan);
	defer_chan_init(&upcall_chan);
	udp_chan.wq = alloc_ordered_workqueue("kingest_udp", 0);
	if (!udp_chan.wq)
		return -ENOMEM;
	upcall_chan.wq = alloc_ordered_workqueue("kingest_upcall", 0);
	if (!upcall_chan.wq)
		goto err_udp;
	err = sock_create_kern(&init_net, AF_INET, SOCK_DGRAM, IPPROTO_UDP,
			       &udp_sock);
	if (err)
		goto err_upcall;
	return 0;

err_upcall:
	destroy_workqueue(upcall_chan.wq);
err_udp:
	destroy_workqueue(udp_chan.wq);
	return err;
}

static void defer_chan_stop(struct kingest_defer *dc)
{
	unsigned long flags;

	spin_lock_irqsave(&dc->lock, flags);
	dc->stopped = true;
	spin_unlock_irqrestore(&dc->lock, flags);
}

/* After this no event is queued and no upcall is in flight. */
void kingest_defer_stop(void)
{
	defer_chan_stop(&udp_chan);
	defer_chan_stop(&upcall_chan);
	/* Every upcall_cleanup() has returned once its worker is done. */
	flush_workqueue(udp_chan.wq);
	flush_workqueue(upcall_chan.wq);
}

void kingest_defer_exit(void)
{
	destroy_workqueue(upcall_chan.wq);
	destroy_workqueue(udp_chan.wq);
	sock_release(udp_sock);
}
