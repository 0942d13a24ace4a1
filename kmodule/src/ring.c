// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/kingest: the mmap ring, poll, KINGEST_IOC_WAIT and the command
 * ioctls. The ring protocol is described in the uapi header; in short the
 * kernel publishes producer_pos with release semantics after writing a
 * record, user space publishes consumer_pos the same way, and the kernel
 * never trusts consumer_pos without validating it.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/poll.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/timekeeping.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>
#include <linux/wait.h>

#include "kingest.h"

#define RING_META_OFF		(KINGEST_MMAP_META_PGOFF * PAGE_SIZE)
#define RING_CONSUMER_OFF	(KINGEST_MMAP_CONSUMER_PGOFF * PAGE_SIZE)
#define RING_PRODUCER_OFF	(KINGEST_MMAP_PRODUCER_PGOFF * PAGE_SIZE)
#define RING_DATA_OFF		(KINGEST_MMAP_DATA_PGOFF * PAGE_SIZE)

struct kingest_ring {
	spinlock_t lock;		/* serialises producers */
	void *base;			/* vmalloc_user(): meta, pages, data */
	struct kingest_ring_consumer *consumer;
	struct kingest_ring_producer *producer;
	u8 *data;
	u64 data_size;
	u64 mask;
	unsigned long total_pages;
	/* kernel-private state, under lock */
	u64 prod_pos;
	u64 cons_ok;			/* last consumer_pos that passed validation */
	u64 cons_bad;			/* last rejected value, to count each once */
	u64 seq;
	wait_queue_head_t wq;
};

static struct kingest_ring ring;

/*
 * Per open file: the read position of the last KINGEST_IOC_WAIT_READ, which
 * poll() then uses instead of the published consumer position.
 */
struct kingest_file {
	u64 read_pos;
	bool has_read_pos;	/* store-release after read_pos */
};

static bool ring_consumer_valid(u64 cons, u64 prod, u64 cons_ok)
{
	return !(cons & (KINGEST_RECORD_ALIGN - 1)) && cons >= cons_ok &&
	       cons <= prod;
}

/* Caller holds ring.lock. */
static u64 ring_consumer_locked(void)
{
	/* Pairs with the consumer's store-release after reading records. */
	u64 cons = smp_load_acquire(&ring.consumer->consumer_pos);

	if (ring_consumer_valid(cons, ring.prod_pos, ring.cons_ok)) {
		ring.cons_ok = cons;
	} else if (cons != ring.cons_bad) {
		ring.cons_bad = cons;
		WRITE_ONCE(ring.producer->bad_consumer,
			   ring.producer->bad_consumer + 1);
		kingest_count_error(KINGEST_CH_RING);
	}
	return ring.cons_ok;
}

static u64 ring_available(void)
{
	unsigned long flags;
	u64 avail;

	spin_lock_irqsave(&ring.lock, flags);
	avail = ring.prod_pos - ring_consumer_locked();
	spin_unlock_irqrestore(&ring.lock, flags);
	return avail;
}

bool kingest_ring_emit(const struct kingest_event *ev)
{
	u32 len = KINGEST_RECORD_HDR_SIZE + ev->len;
	u64 total = KINGEST_RECORD_ALIGN_UP(len);
	struct kingest_record *rec;
	unsigned long flags;
	u64 off, tail, need;
	bool ok = false;

	spin_lock_irqsave(&ring.lock, flags);
	ring.seq++;
	off = ring.prod_pos & ring.mask;
	tail = ring.data_size - off;
	need = tail < total ? tail + total : total;
	if (ring.prod_pos - ring_consumer_locked() + need > ring.data_size) {
		WRITE_ONCE(ring.producer->dropped, ring.producer->dropped + 1);
		goto out;
	}
	if (tail < total) {
		/* Records never wrap: pad to the end, restart at offset 0. */
		rec = (struct kingest_record *)(ring.data + off);
		rec->len = tail;
		rec->type = KINGEST_EV_PAD;
		rec->channel = KINGEST_CH_RING;
		rec->flags = 0;
		ring.prod_pos += tail;
		off = 0;
	}
	rec = (struct kingest_record *)(ring.data + off);
	rec->len = len;
	rec->type = ev->type;
	rec->channel = KINGEST_CH_RING;
	rec->flags = 0;
	rec->seq = ring.seq;
	rec->ts_ns = ev->ts_ns;
	memcpy(rec->data, ev->data, ev->len);
	ring.prod_pos += total;
	/* Pairs with the consumer's load-acquire of producer_pos. */
	smp_store_release(&ring.producer->producer_pos, ring.prod_pos);
	ok = true;
out:
	spin_unlock_irqrestore(&ring.lock, flags);
	kingest_count(KINGEST_CH_RING, ok);
	if (ok && wq_has_sleeper(&ring.wq))
		wake_up_interruptible(&ring.wq);
	return ok;
}

