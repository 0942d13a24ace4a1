// SPDX-License-Identifier: GPL-2.0
/* Generic netlink: events on group "events", GET_STATS, hostile requests. */
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sys/wait.h>
#include <unistd.h>

#include "kt.h"
#include "kt_nl.h"

struct event {
	uint16_t type;
	uint64_t seq, ts;
	const uint8_t *payload;
	int len;
	int attrs;
};

static bool parse_event(struct nlmsghdr *nlh, struct event *ev)
{
	struct genlmsghdr *g = NLMSG_DATA(nlh);
	int len = GENL_ATTRLEN(nlh);
	struct nlattr *a;

	memset(ev, 0, sizeof(*ev));
	if (nlh->nlmsg_type != family_id || g->cmd != KINGEST_CMD_EVENT)
		return false;
	for_each_attr(a, GENL_ATTRS(nlh), len) {
		void *d = ATTR_DATA(a);

		switch (a->nla_type) {
		case KINGEST_A_TYPE:
			memcpy(&ev->type, d, 2);
			ev->attrs |= 1;
			break;
		case KINGEST_A_SEQ:
			memcpy(&ev->seq, d, 8);
			ev->attrs |= 2;
			break;
		case KINGEST_A_TS_NS:
			memcpy(&ev->ts, d, 8);
			ev->attrs |= 4;
			break;
		case KINGEST_A_PAYLOAD:
			ev->payload = d;
			ev->len = a->nla_len - NLA_HDRLEN;
			ev->attrs |= 8;
			break;
		}
	}
	return ev->attrs == 15;
}

static void test_events(int kfd, int nl)
{
	enum { N = 100 };
	char buf[BUF_SIZE];
	uint8_t payload[300];
	uint64_t first = 0, t0 = kt_now_ns(), t1;
	int i, got = 0, bad = 0, accepted = 0;

	for (i = 0; i < N; i++) {
		int len = (i * 3) % (int)sizeof(payload), j;

		for (j = 0; j < len; j++)
			payload[j] = (uint8_t)(i + j);
		if (kt_inject(kfd, KINGEST_CHF_GENL, 2000 + i, payload, len) == KINGEST_CHF_GENL)
			accepted++;
	}
	t1 = kt_now_ns();
	kt_ok(accepted == N, "inject: %d of %d taken by genl", accepted, N);
	while (got < N) {
		ssize_t n = nl_recv(nl, buf, 3000);
		struct nlmsghdr *h;

		if (n <= 0)
			break;
		for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, n); h = NLMSG_NEXT(h, n)) {
			struct event ev;
			int j, want = (got * 3) % (int)sizeof(payload);

			if (!parse_event(h, &ev)) {
				bad++;
				continue;
			}
			if (!got)
				first = ev.seq;
			if (ev.type != 2000 + got || ev.seq != first + got || ev.len != want ||
			    ev.ts < t0 || ev.ts > t1)
				bad++;
			for (j = 0; j < ev.len && j < want; j++)
				if (ev.payload[j] != (uint8_t)(got + j))
					bad++;
			got++;
		}
	}
	kt_ok(got == N, "events: received %d of %d multicast messages", got, N);
	kt_ok(bad == 0, "events: type, seq order, timestamp and payload intact (%d bad)", bad);
}

/* Parses a GET_STATS reply into st; returns the number of nests. */
static int parse_stats(char *reply, struct kingest_stats *st)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)reply;
	int len = GENL_ATTRLEN(nlh), nests = 0;
	struct nlattr *a, *s;

	memset(st, 0xff, sizeof(*st));
	for_each_attr(a, GENL_ATTRS(nlh), len) {
		uint32_t ch = ~0U;
		uint64_t v[3] = { 0 };
		int slen;

		if ((a->nla_type & NLA_TYPE_MASK) != KINGEST_A_STATS)
			continue;
		nests++;
		slen = a->nla_len - NLA_HDRLEN;
		for_each_attr(s, ATTR_DATA(a), slen) {
			if (s->nla_type == KINGEST_A_STAT_CHANNEL)
				memcpy(&ch, ATTR_DATA(s), 4);
			else if (s->nla_type >= KINGEST_A_STAT_EMITTED &&
				 s->nla_type <= KINGEST_A_STAT_ERRORS)
				memcpy(&v[s->nla_type - KINGEST_A_STAT_EMITTED], ATTR_DATA(s), 8);
		}
		if (ch < KINGEST_CH_SLOTS) {
			st->ch[ch].emitted = v[0];
			st->ch[ch].dropped = v[1];
			st->ch[ch].errors = v[2];
		}
	}
	return nests;
}

