/* SPDX-License-Identifier: MIT */
/*
 * rtnetlink messages of vfmigrate-agent, built into and parsed from caller buffers (no
 * sockets), so they can be unit-tested and fuzzed.
 */
#ifndef VFM_AGENT_NL_H
#define VFM_AGENT_NL_H

#include <linux/netlink.h>
#include <stddef.h>
#include <stdint.h>

#include "agent.h"

/* Buffers passed to the builders must hold at least this many bytes. */
#define NL_MSG_BUF 1024

/* Each builder writes one request into buf and returns its header (length in nlmsg_len). */
struct nlmsghdr *nl_build_link_dump(void *buf, uint32_t seq);
struct nlmsghdr *nl_build_link_get(void *buf, uint32_t seq, int ifindex);
/* RTM_DELLINK: deletes a virtual link (the bond); a bond releases its slaves as it goes. */
struct nlmsghdr *nl_build_link_delete(void *buf, uint32_t seq, int ifindex);
struct nlmsghdr *nl_build_bond_create(void *buf, uint32_t seq, const struct agent_bond_params *p);
struct nlmsghdr *nl_build_set_master(void *buf, uint32_t seq, int ifindex, int master);
struct nlmsghdr *nl_build_set_up(void *buf, uint32_t seq, int ifindex, int up);
/* Sets one u32 IFLA_BOND_* option (IFLA_BOND_PRIMARY, IFLA_BOND_ACTIVE_SLAVE) of a bond. */
struct nlmsghdr *nl_build_bond_set_u32(void *buf, uint32_t seq, int bond, uint16_t attr,
				       uint32_t value);

/* Parses one RTM_NEWLINK message. Returns 0 or -EBADMSG. */
int nl_link_parse(const struct nlmsghdr *nlh, struct agent_link *ret);

/*
 * Parses one datagram of a link dump (or a single RTM_GETLINK reply), appending the links to
 * *links / *n (realloc'd; at most max in all). Messages with another seq are skipped.
 * Returns 1 when the dump is complete (NLMSG_DONE, or a non-multipart reply), 0 when more
 * datagrams follow, -errno from an NLMSG_ERROR (text in d), -EBADMSG on malformed input,
 * -E2BIG over max.
 */
int nl_link_dump_parse(const void *buf, size_t len, uint32_t seq, struct agent_link **links,
		       size_t *n, size_t max, struct diag *d);

/*
 * Looks for the acknowledgement of request seq in one datagram. Returns 1 for a positive
 * ack, 0 when it is not in this datagram, -errno for an error ack (kernel extack text in d).
 */
int nl_ack_parse(const void *buf, size_t len, uint32_t seq, struct diag *d);

#endif
