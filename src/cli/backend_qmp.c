// SPDX-License-Identifier: MIT
/*
 * The qmp backend: bare QEMU through its QMP sockets, the guest agent's socket, and a VF pool
 * (emulated VFs on taps, or real ones: vf-pool = sysfs:PF), all named by the config file.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "io/agent_qga.h"
#include "io/agent_vfm.h"
#include "io/hv_qmp.h"
#include "io/vfpool_emul.h"
#include "io/vfpool_sysfs.h"

/* What one side holds open. */
struct qmp_res {
	struct hv_qmp *hvq;
	struct agent_vfm *agent;
	struct agent_qga *qga; /* the stock qemu-ga on its own socket */
	struct vfpool_emul *pool;
	struct vfpool_sysfs *pool_s;
};

/* "tap" or "tap:rootport". */
static void split_pool_entry(const char *e, const char *default_bus, char tap[VFM_ID_MAX],
			     char bus[VFM_ID_MAX])
{
	const char *colon = strchr(e, ':');

	if (colon) {
		snprintf(tap, VFM_ID_MAX, "%.*s", (int)(colon - e), e);
		snprintf(bus, VFM_ID_MAX, "%s", colon + 1);
	} else {
		snprintf(tap, VFM_ID_MAX, "%s", e);
		snprintf(bus, VFM_ID_MAX, "%s", default_bus);
	}
}

/*
 * Real SR-IOV VFs of this machine: vf-pool = sysfs:PF[:rootport] ... Reservations are kept
 * under the state dir, next to the journals, so every vfmigrate run on the host sees them.
 */
static int sysfs_pool_open(const struct config_side *s, const char *bus, const char *state_dir,
			   struct qmp_res *r, struct vfpool_ops *vp, struct diag *d)
{
	struct vfpool_sysfs_options o = {0};
	int rc;

	snprintf(o.sysfs_root, sizeof(o.sysfs_root), "%s", s->sysfs_root);
	if (snprintf(o.state_dir, sizeof(o.state_dir), "%s", state_dir) >=
	    (int)sizeof(o.state_dir)) {
		diag_set(d, "state dir path too long");
		return -EINVAL;
	}
	snprintf(o.driver, sizeof(o.driver), "%s", s->vf_driver);
	rc = vfpool_sysfs_new(&o, &r->pool_s, d);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < s->n_vf_pool; i++) {
		char pf[VFM_ID_MAX], b[VFM_ID_MAX];

		split_pool_entry(s->vf_pool[i] + strlen(CONFIG_POOL_SYSFS), bus, pf, b);
		rc = vfpool_sysfs_add_pf(r->pool_s, pf, b, d);
		if (rc < 0)
			return rc;
	}
	vfpool_sysfs_ops(r->pool_s, vp);
	return 0;
}

static int qmp_open_side(const struct config *c, const char *state_dir, bool dst, struct side *side,
			 struct diag *d)
{
	struct qmp_res *r = calloc(1, sizeof(*r));
	const struct config_side *s = dst ? &c->dst : &c->src;
	const char *bus = s->vf_bus[0] ? s->vf_bus : c->src.vf_bus;
	struct hv_qmp_options o = {0};
	struct config_vf vfs[VFM_VFS_MAX];
	size_t n_vfs;
	int rc;

