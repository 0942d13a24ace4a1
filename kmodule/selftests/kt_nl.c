// SPDX-License-Identifier: GPL-2.0
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <errno.h>

#include "kt.h"
#include "kt_nl.h"


uint16_t family_id;
uint32_t events_group;
static uint32_t nl_seq = 1;

struct nlattr *put_attr(struct nlmsghdr *nlh, uint16_t type, const void *data,
			       uint16_t len)
{
	struct nlattr *nla = (struct nlattr *)((char *)nlh + NLMSG_ALIGN(nlh->nlmsg_len));

	nla->nla_type = type;
	nla->nla_len = NLA_HDRLEN + len;
	if (len)
		memcpy((char *)nla + NLA_HDRLEN, data, len);
	nlh->nlmsg_len = NLMSG_ALIGN(nlh->nlmsg_len) + NLA_ALIGN(nla->nla_len);
	return nla;
}

struct nlmsghdr *start(char *buf, uint16_t type, uint8_t cmd)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
	struct genlmsghdr *g;

	memset(buf, 0, 256);
	nlh->nlmsg_len = NLMSG_LENGTH(GENL_HDRLEN);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = nl_seq++;
	g = NLMSG_DATA(nlh);
	g->cmd = cmd;
	g->version = KINGEST_GENL_VERSION;
	return nlh;
}

int nl_open(void)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	int one = 1;

	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)))
		kt_bail("netlink socket");
	setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	return fd;
}

/* Receives one datagram; returns its length, 0 on timeout. */
ssize_t nl_recv(int fd, char *buf, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	if (poll(&p, 1, timeout_ms) <= 0)
		return 0;
	return recv(fd, buf, BUF_SIZE, 0);
}

/*
 * Sends a request and collects the reply into reply (if any) until the
 * ack. Returns 0 or -errno from the kernel's NLMSG_ERROR.
 */
int nl_request(int fd, struct nlmsghdr *req, char *reply)
{
	char buf[BUF_SIZE];
	uint32_t seq = req->nlmsg_seq;

	if (send(fd, req, req->nlmsg_len, 0) < 0)
		return -errno;
	for (;;) {
		ssize_t n = nl_recv(fd, buf, 5000);
		struct nlmsghdr *h;

		if (n <= 0)
			return -ETIMEDOUT;
		for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, n); h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_seq != seq)
				continue;
			if (h->nlmsg_type == NLMSG_ERROR)
				return ((struct nlmsgerr *)NLMSG_DATA(h))->error;
			if (reply)
				memcpy(reply, h, h->nlmsg_len);
		}
	}
}

bool resolve_family(int fd)
{
	char req[256], reply[BUF_SIZE];
	struct nlmsghdr *nlh = start(req, GENL_ID_CTRL, CTRL_CMD_GETFAMILY);
	struct nlattr *a, *g, *ga;
	int len, glen, galen;

	((struct genlmsghdr *)NLMSG_DATA(nlh))->version = 1;
	put_attr(nlh, CTRL_ATTR_FAMILY_NAME, KINGEST_GENL_NAME, sizeof(KINGEST_GENL_NAME));
	if (nl_request(fd, nlh, reply))
		return false;
	nlh = (struct nlmsghdr *)reply;
	len = GENL_ATTRLEN(nlh);
	for_each_attr(a, GENL_ATTRS(nlh), len) {
		if (a->nla_type == CTRL_ATTR_FAMILY_ID)
			family_id = *(uint16_t *)ATTR_DATA(a);
		if (a->nla_type != CTRL_ATTR_MCAST_GROUPS)
			continue;
		glen = a->nla_len - NLA_HDRLEN;
		for_each_attr(g, ATTR_DATA(a), glen) {
			uint32_t id = 0;
			bool match = false;

			galen = g->nla_len - NLA_HDRLEN;
			for_each_attr(ga, ATTR_DATA(g), galen) {
				if (ga->nla_type == CTRL_ATTR_MCAST_GRP_NAME)
					match = !strcmp(ATTR_DATA(ga), KINGEST_GENL_MCGRP);
				if (ga->nla_type == CTRL_ATTR_MCAST_GRP_ID)
					id = *(uint32_t *)ATTR_DATA(ga);
			}
			if (match)
				events_group = id;
		}
	}
	return family_id && events_group;
}


int nl_join_events(int fd)
{
	if (!resolve_family(fd))
		return -1;
	return setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &events_group,
			  sizeof(events_group));
}