/* Bytes the producer published beyond read_pos; U64_MAX if read_pos is bogus. */
static u64 ring_unread(u64 read_pos)
{
	/* Pairs with the store-release of producer_pos in kingest_ring_emit(). */
	u64 prod = smp_load_acquire(&ring.producer->producer_pos);
	u64 unread = prod - read_pos;

	if ((read_pos & (KINGEST_RECORD_ALIGN - 1)) || unread > ring.data_size)
		return U64_MAX;
	return unread;
}

static __poll_t kingest_poll(struct file *file, poll_table *pt)
{
	struct kingest_file *kf = file->private_data;
	u64 pending;

	poll_wait(file, &ring.wq, pt);
	/* Pairs with the store-release in ioctl_wait_read(). */
	if (smp_load_acquire(&kf->has_read_pos))
		pending = ring_unread(READ_ONCE(kf->read_pos));
	else
		pending = ring_available();
	return pending ? EPOLLIN | EPOLLRDNORM : 0;
}

static int kingest_mmap(struct file *file, struct vm_area_struct *vma)
{
	unsigned long pages = vma_pages(vma);
	unsigned long pgoff = vma->vm_pgoff;
	bool consumer_only = pgoff == KINGEST_MMAP_CONSUMER_PGOFF && pages == 1;

	if (!(vma->vm_flags & VM_MAYSHARE))
		return -EINVAL;
	if (pgoff >= ring.total_pages || pages > ring.total_pages - pgoff)
		return -EINVAL;
	if (vma->vm_flags & VM_WRITE) {
		if (!consumer_only)
			return -EPERM;
	} else if (!consumer_only) {
		/* No mprotect(PROT_WRITE) later on the kernel's pages. */
#ifdef KINGEST_HAVE_VM_FLAGS_CLEAR	/* 6.3+, probed in Kbuild */
		vm_flags_clear(vma, VM_MAYWRITE);
#else
		vma->vm_flags &= ~VM_MAYWRITE;
#endif
	}
	return remap_vmalloc_range(vma, ring.base, pgoff);
}

static int kingest_open(struct inode *inode, struct file *file)
{
	struct kingest_file *kf = kzalloc(sizeof(*kf), GFP_KERNEL);

	if (!kf)
		return -ENOMEM;
	file->private_data = kf;
	return nonseekable_open(inode, file);
}

static int kingest_release(struct inode *inode, struct file *file)
{
	kingest_signal_unsubscribe(file);
	kfree(file->private_data);
	return 0;
}

static long ioctl_get_info(void __user *uarg)
{
	struct kingest_info info = {
		.abi_version = KINGEST_ABI_VERSION,
		.page_size = PAGE_SIZE,
		.ring_data_size = ring.data_size,
		.channel_count = KINGEST_CH_COUNT,
		.max_sensors = KINGEST_MAX_SENSORS,
		.max_payload = KINGEST_MAX_PAYLOAD,
		.enabled = kingest_enabled_mask(),
	};

	return copy_to_user(uarg, &info, sizeof(info)) ? -EFAULT : 0;
}

static long ioctl_wait(void __user *uarg)
{
	struct kingest_wait w;
	long ret;

	if (copy_from_user(&w, uarg, sizeof(w)))
		return -EFAULT;
	if (w.reserved || w.timeout_ms > KINGEST_WAIT_MAX_MS)
		return -EINVAL;
	w.available = ring_available();
	if (!w.available && w.timeout_ms) {
		ret = wait_event_interruptible_timeout(ring.wq,
						       ring_available() != 0,
						       msecs_to_jiffies(w.timeout_ms));
		if (ret < 0)
			return -EINTR;
		w.available = ring_available();
	}
	return copy_to_user(uarg, &w, sizeof(w)) ? -EFAULT : 0;
}

