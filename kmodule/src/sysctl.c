// SPDX-License-Identifier: GPL-2.0
/*
 * /proc/sys/kingest/: every setting with its range. Integers go through
 * proc_dointvec_minmax(); the two strings are parsed into a scratch buffer
 * and only stored once valid, so a bad write changes nothing.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/inet.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/sysctl.h>

#include "kingest.h"

/* Protects the two strings against torn reads. */
static DEFINE_SPINLOCK(cfg_lock);
static __be32 udp_addr_be;

static int rate_min = KINGEST_RATE_MIN_HZ;
static int rate_max = KINGEST_RATE_MAX_HZ;
static int sensors_max = KINGEST_MAX_SENSORS;
static int image_max = KINGEST_MAX_PAYLOAD - sizeof(struct kingest_thermal_image);
static int port_max = 65535;
static int upcall_rate_max = 1000;

void kingest_udp_dest(__be32 *addr, u16 *port)
{
	*addr = READ_ONCE(udp_addr_be);
	*port = READ_ONCE(kingest_cfg.udp_port);
}

void kingest_upcall_helper(char *buf, size_t size)
{
	spin_lock_bh(&cfg_lock);
	strscpy(buf, kingest_cfg.upcall_helper, size);
	spin_unlock_bh(&cfg_lock);
}

/* proc_handler takes a const table since 6.11 (probed in Kbuild). */
#ifdef KINGEST_CONST_CTL_TABLE
#define KINGEST_CTL_TABLE const struct ctl_table
#else
#define KINGEST_CTL_TABLE struct ctl_table
#endif

/*
 * Reads or writes table->data through a scratch copy of scratch_len bytes
 * (bigger than the setting, so an overlong write is seen, not truncated).
 */
static int string_handler(KINGEST_CTL_TABLE * table, int write, void *buffer,
			  size_t *lenp, loff_t *ppos, char *scratch,
			  size_t scratch_len)
{
	struct ctl_table t = *table;

	t.data = scratch;
	t.maxlen = scratch_len;
	if (!write) {
		spin_lock_bh(&cfg_lock);
		strscpy(scratch, table->data, scratch_len);
		spin_unlock_bh(&cfg_lock);
		return proc_dostring(&t, 0, buffer, lenp, ppos);
	}
	/* A setting is written whole, in one write() at offset 0. */
	if (*ppos)
		return -EINVAL;
	memset(scratch, 0, scratch_len);
	return proc_dostring(&t, 1, buffer, lenp, ppos);
}

static int udp_addr_handler(KINGEST_CTL_TABLE *table, int write, void *buffer,
			    size_t *lenp, loff_t *ppos)
{
	char tmp[32];
	const char *end;
	__be32 addr;
	int err;

	err = string_handler(table, write, buffer, lenp, ppos, tmp, sizeof(tmp));
	if (err || !write)
		return err;
	if (strlen(tmp) >= sizeof(kingest_cfg.udp_addr) ||
	    !in4_pton(tmp, -1, (u8 *)&addr, '\0', &end) || *end)
		return -EINVAL;
	spin_lock_bh(&cfg_lock);
	strscpy(kingest_cfg.udp_addr, tmp, sizeof(kingest_cfg.udp_addr));
	WRITE_ONCE(udp_addr_be, addr);
	spin_unlock_bh(&cfg_lock);
	return 0;
}

static int upcall_helper_handler(KINGEST_CTL_TABLE *table, int write,
				 void *buffer, size_t *lenp, loff_t *ppos)
{
	char *tmp;
	int err;

	tmp = kmalloc(KINGEST_UPCALL_HELPER_MAX * 2, GFP_KERNEL);
	if (!tmp)
		return -ENOMEM;
	err = string_handler(table, write, buffer, lenp, ppos, tmp,
			     KINGEST_UPCALL_HELPER_MAX * 2);
	if (err || !write)
		goto out;
	if (tmp[0] != '/' || strlen(tmp) >= KINGEST_UPCALL_HELPER_MAX) {
		err = -EINVAL;
		goto out;
	}
	spin_lock_bh(&cfg_lock);
	strscpy(kingest_cfg.upcall_helper, tmp, KINGEST_UPCALL_HELPER_MAX);
	spin_unlock_bh(&cfg_lock);
out:
	kfree(tmp);
	return err;
}

