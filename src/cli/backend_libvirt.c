// SPDX-License-Identifier: MIT
/*
 * The libvirt backend: the domain's hypervisors through libvirt (never QMP), the guest's facts
 * from its metadata (setup writes them), the agent reached as agent_lazy finds, VFs from
 * libvirt's hostdev networks or PCI addresses.
 */
#ifndef VFM_HAVE_LIBVIRT
#error "backend_libvirt.c is built only with libvirt"
#endif
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "io/agent_lazy.h"
#include "io/hv_libvirt.h"
#include "io/vfpool_libvirt.h"

/* What one side holds open. */
struct lv_res {
	struct hv_libvirt *hvl;
	struct vfpool_libvirt *pool_l;
	struct agent_lazy *lazy;
	/* A destination for a guest with several VFs: a pool per VF, with that VF's sources and
	 * its own in-flight reservation (pool_l is then unused). */
	size_t n_vf_pools;
	struct vfpool_libvirt *vf_pool[VFM_VFS_MAX];
	struct vfpool_ops vf_ops[VFM_VFS_MAX];
	char vf_alias[VFM_VFS_MAX][VFM_ID_MAX];
	uint8_t vf_mac[VFM_VFS_MAX][6];
	char vf_physnet[VFM_VFS_MAX][VFM_ID_MAX];
};

/* The VF a pool call is for: the device id the core asks for is the VF's alias; else its
 * MAC. -1: none. */
static int lv_vf_of(const struct lv_res *r, const char *alias, const uint8_t *mac)
{
	for (size_t i = 0; alias && alias[0] && i < r->n_vf_pools; i++)
		if (!strcmp(r->vf_alias[i], alias))
			return (int)i;
	for (size_t i = 0; mac && i < r->n_vf_pools; i++)
		if (!memcmp(r->vf_mac[i], mac, 6))
			return (int)i;
	return -1;
}

/* As many free as the VFs on physnet whose own sources have one free (reserve decides). */
static int mp_probe(void *ud, const char *physnet, int64_t deadline_ms, unsigned *ret_free,
		    struct diag *d)
{
	struct lv_res *r = ud;
	unsigned n = 0;

	for (size_t i = 0; i < r->n_vf_pools; i++) {
		const struct vfpool_ops *v = &r->vf_ops[i];
		unsigned f = 0;
		int rc;

		if (strcmp(r->vf_physnet[i], physnet) != 0)
			continue;
		rc = v->probe(v->userdata, physnet, deadline_ms, &f, d);
		if (rc < 0)
			return rc;
		n += f > 0;
	}
	*ret_free = n;
	return 0;
}

static int mp_reserve(void *ud, const char *physnet, const uint8_t mac[6], int vlan,
		      const char *device_id_hint, int64_t deadline_ms, struct plug_spec *ret_spec,
		      struct diag *d)
{
	struct lv_res *r = ud;
	int i = lv_vf_of(r, device_id_hint, mac);

	if (i < 0) {
		diag_set(d, "no VF of the domain's metadata is %s",
			 device_id_hint ? device_id_hint : "named");
		return -ENOENT;
	}
	return r->vf_ops[i].reserve(r->vf_ops[i].userdata, physnet, mac, vlan, device_id_hint,
				    deadline_ms, ret_spec, d);
}

/* The VF's own pool; a spec that names no VF (recover's "whatever is reserved for this MAC")
 * goes to every pool. */
static int mp_release(void *ud, const struct plug_spec *spec, int64_t deadline_ms, struct diag *d)
{
	struct lv_res *r = ud;
	int i = lv_vf_of(r, spec->device_id, spec->has_mac ? spec->mac : NULL), rc = 0;

	for (size_t k = 0; k < r->n_vf_pools; k++) {
		const struct vfpool_ops *v = &r->vf_ops[k];
		int rk;

		if (i >= 0 && (int)k != i)
			continue;
		rk = v->release(v->userdata, spec, deadline_ms, d);
		if (rk < 0 && rc == 0)
			rc = rk;
	}
	return rc;
}

static int mp_failover_fits(void *ud, const struct plug_spec *src, struct diag *d)
{
	struct lv_res *r = ud;
	int i = lv_vf_of(r, src->device_id, src->has_mac ? src->mac : NULL);

	if (i < 0 || !r->vf_ops[i].failover_fits)
		return 0;
	return r->vf_ops[i].failover_fits(r->vf_ops[i].userdata, src, d);
}

