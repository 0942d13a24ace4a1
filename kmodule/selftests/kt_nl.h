/* SPDX-License-Identifier: GPL-2.0 */
/* Minimal generic netlink client for the selftests. */
#ifndef KT_NL_H
#define KT_NL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>

#define BUF_SIZE 65536

extern uint16_t family_id;
extern uint32_t events_group;

struct nlattr *put_attr(struct nlmsghdr *nlh, uint16_t type, const void *data, uint16_t len);
struct nlmsghdr *start(char *buf, uint16_t type, uint8_t cmd);
int nl_open(void);
ssize_t nl_recv(int fd, char *buf, int timeout_ms);
int nl_request(int fd, struct nlmsghdr *req, char *reply);
bool resolve_family(int fd);
/* Joins the "events" group; resolves the family on fd first. */
int nl_join_events(int fd);

#define for_each_attr(nla, start, len)					\
	for (nla = (struct nlattr *)(start); (len) >= (int)NLA_HDRLEN &&	\
	     nla->nla_len >= NLA_HDRLEN && nla->nla_len <= (len);	\
	     (len) -= NLA_ALIGN(nla->nla_len),				\
	     nla = (struct nlattr *)((char *)nla + NLA_ALIGN(nla->nla_len)))

#define ATTR_DATA(nla) ((void *)((char *)(nla) + NLA_HDRLEN))
#define GENL_ATTRS(nlh) ((char *)NLMSG_DATA(nlh) + GENL_HDRLEN)
#define GENL_ATTRLEN(nlh) ((int)((nlh)->nlmsg_len - NLMSG_LENGTH(GENL_HDRLEN)))

#endif
