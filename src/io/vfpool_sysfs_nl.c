// SPDX-License-Identifier: MIT
/* The VF pool's rtnetlink transport: a PF's VF list, a VF's MAC and VLAN. */
#include "vfpool_sysfs_impl.h"

#include <errno.h>
#include <linux/netlink.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "proto/vfnl.h"
#include "util/fdio.h"

/* ------------------------------------------------------------------------------------------ */
/* rtnetlink                                                                                   */

int real_send(void *ud, const void *buf, size_t len, struct diag *d)
{
	struct vfpool_sysfs *p = ud;
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK};

	if (p->nl_fd < 0) {
		int one = 1;

		p->nl_fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
		if (p->nl_fd < 0) {
			int r = -errno;

			diag_set(d, "netlink socket: %s", strerror(-r));
			return r;
		}
		/* Extended acks carry the driver's reason; capped acks do not echo requests. */
		(void)setsockopt(p->nl_fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
		(void)setsockopt(p->nl_fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	}
	if (sendto(p->nl_fd, buf, len, 0, (struct sockaddr *)&sa, sizeof(sa)) != (ssize_t)len) {
		int r = -errno;

		diag_set(d, "netlink send: %s", strerror(-r));
		return r;
	}
	return 0;
}

int real_recv(void *ud, void *buf, size_t cap, size_t *ret_len, int64_t deadline_ms, struct diag *d)
{
	struct vfpool_sysfs *p = ud;

	for (;;) {
		ssize_t k = recv(p->nl_fd, buf, cap, MSG_TRUNC | MSG_DONTWAIT);
		int r;

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0 && errno == EAGAIN) {
			r = fdio_wait(p->nl_fd, POLLIN, deadline_ms);
			if (r == -ETIMEDOUT)
				diag_set(d, "no netlink answer by the deadline");
			else if (r < 0)
				diag_set(d, "netlink poll: %s", strerror(-r));
			if (r < 0)
				return r;
			continue;
		}
		if (k < 0) {
			r = -errno;
			diag_set(d, "netlink receive: %s", strerror(-r));
			return r;
		}
		if ((size_t)k > cap) {
			diag_set(d, "netlink answer of %zd bytes exceeds %zu", k, cap);
			return -EMSGSIZE;
		}
		*ret_len = (size_t)k;
		return 0;
	}
}

/* Sends req and receives until the datagram holding its answer (seq) arrives. parse is
 * vfnl_parse_ack's job or vfnl_parse_link's: this only finds the datagram. */
static int nl_transact(struct vfpool_sysfs *p, const void *req, size_t len, uint32_t seq,
		       size_t *ret_len, int64_t deadline_ms, struct diag *d)
{
	int r = p->o.nl.send(p->o.nl.userdata, req, len, d);

	if (r < 0)
		return r;
	for (;;) {
		struct diag tmp = {{0}};
		size_t n = 0;

		r = p->o.nl.recv(p->o.nl.userdata, p->reply, NL_REPLY_MAX, &n, deadline_ms, d);
		if (r < 0)
			return r;
		/* Skip datagrams answering something else (a late reply to an earlier request). */
		if (vfnl_parse_ack(p->reply, n, seq, &tmp) != -ENOMSG) {
			*ret_len = n;
			return 0;
		}
	}
}

/* The PF's VF list over rtnetlink. */
int pf_vf_list(struct vfpool_sysfs *p, const struct pf *pf, struct vfnl_vf *vfs, size_t *ret_n,
	       int64_t deadline_ms, struct diag *d)
{
	uint8_t req[VFNL_REQ_BUF];
	uint32_t seq = ++p->seq;
	size_t len;
	int num, r;

	r = vfnl_build_get_pf(req, sizeof(req), seq, pf->name);
	if (r < 0)
		return r;
	r = nl_transact(p, req, (size_t)r, seq, &len, deadline_ms, d);
	if (r >= 0)
		r = vfnl_parse_link(p->reply, len, seq, vfs, VFNL_VFS_MAX, ret_n, &num, d);
	if (r < 0)
		diag_prefix(d, "PF %s: reading its VFs over rtnetlink", pf->name);
	return r;
}

/* Sets the VF's MAC and VLAN (vlan -1: none) on its PF and reads them back. */
int vf_set_mac_vlan(struct vfpool_sysfs *p, const struct vf *vf, const uint8_t mac[6], int vlan,
		    int64_t deadline_ms, struct diag *d)
{
	_cleanup_free_ struct vfnl_vf *vfs = calloc(VFNL_VFS_MAX, sizeof(*vfs));
	const struct vfnl_vf *got;
	uint8_t req[VFNL_REQ_BUF];
	uint32_t seq = ++p->seq;
	char m[18];
	size_t len, n;
	int r;

	if (!vfs)
		return -ENOMEM;
	r = vfnl_build_set_vf(req, sizeof(req), seq, vf->pf->name, vf->index, mac, vlan);
	if (r < 0) {
		diag_set(d, "cannot build the VF request");
		return r;
	}
	r = nl_transact(p, req, (size_t)r, seq, &len, deadline_ms, d);
	if (r >= 0)
		r = vfnl_parse_ack(p->reply, len, seq, d);
	if (r < 0) {
		diag_prefix(d, "PF %s: setting VF %u MAC %s VLAN %d", vf->pf->name, vf->index,
			    format_mac(mac, m), vlan < 0 ? 0 : vlan);
		return r;
	}
	r = pf_vf_list(p, vf->pf, vfs, &n, deadline_ms, d);
	if (r < 0)
		return r;
	got = vfnl_find(vfs, n, vf->index);
	if (!got || !got->has_mac || memcmp(got->mac, mac, 6) != 0 ||
	    (got->has_vlan && got->vlan != (uint32_t)(vlan < 0 ? 0 : vlan))) {
		diag_set(d, "PF %s: VF %u does not hold MAC %s VLAN %d after setting them",
			 vf->pf->name, vf->index, format_mac(mac, m), vlan < 0 ? 0 : vlan);
		return -EIO;
	}
	return 0;
}
