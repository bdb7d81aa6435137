// SPDX-License-Identifier: MIT
#include "nl.h"

#include "../src/proto/nlmsg.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <string.h>

#ifndef RTEXT_FILTER_SKIP_STATS
#define RTEXT_FILTER_SKIP_STATS (1 << 3)
#endif

static struct nlmsghdr *link_msg(void *buf, uint32_t seq, uint16_t flags, int ifindex)
{
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifm;

	memset(buf, 0, NL_MSG_BUF);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	nlh->nlmsg_seq = seq;
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	ifm->ifi_index = ifindex;
	return nlh;
}

struct nlmsghdr *nl_build_link_dump(void *buf, uint32_t seq)
{
	struct nlmsghdr *nlh = link_msg(buf, seq, 0, 0);

	nlh->nlmsg_type = RTM_GETLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
	return nlh;
}

struct nlmsghdr *nl_build_link_get(void *buf, uint32_t seq, int ifindex)
{
	struct nlmsghdr *nlh = link_msg(buf, seq, 0, ifindex);

	nlh->nlmsg_type = RTM_GETLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
	return nlh;
}

struct nlmsghdr *nl_build_link_delete(void *buf, uint32_t seq, int ifindex)
{
	struct nlmsghdr *nlh = link_msg(buf, seq, 0, ifindex);

	nlh->nlmsg_type = RTM_DELLINK;
	return nlh;
}

struct nlmsghdr *nl_build_bond_create(void *buf, uint32_t seq, const struct agent_bond_params *p)
{
	struct nlmsghdr *nlh = link_msg(buf, seq, NLM_F_CREATE | NLM_F_EXCL, 0);
	struct nlattr *info, *data;

	mnl_attr_put_strz(nlh, IFLA_IFNAME, p->name);
	info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "bond");
	data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	mnl_attr_put_u8(nlh, IFLA_BOND_MODE, p->mode);
	mnl_attr_put_u32(nlh, IFLA_BOND_MIIMON, p->miimon);
	mnl_attr_put_u8(nlh, IFLA_BOND_FAIL_OVER_MAC, p->fail_over_mac);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, info);
	return nlh;
}

struct nlmsghdr *nl_build_set_master(void *buf, uint32_t seq, int ifindex, int master)
{
	struct nlmsghdr *nlh = link_msg(buf, seq, 0, ifindex);

	mnl_attr_put_u32(nlh, IFLA_MASTER, (uint32_t)master);
	return nlh;
}

struct nlmsghdr *nl_build_set_up(void *buf, uint32_t seq, int ifindex, int up)
{
	struct nlmsghdr *nlh = link_msg(buf, seq, 0, ifindex);
	struct ifinfomsg *ifm = mnl_nlmsg_get_payload(nlh);

	ifm->ifi_change = IFF_UP;
	ifm->ifi_flags = up ? IFF_UP : 0;
	return nlh;
}

struct nlmsghdr *nl_build_bond_set_u32(void *buf, uint32_t seq, int bond, uint16_t attr,
				       uint32_t value)
{
	struct nlmsghdr *nlh = link_msg(buf, seq, 0, bond);
	struct nlattr *info, *data;

	info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "bond");
	data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	mnl_attr_put_u32(nlh, attr, value);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, info);
	return nlh;
}

/* ---- parsing ---- */

struct parse_ctx {
	struct agent_link *l;
	const struct nlattr *info_data, *slave_data;
	int bad;
};

/* Copies a string attribute (NUL-terminated or not) into dst, bounded. */
static void attr_copy_str(const struct nlattr *a, char *dst, size_t n)
{
	size_t len = mnl_attr_get_payload_len(a);
	const char *s = mnl_attr_get_payload(a);

	if (len > 0 && s[len - 1] == '\0')
		len--;
	if (len >= n)
		len = n - 1;
	memcpy(dst, s, len);
	dst[len] = '\0';
	for (size_t i = 0; i < len; i++)
		if (dst[i] == '\0')
			dst[i] = '?';
}

static bool attr_mac(const struct nlattr *a, uint8_t dst[6])
{
	if (mnl_attr_get_payload_len(a) != 6)
		return false;
	memcpy(dst, mnl_attr_get_payload(a), 6);
	return true;
}