	if (!r)
		return -ENOMEM;
	rc = config_vfs(c, vfs, &n_vfs, d);
	if (rc < 0) {
		free(r);
		return rc;
	}
	side->res = r;
	snprintf(o.socket_path, sizeof(o.socket_path), "%s", s->qmp);
	o.incoming_deferred = dst && c->dst.incoming_defer;
	rc = hv_qmp_new(&o, &r->hvq, d);
	if (rc < 0)
		return rc;
	hv_qmp_ops(r->hvq, &side->hv);
	/* vfmigrate-agent when its socket is configured and there; else the stock qemu-ga. */
	if (s->agent[0] && (!s->qga[0] || access(s->agent, F_OK) == 0)) {
		rc = agent_vfm_new(s->agent, &r->agent, d);
		if (rc < 0)
			return rc;
		agent_vfm_ops(r->agent, &side->ag);
	} else {
		rc = agent_qga_new_socket(s->qga, &r->qga, d);
		if (rc < 0)
			return rc;
		agent_qga_ops(r->qga, &side->ag);
	}
	if (config_pool_is_sysfs(s))
		return sysfs_pool_open(s, bus, state_dir, r, &side->vp, d);
	if (!dst && s->vf_host[0]) {
		diag_set(d, "source.vf-host needs source.vf-pool = sysfs:PF (the VF's PF), so "
			    "the VF can be given back");
		return -EINVAL;
	}
	rc = vfpool_emul_new(s->vf_driver[0] ? s->vf_driver : c->src.vf_driver, &r->pool, d);
	if (rc < 0)
		return rc;
	for (size_t i = 0; !dst && i < n_vfs; i++) {
		const struct config_vf *v = &vfs[i];
		const char *vb = v->vf_bus[0] ? v->vf_bus : bus;

		if (!v->vf_tap[0] || !vb[0])
			continue;
		/* A VF the guest has now: in use by its device until released. */
		rc = vfpool_emul_add(r->pool, v->physnet, v->vf_tap, vb, v->vf_device, d);
		if (rc < 0)
			return rc;
	}
	for (size_t i = 0; i < s->n_vf_pool; i++) {
		char tap[VFM_ID_MAX], b[VFM_ID_MAX];

		split_pool_entry(s->vf_pool[i], bus, tap, b);
		rc = vfpool_emul_add(r->pool, c->physnet, tap, b, NULL, d);
		if (rc < 0)
			return rc;
	}
	if (s->pool_host[0]) {
		rc = vfpool_emul_share(r->pool, state_dir, s->pool_host, d);
		if (rc < 0)
			return rc;
	}
	vfpool_emul_ops(r->pool, &side->vp);
	return 0;
}

static void qmp_close_side(struct side *s)
{
	struct qmp_res *r = s->res;

	if (!r)
		return;
	hv_qmp_free(r->hvq);
	agent_vfm_free(r->agent);
	agent_qga_free(r->qga);
	vfpool_emul_free(r->pool);
	vfpool_sysfs_free(r->pool_s);
	free(r);
	s->res = NULL;
}

static const char *qmp_agent_transport(const struct side *s)
{
	const struct qmp_res *r = s->res;

	if (r && r->qga)
		return agent_qga_socket_used(r->qga) ? config_agent_to_string(CONFIG_AGENT_QEMU_GA)
						     : NULL;
	return r && agent_vfm_used(r->agent) ? config_agent_to_string(CONFIG_AGENT_SOCKET) : NULL;
}

/* Both sides, as the config names them. */
static int qmp_open(const struct cli_args *a, const struct config *c, struct world *w,
		    struct diag *d)
{
	int r;

	r = qmp_open_side(c, cli_state_dir(a), false, &w->src, d);
	if (r < 0) {
		diag_prefix(d, "source");
		return r;
	}
	r = qmp_open_side(c, cli_state_dir(a), true, &w->dst, d);
	if (r < 0) {
		diag_prefix(d, "destination");
		return r;
	}
	world_env(w);
	return 0;
}

/* One VF of the config into the plan; "[vf NAME] " or "" names it in what is missing. */
static int config_vf_to_plan(const struct config *c, const struct config_vf *v, enum plan_mode mode,
			     struct plan_vf *pv, struct diag *d)
{
	const char *missing = NULL;
	char where[VFM_ID_MAX + 8];