/* The destination of a guest with several VFs: a pool per VF behind one set of ops. */
static int lv_open_vf_pools(const struct cli_args *a, const struct domxml_metas *m,
			    struct lv_res *r, const char *uri, struct vfpool_ops *ret_ops,
			    struct diag *d)
{
	bool takes_mac = true;
	int rc;

	for (size_t i = 0; i < m->n; i++) {
		const struct domxml_meta *v = &m->vfs[i];

		rc = vfpool_libvirt_new(r->hvl, (const char(*)[VFM_ID_MAX])v->sources, v->n_sources,
					&r->vf_pool[i], d);
		if (rc >= 0)
			rc = vfpool_libvirt_share(r->vf_pool[i], cli_state_dir(a), uri, d);
		if (rc < 0)
			return rc;
		r->n_vf_pools++;
		vfpool_libvirt_ops(r->vf_pool[i], &r->vf_ops[i]);
		takes_mac &= r->vf_ops[i].vf_takes_guest_mac;
		snprintf(r->vf_alias[i], VFM_ID_MAX, "%s", v->vf_alias);
		memcpy(r->vf_mac[i], v->vf_mac, 6);
		snprintf(r->vf_physnet[i], VFM_ID_MAX, "%s", v->physnet);
	}
	*ret_ops = (struct vfpool_ops){
	    .userdata = r,
	    .vf_takes_guest_mac = takes_mac,
	    .probe = mp_probe,
	    .reserve = mp_reserve,
	    .release = mp_release,
	    .handoff = NULL,
	    .failover_fits = mp_failover_fits,
	};
	return 0;
}

static int split_map(const char *arg, char from[DOMXML_PATH_MAX], char to[DOMXML_PATH_MAX],
		     struct diag *d)
{
	const char *eq = arg ? strchr(arg, '=') : NULL;

	from[0] = to[0] = '\0';
	if (!arg)
		return 0;
	if (!eq || eq == arg || !eq[1] || (size_t)(eq - arg) >= DOMXML_PATH_MAX ||
	    strlen(eq + 1) >= DOMXML_PATH_MAX || arg[0] != '/' || eq[1] != '/') {
		diag_set(d, "path map wants /FROM=/TO");
		return -EINVAL;
	}
	snprintf(from, DOMXML_PATH_MAX, "%.*s", (int)(eq - arg), arg);
	snprintf(to, DOMXML_PATH_MAX, "%s", eq + 1);
	return 0;
}

static int lv_open_side(const struct cli_args *a, const struct config *c, bool dst,
			const struct domxml_metas *m, struct side *side, struct diag *d)
{
	struct lv_res *r = calloc(1, sizeof(*r));
	struct hv_libvirt_options o = {0};
	const char *uri = dst ? a->dest : a->connect_uri;
	int rc;

	if (!r)
		return -ENOMEM;
	side->res = r;
	snprintf(o.uri, sizeof(o.uri), "%s", uri ? uri : "");
	snprintf(o.domain, sizeof(o.domain), "%s", a->guest);
	for (size_t i = 0; m && i < m->n; i++) {
		snprintf(o.vfs[i].alias, sizeof(o.vfs[i].alias), "%s", m->vfs[i].vf_alias);
		memcpy(o.vfs[i].mac, m->vfs[i].vf_mac, 6);
		o.n_vfs++;
	}
	rc = split_map(dst ? a->dst_path_map : a->src_path_map, o.path_from, o.path_to, d);
	if (rc < 0)
		return rc;
	rc = hv_libvirt_new(&o, &r->hvl, d);
	if (rc < 0)
		return rc;
	hv_libvirt_ops(r->hvl, &side->hv);
	rc = agent_lazy_new(r->hvl, c->lv_agent, dst ? c->dst.agent : c->src.agent, &r->lazy);
	if (rc < 0)
		return rc;
	agent_lazy_ops(r->lazy, &side->ag);
	if (dst && m && m->n > 1)
		return lv_open_vf_pools(a, m, r, o.uri, &side->vp, d);
	rc = vfpool_libvirt_new(r->hvl,
				(const char(*)[VFM_ID_MAX])(dst && m ? m->vfs[0].sources : NULL),
				dst && m ? m->vfs[0].n_sources : 0, &r->pool_l, d);
	if (rc < 0)
		return rc;
	rc = vfpool_libvirt_share(r->pool_l, cli_state_dir(a), o.uri, d);
	if (rc < 0)
		return rc;
	vfpool_libvirt_ops(r->pool_l, &side->vp);
	return 0;
}