static int bond_data_cb(const struct nlattr *a, void *data)
{
	struct parse_ctx *c = data;
	struct agent_link *l = c->l;

	switch (mnl_attr_get_type(a)) {
	case IFLA_BOND_MODE:
		if (mnl_attr_validate(a, MNL_TYPE_U8) < 0)
			goto bad;
		l->bond_mode = mnl_attr_get_u8(a);
		l->has_bond_mode = true;
		break;
	case IFLA_BOND_ACTIVE_SLAVE:
		if (mnl_attr_validate(a, MNL_TYPE_U32) < 0)
			goto bad;
		l->bond_active_slave = (int)mnl_attr_get_u32(a);
		break;
	case IFLA_BOND_PRIMARY:
		if (mnl_attr_validate(a, MNL_TYPE_U32) < 0)
			goto bad;
		l->bond_primary = (int)mnl_attr_get_u32(a);
		break;
	case IFLA_BOND_MIIMON:
		if (mnl_attr_validate(a, MNL_TYPE_U32) < 0)
			goto bad;
		l->bond_miimon = mnl_attr_get_u32(a);
		l->has_bond_miimon = true;
		break;
	case IFLA_BOND_FAIL_OVER_MAC:
		if (mnl_attr_validate(a, MNL_TYPE_U8) < 0)
			goto bad;
		l->bond_fail_over_mac = mnl_attr_get_u8(a);
		l->has_bond_fom = true;
		break;
	}
	return MNL_CB_OK;
bad:
	c->bad = 1;
	return MNL_CB_ERROR;
}

static int slave_data_cb(const struct nlattr *a, void *data)
{
	struct parse_ctx *c = data;
	struct agent_link *l = c->l;

	switch (mnl_attr_get_type(a)) {
	case IFLA_BOND_SLAVE_STATE:
		if (mnl_attr_validate(a, MNL_TYPE_U8) < 0)
			goto bad;
		l->slave_state = mnl_attr_get_u8(a);
		l->has_slave_state = true;
		break;
	case IFLA_BOND_SLAVE_MII_STATUS:
		if (mnl_attr_validate(a, MNL_TYPE_U8) < 0)
			goto bad;
		l->slave_mii_status = mnl_attr_get_u8(a);
		l->has_slave_mii = true;
		break;
	case IFLA_BOND_SLAVE_PERM_HWADDR:
		l->has_slave_perm_addr = attr_mac(a, l->slave_perm_addr);
		break;
	}
	return MNL_CB_OK;
bad:
	c->bad = 1;
	return MNL_CB_ERROR;
}

static int linkinfo_cb(const struct nlattr *a, void *data)
{
	struct parse_ctx *c = data;

	switch (mnl_attr_get_type(a)) {
	case IFLA_INFO_KIND:
		attr_copy_str(a, c->l->kind, sizeof(c->l->kind));
		break;
	case IFLA_INFO_SLAVE_KIND:
		attr_copy_str(a, c->l->slave_kind, sizeof(c->l->slave_kind));
		break;
	case IFLA_INFO_DATA:
		if (mnl_attr_validate(a, MNL_TYPE_NESTED) < 0)
			goto bad;
		c->info_data = a;
		break;
	case IFLA_INFO_SLAVE_DATA:
		if (mnl_attr_validate(a, MNL_TYPE_NESTED) < 0)
			goto bad;
		c->slave_data = a;
		break;
	}
	return MNL_CB_OK;
bad:
	c->bad = 1;
	return MNL_CB_ERROR;
}

static int link_attr_cb(const struct nlattr *a, void *data)
{
	struct parse_ctx *c = data;
	struct agent_link *l = c->l;

	switch (mnl_attr_get_type(a)) {
	case IFLA_IFNAME:
		if (mnl_attr_get_payload_len(a) == 0)
			goto bad;
		attr_copy_str(a, l->name, sizeof(l->name));
		break;
	case IFLA_ADDRESS:
		l->has_addr = attr_mac(a, l->addr);
		break;
	case IFLA_PERM_ADDRESS:
		l->has_perm_addr = attr_mac(a, l->perm_addr);
		break;
	case IFLA_OPERSTATE:
		if (mnl_attr_validate(a, MNL_TYPE_U8) < 0)
			goto bad;
		l->operstate = mnl_attr_get_u8(a);
		l->has_operstate = true;
		break;
	case IFLA_CARRIER:
		if (mnl_attr_validate(a, MNL_TYPE_U8) < 0)
			goto bad;
		l->carrier = mnl_attr_get_u8(a) != 0;
		l->has_carrier = true;
		break;
	case IFLA_MASTER:
		if (mnl_attr_validate(a, MNL_TYPE_U32) < 0)
			goto bad;
		l->master = (int)mnl_attr_get_u32(a);
		break;
	case IFLA_LINKINFO:
		if (mnl_attr_validate(a, MNL_TYPE_NESTED) < 0)
			goto bad;
		if (mnl_attr_parse_nested(a, linkinfo_cb, c) < 0)
			goto bad;
		break;
	}
	return MNL_CB_OK;
bad:
	c->bad = 1;
	return MNL_CB_ERROR;
}