static void test_stats(int kfd, int fd)
{
	char req[256], reply[BUF_SIZE];
	struct kingest_stats io, nl;
	struct nlmsghdr *nlh;
	uint32_t ch = KINGEST_CH_GENL;
	bool same = true;
	int i, err;

	kt_stats(kfd, &io);
	nlh = start(req, family_id, KINGEST_CMD_GET_STATS);
	err = nl_request(fd, nlh, reply);
	kt_ok(err == 0, "GET_STATS: request answered (%d)", err);
	kt_ok(parse_stats(reply, &nl) == KINGEST_CH_COUNT, "GET_STATS: one nest per channel");
	for (i = 0; i < KINGEST_CH_COUNT; i++) {
		if (i == KINGEST_CH_PROC || !memcmp(&io.ch[i], &nl.ch[i], sizeof(io.ch[i])))
			continue;
		same = false;
		kt_diag("channel %d: ioctl %llu/%llu/%llu netlink %llu/%llu/%llu", i,
			(unsigned long long)io.ch[i].emitted, (unsigned long long)io.ch[i].dropped,
			(unsigned long long)io.ch[i].errors, (unsigned long long)nl.ch[i].emitted,
			(unsigned long long)nl.ch[i].dropped, (unsigned long long)nl.ch[i].errors);
	}
	kt_ok(same, "GET_STATS: counters equal those of KINGEST_IOC_GET_STATS");

	nlh = start(req, family_id, KINGEST_CMD_GET_STATS);
	put_attr(nlh, KINGEST_A_CHANNEL, &ch, 4);
	err = nl_request(fd, nlh, reply);
	kt_ok(err == 0 && parse_stats(reply, &nl) == 1 &&
	      nl.ch[KINGEST_CH_GENL].emitted == io.ch[KINGEST_CH_GENL].emitted,
	      "GET_STATS: CHANNEL filter returns that channel only");
}

static void test_hostile(int fd)
{
	char req[256];
	struct nlmsghdr *nlh;
	uint32_t big = KINGEST_CH_COUNT, v = 1;
	uint8_t small = 1;
	uint16_t type = 1;
	int err;

	nlh = start(req, family_id, KINGEST_CMD_GET_STATS);
	put_attr(nlh, KINGEST_A_CHANNEL, &big, 4);
	err = nl_request(fd, nlh, NULL);
	kt_ok(err == -ERANGE || err == -EINVAL, "CHANNEL out of range rejected (%d)", err);

	nlh = start(req, family_id, KINGEST_CMD_GET_STATS);
	put_attr(nlh, KINGEST_A_CHANNEL, &small, 1);
	err = nl_request(fd, nlh, NULL);
	kt_ok(err == -ERANGE || err == -EINVAL, "CHANNEL of 1 byte rejected (%d)", err);

	nlh = start(req, family_id, KINGEST_CMD_GET_STATS);
	put_attr(nlh, KINGEST_A_TYPE, &type, 2);
	err = nl_request(fd, nlh, NULL);
	kt_ok(err == -EINVAL, "event attribute in a request rejected (%d)", err);

	nlh = start(req, family_id, KINGEST_CMD_GET_STATS);
	put_attr(nlh, 99, &v, 4);
	err = nl_request(fd, nlh, NULL);
	kt_ok(err == -EINVAL, "unknown attribute rejected by strict validation (%d)", err);

	nlh = start(req, family_id, KINGEST_CMD_GET_STATS);
	put_attr(nlh, KINGEST_A_STATS, NULL, 0);
	err = nl_request(fd, nlh, NULL);
	kt_ok(err == -EINVAL, "attribute above the command's maxattr rejected (%d)", err);

	nlh = start(req, family_id, KINGEST_CMD_EVENT);
	err = nl_request(fd, nlh, NULL);
	kt_ok(err == -EOPNOTSUPP, "EVENT is not a request (%d)", err);

	nlh = start(req, family_id, 77);
	err = nl_request(fd, nlh, NULL);
	kt_ok(err == -EOPNOTSUPP, "unknown command rejected (%d)", err);

	nlh = start(req, family_id, KINGEST_CMD_GET_STATS);
	((struct genlmsghdr *)NLMSG_DATA(nlh))->reserved = 1;
	err = nl_request(fd, nlh, NULL);
	kt_ok(err == -EINVAL, "nonzero reserved genl header field rejected (%d)", err);

	nlh = start(req, family_id, KINGEST_CMD_GET_STATS);
	nlh->nlmsg_len = NLMSG_LENGTH(1);
	err = nl_request(fd, nlh, NULL);
	kt_ok(err == -EINVAL, "truncated genl header rejected (%d)", err);

	nlh = start(req, family_id, KINGEST_CMD_GET_STATS);
	put_attr(nlh, KINGEST_A_CHANNEL, &v, 4);
	((struct nlattr *)GENL_ATTRS(nlh))->nla_len = 200;
	err = nl_request(fd, nlh, NULL);
	kt_ok(err == -EINVAL || err == -ERANGE, "attribute longer than the message rejected (%d)",
	      err);
}

