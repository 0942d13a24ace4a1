// SPDX-License-Identifier: GPL-2.0
/*
 * /proc/kingest/stats and /proc/kingest/sensors. Both iterate with
 * seq_operations, one record per line, so reads of any size and offset
 * see consistent lines.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/proc_fs.h>
#include <linux/seq_file.h>

#include "kingest.h"

static const char *const channel_names[KINGEST_CH_COUNT] = {
	[KINGEST_CH_RING] = "ring",
	[KINGEST_CH_GENL] = "genl",
	[KINGEST_CH_SIGNAL] = "signal",
	[KINGEST_CH_UPCALL] = "upcall",
	[KINGEST_CH_UDP] = "udp",
	[KINGEST_CH_PROC] = "proc",
};

static struct proc_dir_entry *proc_dir;

/* The iterator is the index plus one, so that index 0 is not NULL. */
static void *index_start(loff_t pos, loff_t count)
{
	return pos < count ? (void *)(uintptr_t)(pos + 1) : NULL;
}

static unsigned int index_of(void *v)
{
	return (uintptr_t)v - 1;
}

static void *stats_start(struct seq_file *m, loff_t *pos)
{
	return index_start(*pos, KINGEST_CH_COUNT);
}

static void *stats_next(struct seq_file *m, void *v, loff_t *pos)
{
	++*pos;
	return index_start(*pos, KINGEST_CH_COUNT);
}

static void index_stop(struct seq_file *m, void *v)
{
}

static int stats_show(struct seq_file *m, void *v)
{
	unsigned int ch = index_of(v);

	seq_printf(m, "%s emitted %lld dropped %lld errors %lld\n",
		   channel_names[ch],
		   (long long)atomic64_read(&kingest_stats[ch].emitted),
		   (long long)atomic64_read(&kingest_stats[ch].dropped),
		   (long long)atomic64_read(&kingest_stats[ch].errors));
	return 0;
}

static const struct seq_operations stats_seq_ops = {
	.start = stats_start,
	.next = stats_next,
	.stop = index_stop,
	.show = stats_show,
};

static loff_t sensors_shown(void)
{
	if (!kingest_enabled(KINGEST_CH_PROC))
		return 0;
	return min_t(int, READ_ONCE(kingest_cfg.sensor_count),
		     KINGEST_MAX_SENSORS);
}

static void *sensors_start(struct seq_file *m, loff_t *pos)
{
	return index_start(*pos, sensors_shown());
}

static void *sensors_next(struct seq_file *m, void *v, loff_t *pos)
{
	++*pos;
	return index_start(*pos, sensors_shown());
}

static int sensors_show(struct seq_file *m, void *v)
{
	unsigned int id = index_of(v);
	struct kingest_sensor_state s;

	kingest_sensor_get(id, &s);
	seq_printf(m, "%u %d %d %llu %d\n", id, s.milli_celsius, s.threshold_mc,
		   s.ts_ns, s.ts_ns && s.milli_celsius > s.threshold_mc);
	/* A line cut by a short buffer is shown again: count it once. */
	if (!seq_has_overflowed(m))
		kingest_count(KINGEST_CH_PROC, true);
	return 0;
}

static const struct seq_operations sensors_seq_ops = {
	.start = sensors_start,
	.next = sensors_next,
	.stop = index_stop,
	.show = sensors_show,
};

int kingest_proc_init(void)
{
	proc_dir = proc_mkdir(KINGEST_PROC_DIR, NULL);
	if (!proc_dir)
		return -ENOMEM;
	if (!proc_create_seq(KINGEST_PROC_STATS, 0444, proc_dir, &stats_seq_ops) ||
	    !proc_create_seq(KINGEST_PROC_SENSORS, 0444, proc_dir,
			     &sensors_seq_ops)) {
		proc_remove(proc_dir);
		return -ENOMEM;
	}
	return 0;
}

void kingest_proc_exit(void)
{
	proc_remove(proc_dir);
}
