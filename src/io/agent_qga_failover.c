// SPDX-License-Identifier: MIT
/*
 * The guest's net_failover through the stock qemu-ga, by reading sysfs like the bond path:
 * the NICs on the MAC from guest-network-get-interfaces; the standby is the one bound to
 * virtio_net that has a master, the master the one whose ifindex
 * /sys/class/net/STANDBY/master/ifindex names (not a bond: no bonding/mode; its device is the
 * standby's, so it reads virtio_net too), the primary the other NIC with a device under that
 * master; a NIC sends while /sys/class/net/NAME/carrier reads 1. Polled while waiting.
 */
#include "agent_qga_impl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FO_POLL_MS 100
#define FO_NICS	   8 /* NICs on one MAC looked at */

/* A small sysfs file's first line as an integer; -ENOENT when unreadable. */
static int read_int(struct agent_qga *a, const char *fmt, const char *name, int64_t deadline,
		    long *ret, struct diag *d)
{
	_cleanup_free_ char *v = NULL;
	char path[128], *end;
	long val;
	int r;

	snprintf(path, sizeof(path), fmt, name);
	r = agent_qga_read(a, path, deadline, &v, d);
	if (r < 0)
		return r;
	/* Guest data: digits only, in range, then nothing or a newline. */
	errno = 0;
	val = strtol(v, &end, 10);
	if (!(v[0] >= '0' && v[0] <= '9') || errno || (*end && strcmp(end, "\n") != 0)) {
		diag_set(d, "%s: not a number", path);
		return -EBADMSG;
	}
	*ret = val;
	return 0;
}

/* The guest's NICs that carry mac (names checked for paths), at most FO_NICS. */
static int nics_on_mac(struct agent_qga *a, const uint8_t mac[6], int64_t deadline,
		       char names[FO_NICS][VFM_IFNAME_MAX], size_t *ret_n, struct diag *d)
{
	json_t *ifs = NULL, *e;
	size_t i, n = 0;
	int r;

	r = agent_qga_cmd(a, "guest-network-get-interfaces", NULL, deadline, &ifs, d);
	if (r < 0)
		return r;
	json_array_foreach (ifs, i, e) {
		const char *nm = json_string_value(json_object_get(e, "name"));
		const char *hw = json_string_value(json_object_get(e, "hardware-address"));
		uint8_t m[6];

		if (!nm || !hw || parse_mac(hw, m) < 0 || memcmp(m, mac, 6) != 0 ||
		    !agent_qga_ifname_ok(nm) || n == FO_NICS)
			continue;
		snprintf(names[n++], VFM_IFNAME_MAX, "%s", nm);
	}
	json_decref(ifs);
	*ret_n = n;
	return 0;
}

/*
 * Whether r is the guest's own answer that a file is not there or not readable (qemu-ga's
 * error reply: no such file, no master, carrier of a NIC that is down), not a failure to
 * reach the guest (a timeout, a broken channel) or a malformed answer: those are errors, never
 * read as "no master" or "no link".
 */
static bool guest_said_no(int r)
{
	return r == -ENOENT || r == -EREMOTEIO || r == -EIO || r == -EINVAL;
}

/* An optional integer file: *ret -1 when the guest says it is not there. */
static int read_opt(struct agent_qga *a, const char *fmt, const char *name, int64_t deadline,
		    long *ret, struct diag *d)
{
	struct diag rd = {0};
	int r = read_int(a, fmt, name, deadline, ret, &rd);

	if (r >= 0)
		return 0;
	*ret = -1;
	if (guest_said_no(r))
		return 0;
	*d = rd;
	return r;
}

static int has_carrier(struct agent_qga *a, const char *name, int64_t deadline, bool *ret,
		       struct diag *d)
{
	long c;
	int r = read_opt(a, "/sys/class/net/%s/carrier", name, deadline, &c, d);

	*ret = r >= 0 && c == 1;
	return r;
}

/* One look. -ENOENT: no net_failover master over a virtio NIC with this MAC; any other error
 * is not reaching the guest, or a malformed answer. */
static int failover_read(struct agent_qga *a, const uint8_t mac[6], int64_t deadline,
			 struct failover_status *ret, struct diag *d)
{
	char names[FO_NICS][VFM_IFNAME_MAX], m[18];
	int standby = -1, master = -1, primary = -1;
	long ifindex[FO_NICS], master_of[FO_NICS];
	enum nic_kind kind[FO_NICS];
	struct failover_status st = {0};
	struct diag md = {0};
	size_t n;
	int r;

	r = nics_on_mac(a, mac, deadline, names, &n, d);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		r = agent_qga_nic_ident(a, names[i], deadline, &kind[i], d);
		if (r < 0)
			return r;
		r = read_opt(a, "/sys/class/net/%s/ifindex", names[i], deadline, &ifindex[i], d);
		if (r >= 0)
			r = read_opt(a, "/sys/class/net/%s/master/ifindex", names[i], deadline,
				     &master_of[i], d);
		if (r < 0)
			return r;
		if (kind[i] == NIC_KIND_VIRTIO && master_of[i] > 0 && standby < 0)
			standby = (int)i;
	}
	for (size_t i = 0; standby >= 0 && i < n; i++) {
		_cleanup_free_ char *mode = NULL;
		char path[128];

		/* Any kind: the master's device is the standby's (virtio) device. */
		if (ifindex[i] != master_of[standby] || (int)i == standby)
			continue;
		snprintf(path, sizeof(path), "/sys/class/net/%s/bonding/mode", names[i]);
		r = agent_qga_read(a, path, deadline, &mode, &md);
		if (r < 0 && !guest_said_no(r)) {
			*d = md;
			return r;
		}
		if (r < 0)
			master = (int)i; /* not a bond */
	}
	if (master < 0) {
		diag_set(d, "no net_failover master over a virtio NIC with MAC %s",
			 format_mac(mac, m));
		return -ENOENT;
	}
	for (size_t i = 0; i < n; i++)
		if ((int)i != standby && (int)i != master && kind[i] != NIC_KIND_OTHER &&
		    master_of[i] == ifindex[master])
			primary = (int)i;
	snprintf(st.master, sizeof(st.master), "%s", names[master]);
	st.has_standby = true;
	st.has_primary = primary >= 0;
	r = has_carrier(a, names[standby], deadline, &st.standby_link, d);
	if (r >= 0 && st.has_primary)
		r = has_carrier(a, names[primary], deadline, &st.primary_link, d);
	if (r < 0)
		return r;
	st.primary_active = st.primary_link;
	*ret = st;
	return 0;
}

int agent_qga_failover_status(void *ud, const uint8_t mac[6], int64_t primary_wait_ms,
			      int64_t deadline, struct failover_status *ret, struct diag *d)
{
	struct agent_qga *a = ud;
	int64_t until = time_now_ms() + primary_wait_ms;
	struct failover_status st;

	for (;;) {
		int r = failover_read(a, mac, deadline, &st, d);

		if (r < 0)
			return r;
		if (st.primary_active || primary_wait_ms <= 0)
			break;
		if (time_now_ms() + FO_POLL_MS >= (until < deadline ? until : deadline)) {
			diag_set(d, "failover master %s: %s within %lld ms", st.master,
				 st.has_primary ? "its primary got no link" : "no primary appeared",
				 (long long)primary_wait_ms);
			return -ETIMEDOUT;
		}
		usleep(FO_POLL_MS * 1000);
	}
	*ret = st;
	return 0;
}
