// SPDX-License-Identifier: GPL-2.0
/*
 * Event sources: a bank of simulated cold-room temperature sensors read by
 * an hrtimer (plus an optional "thermal image" per tick, to exercise large
 * payloads), and a netdevice notifier for real kernel events.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/hrtimer.h>
#include <linux/netdevice.h>
#include <linux/random.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/timekeeping.h>

#include "kingest.h"

#define COLD_ROOM_MC		(-18000)	/* set point of the room */
#define DEFAULT_THRESHOLD_MC	(-15000)
#define DRIFT_PERIOD_TICKS	200		/* triangle wave of +-1.5 C */
#define DRIFT_MC		1500

static DEFINE_SPINLOCK(sensor_lock);
static struct kingest_sensor_state sensors[KINGEST_MAX_SENSORS];
static struct hrtimer sensor_timer;
static u64 tick;
static u32 image_frame;
static u8 *image_buf;	/* used by the timer callback only */

static s32 simulate_reading(u32 id)
{
	s32 phase = tick % DRIFT_PERIOD_TICKS;
	s32 up = phase < DRIFT_PERIOD_TICKS / 2 ? phase : DRIFT_PERIOD_TICKS - phase;
	/* A triangle wave between -DRIFT_MC and +DRIFT_MC, plus noise. */
	s32 drift = up * 4 * DRIFT_MC / DRIFT_PERIOD_TICKS - DRIFT_MC;

	return COLD_ROOM_MC + (s32)id * 250 + drift +
	       (s32)get_random_u32_below(401) - 200;
}

static u16 sensor_sig_detail(const struct kingest_sensor_reading *r)
{
	s32 degc = clamp(r->milli_celsius / 1000, -128, 127);

	return (r->flags & KINGEST_SENSOR_ALARM ? 0x8000 : 0) |
	       (r->sensor_id & 0x7f) << 8 | (u8)(s8)degc;
}

static void read_sensor(u32 id, u64 now)
{
	struct kingest_sensor_reading r = { .sensor_id = id };
	struct kingest_event ev = {
		.type = KINGEST_EV_SENSOR,
		.len = sizeof(r),
		.ts_ns = now,
		.data = &r,
	};

	r.milli_celsius = simulate_reading(id);
	spin_lock(&sensor_lock);
	r.threshold_mc = sensors[id].threshold_mc;
	sensors[id].milli_celsius = r.milli_celsius;
	sensors[id].ts_ns = now;
	spin_unlock(&sensor_lock);
	if (r.milli_celsius > r.threshold_mc)
		r.flags |= KINGEST_SENSOR_ALARM;
	ev.sig_detail = sensor_sig_detail(&r);
	kingest_emit(&ev, KINGEST_CHF_PUSH);
}

static void take_image(u32 size, u64 now)
{
	struct kingest_thermal_image *img = (void *)image_buf;
	struct kingest_event ev = {
		.type = KINGEST_EV_IMAGE,
		.len = sizeof(*img) + size,
		.ts_ns = now,
		.data = img,
	};
	u32 i;

	img->sensor_id = 0;
	img->frame = ++image_frame;
	img->size = size;
	img->reserved = 0;
	for (i = 0; i < size; i++)
		img->pixels[i] = (u8)(img->frame + i);
	ev.sig_detail = (u16)img->frame;
	kingest_emit(&ev, KINGEST_CHF_PUSH);
}

static enum hrtimer_restart sensor_tick(struct hrtimer *timer)
{
	u32 rate = clamp(READ_ONCE(kingest_cfg.rate_hz), KINGEST_RATE_MIN_HZ,
			 KINGEST_RATE_MAX_HZ);

