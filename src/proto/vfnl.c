// SPDX-License-Identifier: MIT
#include "vfnl.h"

#include "nlmsg.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#ifndef RTEXT_FILTER_SKIP_STATS
#define RTEXT_FILTER_SKIP_STATS (1 << 3)
#endif

bool vfnl_ifname_valid(const char *name)
{
	size_t n = name ? strlen(name) : 0;

	if (n == 0 || n > 15 || !strcmp(name, ".") || !strcmp(name, ".."))
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c <= 0x20 || c >= 0x7f || c == '/' || c == ':')
			return false;
	}
	return true;
}

static struct nlmsghdr *link_req(void *buf, uint16_t type, uint16_t flags, uint32_t seq,
				 const char *pf)
{
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifm;

	memset(buf, 0, VFNL_REQ_BUF);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = flags;
	nlh->nlmsg_seq = seq;
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	ifm->ifi_index = 0; /* by IFLA_IFNAME */
	mnl_attr_put_strz(nlh, IFLA_IFNAME, pf);
	return nlh;
}

int vfnl_build_set_vf(void *buf, size_t n, uint32_t seq, const char *pf, uint32_t vf,
		      const uint8_t mac[6], int vlan)
{
	struct ifla_vf_mac m = {.vf = vf};
	struct ifla_vf_vlan v = {.vf = vf, .vlan = vlan > 0 ? (uint32_t)vlan : 0};
	struct nlattr *list, *info;
	struct nlmsghdr *nlh;

	if (n < VFNL_REQ_BUF || !vfnl_ifname_valid(pf) || vf >= VFNL_VFS_MAX || vlan > 4094 ||
	    vlan < -1)
		return -EINVAL;
	memcpy(m.mac, mac, 6);
	nlh = link_req(buf, RTM_SETLINK, NLM_F_REQUEST | NLM_F_ACK, seq, pf);
	list = mnl_attr_nest_start(nlh, IFLA_VFINFO_LIST);
	info = mnl_attr_nest_start(nlh, IFLA_VF_INFO);
	mnl_attr_put(nlh, IFLA_VF_MAC, sizeof(m), &m);
	mnl_attr_put(nlh, IFLA_VF_VLAN, sizeof(v), &v);
	mnl_attr_nest_end(nlh, info);
	mnl_attr_nest_end(nlh, list);
	return (int)nlh->nlmsg_len;
}

int vfnl_build_get_pf(void *buf, size_t n, uint32_t seq, const char *pf)
{
	struct nlmsghdr *nlh;

	if (n < VFNL_REQ_BUF || !vfnl_ifname_valid(pf))
		return -EINVAL;
	nlh = link_req(buf, RTM_GETLINK, NLM_F_REQUEST, seq, pf);
	mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_VF | RTEXT_FILTER_SKIP_STATS);
	return (int)nlh->nlmsg_len;
}

/* ---- parsing ---- */

/*
 * mnl_nlmsg_ok() casts nlmsg_len to int, and libmnl's attribute walkers end at the ALIGNED
 * message length: both must fit in what is left of the datagram.
 */
static bool msg_ok(const struct nlmsghdr *nlh, size_t left)
{
	return left >= sizeof(*nlh) && nlh->nlmsg_len >= sizeof(*nlh) &&
	       (uint64_t)MNL_ALIGN((uint64_t)nlh->nlmsg_len) <= (uint64_t)left;
}

/* An attribute's payload as bounded text, control characters replaced. */
/* The message answering seq in one datagram, or NULL (-ENOMSG / -EBADMSG in *ret). */
static const struct nlmsghdr *find_answer(const void *buf, size_t len, uint32_t seq, int *ret,
					  struct diag *d)
{
	const struct nlmsghdr *nlh = buf;
	size_t left = len;

	while (msg_ok(nlh, left)) {
		size_t step = MNL_ALIGN((size_t)nlh->nlmsg_len);

		if (nlh->nlmsg_seq == seq && nlh->nlmsg_type != NLMSG_NOOP)
			return nlh;
		left -= step;
		nlh = (const struct nlmsghdr *)((const char *)nlh + step);
	}
	if (left > 0) {
		diag_set(d, "malformed netlink message (%zu bytes left over)", left);
		*ret = -EBADMSG;
	} else {
		diag_set(d, "no netlink answer to request %u", seq);
		*ret = -ENOMSG;
	}
	return NULL;
}

int vfnl_parse_ack(const void *buf, size_t len, uint32_t seq, struct diag *d)
{
	const struct nlmsghdr *nlh;
	int r = -EBADMSG;

	nlh = find_answer(buf, len, seq, &r, d);
	if (!nlh)
		return r;
	if (nlh->nlmsg_type != NLMSG_ERROR) {
		diag_set(d, "netlink answer of type %u instead of an ack", nlh->nlmsg_type);
		return -EBADMSG;
	}
	return nlmsg_error_parse(nlh, d);
}

struct link_ctx {
	struct vfnl_vf *vfs;
	size_t max, n;
	int num_vf;
	const struct nlattr *list;
	int err;
	struct diag *d;
};

static int bad(struct link_ctx *c, int err, const char *what)
{
	if (!c->err) {
		c->err = err;
		diag_set(c->d, "malformed VF list from the PF: %s", what);
	}
	return MNL_CB_ERROR;
}

struct vf_ctx {
	struct vfnl_vf vf;
	bool has_index;
	struct link_ctx *lc;
};

static int vf_index(struct vf_ctx *v, uint32_t index)
{
	if (v->has_index && v->vf.index != index)
		return bad(v->lc, -EBADMSG, "VF index differs between attributes of one VF");
	v->vf.index = index;
	v->has_index = true;
	return MNL_CB_OK;
}