/*
 * The VF as the domain defines it now (the running definition, else its config): a plug spec
 * to re-plug it. Not the live state: there a VF of a hostdev network is a type='hostdev' VF,
 * while the definition (what a migration sends, what a re-plug should restore) names the
 * network.
 */
static int lv_src_vf(struct hv_libvirt *h, const struct domxml_meta *m, struct plug_spec *ret,
		     struct diag *d)
{
	_cleanup_free_ struct domxml_domain *dom = calloc(1, sizeof(*dom));
	const struct domxml_nic *nic = NULL;
	struct plug_spec s = {.vlan = m->vlan};
	int rc;

	if (!dom)
		return -ENOMEM;
	for (int inactive = 0; inactive < 2 && !nic; inactive++) {
		rc = hv_libvirt_domain(h, inactive ? HV_LIBVIRT_INACTIVE : HV_LIBVIRT_MIGRATABLE,
				       dom, d);
		if (rc < 0)
			return rc;
		nic = domxml_find_nic(dom, m->vf_alias, NULL);
	}
	if (nic && strcmp(nic->type, "ethernet") == 0 && nic->target_dev[0]) {
		s.backend_kind = PLUG_BACKEND_TAP;
		snprintf(s.backend, sizeof(s.backend), "%s", nic->target_dev);
		snprintf(s.driver, sizeof(s.driver), "%s", nic->model[0] ? nic->model : "e1000e");
	} else if (nic && strcmp(nic->type, "network") == 0 && nic->network[0]) {
		s.backend_kind = PLUG_BACKEND_HOSTDEV;
		snprintf(s.backend, sizeof(s.backend), "%s", nic->network);
		snprintf(s.driver, sizeof(s.driver), "network");
	} else if (nic && strcmp(nic->type, "hostdev") == 0 && nic->hostdev_pci[0]) {
		s.backend_kind = PLUG_BACKEND_HOSTDEV;
		snprintf(s.backend, sizeof(s.backend), "%s", nic->hostdev_pci);
		snprintf(s.driver, sizeof(s.driver), "hostdev");
	} else if (nic && strcmp(nic->type, DOMXML_HOSTDEV_PCI) == 0) {
		/* A bare PCI VF comes back as it was, managed or not. */
		s.backend_kind = PLUG_BACKEND_HOSTDEV;
		snprintf(s.backend, sizeof(s.backend), "%s", nic->hostdev_pci);
		snprintf(s.driver, sizeof(s.driver), "%s",
			 nic->managed ? DOMXML_HOSTDEV_PCI_MANAGED : DOMXML_HOSTDEV_PCI);
	} else if (m->n_sources > 0) {
		rc = domxml_source_to_spec(m->sources[0], &s, d);
		if (rc < 0)
			return rc;
	} else {
		diag_set(d,
			 "the domain has no interface with alias %s and its metadata no VF source",
			 m->vf_alias);
		return -ENOENT;
	}
	snprintf(s.device_id, sizeof(s.device_id), "%s", m->vf_alias);
	memcpy(s.mac, m->vf_mac, 6);
	s.has_mac = true;
	*ret = s;
	return 0;
}

static void lv_close_side(struct side *s)
{
	struct lv_res *r = s->res;

	if (!r)
		return;
	agent_lazy_free(r->lazy);
	vfpool_libvirt_free(r->pool_l);
	for (size_t i = 0; i < r->n_vf_pools; i++)
		vfpool_libvirt_free(r->vf_pool[i]);
	hv_libvirt_free(r->hvl);
	free(r);
	s->res = NULL;
}

static const char *lv_agent_transport(const struct side *s)
{
	const struct lv_res *r = s->res;

	return r && r->lazy ? agent_lazy_transport(r->lazy) : NULL;
}

/* A VF source string for the NIC the guest has now (the default destination source). */
static void source_of_spec(const struct plug_spec *s, char out[VFM_ID_MAX])
{
	if (s->backend_kind == PLUG_BACKEND_TAP)
		snprintf(out, VFM_ID_MAX, "ethernet:%s:%s", s->backend, s->driver);
	else if (strcmp(s->driver, "network") == 0)
		snprintf(out, VFM_ID_MAX, "network:%s", s->backend);
	else
		snprintf(out, VFM_ID_MAX, "hostdev:%s", s->backend);
}

