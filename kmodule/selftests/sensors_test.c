// SPDX-License-Identifier: GPL-2.0
/*
 * The event sources: the sensor bank (readings, thresholds, thermal
 * images) and the netdevice notifier, seen through the ring and, for the
 * signal payload encoding, through RT signals.
 */
#include <net/if.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "kt.h"

#define SIGNO (SIGRTMIN + 6)

/*
 * Runs the sensor timer until the ring got at least min_bytes (or 10 s
 * passed), then stops it and waits until the last tick has landed, so the
 * checks below never see half a tick however slow the guest is.
 */
static void run_sensors(struct kt_ring *r, uint64_t min_bytes)
{
	uint64_t start = kt_ring_produced(r), last;
	int i;

	kt_sysctl_set(KINGEST_SYSCTL_SENSORS_ENABLE, 1);
	for (i = 0; i < 1000 && kt_ring_produced(r) - start < min_bytes; i++)
		kt_sleep_ms(10);
	kt_sysctl_set(KINGEST_SYSCTL_SENSORS_ENABLE, 0);
	do {
		last = kt_ring_produced(r);
		kt_sleep_ms(50);
	} while (kt_ring_produced(r) != last);
}

static void test_readings(int fd, struct kt_ring *r)
{
	struct kingest_threshold t = { .sensor_id = 1, .threshold_mc = -30000 };
	const struct kingest_record *rec;
	int n = 0, bad = 0, bad_alarm = 0, sig_bad = 0, sigs = 0;
	uint64_t first = 0, last_ts = 0;
	uint32_t ids[4096];
	sigset_t set;
	siginfo_t si;
	struct timespec zero = { 0, 0 };

	kt_sysctl_set(KINGEST_SYSCTL_SENSOR_COUNT, 3);
	kt_sysctl_set(KINGEST_SYSCTL_RATE_HZ, 50);
	ioctl(fd, KINGEST_IOC_SET_THRESHOLD, &t);
	kt_ring_drain(r);
	run_sensors(r, 4 * 3 * KINGEST_RECORD_ALIGN_UP(KINGEST_RECORD_HDR_SIZE +
						      sizeof(struct kingest_sensor_reading)));
	while ((rec = kt_ring_next(r)) && n < 4096) {
		const struct kingest_sensor_reading *s = (const void *)rec->data;
		int base;

		if (!n)
			first = rec->seq;
		if (rec->type != KINGEST_EV_SENSOR ||
		    rec->len != KINGEST_RECORD_HDR_SIZE + sizeof(*s) ||
		    rec->seq != first + n || rec->ts_ns < last_ts ||
		    s->sensor_id != (uint32_t)(n % 3)) {
			bad++;
			n++;
			continue;
		}
		base = -18000 + 250 * (int)s->sensor_id;
		if (abs(s->milli_celsius - base) > 1800)
			bad++;
		if (s->threshold_mc != (s->sensor_id == 1 ? -30000 : -15000) ||
		    !!(s->flags & KINGEST_SENSOR_ALARM) != (s->milli_celsius > s->threshold_mc) ||
		    !!(s->flags & KINGEST_SENSOR_ALARM) != (s->sensor_id == 1))
			bad_alarm++;
		ids[n] = s->sensor_id;
		last_ts = rec->ts_ns;
		n++;
	}
	kt_ring_release(r);
	kt_ok(n >= 6 && n % 3 == 0, "sensors: %d readings, whole ticks of 3 sensors", n);
	kt_ok(bad == 0, "sensors: ids in order, consecutive seq, plausible cold-room readings");
	kt_ok(bad_alarm == 0, "sensors: threshold in force and alarm flag set exactly when above");

	/* The same events as signals: the si_int encoding of a reading. */
	sigemptyset(&set);
	sigaddset(&set, SIGNO);
	while (sigtimedwait(&set, &si, &zero) == SIGNO) {
		uint32_t v = (uint32_t)si.si_value.sival_int;

		if (KINGEST_SIG_TYPE(v) != KINGEST_EV_SENSOR || sigs >= n ||
		    KINGEST_SIG_SENSOR_ID(v) != ids[sigs] ||
		    KINGEST_SIG_SENSOR_ALARM(v) != (ids[sigs] == 1) ||
		    abs(KINGEST_SIG_SENSOR_DEGC(v) * 1000 - (-18000 + 250 * (int)ids[sigs])) > 2800)
			sig_bad++;
		sigs++;
	}
	kt_ok(sigs == n && sig_bad == 0,
	      "signals: %d of %d readings with type, sensor id, alarm and whole degrees", sigs, n);
	t.threshold_mc = -15000;
	ioctl(fd, KINGEST_IOC_SET_THRESHOLD, &t);
}

