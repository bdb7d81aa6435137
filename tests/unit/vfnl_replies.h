/* SPDX-License-Identifier: MIT */
/*
 * Canned kernel answers for the VF netlink codec (src/proto/vfnl.h), built the way the kernel
 * builds them (rtnl_fill_vfinfo: IFLA_NUM_VF, IFLA_VFINFO_LIST > IFLA_VF_INFO > IFLA_VF_MAC,
 * IFLA_VF_VLAN, ...). Header-only, for the codec's and the sysfs pool's tests.
 */
#ifndef VFM_TEST_VFNL_REPLIES_H
#define VFM_TEST_VFNL_REPLIES_H

#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <string.h>
#include <sys/socket.h>

#define VFNL_TEST_BUF 16384

struct test_vf {
	uint32_t index;
	uint8_t mac[6];
	uint32_t vlan, qos;
};

/* An RTM_NEWLINK for pf (ifindex 7) with these VFs; returns its length. */
static inline size_t test_vfnl_link(void *buf, uint32_t seq, const char *pf,
				    const struct test_vf *vfs, size_t n)
{
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifm;
	struct nlattr *list;

	memset(buf, 0, VFNL_TEST_BUF);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWLINK;
	nlh->nlmsg_seq = seq;
	nlh->nlmsg_pid = 0;
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	ifm->ifi_index = 7;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, pf);
	mnl_attr_put_u32(nlh, IFLA_NUM_VF, (uint32_t)n);
	list = mnl_attr_nest_start(nlh, IFLA_VFINFO_LIST);
	for (size_t i = 0; i < n; i++) {
		struct ifla_vf_mac m = {.vf = vfs[i].index};
		struct ifla_vf_vlan v = {
		    .vf = vfs[i].index, .vlan = vfs[i].vlan, .qos = vfs[i].qos};
		struct ifla_vf_spoofchk sc = {.vf = vfs[i].index, .setting = 1};
		struct nlattr *info = mnl_attr_nest_start(nlh, IFLA_VF_INFO);

		memcpy(m.mac, vfs[i].mac, 6);
		mnl_attr_put(nlh, IFLA_VF_MAC, sizeof(m), &m);
		mnl_attr_put(nlh, IFLA_VF_VLAN, sizeof(v), &v);
		mnl_attr_put(nlh, IFLA_VF_SPOOFCHK, sizeof(sc), &sc);
		mnl_attr_nest_end(nlh, info);
	}
	mnl_attr_nest_end(nlh, list);
	return nlh->nlmsg_len;
}

/* An NLMSG_ERROR answering seq: error 0 is an ack; msg (may be NULL) goes in as extack. */
static inline size_t test_vfnl_error(void *buf, uint32_t seq, int error, const char *msg)
{
	struct nlmsghdr *nlh;
	struct nlmsgerr *err;

	memset(buf, 0, VFNL_TEST_BUF);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = NLMSG_ERROR;
	nlh->nlmsg_seq = seq;
	nlh->nlmsg_flags = NLM_F_CAPPED | (msg ? NLM_F_ACK_TLVS : 0);
	err = mnl_nlmsg_put_extra_header(nlh, sizeof(*err));
	err->error = error;
	err->msg.nlmsg_len = NLMSG_HDRLEN + 40; /* capped: the request is not echoed */
	err->msg.nlmsg_seq = seq;
	if (msg)
		mnl_attr_put_strz(nlh, NLMSGERR_ATTR_MSG, msg);
	return nlh->nlmsg_len;
}

#endif