/* Reads the metadata from the source, else (the guest already moved) from the destination;
 * and each VF as the guest has it. ret_found false: no metadata (a plain migration). */
static int lv_read_meta(const struct cli_args *a, struct domxml_metas *m,
			struct plug_spec src_vf[VFM_VFS_MAX], bool *ret_found, struct diag *d)
{
	const char *uris[2] = {a->connect_uri ? a->connect_uri : "", a->dest};
	int rc = -ENOENT;

	*ret_found = false;
	for (int i = 0; i < 2 && rc == -ENOENT; i++) {
		struct hv_libvirt_options o = {0};
		struct hv_libvirt *h = NULL;

		if (!uris[i])
			break;
		snprintf(o.uri, sizeof(o.uri), "%s", uris[i]);
		snprintf(o.domain, sizeof(o.domain), "%s", a->guest);
		rc = hv_libvirt_new(&o, &h, d);
		if (rc < 0)
			return rc;
		rc = hv_libvirt_get_metadata(h, m, d);
		if (rc >= 0)
			*ret_found = true;
		for (size_t v = 0; rc >= 0 && v < m->n; v++)
			rc = lv_src_vf(h, &m->vfs[v], &src_vf[v], d);
		if (rc < 0)
			diag_prefix(d, "%s", i == 0 ? "source" : "destination");
		hv_libvirt_free(h);
	}
	return rc == -ENODATA ? 0 : rc;
}

static int lv_prepare(const struct cli_args *a, const struct config *c, struct plan *p,
		      struct world *w, bool need_dest, struct diag *d)
{
	struct domxml_metas m = {0};
	struct plug_spec src_vf[VFM_VFS_MAX];
	bool found = false;
	int rc;

	plan_init(p);
	snprintf(p->guest, sizeof(p->guest), "%s", a->guest);
	if (need_dest && !a->dest) {
		diag_set(d, "DEST (the destination libvirt URI) is required with libvirt");
		return -EINVAL;
	}
	if (a->dest && !journal_dest_valid(a->dest)) {
		diag_set(d, "DEST must be printable text of less than %d bytes", JOURNAL_DEST_MAX);
		return -EINVAL;
	}
	snprintf(p->dest, sizeof(p->dest), "%s", a->dest ? a->dest : "");
	rc = lv_read_meta(a, &m, src_vf, &found, d);
	if (rc < 0)
		return rc;
	if (!found)
		m.n = 0;
	/* A VF whose metadata names no source comes from where it is now. */
	for (size_t i = 0; i < m.n; i++)
		if (m.vfs[i].n_sources == 0) {
			source_of_spec(&src_vf[i], m.vfs[i].sources[0]);
			m.vfs[i].n_sources = 1;
		}
	rc = lv_open_side(a, c, false, found ? &m : NULL, &w->src, d);
	if (rc < 0) {
		diag_prefix(d, "source");
		return rc;
	}
	rc = lv_open_side(a, c, true, found ? &m : NULL, &w->dst, d);
	if (rc < 0) {
		diag_prefix(d, "destination");
		return rc;
	}
	hv_libvirt_set_peer(((struct lv_res *)w->src.res)->hvl, ((struct lv_res *)w->dst.res)->hvl);
	p->n_vfs = m.n;
	for (size_t i = 0; i < m.n; i++) {
		struct plan_vf *v = &p->vfs[i];

		/* Several VFs are named by their aliases; one keeps the single VF's name. */
		if (m.n > 1)
			snprintf(v->name, sizeof(v->name), "%s", m.vfs[i].vf_alias);
		v->src_vf = src_vf[i];
		snprintf(v->bond, sizeof(v->bond), "%s", m.vfs[i].bond);
		memcpy(v->vf_mac, m.vfs[i].vf_mac, 6);
		memcpy(v->backup_mac, m.vfs[i].backup_mac, 6);
		snprintf(v->physnet, sizeof(v->physnet), "%s", m.vfs[i].physnet);
		v->vlan = m.vfs[i].vlan;
		snprintf(v->dst_device_id, sizeof(v->dst_device_id), "%s", m.vfs[i].vf_alias);
	}
	p->create_bond = c->create_bond;
	p->fail_over_mac = c->fail_over_mac;
	snprintf(p->migrate.uri, sizeof(p->migrate.uri), "%s",
		 a->migrate_uri ? a->migrate_uri : "");
	plan_apply_limits(c, p);
	rc = plan_apply_mode(c, p, d);
	if (rc < 0)
		return rc;
	world_env(w);
	return 0;
}

