// SPDX-License-Identifier: MIT
/*
 * The guest agent of a libvirt domain, reached the way found at the first call: the agent's
 * channel is in the running domain's XML, and on the destination the domain exists only
 * after the migration ([libvirt] agent, see lazy_get).
 */
#include "agent_lazy.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent_qga.h"
#include "agent_vfm.h"

struct agent_lazy {
	struct hv_libvirt *hv;
	char fixed_path[CONFIG_PATH_MAX]; /* from the config file: used as is */
	enum config_agent mode;
	enum config_agent used; /* what lazy_get chose; AUTO: nothing yet */
	struct agent_vfm *a;
	struct agent_qga *q; /* fallback: stock qemu-ga through libvirt */
	struct agent_ops ops;
};

struct agent_lazy *agent_lazy_free(struct agent_lazy *l)
{
	if (l) {
		agent_vfm_free(l->a);
		agent_qga_free(l->q);
		free(l);
	}
	return NULL;
}

/* agent_vfm's connect callback: the channel through libvirt, a fresh one each time. */
static int lazy_open_channel(void *ud, int64_t deadline_ms, struct diag *d)
{
	struct agent_lazy *l = ud;

	(void)deadline_ms; /* libvirt's calls have no deadline of ours */
	return hv_libvirt_open_channel(l->hv, DOMXML_AGENT_CHANNEL, d);
}

static int lazy_use(struct agent_lazy *l, enum config_agent how, const char *path, struct diag *d)
{
	int r;

	switch (how) {
	case CONFIG_AGENT_SOCKET:
		r = agent_vfm_new(path, &l->a, d);
		if (r >= 0)
			agent_vfm_ops(l->a, &l->ops);
		break;
	case CONFIG_AGENT_CHANNEL:
		r = agent_vfm_new_connect("channel " DOMXML_AGENT_CHANNEL " through libvirt",
					  lazy_open_channel, l, &l->a, d);
		if (r >= 0)
			agent_vfm_ops(l->a, &l->ops);
		break;
	default: {
		struct qga_transport t;

		hv_libvirt_qga_transport(l->hv, &t);
		r = agent_qga_new(&t, &l->q, d);
		if (r >= 0)
			agent_qga_ops(l->q, &l->ops);
		break;
	}
	}
	if (r >= 0)
		l->used = how;
	return r;
}

/*
 * auto: the channel's socket when it exists on this machine; else the channel through libvirt
 * (a remote daemon) when the driver can open its type; else, without the channel, the stock
 * qemu-ga through libvirt. socket, channel and qemu-ga force one and fail when it cannot be.
 */
static int lazy_get(struct agent_lazy *l, struct diag *d)
{
	struct hv_libvirt_agent_channel ch;
	char type[DOMXML_CHANNEL_TYPE_MAX];
	bool local;
	int r;

	if (l->a || l->q)
		return 0;
	if (l->mode == CONFIG_AGENT_QEMU_GA)
		return lazy_use(l, CONFIG_AGENT_QEMU_GA, NULL, d);
	if (l->fixed_path[0] && l->mode != CONFIG_AGENT_CHANNEL)
		return lazy_use(l, CONFIG_AGENT_SOCKET, l->fixed_path, d);
	r = hv_libvirt_agent_channel(l->hv, &ch, d);
	if (r == -ENODEV && l->mode == CONFIG_AGENT_AUTO)
		return lazy_use(l, CONFIG_AGENT_QEMU_GA, NULL, d);
	if (r < 0) {
		if (r == -ENODEV)
			diag_prefix(d, "libvirt.agent=%s", config_agent_to_string(l->mode));
		return r;
	}
	str_sanitize(type, sizeof(type), ch.type);
	local = ch.path[0] && access(ch.path, F_OK) == 0;
	switch (l->mode) {
	case CONFIG_AGENT_SOCKET:
		if (!ch.path[0]) {
			diag_set(d,
				 "channel %s is of type %s, not unix "
				 "(libvirt.agent=socket)",
				 DOMXML_AGENT_CHANNEL, type);
			return -ENODEV;
		}
		if (!local) {
			diag_set(d,
				 "socket %s is not on this machine (a remote libvirt "
				 "daemon? libvirt.agent=channel reaches it through libvirt)",
				 ch.path);
			return -ENOENT;
		}
		return lazy_use(l, CONFIG_AGENT_SOCKET, ch.path, d);
	case CONFIG_AGENT_CHANNEL:
		return lazy_use(l, CONFIG_AGENT_CHANNEL, NULL, d);
	default:
		if (local)
			return lazy_use(l, CONFIG_AGENT_SOCKET, ch.path, d);
		/* What the QEMU driver can open as a stream. */
		if (!strcmp(ch.type, "unix") || !strcmp(ch.type, "pty"))
			return lazy_use(l, CONFIG_AGENT_CHANNEL, NULL, d);
		return lazy_use(l, CONFIG_AGENT_QEMU_GA, NULL, d);
	}
}