#define KINGEST_INT(_name, _field, _min, _max) {	\
	.procname = _name,				\
	.data = &kingest_cfg._field,			\
	.maxlen = sizeof(int),				\
	.mode = 0644,					\
	.proc_handler = proc_dointvec_minmax,		\
	.extra1 = _min,					\
	.extra2 = _max,					\
}

#define KINGEST_ENABLE(_name, _ch) \
	KINGEST_INT(_name, enable[_ch], SYSCTL_ZERO, SYSCTL_ONE)

static struct ctl_table kingest_table[] = {
	KINGEST_INT(KINGEST_SYSCTL_RATE_HZ, rate_hz, &rate_min, &rate_max),
	KINGEST_INT(KINGEST_SYSCTL_SENSOR_COUNT, sensor_count, SYSCTL_ONE,
		    &sensors_max),
	KINGEST_INT(KINGEST_SYSCTL_SENSORS_ENABLE, sensors_enable, SYSCTL_ZERO,
		    SYSCTL_ONE),
	KINGEST_INT(KINGEST_SYSCTL_IMAGE_SIZE, image_size, SYSCTL_ZERO,
		    &image_max),
	KINGEST_INT(KINGEST_SYSCTL_NETDEV_ENABLE, netdev_enable, SYSCTL_ZERO,
		    SYSCTL_ONE),
	KINGEST_ENABLE(KINGEST_SYSCTL_RING_ENABLE, KINGEST_CH_RING),
	KINGEST_ENABLE(KINGEST_SYSCTL_GENL_ENABLE, KINGEST_CH_GENL),
	KINGEST_ENABLE(KINGEST_SYSCTL_SIGNAL_ENABLE, KINGEST_CH_SIGNAL),
	KINGEST_ENABLE(KINGEST_SYSCTL_UPCALL_ENABLE, KINGEST_CH_UPCALL),
	KINGEST_ENABLE(KINGEST_SYSCTL_UDP_ENABLE, KINGEST_CH_UDP),
	KINGEST_ENABLE(KINGEST_SYSCTL_PROC_ENABLE, KINGEST_CH_PROC),
	KINGEST_INT(KINGEST_SYSCTL_UDP_PORT, udp_port, SYSCTL_ONE, &port_max),
	KINGEST_INT(KINGEST_SYSCTL_UPCALL_RATE, upcall_rate, SYSCTL_ZERO,
		    &upcall_rate_max),
	{
		.procname = KINGEST_SYSCTL_UDP_ADDR,
		.data = kingest_cfg.udp_addr,
		.maxlen = sizeof(kingest_cfg.udp_addr),
		.mode = 0644,
		.proc_handler = udp_addr_handler,
	},
	{
		.procname = KINGEST_SYSCTL_UPCALL_HELPER,
		.data = kingest_cfg.upcall_helper,
		.maxlen = sizeof(kingest_cfg.upcall_helper),
		.mode = 0644,
		.proc_handler = upcall_helper_handler,
	},
#ifndef KINGEST_SIZED_SYSCTL	/* 6.6+ size it with ARRAY_SIZE() */
	{ }
#endif
};

static struct ctl_table_header *sysctl_header;

int kingest_sysctl_init(void)
{
	if (!in4_pton(kingest_cfg.udp_addr, -1, (u8 *)&udp_addr_be, '\0', NULL))
		return -EINVAL;
	sysctl_header = register_sysctl(KINGEST_SYSCTL_DIR, kingest_table);
	return sysctl_header ? 0 : -ENOMEM;
}

void kingest_sysctl_exit(void)
{
	unregister_sysctl_table(sysctl_header);
}