/* A failure of the metadata or the options (else of libvirt or the network). */
static bool lv_usage_error(int rc)
{
	return rc == -EINVAL || rc == -E2BIG || rc == -EBADMSG;
}

/* Without DEST the destination is the journal's run (status gives it as DEST). */
static int lv_open_status(const struct cli_args *a, const struct config *c, struct world *w,
			  char ret_bonds[VFM_VFS_MAX][VFM_IFNAME_MAX], size_t *ret_n,
			  uint8_t ret_vf_macs[VFM_VFS_MAX][6], size_t *ret_n_macs, struct diag *d)
{
	struct plan p;
	int rc = lv_prepare(a, c, &p, w, false, d);

	*ret_n = *ret_n_macs = 0;
	for (size_t i = 0; rc >= 0 && i < p.n_vfs; i++) {
		memcpy(ret_vf_macs[(*ret_n_macs)++], p.vfs[i].vf_mac, 6);
		if (p.vfs[i].bond[0])
			snprintf(ret_bonds[(*ret_n)++], VFM_IFNAME_MAX, "%s", p.vfs[i].bond);
	}
	return rc;
}

/* Whether nic is the VF of one of the options' VFs. */
static bool setup_is_vf(const struct setup_args *all, const struct domxml_nic *nic)
{
	for (size_t i = 0; i < all->n; i++)
		if (all->vfs[i].vf_alias && !strcmp(nic->alias, all->vfs[i].vf_alias))
			return true;
	return false;
}

/* setup: one VF's MAC and its backup's from the domain's XML (dom), the rest from its
 * options. */
static int setup_meta(const struct cli_args *ca, const struct setup_args *all,
		      const struct setup_vf_args *a, const struct domxml_domain *dom,
		      struct domxml_meta *m, struct diag *d)
{
	const struct domxml_nic *vf, *bk = NULL;
	int rc;

	domxml_meta_init(m);
	/* No --bond: a failover guest (the VF's <interface> has <teaming type='transient'>). */
	if (!a->vf_alias) {
		diag_set(d, "setup needs --vf-alias (and --bond, but for a failover VF)");
		return -EINVAL;
	}
	if ((a->bond && strlen(a->bond) >= sizeof(m->bond)) ||
	    strlen(a->vf_alias) >= sizeof(m->vf_alias) ||
	    (a->physnet && strlen(a->physnet) >= sizeof(m->physnet))) {
		diag_set(d, "--bond, --vf-alias or --physnet too long");
		return -EINVAL;
	}
	snprintf(m->bond, sizeof(m->bond), "%s", a->bond ? a->bond : "");
	snprintf(m->vf_alias, sizeof(m->vf_alias), "%s", a->vf_alias);
	if (a->physnet)
		snprintf(m->physnet, sizeof(m->physnet), "%s", a->physnet);
	if (a->vlan) {
		int64_t v;

		if (parse_int64(a->vlan, 0, 4094, &v) < 0) {
			diag_set(d, "--vlan wants 0..4094");
			return -EINVAL;
		}
		m->vlan = (int)v;
	}
	vf = domxml_find_nic(dom, a->vf_alias, NULL);
	if (!vf) {
		diag_set(d, "domain %s has no interface or PCI hostdev with alias %s", ca->guest,
			 a->vf_alias);
		return -ENOENT;
	}
	if (!a->bond && strcmp(vf->teaming_type, "transient") != 0) {
		diag_set(d,
			 "setup needs --bond: %s has no <teaming type='transient'> (a failover "
			 "VF needs no bond)",
			 a->vf_alias);
		return -EINVAL;
	}
	if (a->vf_mac) {
		if (parse_mac(a->vf_mac, m->vf_mac) < 0) {
			diag_set(d, "bad --vf-mac");
			return -EINVAL;
		}
		if (vf->has_mac && memcmp(vf->mac, m->vf_mac, 6) != 0) {
			diag_set(d, "--vf-mac differs from the MAC of %s in the domain",
				 a->vf_alias);
			return -EINVAL;
		}
	} else if (vf->has_mac) {
		memcpy(m->vf_mac, vf->mac, 6);
	} else {
		/* A <hostdev>: its MAC is the one the host gave it on the PF. */
		diag_set(d, "%s has no MAC in the domain: give the VF's MAC with --vf-mac",
			 a->vf_alias);
		return -EINVAL;
	}
	if (a->backup_mac) {
		if (parse_mac(a->backup_mac, m->backup_mac) < 0) {
			diag_set(d, "bad --backup-mac");
			return -EINVAL;
		}
	} else {
		/* The one other NIC, if there is exactly one besides the VFs. */
		for (size_t i = 0; i < dom->n_nics; i++) {
			if (setup_is_vf(all, &dom->nics[i]) || !dom->nics[i].has_mac)
				continue;
			if (bk) {
				diag_set(d, "more than one other NIC: say which with --backup-mac");
				return -EINVAL;
			}
			bk = &dom->nics[i];
		}
		if (!bk) {
			diag_set(d, "no backup NIC besides the VF");
			return -ENOENT;
		}
		memcpy(m->backup_mac, bk->mac, 6);
	}
	for (size_t i = 0; i < a->n_vf_sources; i++) {
		rc = domxml_source_check(a->vf_sources[i], d);
		/* A failover VF's destination keeps its interface: a source of the same kind.
		 * With --bond the VF goes through the bond (the destination plugs it anew). */
		if (rc >= 0 && !a->bond && strcmp(vf->teaming_type, "transient") == 0)
			rc = domxml_failover_fits(vf->alias, vf->type, a->vf_sources[i], d);
		if (rc < 0)
			return rc;
		snprintf(m->sources[m->n_sources++], VFM_ID_MAX, "%s", a->vf_sources[i]);
	}
	return 0;
}

