/* SPDX-License-Identifier: MIT */
/*
 * rtnetlink messages about the VFs of an SR-IOV physical function (PF), built into and parsed
 * from caller buffers (no sockets), so they can be unit-tested and fuzzed:
 *
 *   RTM_SETLINK PF  IFLA_VFINFO_LIST { IFLA_VF_INFO { IFLA_VF_MAC {vf, mac},
 *                                                    IFLA_VF_VLAN {vf, vlan, qos} } }
 *   RTM_GETLINK PF  (IFLA_EXT_MASK RTEXT_FILTER_VF) -> RTM_NEWLINK with IFLA_VFINFO_LIST
 *
 * The PF is named by IFLA_IFNAME (ifi_index 0), so no ifindex lookup is needed. What a reply
 * says is checked strictly: attribute sizes exact, the VF index in IFLA_VF_MAC and
 * IFLA_VF_VLAN of one IFLA_VF_INFO equal, no VF twice, at most VFNL_VFS_MAX VFs.
 */
#ifndef VFM_PROTO_VFNL_H
#define VFM_PROTO_VFNL_H

#include <stddef.h>
#include <stdint.h>

#include "../util/util.h"

/* Builders need this much room (one VF's MAC and VLAN plus headers; far below a page). */
#define VFNL_REQ_BUF 256
/* Most VFs one PF reply may describe (SR-IOV allows more in theory; no NIC here does). */
#define VFNL_VFS_MAX 512

struct vfnl_vf {
	uint32_t index;
	uint8_t mac[6]; /* the administrative MAC the PF holds for the VF; zero = none */
	bool has_mac;
	uint32_t vlan; /* 0 = none */
	uint32_t qos;
	bool has_vlan;
};

/*
 * Writes an RTM_SETLINK request for VF vf of PF pf (1-15 bytes) into buf (VFNL_REQ_BUF
 * bytes): MAC, and VLAN (vlan -1 or 0 = none; qos 0). Returns the request's length, or
 * -EINVAL on a bad name, VF index or VLAN.
 */
int vfnl_build_set_vf(void *buf, size_t n, uint32_t seq, const char *pf, uint32_t vf,
		      const uint8_t mac[6], int vlan);

/* Writes an RTM_GETLINK request for pf asking for its VF list. Returns its length or -EINVAL. */
int vfnl_build_get_pf(void *buf, size_t n, uint32_t seq, const char *pf);

/*
 * Reads the answer to request seq from one datagram (messages with another seq are skipped).
 * Acks (RTM_SETLINK): returns 0 for a positive ack, -errno from an NLMSG_ERROR with the
 * kernel's extack text (sanitized) in d, -ENOMSG when the datagram holds no answer to seq,
 * -EBADMSG when it is malformed.
 */
int vfnl_parse_ack(const void *buf, size_t len, uint32_t seq, struct diag *d);

/*
 * Reads the RTM_NEWLINK answer to an RTM_GETLINK request seq: the PF's VFs into vfs (room
 * for max, sorted as the kernel sent them), their number in *ret_n, and the PF's
 * IFLA_NUM_VF in *ret_num_vf (-1 when absent). Errors as for vfnl_parse_ack; -E2BIG past
 * max VFs. *ret_n and *ret_num_vf are written only on success; vfs may hold partial
 * entries after a failure.
 */
int vfnl_parse_link(const void *buf, size_t len, uint32_t seq, struct vfnl_vf *vfs, size_t max,
		    size_t *ret_n, int *ret_num_vf, struct diag *d);

/* A Linux interface name as the kernel accepts it (dev_valid_name): 1-15 bytes, not "." or
 * "..", no '/', ':', whitespace or control characters. */
bool vfnl_ifname_valid(const char *name);

/* The entry for VF index in vfs[0..n), or NULL. */
const struct vfnl_vf *vfnl_find(const struct vfnl_vf *vfs, size_t n, uint32_t index);

#endif
