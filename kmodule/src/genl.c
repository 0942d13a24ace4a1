// SPDX-License-Identifier: GPL-2.0
/*
 * Generic netlink family "kingest": events to multicast group "events",
 * and KINGEST_CMD_GET_STATS as a request/response command.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/spinlock.h>
#include <net/genetlink.h>
#include <net/net_namespace.h>

#include "kingest.h"

enum kingest_mcgrp { KINGEST_MCGRP_EVENTS };

static const struct genl_multicast_group kingest_mcgrps[] = {
	[KINGEST_MCGRP_EVENTS] = {
		.name = KINGEST_GENL_MCGRP,
#ifdef GENL_MCAST_CAP_NET_ADMIN
		/* Older kernels: any user may join (documented in kingest.h). */
		.flags = GENL_MCAST_CAP_NET_ADMIN,
#endif
	},
};

/* Requests may carry CHANNEL only; event attributes are kernel-to-user. */
static const struct nla_policy kingest_stats_policy[KINGEST_A_CHANNEL + 1] = {
	[KINGEST_A_TYPE] = { .type = NLA_REJECT },
	[KINGEST_A_SEQ] = { .type = NLA_REJECT },
	[KINGEST_A_TS_NS] = { .type = NLA_REJECT },
	[KINGEST_A_PAYLOAD] = { .type = NLA_REJECT },
	[KINGEST_A_CHANNEL] = NLA_POLICY_MAX(NLA_U32, KINGEST_CH_COUNT - 1),
};

static struct genl_family kingest_genl;

/* Serialises sequence numbers with sends so both keep the same order. */
static DEFINE_SPINLOCK(event_lock);
static u64 event_seq;

static int put_channel_stats(struct sk_buff *skb, u32 ch)
{
	struct nlattr *nest = nla_nest_start(skb, KINGEST_A_STATS);

	if (!nest)
		return -EMSGSIZE;
	if (nla_put_u32(skb, KINGEST_A_STAT_CHANNEL, ch) ||
	    nla_put_u64_64bit(skb, KINGEST_A_STAT_EMITTED,
			      atomic64_read(&kingest_stats[ch].emitted),
			      KINGEST_A_STAT_PAD) ||
	    nla_put_u64_64bit(skb, KINGEST_A_STAT_DROPPED,
			      atomic64_read(&kingest_stats[ch].dropped),
			      KINGEST_A_STAT_PAD) ||
	    nla_put_u64_64bit(skb, KINGEST_A_STAT_ERRORS,
			      atomic64_read(&kingest_stats[ch].errors),
			      KINGEST_A_STAT_PAD)) {
		nla_nest_cancel(skb, nest);
		return -EMSGSIZE;
	}
	nla_nest_end(skb, nest);
	return 0;
}

static int kingest_get_stats_doit(struct sk_buff *skb, struct genl_info *info)
{
	u32 first = 0, last = KINGEST_CH_COUNT - 1, ch;
	struct sk_buff *msg;
	void *hdr;
	int err;

	if (info->attrs[KINGEST_A_CHANNEL]) {
		first = nla_get_u32(info->attrs[KINGEST_A_CHANNEL]);
		last = first;
	}
	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &kingest_genl, 0,
				KINGEST_CMD_GET_STATS);
	if (!hdr) {
		err = -EMSGSIZE;
		goto err_free;
	}
	for (ch = first; ch <= last; ch++) {
		err = put_channel_stats(msg, ch);
		if (err)
			goto err_free;
	}
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);

err_free:
	nlmsg_free(msg);
	return err;
}

static const struct genl_ops kingest_genl_ops[] = {
	{
		.cmd = KINGEST_CMD_GET_STATS,
		.doit = kingest_get_stats_doit,
		.policy = kingest_stats_policy,
		.maxattr = KINGEST_A_CHANNEL,
		.flags = GENL_ADMIN_PERM,
	},
};

static struct genl_family kingest_genl __ro_after_init = {
	.name = KINGEST_GENL_NAME,
	.version = KINGEST_GENL_VERSION,
	.maxattr = KINGEST_A_MAX,
	.netnsok = true,
	.module = THIS_MODULE,
	.ops = kingest_genl_ops,
	.n_ops = ARRAY_SIZE(kingest_genl_ops),
	/* Strict header checks and mandatory policies for every command. */
	.resv_start_op = KINGEST_CMD_UNSPEC,
	.mcgrps = kingest_mcgrps,
	.n_mcgrps = ARRAY_SIZE(kingest_mcgrps),
};

bool kingest_genl_has_listeners(void)
{
	return genl_has_listeners(&kingest_genl, &init_net, KINGEST_MCGRP_EVENTS);
}

bool kingest_genl_emit(const struct kingest_event *ev)
{
	struct sk_buff *skb;
	bool ok = false;
	void *hdr;
	u64 seq;

	spin_lock_bh(&event_lock);
	seq = ++event_seq;
	skb = genlmsg_new(nla_total_size(sizeof(u16)) +
			  2 * nla_total_size_64bit(sizeof(u64)) +
			  nla_total_size(ev->len), GFP_ATOMIC);
	if (!skb)
		goto out;
	hdr = genlmsg_put(skb, 0, 0, &kingest_genl, 0, KINGEST_CMD_EVENT);
	if (!hdr ||
	    nla_put_u16(skb, KINGEST_A_TYPE, ev->type) ||
	    nla_put_u64_64bit(skb, KINGEST_A_SEQ, seq, KINGEST_A_PAD) ||
	    nla_put_u64_64bit(skb, KINGEST_A_TS_NS, ev->ts_ns, KINGEST_A_PAD) ||
	    nla_put(skb, KINGEST_A_PAYLOAD, ev->len, ev->data)) {
		nlmsg_free(skb);
		kingest_count_error(KINGEST_CH_GENL);
		goto out;
	}
	genlmsg_end(skb, hdr);
	/* -ESRCH only means the last listener left since we checked. */
	ok = genlmsg_multicast(&kingest_genl, skb, 0, KINGEST_MCGRP_EVENTS,
			       GFP_ATOMIC) == 0;
out:
	spin_unlock_bh(&event_lock);
	kingest_count(KINGEST_CH_GENL, ok);
	return ok;
}

int kingest_genl_init(void)
{
	return genl_register_family(&kingest_genl);
}

void kingest_genl_exit(void)
{
	genl_unregister_family(&kingest_genl);
}