static void test_images(struct kt_ring *r, uint32_t size)
{
	const struct kingest_record *rec;
	int images = 0, readings = 0, bad = 0;
	uint32_t last_frame = 0, i;

	kt_sysctl_set(KINGEST_SYSCTL_SENSOR_COUNT, 1);
	kt_sysctl_set(KINGEST_SYSCTL_IMAGE_SIZE, size);
	kt_ring_drain(r);
	run_sensors(r, 3 * (uint64_t)size);
	kt_sysctl_set(KINGEST_SYSCTL_IMAGE_SIZE, 0);
	while ((rec = kt_ring_next(r))) {
		const struct kingest_thermal_image *img = (const void *)rec->data;

		if (rec->type == KINGEST_EV_SENSOR) {
			readings++;
			continue;
		}
		images++;
		if (rec->type != KINGEST_EV_IMAGE ||
		    rec->len != KINGEST_RECORD_HDR_SIZE + sizeof(*img) + size ||
		    img->size != size || img->sensor_id != 0 || img->reserved ||
		    (last_frame && img->frame != last_frame + 1)) {
			bad++;
			continue;
		}
		last_frame = img->frame;
		for (i = 0; i < size; i++)
			if (img->pixels[i] != (uint8_t)(img->frame + i)) {
				bad++;
				break;
			}
	}
	kt_ring_release(r);
	kt_ok(images >= 2 && images == readings,
	      "images of %u bytes: %d, one per tick (%d readings)", size, images, readings);
	kt_ok(bad == 0, "images: header, consecutive frames and pixel pattern intact");
}

static int set_lo(int up)
{
	struct ifreq ifr = { 0 };
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), err;

	strcpy(ifr.ifr_name, "lo");
	err = ioctl(s, SIOCGIFFLAGS, &ifr);
	if (!err) {
		if (up)
			ifr.ifr_flags |= IFF_UP;
		else
			ifr.ifr_flags &= ~IFF_UP;
		err = ioctl(s, SIOCSIFFLAGS, &ifr);
	}
	close(s);
	return err;
}

static void test_netdev(struct kt_ring *r)
{
	const struct kingest_record *rec;
	int seen[8] = { 0 }, bad = 0, order = 0;

	kt_sysctl_set(KINGEST_SYSCTL_NETDEV_ENABLE, 1);
	kt_ring_drain(r);
	if (set_lo(0) || set_lo(1)) {
		kt_skip("cannot change lo's flags", "netdev down");
		kt_skip("cannot change lo's flags", "netdev up");
		kt_skip("cannot change lo's flags", "netdev content");
		return;
	}
	while ((rec = kt_ring_next(r))) {
		const struct kingest_netdev_event *e = (const void *)rec->data;

		if (rec->type != KINGEST_EV_NETDEV ||
		    rec->len != KINGEST_RECORD_HDR_SIZE + sizeof(*e) ||
		    e->ifindex != 1 || strcmp(e->name, "lo") || e->mtu == 0 || e->event > 5) {
			bad++;
			continue;
		}
		seen[e->event]++;
		if (e->event == KINGEST_NETDEV_DOWN && !(e->flags & IFF_UP) && !order)
			order = 1;
		if (e->event == KINGEST_NETDEV_UP && (e->flags & IFF_UP) && order == 1)
			order = 2;
	}
	kt_ring_release(r);
	kt_ok(seen[KINGEST_NETDEV_DOWN] == 1, "netdev: lo down reported");
	kt_ok(seen[KINGEST_NETDEV_UP] == 1 && order == 2, "netdev: then lo up reported");
	kt_ok(bad == 0, "netdev: ifindex, name, mtu, flags of lo");
	kt_sysctl_set(KINGEST_SYSCTL_NETDEV_ENABLE, 0);
}

int main(void)
{
	struct kingest_signal_sub sub = { .signo = SIGNO };
	struct kt_ring r;
	sigset_t set;
	int fd, err;

	sigemptyset(&set);
	sigaddset(&set, SIGNO);
	sigprocmask(SIG_BLOCK, &set, NULL);
	fd = kt_open();
	kt_plan(11);
	kt_quiet(KINGEST_CHF_RING | KINGEST_CHF_SIGNAL);
	err = kt_ring_map(&r, fd);
	if (err) {
		errno = -err;
		kt_bail("map the ring");
	}
	if (ioctl(fd, KINGEST_IOC_SUBSCRIBE_SIGNAL, &sub))
		kt_bail("subscribe");
	test_readings(fd, &r);
	ioctl(fd, KINGEST_IOC_UNSUBSCRIBE_SIGNAL);
	test_images(&r, 5000);
	test_images(&r, KINGEST_MAX_PAYLOAD - sizeof(struct kingest_thermal_image));
	test_netdev(&r);
	kt_sysctl_set(KINGEST_SYSCTL_SENSOR_COUNT, 4);
	kt_sysctl_set(KINGEST_SYSCTL_RATE_HZ, 10);
	kt_ring_unmap(&r);
	close(fd);
	return kt_done();
}
