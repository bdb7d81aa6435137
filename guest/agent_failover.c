// SPDX-License-Identifier: MIT
/*
 * guest-failover-status: the kernel's net_failover as the host needs it. virtio-net with
 * VIRTIO_NET_F_STANDBY (QEMU failover=on) makes a master NIC over the virtio NIC (the standby)
 * and enslaves a NIC of the same MAC that appears later (the VF, the primary). The master has
 * no device and no link kind of its own: it is found as the master of the virtio NIC that
 * carries the MAC, and not a bond. It sends on the primary while that is up with carrier.
 */
#include "agent_impl.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

struct failover {
	const struct agent_link *master, *standby, *primary;
	const char *active; /* "primary", "standby", "none" */
};

static bool link_is_virtio(struct agent *a, const struct agent_link *l)
{
	char drv[32];

	return a->be->driver && a->be->driver(a->be->ctx, l->name, drv, sizeof(drv)) >= 0 &&
	       strcmp(drv, "virtio_net") == 0;
}

static bool link_sends(const struct agent_link *l)
{
	return l && (l->flags & IFF_UP) && slave_link_up(l);
}

/* -ENOENT: no net_failover master over a virtio NIC with this MAC. */
static int failover_find(struct agent *a, const struct links *ls, const uint8_t mac[6],
			 struct failover *ret)
{
	struct failover f = {0};

	for (size_t i = 0; i < ls->n && !f.master; i++) {
		const struct agent_link *l = &ls->v[i], *m;

		if (!l->master || memcmp(agent_link_mac(l), mac, 6) != 0 || !link_is_virtio(a, l))
			continue;
		m = links_by_index(ls, l->master);
		if (m && m->kind[0] == '\0') {
			f.master = m;
			f.standby = l;
		}
	}
	if (!f.master)
		return -ENOENT;
	for (size_t i = 0; i < ls->n; i++)
		if (ls->v[i].master == f.master->ifindex && ls->v[i].ifindex != f.standby->ifindex)
			f.primary = &ls->v[i];
	f.active = link_sends(f.primary) ? "primary" : link_sends(f.standby) ? "standby" : "none";
	*ret = f;
	return 0;
}

int cmd_failover_status(struct agent *a, json_t *args, json_t **ret, struct cmd_err *e)
{
	static const struct arg_spec spec[] = {
	    {"mac", ARG_MAC, true, 0, 0},
	    {"timeout", ARG_INT, false, 0, AGENT_WAIT_MAX_MS},
	    {NULL, 0, false, 0, 0},
	};
	_cleanup_(links_free) struct links ls = {0};
	struct failover f;
	uint8_t mac[6];
	int64_t start, deadline;
	char m[18];
	int r;

	if ((r = args_check(args, spec, e)) < 0)
		return r;
	arg_mac(args, "mac", mac);
	format_mac(mac, m);
	start = a->be->now_ms(a->be->ctx);
	deadline = start + arg_int(args, "timeout", 0);
	/* timeout > 0: until the master sends on its primary (a VF just plugged). */
	for (;;) {
		int64_t left;

		if ((r = links_load(a, &ls, e)) < 0)
			return r;
		if (failover_find(a, &ls, mac, &f) < 0)
			return cmd_fail(e, QGA_ERROR_DEVICE_NOT_FOUND,
					"no net_failover master over a virtio NIC with MAC %s", m);
		left = deadline - a->be->now_ms(a->be->ctx);
		if (strcmp(f.active, "primary") == 0 || arg_int(args, "timeout", 0) == 0)
			break;
		if (left <= 0)
			return cmd_fail(e, QGA_ERROR_TIMEOUT,
					"failover master %s: %s within %lld ms", f.master->name,
					f.primary ? "its primary got no link"
						  : "no primary appeared",
					(long long)(deadline - start));
		a->be->wait(a->be->ctx,
			    (int)(left < AGENT_WAIT_TICK_MS ? left : AGENT_WAIT_TICK_MS));
	}
	*ret = json_pack("{s:s,s:o,s:s,s:o,s:o,s:I}", "master", f.master->name, "mac",
			 json_mac(f.master->addr), "active", f.active, "standby",
			 json_nic(a, &ls, f.standby, NULL), "primary",
			 f.primary ? json_nic(a, &ls, f.primary, NULL) : json_null(), "waited_ms",
			 (json_int_t)(a->be->now_ms(a->be->ctx) - start));
	return *ret ? 0 : cmd_fail(e, QGA_ERROR_KERNEL, "out of memory");
}