/*
 * ABI 2: wait for records beyond the caller's read position, not beyond the
 * published (acknowledged) consumer position, so a reader that acknowledges
 * late does not find the ring "readable" while its batches are in flight.
 */
static long ioctl_wait_read(struct file *file, void __user *uarg)
{
	struct kingest_file *kf = file->private_data;
	struct kingest_wait_read w;
	long ret;

	if (copy_from_user(&w, uarg, sizeof(w)))
		return -EFAULT;
	if (w.reserved || w.timeout_ms > KINGEST_WAIT_MAX_MS)
		return -EINVAL;
	w.available = ring_unread(w.read_pos);
	if (w.available == U64_MAX)
		return -EINVAL;
	WRITE_ONCE(kf->read_pos, w.read_pos);
	/* Pairs with the load-acquire in kingest_poll(). */
	smp_store_release(&kf->has_read_pos, true);
	if (!w.available && w.timeout_ms) {
		ret = wait_event_interruptible_timeout(ring.wq,
						       ring_unread(w.read_pos) != 0,
						       msecs_to_jiffies(w.timeout_ms));
		if (ret < 0)
			return -EINTR;
		w.available = ring_unread(w.read_pos);
		/* The producer moved a whole ring past it: it went stale. */
		if (w.available == U64_MAX)
			return -EINVAL;
	}
	w.producer_pos = w.read_pos + w.available;
	return copy_to_user(uarg, &w, sizeof(w)) ? -EFAULT : 0;
}

static long ioctl_subscribe(struct file *file, void __user *uarg)
{
	struct kingest_signal_sub sub;

	if (copy_from_user(&sub, uarg, sizeof(sub)))
		return -EFAULT;
	if (sub.flags)
		return -EINVAL;
	return kingest_signal_subscribe(file, sub.signo);
}

static long ioctl_set_rate(void __user *uarg)
{
	u32 rate;

	if (get_user(rate, (u32 __user *)uarg))
		return -EFAULT;
	if (rate < KINGEST_RATE_MIN_HZ || rate > KINGEST_RATE_MAX_HZ)
		return -EINVAL;
	WRITE_ONCE(kingest_cfg.rate_hz, rate);
	return 0;
}

static long ioctl_set_threshold(void __user *uarg)
{
	struct kingest_threshold t;

	if (copy_from_user(&t, uarg, sizeof(t)))
		return -EFAULT;
	return kingest_sensor_set_threshold(t.sensor_id, t.threshold_mc);
}

static long ioctl_get_stats(void __user *uarg)
{
	struct kingest_stats st = {
		.channel_count = KINGEST_CH_COUNT,
		.enabled = kingest_enabled_mask(),
	};
	unsigned int ch;

	for (ch = 0; ch < KINGEST_CH_COUNT; ch++) {
		st.ch[ch].emitted = atomic64_read(&kingest_stats[ch].emitted);
		st.ch[ch].dropped = atomic64_read(&kingest_stats[ch].dropped);
		st.ch[ch].errors = atomic64_read(&kingest_stats[ch].errors);
	}
	return copy_to_user(uarg, &st, sizeof(st)) ? -EFAULT : 0;
}

static long ioctl_reset_stats(void)
{
	unsigned int ch;

	for (ch = 0; ch < KINGEST_CH_COUNT; ch++) {
		atomic64_set(&kingest_stats[ch].emitted, 0);
		atomic64_set(&kingest_stats[ch].dropped, 0);
		atomic64_set(&kingest_stats[ch].errors, 0);
	}
	return 0;
}

static long ioctl_inject(void __user *uarg)
{
	struct kingest_event ev = { };
	struct kingest_inject inj;
	u8 *buf = NULL;
	long ret;

	if (copy_from_user(&inj, uarg, sizeof(inj)))
		return -EFAULT;
	if ((inj.channels & ~KINGEST_CHF_PUSH) || inj.type == KINGEST_EV_PAD ||
	    inj.reserved || inj.reserved2 || inj.len > KINGEST_MAX_PAYLOAD)
		return -EINVAL;
	if (inj.len) {
		buf = memdup_user(u64_to_user_ptr(inj.data), inj.len);
		if (IS_ERR(buf))
			return PTR_ERR(buf);
	}
	ev.type = inj.type;
	ev.len = inj.len;
	ev.data = buf;
	ev.ts_ns = ktime_get_real_ns();
	if (inj.len >= 2)
		ev.sig_detail = buf[0] | (buf[1] << 8);
	ret = kingest_emit(&ev, inj.channels);
	kfree(buf);
	return ret;
}