static int lv_setup(const struct cli_args *a, const struct setup_args *s, char **ret_xml,
		    struct diag *d)
{
	_cleanup_free_ struct domxml_domain *dom = calloc(1, sizeof(*dom));
	struct hv_libvirt_options o = {0};
	struct hv_libvirt *h = NULL;
	struct domxml_metas m = {0};
	int rc;

	if (!dom)
		return -ENOMEM;
	if (s->n == 0) {
		diag_set(d, "setup needs --vf-alias (and --bond, but for a failover VF)");
		return -EINVAL;
	}
	snprintf(o.uri, sizeof(o.uri), "%s", a->connect_uri ? a->connect_uri : "");
	snprintf(o.domain, sizeof(o.domain), "%s", a->guest);
	rc = hv_libvirt_new(&o, &h, d);
	if (rc >= 0)
		rc = hv_libvirt_domain(h, HV_LIBVIRT_MIGRATABLE, dom, d);
	for (size_t i = 0; rc >= 0 && i < s->n; i++) {
		rc = setup_meta(a, s, &s->vfs[i], dom, &m.vfs[i], d);
		if (rc < 0 && s->n > 1)
			diag_prefix(d, "VF %zu", i + 1);
		m.n++;
	}
	if (rc >= 0)
		rc = hv_libvirt_set_metadata(h, &m, d);
	if (rc >= 0)
		rc = domxml_metas_format(&m, ret_xml, d);
	hv_libvirt_free(h);
	return rc;
}

static int lv_list_guests(const struct cli_args *a, char (*ret)[VFM_ID_MAX], size_t max,
			  size_t *ret_n, struct diag *d)
{
	struct hv_libvirt_options o = {0};
	struct hv_libvirt *h = NULL;
	int rc;

	snprintf(o.uri, sizeof(o.uri), "%s", a->connect_uri ? a->connect_uri : "");
	rc = hv_libvirt_new(&o, &h, d);
	if (rc >= 0)
		rc = hv_libvirt_list_managed(h, ret, max, ret_n, d);
	hv_libvirt_free(h);
	return rc;
}

const struct backend backend_libvirt = {
    .name = "libvirt",
    .dest_is_host = true,
    .prepare = lv_prepare,
    .usage_error = lv_usage_error,
    .open_status = lv_open_status,
    .close_side = lv_close_side,
    .agent_transport = lv_agent_transport,
    .setup = lv_setup,
    .list_guests = lv_list_guests,
};
