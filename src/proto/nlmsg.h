/* SPDX-License-Identifier: MIT */
/*
 * What netlink codecs share (src/proto/vfnl.c on the host, guest/nl.c in vfmigrate-agent).
 * No I/O.
 */
#ifndef VFM_PROTO_NLMSG_H
#define VFM_PROTO_NLMSG_H

#include <linux/netlink.h>

#include "../util/util.h"

/*
 * An NLMSG_ERROR message (the caller checked that nlh lies within its buffer): 0 for an ack,
 * else -errno (kernel values outside 1..4095 become -EPROTO) with the extended ack's text,
 * stripped of control characters, in d (may be NULL). -EBADMSG when it is truncated.
 */
int nlmsg_error_parse(const struct nlmsghdr *nlh, struct diag *d);

#endif