int nl_link_parse(const struct nlmsghdr *nlh, struct agent_link *ret)
{
	const struct ifinfomsg *ifm;
	struct agent_link l = {0};
	struct parse_ctx c = {.l = &l};

	if (nlh->nlmsg_len < NLMSG_HDRLEN ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(struct ifinfomsg))
		return -EBADMSG;
	ifm = mnl_nlmsg_get_payload(nlh);
	l.ifindex = ifm->ifi_index;
	l.flags = ifm->ifi_flags;
	if (l.ifindex <= 0)
		return -EBADMSG;
	if (mnl_attr_parse(nlh, sizeof(*ifm), link_attr_cb, &c) < 0 || c.bad)
		return -EBADMSG;
	if (c.info_data && strcmp(l.kind, "bond") == 0 &&
	    (mnl_attr_parse_nested(c.info_data, bond_data_cb, &c) < 0 || c.bad))
		return -EBADMSG;
	if (c.slave_data && strcmp(l.slave_kind, "bond") == 0 &&
	    (mnl_attr_parse_nested(c.slave_data, slave_data_cb, &c) < 0 || c.bad))
		return -EBADMSG;
	if (l.name[0] == '\0')
		return -EBADMSG;
	*ret = l;
	return 0;
}

/*
 * mnl_nlmsg_ok() casts nlmsg_len to int: a length over 2 GiB would pass as negative. And
 * libmnl's attribute walkers end at the ALIGNED length, so that must fit too, or an attribute
 * may run up to 3 bytes past the buffer (the kernel always pads its messages).
 */
static bool msg_ok(const struct nlmsghdr *nlh, int left)
{
	return left >= (int)sizeof(*nlh) && nlh->nlmsg_len >= sizeof(*nlh) &&
	       nlh->nlmsg_len <= (unsigned)left &&
	       MNL_ALIGN((uint64_t)nlh->nlmsg_len) <= (uint64_t)left;
}

int nl_link_dump_parse(const void *buf, size_t len, uint32_t seq, struct agent_link **links,
		       size_t *n, size_t max, struct diag *d)
{
	const struct nlmsghdr *nlh = buf;
	int left = len > INT32_MAX ? INT32_MAX : (int)len;

	while (msg_ok(nlh, left)) {
		if (nlh->nlmsg_seq == seq) {
			struct agent_link l, *nv;
			int r;

			switch (nlh->nlmsg_type) {
			case NLMSG_DONE:
				return 1;
			case NLMSG_ERROR:
				r = nlmsg_error_parse(nlh, d);
				if (r == 0) {
					diag_set(d, "unexpected netlink ack in a dump");
					return -EBADMSG;
				}
				return r;
			case RTM_NEWLINK:
				if (nl_link_parse(nlh, &l) < 0) {
					diag_set(d, "malformed RTM_NEWLINK message");
					return -EBADMSG;
				}
				if (*n >= max) {
					diag_set(d, "more than %zu links", max);
					return -E2BIG;
				}
				nv = realloc(*links, (*n + 1) * sizeof(**links));
				if (!nv)
					return -ENOMEM;
				*links = nv;
				nv[(*n)++] = l;
				if (!(nlh->nlmsg_flags & NLM_F_MULTI))
					return 1;
				break;
			}
		}
		nlh = mnl_nlmsg_next(nlh, &left);
	}
	if (left > 0) {
		diag_set(d, "truncated netlink message");
		return -EBADMSG;
	}
	return 0;
}

int nl_ack_parse(const void *buf, size_t len, uint32_t seq, struct diag *d)
{
	const struct nlmsghdr *nlh = buf;
	int left = len > INT32_MAX ? INT32_MAX : (int)len;

	while (msg_ok(nlh, left)) {
		if (nlh->nlmsg_seq == seq && nlh->nlmsg_type == NLMSG_ERROR) {
			int r = nlmsg_error_parse(nlh, d);

			return r == 0 ? 1 : r;
		}
		nlh = mnl_nlmsg_next(nlh, &left);
	}
	if (left > 0) {
		diag_set(d, "truncated netlink message");
		return -EBADMSG;
	}
	return 0;
}