static int vf_attr_cb(const struct nlattr *a, void *data)
{
	struct vf_ctx *v = data;
	size_t len = mnl_attr_get_payload_len(a);

	switch (mnl_attr_get_type(a)) {
	case IFLA_VF_MAC: {
		struct ifla_vf_mac m;

		if (len != sizeof(m))
			return bad(v->lc, -EBADMSG, "IFLA_VF_MAC of the wrong size");
		memcpy(&m, mnl_attr_get_payload(a), sizeof(m));
		if (v->vf.has_mac)
			return bad(v->lc, -EBADMSG, "IFLA_VF_MAC twice in one VF");
		memcpy(v->vf.mac, m.mac, 6);
		v->vf.has_mac = true;
		return vf_index(v, m.vf);
	}
	case IFLA_VF_VLAN: {
		struct ifla_vf_vlan vl;

		if (len != sizeof(vl))
			return bad(v->lc, -EBADMSG, "IFLA_VF_VLAN of the wrong size");
		memcpy(&vl, mnl_attr_get_payload(a), sizeof(vl));
		if (v->vf.has_vlan)
			return bad(v->lc, -EBADMSG, "IFLA_VF_VLAN twice in one VF");
		if (vl.vlan > 4095 || vl.qos > 7)
			return bad(v->lc, -EBADMSG, "VLAN or QoS out of range");
		v->vf.vlan = vl.vlan;
		v->vf.qos = vl.qos;
		v->vf.has_vlan = true;
		return vf_index(v, vl.vf);
	}
	}
	return MNL_CB_OK;
}

static int vfinfo_cb(const struct nlattr *a, void *data)
{
	struct link_ctx *c = data;
	struct vf_ctx v = {.lc = c};

	if (mnl_attr_get_type(a) != IFLA_VF_INFO)
		return MNL_CB_OK;
	if (mnl_attr_get_payload_len(a) < MNL_ATTR_HDRLEN)
		return bad(c, -EBADMSG, "empty IFLA_VF_INFO");
	if (mnl_attr_parse_nested(a, vf_attr_cb, &v) < 0 || c->err)
		return bad(c, -EBADMSG, "truncated attribute in IFLA_VF_INFO");
	if (!v.has_index)
		return bad(c, -EBADMSG, "IFLA_VF_INFO without IFLA_VF_MAC or IFLA_VF_VLAN");
	if (v.vf.index >= VFNL_VFS_MAX)
		return bad(c, -EBADMSG, "VF index out of range");
	if (vfnl_find(c->vfs, c->n, v.vf.index))
		return bad(c, -EBADMSG, "the same VF twice");
	if (c->n == c->max) {
		c->err = -E2BIG;
		diag_set(c->d, "the PF lists more than %zu VFs", c->max);
		return MNL_CB_ERROR;
	}
	c->vfs[c->n++] = v.vf;
	return MNL_CB_OK;
}

static int link_attr_cb(const struct nlattr *a, void *data)
{
	struct link_ctx *c = data;

	switch (mnl_attr_get_type(a)) {
	case IFLA_NUM_VF:
		if (mnl_attr_get_payload_len(a) != sizeof(uint32_t))
			return bad(c, -EBADMSG, "IFLA_NUM_VF of the wrong size");
		if (mnl_attr_get_u32(a) > VFNL_VFS_MAX)
			return bad(c, -EBADMSG, "IFLA_NUM_VF out of range");
		c->num_vf = (int)mnl_attr_get_u32(a);
		break;
	case IFLA_VFINFO_LIST:
		if (c->list)
			return bad(c, -EBADMSG, "IFLA_VFINFO_LIST twice");
		c->list = a;
		break;
	}
	return MNL_CB_OK;
}

int vfnl_parse_link(const void *buf, size_t len, uint32_t seq, struct vfnl_vf *vfs, size_t max,
		    size_t *ret_n, int *ret_num_vf, struct diag *d)
{
	struct link_ctx c = {.vfs = vfs, .max = max, .num_vf = -1, .d = d};
	const struct nlmsghdr *nlh;
	int r = -EBADMSG;

	nlh = find_answer(buf, len, seq, &r, d);
	if (!nlh)
		return r;
	if (nlh->nlmsg_type == NLMSG_ERROR) {
		r = nlmsg_error_parse(nlh, d);
		if (r == 0) {
			diag_set(d, "netlink ack instead of the PF's link");
			return -EBADMSG;
		}
		return r;
	}
	if (nlh->nlmsg_type != RTM_NEWLINK ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(struct ifinfomsg)) {
		diag_set(d, "netlink answer of type %u instead of the PF's link", nlh->nlmsg_type);
		return -EBADMSG;
	}
	if (mnl_attr_parse(nlh, sizeof(struct ifinfomsg), link_attr_cb, &c) < 0 || c.err) {
		if (!c.err)
			diag_set(d, "malformed link attributes from the PF");
		return c.err ? c.err : -EBADMSG;
	}
	if (c.list && mnl_attr_get_payload_len(c.list) > 0 &&
	    (mnl_attr_parse_nested(c.list, vfinfo_cb, &c) < 0 || c.err)) {
		if (!c.err)
			diag_set(d, "malformed IFLA_VFINFO_LIST from the PF");
		return c.err ? c.err : -EBADMSG;
	}
	*ret_n = c.n;
	*ret_num_vf = c.num_vf;
	return 0;
}

const struct vfnl_vf *vfnl_find(const struct vfnl_vf *vfs, size_t n, uint32_t index)
{
	for (size_t i = 0; i < n; i++)
		if (vfs[i].index == index)
			return &vfs[i];
	return NULL;
}