	snprintf(where, sizeof(where), "%s%s%s", v->name[0] ? "[vf " : "", v->name,
		 v->name[0] ? "] " : "");
	/* Failover mode has no bond, and its virtio NIC carries vf-mac; auto may pick it. */
	if (!v->bond[0] && mode == PLAN_MODE_BOND)
		missing = v->name[0] ? "bond" : "guest.bond";
	else if (!v->has_vf_mac)
		missing = v->name[0] ? "vf-mac" : "guest.vf-mac";
	else if (!v->has_backup_mac && mode == PLAN_MODE_BOND)
		missing = v->name[0] ? "backup-mac" : "guest.backup-mac";
	else if (!v->vf_device[0])
		missing = v->name[0] ? "vf-device" : "source.vf-device";
	else if (!v->vf_bus[0] && !c->src.vf_bus[0])
		missing = v->name[0] ? "vf-bus" : "source.vf-bus";
	else if (!v->vf_tap[0] && !v->vf_host[0])
		missing = v->name[0] ? "vf-tap (or vf-host)" : "source.vf-tap (or source.vf-host)";
	if (missing) {
		diag_set(d, "config %slacks %s", where, missing);
		return -EINVAL;
	}
	snprintf(pv->name, sizeof(pv->name), "%s", v->name);
	snprintf(pv->bond, sizeof(pv->bond), "%s", v->bond);
	memcpy(pv->vf_mac, v->vf_mac, 6);
	memcpy(pv->backup_mac, v->has_backup_mac ? v->backup_mac : v->vf_mac, 6);
	snprintf(pv->src_vf.device_id, VFM_ID_MAX, "%s", v->vf_device);
	snprintf(pv->src_vf.bus, VFM_ID_MAX, "%s", v->vf_bus[0] ? v->vf_bus : c->src.vf_bus);
	if (v->vf_host[0]) {
		/* A real VF, passed through with vfio-pci. */
		if (v->vf_tap[0]) {
			diag_set(d, "config %shas vf-tap and vf-host: the VF is one or the other",
				 where);
			return -EINVAL;
		}
		snprintf(pv->src_vf.driver, VFM_ID_MAX, "%s",
			 v->vf_driver[0] ? v->vf_driver : "vfio-pci");
		snprintf(pv->src_vf.backend, VFM_ID_MAX, "%s", v->vf_host);
		pv->src_vf.backend_kind = PLUG_BACKEND_HOSTDEV;
	} else {
		snprintf(pv->src_vf.driver, VFM_ID_MAX, "%s",
			 v->vf_driver[0]       ? v->vf_driver
			 : c->src.vf_driver[0] ? c->src.vf_driver
					       : "e1000e");
		snprintf(pv->src_vf.backend, VFM_ID_MAX, "%s", v->vf_tap);
		snprintf(pv->src_vf.netdev_id, VFM_ID_MAX, "%s", v->vf_netdev);
		pv->src_vf.backend_kind = PLUG_BACKEND_TAP;
	}
	memcpy(pv->src_vf.mac, v->vf_mac, 6);
	pv->src_vf.has_mac = true;
	pv->src_vf.vlan = v->vlan;
	snprintf(pv->physnet, sizeof(pv->physnet), "%s", v->physnet);
	pv->vlan = v->vlan;
	/* The pool says which root port each destination VF sits on. */
	snprintf(pv->dst_device_id, sizeof(pv->dst_device_id), "%s",
		 v->dst_vf_device[0] ? v->dst_vf_device : v->vf_device);
	return 0;
}