#define LAZY(call)                         \
	do {                               \
		struct agent_lazy *l = ud; \
		int r_ = lazy_get(l, d);   \
		if (r_ < 0)                \
			return r_;         \
		return l->ops.call;        \
	} while (0)

static int la_ping(void *ud, int64_t dl, struct diag *d)
{
	LAZY(ping(l->ops.userdata, dl, d));
}
static int la_bond_status(void *ud, const char *bond, int64_t dl, struct bond_status *ret,
			  struct diag *d)
{
	LAZY(bond_status(l->ops.userdata, bond, dl, ret, d));
}
static int la_bond_create(void *ud, const char *bond, const uint8_t backup[6], const uint8_t *vf,
			  enum bond_fom fom, int64_t dl, struct diag *d)
{
	LAZY(bond_create(l->ops.userdata, bond, backup, vf, fom, dl, d));
}
static int la_set_active(void *ud, const char *bond, const struct nic_sel *nic, bool primary,
			 int64_t dl, struct diag *d)
{
	LAZY(set_active(l->ops.userdata, bond, nic, primary, dl, d));
}
static int la_release(void *ud, const char *bond, const struct nic_sel *nic, int64_t dl,
		      struct diag *d)
{
	LAZY(release(l->ops.userdata, bond, nic, dl, d));
}
static int la_enslave(void *ud, const char *bond, const struct nic_sel *nic, int64_t link_ms,
		      bool active, int64_t dl, struct diag *d)
{
	LAZY(enslave(l->ops.userdata, bond, nic, link_ms, active, dl, d));
}
static int la_link_wait(void *ud, const struct nic_sel *nic, int64_t link_ms, int64_t dl,
			struct diag *d)
{
	LAZY(link_wait(l->ops.userdata, nic, link_ms, dl, d));
}
/* Both agents behind it report net_failover (vfmigrate-agent's guest-failover-status, qemu-ga
 * from sysfs); one that could not says so. */
static int la_failover_status(void *ud, const uint8_t mac[6], int64_t primary_wait_ms, int64_t dl,
			      struct failover_status *ret, struct diag *d)
{
	struct agent_lazy *l = ud;
	int r = lazy_get(l, d);

	if (r < 0)
		return r;
	if (!l->ops.failover_status) {
		diag_set(d, "the guest agent cannot report the guest's net_failover");
		return -EOPNOTSUPP;
	}
	return l->ops.failover_status(l->ops.userdata, mac, primary_wait_ms, dl, ret, d);
}
#undef LAZY

int agent_lazy_new(struct hv_libvirt *hv, enum config_agent mode, const char *fixed_path,
		   struct agent_lazy **ret)
{
	struct agent_lazy *l = calloc(1, sizeof(*l));

	if (!l)
		return -ENOMEM;
	l->hv = hv;
	l->mode = mode;
	snprintf(l->fixed_path, sizeof(l->fixed_path), "%s", fixed_path ? fixed_path : "");
	*ret = l;
	return 0;
}

void agent_lazy_ops(struct agent_lazy *l, struct agent_ops *ret_ops)
{
	*ret_ops = (struct agent_ops){
	    .userdata = l,
	    .ping = la_ping,
	    .bond_status = la_bond_status,
	    .bond_create = la_bond_create,
	    .set_active = la_set_active,
	    .release = la_release,
	    .enslave = la_enslave,
	    .link_wait = la_link_wait,
	    .failover_status = la_failover_status,
	};
}

const char *agent_lazy_transport(const struct agent_lazy *l)
{
	return l->used == CONFIG_AGENT_AUTO ? NULL : config_agent_to_string(l->used);
}