	if (READ_ONCE(kingest_cfg.sensors_enable)) {
		u32 n = min_t(u32, READ_ONCE(kingest_cfg.sensor_count),
			      KINGEST_MAX_SENSORS);
		u32 size = min_t(u32, READ_ONCE(kingest_cfg.image_size),
				 KINGEST_MAX_PAYLOAD - sizeof(struct kingest_thermal_image));
		u64 now = ktime_get_real_ns();
		u32 id;

		tick++;
		for (id = 0; id < n; id++)
			read_sensor(id, now);
		if (size)
			take_image(size, now);
	}
	/* A new rate takes effect from the next period. */
	hrtimer_forward_now(timer, ns_to_ktime(NSEC_PER_SEC / rate));
	return HRTIMER_RESTART;
}

int kingest_sensor_set_threshold(u32 id, s32 threshold_mc)
{
	if (id >= KINGEST_MAX_SENSORS ||
	    threshold_mc < KINGEST_THRESHOLD_MIN_MC ||
	    threshold_mc > KINGEST_THRESHOLD_MAX_MC)
		return -EINVAL;
	spin_lock_bh(&sensor_lock);
	sensors[id].threshold_mc = threshold_mc;
	spin_unlock_bh(&sensor_lock);
	return 0;
}

void kingest_sensor_get(u32 id, struct kingest_sensor_state *out)
{
	spin_lock_bh(&sensor_lock);
	*out = sensors[id];
	spin_unlock_bh(&sensor_lock);
}

static u32 netdev_event_code(unsigned long event)
{
	switch (event) {
	case NETDEV_REGISTER:
		return KINGEST_NETDEV_REGISTER;
	case NETDEV_UNREGISTER:
		return KINGEST_NETDEV_UNREGISTER;
	case NETDEV_UP:
		return KINGEST_NETDEV_UP;
	case NETDEV_DOWN:
		return KINGEST_NETDEV_DOWN;
	case NETDEV_CHANGE:
		return KINGEST_NETDEV_CHANGE;
	default:
		return 0;
	}
}

static int kingest_netdev_event(struct notifier_block *nb, unsigned long event,
				void *ptr)
{
	struct net_device *dev = netdev_notifier_info_to_dev(ptr);
	struct kingest_netdev_event e = { };
	struct kingest_event ev = {
		.type = KINGEST_EV_NETDEV,
		.len = sizeof(e),
		.data = &e,
	};

	e.event = netdev_event_code(event);
	if (!e.event || !READ_ONCE(kingest_cfg.netdev_enable))
		return NOTIFY_DONE;
	e.ifindex = dev->ifindex;
	e.flags = dev->flags;
	e.mtu = dev->mtu;
	strscpy(e.name, dev->name, sizeof(e.name));
	ev.ts_ns = ktime_get_real_ns();
	ev.sig_detail = e.event << 12 | (e.ifindex & 0xfff);
	kingest_emit(&ev, KINGEST_CHF_PUSH);
	return NOTIFY_DONE;
}

static struct notifier_block kingest_netdev_nb = {
	.notifier_call = kingest_netdev_event,
};

int kingest_sensors_init(void)
{
	u32 rate = READ_ONCE(kingest_cfg.rate_hz);
	unsigned int i;
	int err;

	image_buf = kzalloc(KINGEST_MAX_PAYLOAD, GFP_KERNEL);
	if (!image_buf)
		return -ENOMEM;
	for (i = 0; i < KINGEST_MAX_SENSORS; i++)
		sensors[i].threshold_mc = DEFAULT_THRESHOLD_MC;

	err = register_netdevice_notifier(&kingest_netdev_nb);
	if (err) {
		kfree(image_buf);
		return err;
	}
	/* Soft mode: the callback runs in softirq, where netlink may be used. */
	hrtimer_init(&sensor_timer, CLOCK_MONOTONIC, HRTIMER_MODE_REL_SOFT);
	sensor_timer.function = sensor_tick;
	hrtimer_start(&sensor_timer, ns_to_ktime(NSEC_PER_SEC / rate),
		      HRTIMER_MODE_REL_SOFT);
	return 0;
}

void kingest_sensors_exit(void)
{
	hrtimer_cancel(&sensor_timer);
	unregister_netdevice_notifier(&kingest_netdev_nb);
	kfree(image_buf);
}