static void test_gating(int kfd, int nl)
{
	char buf[BUF_SIZE];
	struct kingest_stats a, b;
	uint8_t p = 1;
	int ret;

	kt_sysctl_set(KINGEST_SYSCTL_GENL_ENABLE, 0);
	ret = kt_inject(kfd, KINGEST_CHF_GENL, KINGEST_EV_INJECT, &p, 1);
	kt_ok(ret == 0 && nl_recv(nl, buf, 200) == 0,
	      "genl_enable=0: nothing sent (inject returned %d)", ret);
	kt_sysctl_set(KINGEST_SYSCTL_GENL_ENABLE, 1);

	close(nl);
	kt_stats(kfd, &a);
	ret = kt_inject(kfd, KINGEST_CHF_GENL, KINGEST_EV_INJECT, &p, 1);
	kt_stats(kfd, &b);
	kt_ok(ret == 0 && a.ch[KINGEST_CH_GENL].emitted == b.ch[KINGEST_CH_GENL].emitted &&
	      a.ch[KINGEST_CH_GENL].dropped == b.ch[KINGEST_CH_GENL].dropped,
	      "no listener: event not offered, nothing counted");
}

/* Events and GET_STATS need CAP_NET_ADMIN; uid 65534 has no capability. */
static void test_permissions(void)
{
	int status = -1;
	pid_t pid = fork();

	if (pid == 0) {
		char req[256];
		int fd, bad = 0;

		if (setgid(65534) || setuid(65534))
			_exit(100);
		fd = nl_open();
		bad |= (setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &events_group,
				   sizeof(events_group)) != -1 || errno != EPERM);
		bad |= (nl_request(fd, start(req, family_id, KINGEST_CMD_GET_STATS),
				   NULL) != -EPERM) << 1;
		_exit(bad);
	}
	waitpid(pid, &status, 0);
	kt_ok(WIFEXITED(status) && !(WEXITSTATUS(status) & ~2),
	      "without CAP_NET_ADMIN: joining \"events\" -> EPERM (%d)",
	      WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	kt_ok(WIFEXITED(status) && !(WEXITSTATUS(status) & ~1),
	      "without CAP_NET_ADMIN: GET_STATS -> EPERM (%d)",
	      WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

int main(void)
{
	int kfd = kt_open(), ctl, ev;

	kt_plan(23);
	kt_quiet(KINGEST_CHF_GENL);
	ctl = nl_open();
	ev = nl_open();
	kt_ok(resolve_family(ctl), "family \"%s\" resolved", KINGEST_GENL_NAME);
	kt_diag("family id %u, events group %u", family_id, events_group);
	kt_ok(setsockopt(ev, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &events_group,
			 sizeof(events_group)) == 0, "joined group \"events\"");
	test_events(kfd, ev);
	test_stats(kfd, ctl);
	test_hostile(ctl);
	test_permissions();
	test_gating(kfd, ev);
	close(ctl);
	close(kfd);
	return kt_done();
}