static long kingest_ioctl(struct file *file, unsigned int cmd,
			  unsigned long arg)
{
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case KINGEST_IOC_GET_INFO:
		return ioctl_get_info(uarg);
	case KINGEST_IOC_WAIT:
		return ioctl_wait(uarg);
	case KINGEST_IOC_WAIT_READ:
		return ioctl_wait_read(file, uarg);
	case KINGEST_IOC_SUBSCRIBE_SIGNAL:
		return ioctl_subscribe(file, uarg);
	case KINGEST_IOC_UNSUBSCRIBE_SIGNAL:
		kingest_signal_unsubscribe(file);
		return 0;
	case KINGEST_IOC_GET_STATS:
		return ioctl_get_stats(uarg);
	case KINGEST_IOC_SET_RATE:
	case KINGEST_IOC_SET_THRESHOLD:
	case KINGEST_IOC_RESET_STATS:
	case KINGEST_IOC_INJECT:
		break;
	default:
		/* Ours, but with another size or direction: a bad size. */
		if (_IOC_TYPE(cmd) == KINGEST_IOC_MAGIC &&
		    _IOC_NR(cmd) <= _IOC_NR(KINGEST_IOC_WAIT_READ))
			return -EINVAL;
		return -ENOTTY;
	}

	/*
	 * The commands that change state need a file opened for writing:
	 * /dev/kingest is 0600 root, so the open decided who may, and a
	 * daemon does not need CAP_SYS_ADMIN for them.
	 */
	if (!(file->f_mode & FMODE_WRITE))
		return -EPERM;
	switch (cmd) {
	case KINGEST_IOC_SET_RATE:
		return ioctl_set_rate(uarg);
	case KINGEST_IOC_SET_THRESHOLD:
		return ioctl_set_threshold(uarg);
	case KINGEST_IOC_RESET_STATS:
		return ioctl_reset_stats();
	default:
		return ioctl_inject(uarg);
	}
}

static const struct file_operations kingest_fops = {
	.owner = THIS_MODULE,
	.open = kingest_open,
	.release = kingest_release,
	.poll = kingest_poll,
	.mmap = kingest_mmap,
	.unlocked_ioctl = kingest_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	/* No .llseek: nonseekable_open() makes lseek fail with -ESPIPE. */
};

static struct miscdevice kingest_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = KINGEST_DEVICE_NAME,
	.fops = &kingest_fops,
	.mode = 0600,
};

static void ring_init_meta(void)
{
	struct kingest_ring_meta *meta = ring.base + RING_META_OFF;

	meta->magic = KINGEST_RING_MAGIC;
	meta->abi_version = KINGEST_ABI_VERSION;
	meta->page_size = PAGE_SIZE;
	meta->header_size = KINGEST_RECORD_HDR_SIZE;
	meta->data_size = ring.data_size;
	meta->data_offset = RING_DATA_OFF;
	meta->producer_offset = RING_PRODUCER_OFF;
	meta->consumer_offset = RING_CONSUMER_OFF;
	meta->record_align = KINGEST_RECORD_ALIGN;
	meta->max_record = KINGEST_RECORD_MAX;
}

int kingest_dev_init(unsigned int ring_size_kb)
{
	int err;

	spin_lock_init(&ring.lock);
	init_waitqueue_head(&ring.wq);
	ring.data_size = (u64)ring_size_kb * 1024;
	ring.mask = ring.data_size - 1;
	ring.total_pages = KINGEST_MMAP_DATA_PGOFF + (ring.data_size >> PAGE_SHIFT);
	/* Zeroed, and VM_USERMAP so remap_vmalloc_range() may map it. */
	ring.base = vmalloc_user(ring.total_pages << PAGE_SHIFT);
	if (!ring.base)
		return -ENOMEM;
	ring.consumer = ring.base + RING_CONSUMER_OFF;
	ring.producer = ring.base + RING_PRODUCER_OFF;
	ring.data = ring.base + RING_DATA_OFF;
	ring_init_meta();

	err = misc_register(&kingest_misc);
	if (err) {
		vfree(ring.base);
		return err;
	}
	return 0;
}

void kingest_dev_exit(void)
{
	misc_deregister(&kingest_misc);
	vfree(ring.base);
}