static int config_to_plan(const struct cli_args *a, const struct config *c, struct plan *p,
			  bool need_uri, struct diag *d)
{
	const char *missing = NULL;
	struct config_vf vfs[VFM_VFS_MAX];
	size_t n_vfs;
	int rc;

	plan_init(p);
	snprintf(p->guest, sizeof(p->guest), "%s", a->guest);
	if (plan_apply_mode(c, p, d) < 0)
		return -EINVAL;
	rc = config_vfs(c, vfs, &n_vfs, d);
	if (rc < 0)
		return rc;
	if (!c->src.qmp[0])
		missing = "source.qmp";
	else if (!c->dst.qmp[0])
		missing = "destination.qmp";
	else if (!c->src.agent[0] && !c->src.qga[0])
		missing = "source.agent (or source.qga)";
	else if (!c->dst.agent[0] && !c->dst.qga[0])
		missing = "destination.agent (or destination.qga)";
	else if (need_uri && !c->dst.migrate_uri[0])
		missing = "destination.migrate-uri (or DEST)";
	if (missing) {
		diag_set(d, "config lacks %s", missing);
		return -EINVAL;
	}
	for (size_t i = 0; i < n_vfs; i++) {
		rc = config_vf_to_plan(c, &vfs[i], p->mode, &p->vfs[i], d);
		if (rc < 0)
			return rc;
		for (size_t j = 0; j < i; j++)
			if (!strcmp(p->vfs[i].src_vf.device_id, p->vfs[j].src_vf.device_id) ||
			    !memcmp(p->vfs[i].vf_mac, p->vfs[j].vf_mac, 6)) {
				diag_set(d,
					 "config: [vf %s] and [vf %s] share a vf-device or vf-mac",
					 vfs[j].name, vfs[i].name);
				return -EINVAL;
			}
	}
	p->n_vfs = n_vfs;
	p->create_bond = c->create_bond;
	p->fail_over_mac = c->fail_over_mac;
	snprintf(p->migrate.uri, sizeof(p->migrate.uri), "%s", c->dst.migrate_uri);
	snprintf(p->migrate.incoming_uri, sizeof(p->migrate.incoming_uri), "%s",
		 c->dst.incoming_uri);
	/* DEST on the command line reaches migrate_uri unchecked by the config parser. */
	if (c->dst.migrate_uri[0] && !journal_dest_valid(c->dst.migrate_uri)) {
		diag_set(d, "DEST (destination.migrate-uri) must be printable text");
		return -EINVAL;
	}
	snprintf(p->dest, sizeof(p->dest), "%s", c->dst.migrate_uri);
	plan_apply_limits(c, p);
	if (p->n_vfs && c->dst.n_vf_pool == 0) {
		diag_set(d, "config lacks destination.vf-pool (the VFs the destination may use)");
		return -EINVAL;
	}
	return 0;
}

static int qmp_prepare(const struct cli_args *a, const struct config *c, struct plan *p,
		       struct world *w, bool need_dest, struct diag *d)
{
	int rc = config_to_plan(a, c, p, need_dest, d);

	if (rc < 0)
		return rc;
	return qmp_open(a, c, w, d);
}

/* The config names the sides and the bond; no plan needed. */
static int qmp_open_status(const struct cli_args *a, const struct config *c, struct world *w,
			   char ret_bonds[VFM_VFS_MAX][VFM_IFNAME_MAX], size_t *ret_n,
			   uint8_t ret_vf_macs[VFM_VFS_MAX][6], size_t *ret_n_macs, struct diag *d)
{
	struct config_vf vfs[VFM_VFS_MAX];
	size_t n = 0;

	*ret_n = *ret_n_macs = 0;
	if (config_vfs(c, vfs, &n, d) < 0)
		return -EINVAL;
	for (size_t i = 0; i < n && i < VFM_VFS_MAX && vfs[i].has_vf_mac; i++)
		memcpy(ret_vf_macs[(*ret_n_macs)++], vfs[i].vf_mac, 6);
	for (size_t i = 0; i < n; i++) {
		size_t j = 0;

		/* Several VFs in one bond: it is shown once. */
		while (j < *ret_n && strcmp(ret_bonds[j], vfs[i].bond) != 0)
			j++;
		if (j == *ret_n && vfs[i].bond[0])
			snprintf(ret_bonds[(*ret_n)++], VFM_IFNAME_MAX, "%s", vfs[i].bond);
	}
	return qmp_open(a, c, w, d);
}

/* Everything that keeps the qmp backend from opening is in the config or the options. */
static bool qmp_usage_error(int rc)
{
	(void)rc;
	return true;
}

const struct backend backend_qmp = {
    .name = "qmp",
    .prepare = qmp_prepare,
    .usage_error = qmp_usage_error,
    .open_status = qmp_open_status,
    .close_side = qmp_close_side,
    .agent_transport = qmp_agent_transport,
};
