// SPDX-License-Identifier: GPL-2.0
/*
 * kingest: produces kernel events on every kernel-to-user channel Ingest
 * reads (mmap ring, generic netlink, RT signals, usermode helper upcall,
 * UDP, /proc seq_files) and takes commands by ioctl and sysctl.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/log2.h>

#include "kingest.h"

static unsigned int ring_size_kb = 1024;
module_param(ring_size_kb, uint, 0444);
MODULE_PARM_DESC(ring_size_kb, "mmap ring data area in KiB, power of two, 64..65536");

struct kingest_counters kingest_stats[KINGEST_CH_COUNT];

struct kingest_config kingest_cfg = {
	.rate_hz = 10,
	.sensor_count = 4,
	.sensors_enable = 1,
	.image_size = 0,
	.netdev_enable = 1,
	.enable = {
		[KINGEST_CH_RING] = 1,
		[KINGEST_CH_GENL] = 1,
		[KINGEST_CH_SIGNAL] = 1,
		[KINGEST_CH_UPCALL] = 0,
		[KINGEST_CH_UDP] = 1,
		[KINGEST_CH_PROC] = 1,
	},
	.udp_port = 5555,
	.upcall_rate = 10,
	.udp_addr = "127.0.0.1",
	.upcall_helper = "/sbin/kingest-upcall",
};

u32 kingest_enabled_mask(void)
{
	u32 mask = 0;
	unsigned int ch;

	for (ch = 0; ch < KINGEST_CH_COUNT; ch++)
		if (kingest_enabled(ch))
			mask |= 1U << ch;
	return mask;
}

u32 kingest_emit(const struct kingest_event *ev, u32 mask)
{
	u32 done = 0;

	mask &= kingest_enabled_mask();
	if ((mask & KINGEST_CHF_RING) && kingest_ring_emit(ev))
		done |= KINGEST_CHF_RING;
	/* Channels nobody listens to take no sequence number and count nothing. */
	if ((mask & KINGEST_CHF_GENL) && kingest_genl_has_listeners() &&
	    kingest_genl_emit(ev))
		done |= KINGEST_CHF_GENL;
	if ((mask & KINGEST_CHF_SIGNAL) && kingest_signal_has_subscribers() &&
	    kingest_signal_emit(ev))
		done |= KINGEST_CHF_SIGNAL;
	if ((mask & KINGEST_CHF_UPCALL) && kingest_upcall_emit(ev))
		done |= KINGEST_CHF_UPCALL;
	if ((mask & KINGEST_CHF_UDP) && kingest_udp_emit(ev))
		done |= KINGEST_CHF_UDP;
	return done;
}

static int __init kingest_init(void)
{
	int err;

	if (!is_power_of_2(ring_size_kb) || ring_size_kb < 64 ||
	    ring_size_kb > 65536) {
		pr_err("ring_size_kb=%u: need a power of two in 64..65536\n",
		       ring_size_kb);
		return -EINVAL;
	}

	err = kingest_defer_init();
	if (err)
		return err;
	err = kingest_genl_init();
	if (err)
		goto err_defer;
	err = kingest_dev_init(ring_size_kb);
	if (err)
		goto err_genl;
	err = kingest_proc_init();
	if (err)
		goto err_dev;
	err = kingest_sysctl_init();
	if (err)
		goto err_proc;
	/* Sources last: every channel is ready before the first event. */
	err = kingest_sensors_init();
	if (err)
		goto err_sysctl;
	pr_info("loaded, ring %u KiB\n", ring_size_kb);
	return 0;

err_sysctl:
	kingest_sysctl_exit();
err_proc:
	kingest_proc_exit();
err_dev:
	kingest_dev_exit();
err_genl:
	kingest_genl_exit();
err_defer:
	kingest_defer_stop();
	kingest_defer_exit();
	return err;
}

static void __exit kingest_exit(void)
{
	/*
	 * No file is open (each holds a module reference), so only the
	 * sources can still produce: stop them, then drain the deferred
	 * channels, then take the channels down.
	 */
	kingest_sensors_exit();
	kingest_defer_stop();
	kingest_sysctl_exit();
	kingest_proc_exit();
	kingest_dev_exit();
	kingest_signal_exit();
	kingest_genl_exit();
	kingest_defer_exit();
	pr_info("unloaded\n");
}

module_init(kingest_init);
module_exit(kingest_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("Ingest project");
MODULE_DESCRIPTION("Kernel event producer for every kernel-to-user channel");
