// SPDX-License-Identifier: MIT
/*
 * vfmigrate: live-migrates a guest whose NIC is a VF in an active-backup bond with a virtio
 * NIC, without dropping its network. Subcommands: migrate, check, status, recover, config.
 * See vfmigrate(8).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "core/plan.h"
#include "io/agent_vfm.h"
#include "io/hv_qmp.h"
#include "io/journal_file.h"
#include "io/vfpool_emul.h"
#include "io/vfpool_sysfs.h"
#include "proto/config.h"
#include "util/file.h"
#ifdef VFM_HAVE_LIBVIRT
#include "io/agent_qga_libvirt.h"
#include "io/hv_libvirt.h"
#include "io/vfpool_libvirt.h"
#endif

#define CONFIG_DIR_DEFAULT "/etc/vfmigrate"

struct args {
	const char *command;
	const char *guest;
	const char *dest;
	const char *config_path;
	const char *connect_uri; /* libvirt: the source URI */
	const char *migrate_uri; /* libvirt: the migration (data) URI */
	const char *src_path_map, *dst_path_map;
	/* setup */
	const char *bond, *vf_alias, *vf_mac, *backup_mac, *vlan, *physnet;
	const char *vf_sources[8];
	size_t n_vf_sources;
	const char *state_dir;
	const char *backend;
	bool json;
	bool create_bond;
	const char *fail_over_mac;
	const char *unplug_timeout;
	const char *max_bandwidth;
	const char *downtime_limit;
	const char *overrides[32];
	size_t n_overrides;
};

static const char *state_dir(const struct args *a)
{
	return a->state_dir ? a->state_dir : VFM_STATE_DIR_DEFAULT;
}

/* ------------------------------------------------------------------------------------------ */
/* Backends: each opens the ops of one host side from the config. libvirt slots in here.      */

struct lazy_agent;

struct side_res {
	struct hv_qmp *hvq;
	struct agent_vfm *agent;
	struct vfpool_emul *pool;
	struct vfpool_sysfs *pool_s;
#ifdef VFM_HAVE_LIBVIRT
	struct hv_libvirt *hvl;
	struct vfpool_libvirt *pool_l;
	struct lazy_agent *lazy;
#endif
	struct hv_ops hv;
	struct agent_ops ag;
	struct vfpool_ops vp;
};

struct backend {
	const char *name;
	int (*open_side)(const struct config *c, const char *state_dir, bool dst,
			 struct side_res *r, struct diag *d);
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
			   struct side_res *r, struct diag *d)
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
	vfpool_sysfs_ops(r->pool_s, &r->vp);
	return 0;
}

static int qmp_open_side(const struct config *c, const char *state_dir, bool dst,
			 struct side_res *r, struct diag *d)
{
	const struct config_side *s = dst ? &c->dst : &c->src;
	const char *bus = s->vf_bus[0] ? s->vf_bus : c->src.vf_bus;
	struct hv_qmp_options o = {0};
	int rc;

	snprintf(o.socket_path, sizeof(o.socket_path), "%s", s->qmp);
	o.incoming_deferred = dst && c->dst.incoming_defer;
	rc = hv_qmp_new(&o, &r->hvq, d);
	if (rc < 0)
		return rc;
	hv_qmp_ops(r->hvq, &r->hv);
	rc = agent_vfm_new(s->agent, &r->agent, d);
	if (rc < 0)
		return rc;
	agent_vfm_ops(r->agent, &r->ag);
	if (config_pool_is_sysfs(s))
		return sysfs_pool_open(s, bus, state_dir, r, d);
	if (!dst && s->vf_host[0]) {
		diag_set(d, "source.vf-host needs source.vf-pool = sysfs:PF (the VF's PF), so "
			    "the VF can be given back");
		return -EINVAL;
	}
	rc = vfpool_emul_new(s->vf_driver[0] ? s->vf_driver : c->src.vf_driver, &r->pool, d);
	if (rc < 0)
		return rc;
	if (!dst && s->vf_tap[0] && bus[0]) {
		/* The VF the guest has now: in use by its device until released. */
		rc = vfpool_emul_add(r->pool, c->physnet, s->vf_tap, bus, s->vf_device, d);
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
	vfpool_emul_ops(r->pool, &r->vp);
	return 0;
}

static const struct backend backends[] = {
    {"qmp", qmp_open_side},
};

#ifdef VFM_HAVE_LIBVIRT
static struct lazy_agent *lazy_agent_free(struct lazy_agent *l);
#endif

static void side_close(struct side_res *r)
{
#ifdef VFM_HAVE_LIBVIRT
	r->lazy = lazy_agent_free(r->lazy);
	r->pool_l = vfpool_libvirt_free(r->pool_l);
	r->hvl = hv_libvirt_free(r->hvl);
#endif
	r->hvq = hv_qmp_free(r->hvq);
	r->agent = agent_vfm_free(r->agent);
	r->pool = vfpool_emul_free(r->pool);
	r->pool_s = vfpool_sysfs_free(r->pool_s);
}

#ifdef VFM_HAVE_LIBVIRT
/* ------------------------------------------------------------------------------------------ */
/* libvirt: the agent's channel is in the running domain's XML; on the destination the domain
 * exists only after the migration, so the transport is chosen at the first call
 * ([libvirt] agent, see lazy_get). */

struct lazy_agent {
	struct hv_libvirt *hv;
	char fixed_path[CONFIG_PATH_MAX]; /* from the config file: used as is */
	enum config_agent mode;
	enum config_agent used; /* what lazy_get chose; AUTO: nothing yet */
	struct agent_vfm *a;
	struct agent_qgalv *q; /* fallback: stock qemu-ga through libvirt */
	struct agent_ops ops;
};

static struct lazy_agent *lazy_agent_free(struct lazy_agent *l)
{
	if (l) {
		agent_vfm_free(l->a);
		agent_qgalv_free(l->q);
		free(l);
	}
	return NULL;
}

/* agent_vfm's connect callback: the channel through libvirt, a fresh one each time. */
static int lazy_open_channel(void *ud, int64_t deadline_ms, struct diag *d)
{
	struct lazy_agent *l = ud;

	(void)deadline_ms; /* libvirt's calls have no deadline of ours */
	return hv_libvirt_open_channel(l->hv, DOMXML_AGENT_CHANNEL, d);
}

static int lazy_use(struct lazy_agent *l, enum config_agent how, const char *path, struct diag *d)
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
	default:
		r = agent_qgalv_new(l->hv, &l->q, d);
		if (r >= 0)
			agent_qgalv_ops(l->q, &l->ops);
		break;
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
static int lazy_get(struct lazy_agent *l, struct diag *d)
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
		struct lazy_agent *l = ud; \
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
#undef LAZY

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

static int lv_open_side(const struct args *a, const struct config *c, bool dst,
			const struct domxml_meta *m, struct side_res *r, struct diag *d)
{
	struct hv_libvirt_options o = {0};
	const char *uri = dst ? a->dest : a->connect_uri;
	int rc;

	snprintf(o.uri, sizeof(o.uri), "%s", uri ? uri : "");
	snprintf(o.domain, sizeof(o.domain), "%s", a->guest);
	if (m) {
		o.has_vf = true;
		snprintf(o.vf_alias, sizeof(o.vf_alias), "%s", m->vf_alias);
		memcpy(o.vf_mac, m->vf_mac, 6);
	}
	rc = split_map(dst ? a->dst_path_map : a->src_path_map, o.path_from, o.path_to, d);
	if (rc < 0)
		return rc;
	rc = hv_libvirt_new(&o, &r->hvl, d);
	if (rc < 0)
		return rc;
	hv_libvirt_ops(r->hvl, &r->hv);
	r->lazy = calloc(1, sizeof(*r->lazy));
	if (!r->lazy)
		return -ENOMEM;
	r->lazy->hv = r->hvl;
	r->lazy->mode = c->lv_agent;
	snprintf(r->lazy->fixed_path, sizeof(r->lazy->fixed_path), "%s",
		 dst ? c->dst.agent : c->src.agent);
	r->ag = (struct agent_ops){
	    .userdata = r->lazy,
	    .ping = la_ping,
	    .bond_status = la_bond_status,
	    .bond_create = la_bond_create,
	    .set_active = la_set_active,
	    .release = la_release,
	    .enslave = la_enslave,
	    .link_wait = la_link_wait,
	};
	rc = vfpool_libvirt_new(r->hvl, (const char(*)[VFM_ID_MAX])(dst && m ? m->sources : NULL),
				dst && m ? m->n_sources : 0, &r->pool_l, d);
	if (rc < 0)
		return rc;
	rc = vfpool_libvirt_share(r->pool_l, state_dir(a), o.uri, d);
	if (rc < 0)
		return rc;
	vfpool_libvirt_ops(r->pool_l, &r->vp);
	return 0;
}

/* The VF as the domain has it now (live, else in its config): a plug spec to re-plug it. */
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
		rc = hv_libvirt_domain(h, inactive, dom, d);
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
#endif

/* ------------------------------------------------------------------------------------------ */

static int64_t real_now(void *ud)
{
	(void)ud;
	return time_now_ms();
}

static int64_t real_wall(void *ud)
{
	(void)ud;
	return time_wall_ns() / 1000000;
}

static const struct clock_ops real_clock = {.now_ms = real_now, .wall_ms = real_wall};

static void usage(FILE *f)
{
	fputs("usage: vfmigrate [OPTIONS] COMMAND GUEST [DEST]\n"
	      "\n"
	      "commands:\n"
	      "  migrate GUEST [DEST]  live-migrate GUEST (DEST: qmp: destination migration URI;\n"
	      "                        libvirt: destination libvirt URI)\n"
	      "  check GUEST [DEST]    pre-flight only; changes nothing\n"
	      "  status GUEST [DEST]   journal state (with its destination) and live bond status\n"
	      "  recover GUEST [DEST]  finish or undo an interrupted run from its journal\n"
	      "                        (libvirt: DEST defaults to the one the journal records)\n"
	      "  config GUEST          print the effective configuration\n"
	      "  setup DOMAIN          libvirt: write vfmigrate's metadata into the domain\n"
	      "\n"
	      "options:\n"
	      "  -c, --connect URI         source libvirt URI (selects the libvirt backend)\n"
	      "  -f, --config FILE         guest config (default /etc/vfmigrate/GUEST.conf;\n"
	      "                            optional with libvirt)\n"
	      "  -o, --set SEC.KEY=VALUE   override one config key (repeatable)\n"
	      "  -s, --state-dir DIR       journal directory (default /var/lib/vfmigrate)\n"
	      "  -b, --backend NAME        hypervisor backend (qmp, libvirt)\n"
	      "      --migrate-uri URI     libvirt: migration data URI (e.g. tcp://10.0.0.2)\n"
	      "      --src-path-map /FROM=/TO, --dst-path-map /FROM=/TO\n"
	      "                            libvirt: the daemon's path FROM is visible here as TO\n"
	      "setup options: --bond NAME --vf-alias ALIAS [--vf-mac MAC] [--backup-mac MAC]\n"
	      "               [--vf-source SOURCE]... [--vlan ID] [--physnet NAME]\n"
	      "  -j, --json                print one JSON report instead of progress text\n"
	      "      --create-bond         create the guest's bond when it does not exist\n"
	      "      --fail-over-mac MODE  the bond --create-bond builds: active (default),\n"
	      "                            none or follow\n"
	      "      --unplug-timeout DUR  VF removal deadline (default 10s)\n"
	      "      --max-bandwidth BPS   migration bandwidth limit, bytes per second\n"
	      "      --downtime-limit DUR  migration downtime limit (e.g. 50ms)\n"
	      "  -h, --help                this text\n"
	      "  -V, --version             print the version\n"
	      "\n"
	      "exit codes: 0 migrated/ok, 1 error, 2 usage or config error, 3 refused by\n"
	      "pre-flight, 4 rolled back, 5 migrated degraded (no VF), 6 needs recover\n",
	      f);
}

static int parse_args(int argc, char **argv, struct args *a)
{
	enum {
		OPT_CREATE_BOND = 256,
		OPT_FAIL_OVER_MAC,
		OPT_UNPLUG_TIMEOUT,
		OPT_MAX_BANDWIDTH,
		OPT_DOWNTIME_LIMIT,
		OPT_MIGRATE_URI,
		OPT_SRC_MAP,
		OPT_DST_MAP,
		OPT_BOND,
		OPT_VF_ALIAS,
		OPT_BACKUP_MAC,
		OPT_VF_MAC,
		OPT_VF_SOURCE,
		OPT_VLAN,
		OPT_PHYSNET,
	};
	static const struct option opts[] = {
	    {"connect", required_argument, NULL, 'c'},
	    {"config", required_argument, NULL, 'f'},
	    {"migrate-uri", required_argument, NULL, OPT_MIGRATE_URI},
	    {"src-path-map", required_argument, NULL, OPT_SRC_MAP},
	    {"dst-path-map", required_argument, NULL, OPT_DST_MAP},
	    {"bond", required_argument, NULL, OPT_BOND},
	    {"vf-alias", required_argument, NULL, OPT_VF_ALIAS},
	    {"backup-mac", required_argument, NULL, OPT_BACKUP_MAC},
	    {"vf-mac", required_argument, NULL, OPT_VF_MAC},
	    {"vf-source", required_argument, NULL, OPT_VF_SOURCE},
	    {"vlan", required_argument, NULL, OPT_VLAN},
	    {"physnet", required_argument, NULL, OPT_PHYSNET},
	    {"set", required_argument, NULL, 'o'},
	    {"state-dir", required_argument, NULL, 's'},
	    {"backend", required_argument, NULL, 'b'},
	    {"json", no_argument, NULL, 'j'},
	    {"create-bond", no_argument, NULL, OPT_CREATE_BOND},
	    {"fail-over-mac", required_argument, NULL, OPT_FAIL_OVER_MAC},
	    {"unplug-timeout", required_argument, NULL, OPT_UNPLUG_TIMEOUT},
	    {"max-bandwidth", required_argument, NULL, OPT_MAX_BANDWIDTH},
	    {"downtime-limit", required_argument, NULL, OPT_DOWNTIME_LIMIT},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	int c;

	while ((c = getopt_long(argc, argv, "c:f:o:s:b:jhV", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			a->connect_uri = optarg;
			break;
		case 'f':
			a->config_path = optarg;
			break;
		case OPT_MIGRATE_URI:
			a->migrate_uri = optarg;
			break;
		case OPT_SRC_MAP:
			a->src_path_map = optarg;
			break;
		case OPT_DST_MAP:
			a->dst_path_map = optarg;
			break;
		case OPT_BOND:
			a->bond = optarg;
			break;
		case OPT_VF_ALIAS:
			a->vf_alias = optarg;
			break;
		case OPT_BACKUP_MAC:
			a->backup_mac = optarg;
			break;
		case OPT_VF_MAC:
			a->vf_mac = optarg;
			break;
		case OPT_VF_SOURCE:
			if (a->n_vf_sources == ARRAY_SIZE(a->vf_sources)) {
				fprintf(stderr, "vfmigrate: too many --vf-source options\n");
				return -EINVAL;
			}
			a->vf_sources[a->n_vf_sources++] = optarg;
			break;
		case OPT_VLAN:
			a->vlan = optarg;
			break;
		case OPT_PHYSNET:
			a->physnet = optarg;
			break;
		case 'o':
			if (a->n_overrides == ARRAY_SIZE(a->overrides)) {
				fprintf(stderr, "vfmigrate: too many --set options\n");
				return -EINVAL;
			}
			a->overrides[a->n_overrides++] = optarg;
			break;
		case 's':
			a->state_dir = optarg;
			break;
		case 'b':
			a->backend = optarg;
			break;
		case 'j':
			a->json = true;
			break;
		case OPT_CREATE_BOND:
			a->create_bond = true;
			break;
		case OPT_FAIL_OVER_MAC:
			a->fail_over_mac = optarg;
			break;
		case OPT_UNPLUG_TIMEOUT:
			a->unplug_timeout = optarg;
			break;
		case OPT_MAX_BANDWIDTH:
			a->max_bandwidth = optarg;
			break;
		case OPT_DOWNTIME_LIMIT:
			a->downtime_limit = optarg;
			break;
		case 'h':
			usage(stdout);
			exit(VFM_EXIT_OK);
		case 'V':
			printf("vfmigrate %s\n", VFM_VERSION);
			exit(VFM_EXIT_OK);
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	if (optind + 2 > argc) {
		usage(stderr);
		return -EINVAL;
	}
	a->command = argv[optind];
	a->guest = argv[optind + 1];
	if (optind + 3 == argc)
		a->dest = argv[optind + 2];
	else if (optind + 3 < argc) {
		usage(stderr);
		return -EINVAL;
	}
	if (a->dest && (strcmp(a->command, "config") == 0 || strcmp(a->command, "setup") == 0)) {
		fprintf(stderr, "vfmigrate: DEST is not for %s\n", a->command);
		return -EINVAL;
	}
	return 0;
}

/* Config file, then overrides, then the dedicated options. */
static int load_config(const struct args *a, struct config *c, struct diag *d)
{
	char path[4096];
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	int r;

	config_init(c);
	if (a->config_path)
		snprintf(path, sizeof(path), "%s", a->config_path);
	else
		snprintf(path, sizeof(path), "%s/%s.conf", CONFIG_DIR_DEFAULT, a->guest);
	r = file_read_alloc(path, 0, CONFIG_FILE_MAX, &buf, &len, d);
	if (r == -ENOENT && !a->config_path &&
	    (a->n_overrides > 0 || a->connect_uri ||
	     (a->backend && strcmp(a->backend, "libvirt") == 0)))
		r = 0; /* everything from --set, or libvirt (the domain's metadata) */
	else if (r < 0)
		return r;
	if (len > 0) {
		r = config_parse(c, buf, len, d);
		if (r < 0) {
			diag_prefix(d, "%s", path);
			return r;
		}
	}
	for (size_t i = 0; i < a->n_overrides; i++) {
		r = config_set(c, a->overrides[i], d);
		if (r < 0) {
			diag_prefix(d, "--set");
			return r;
		}
	}
	if (a->create_bond)
		c->create_bond = true;
	/* Options that are shorthands for config keys. */
	const struct {
		const char *value, *key, *option;
	} shorthands[] = {
	    {a->backend, "guest.backend", "--backend"},
	    {a->fail_over_mac, "guest.fail-over-mac", "--fail-over-mac"},
	    {a->unplug_timeout, "timeouts.unplug", "--unplug-timeout"},
	    {a->downtime_limit, "migration.downtime-limit", "--downtime-limit"},
	    {a->max_bandwidth, "migration.max-bandwidth", "--max-bandwidth"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(shorthands); i++) {
		char s[CONFIG_LINE_MAX];

		if (!shorthands[i].value)
			continue;
		if ((size_t)snprintf(s, sizeof(s), "%s=%s", shorthands[i].key,
				     shorthands[i].value) >= sizeof(s)) {
			diag_set(d, "%s: value too long", shorthands[i].option);
			return -EINVAL;
		}
		if ((r = config_set(c, s, d)) < 0) {
			diag_prefix(d, "%s", shorthands[i].option);
			return r;
		}
	}
	if (a->dest && strcmp(c->backend, "libvirt") != 0 && !a->connect_uri) {
		if (strlen(a->dest) >= sizeof(c->dst.migrate_uri)) {
			diag_set(d, "DEST is too long");
			return -EINVAL;
		}
		snprintf(c->dst.migrate_uri, sizeof(c->dst.migrate_uri), "%s", a->dest);
	}
	return 0;
}

/* Migration parameters and timeouts from the config (0 = built-in default). */
static void plan_apply_limits(const struct config *c, struct plan *p)
{
	p->migrate.max_bandwidth = c->max_bandwidth;
	p->migrate.downtime_limit_ms = c->downtime_limit_ms;
	if (c->t_command)
		p->timeouts.command_ms = c->t_command;
	if (c->t_unplug)
		p->timeouts.unplug_ms = c->t_unplug;
	if (c->t_unplug_settle)
		p->timeouts.unplug_settle_ms = c->t_unplug_settle;
	if (c->t_migrate)
		p->timeouts.migrate_ms = c->t_migrate;
	if (c->t_alive)
		p->timeouts.alive_ms = c->t_alive;
	if (c->t_link)
		p->timeouts.link_ms = c->t_link;
}

static int config_to_plan(const struct args *a, const struct config *c, struct plan *p,
			  bool need_uri, struct diag *d)
{
	const char *missing = NULL;

	plan_init(p);
	snprintf(p->guest, sizeof(p->guest), "%s", a->guest);
	p->has_vf = c->has_vf_mac;
	if (!c->src.qmp[0])
		missing = "source.qmp";
	else if (!c->dst.qmp[0])
		missing = "destination.qmp";
	else if (!c->src.agent[0])
		missing = "source.agent";
	else if (!c->dst.agent[0])
		missing = "destination.agent";
	else if (need_uri && !c->dst.migrate_uri[0])
		missing = "destination.migrate-uri (or DEST)";
	else if (p->has_vf && !c->bond[0])
		missing = "guest.bond";
	else if (p->has_vf && !c->has_backup_mac)
		missing = "guest.backup-mac";
	else if (p->has_vf && !c->src.vf_device[0])
		missing = "source.vf-device";
	else if (p->has_vf && !c->src.vf_bus[0])
		missing = "source.vf-bus";
	else if (p->has_vf && !c->src.vf_tap[0] && !c->src.vf_host[0])
		missing = "source.vf-tap (or source.vf-host)";
	if (missing) {
		diag_set(d, "config lacks %s", missing);
		return -EINVAL;
	}
	snprintf(p->bond, sizeof(p->bond), "%s", c->bond);
	memcpy(p->vf_mac, c->vf_mac, 6);
	memcpy(p->backup_mac, c->backup_mac, 6);
	p->create_bond = c->create_bond;
	p->fail_over_mac = c->fail_over_mac;
	snprintf(p->src_vf.device_id, VFM_ID_MAX, "%s", c->src.vf_device);
	snprintf(p->src_vf.bus, VFM_ID_MAX, "%s", c->src.vf_bus);
	if (c->src.vf_host[0]) {
		/* A real VF, passed through with vfio-pci. */
		if (c->src.vf_tap[0]) {
			diag_set(d, "source.vf-tap and source.vf-host: the VF is one or the other");
			return -EINVAL;
		}
		snprintf(p->src_vf.driver, VFM_ID_MAX, "%s",
			 c->src.vf_driver[0] ? c->src.vf_driver : "vfio-pci");
		snprintf(p->src_vf.backend, VFM_ID_MAX, "%s", c->src.vf_host);
		p->src_vf.backend_kind = PLUG_BACKEND_HOSTDEV;
	} else {
		snprintf(p->src_vf.driver, VFM_ID_MAX, "%s",
			 c->src.vf_driver[0] ? c->src.vf_driver : "e1000e");
		snprintf(p->src_vf.backend, VFM_ID_MAX, "%s", c->src.vf_tap);
		snprintf(p->src_vf.netdev_id, VFM_ID_MAX, "%s", c->src.vf_netdev);
		p->src_vf.backend_kind = PLUG_BACKEND_TAP;
	}
	memcpy(p->src_vf.mac, c->vf_mac, 6);
	p->src_vf.has_mac = true;
	p->src_vf.vlan = c->vlan;
	snprintf(p->physnet, sizeof(p->physnet), "%s", c->physnet);
	p->vlan = c->vlan;
	/* The pool says which root port each destination VF sits on. */
	snprintf(p->dst_device_id, sizeof(p->dst_device_id), "%s",
		 c->dst.vf_device[0] ? c->dst.vf_device : c->src.vf_device);
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
	if (p->has_vf && c->dst.n_vf_pool == 0) {
		diag_set(d, "config lacks destination.vf-pool (the VFs the destination may use)");
		return -EINVAL;
	}
	return 0;
}

struct world {
	struct side_res src, dst;
	struct plan_env env;
	struct cli_out out;
};

static int world_open(const struct config *c, const char *state_dir, struct world *w,
		      struct diag *d)
{
	const struct backend *be = NULL;
	int r;

	for (size_t i = 0; i < ARRAY_SIZE(backends); i++)
		if (!strcmp(backends[i].name, c->backend))
			be = &backends[i];
	if (!be) {
		char clean[64];

		str_sanitize(clean, sizeof(clean), c->backend);
		diag_set(d, "unknown backend \"%s\" (available: qmp, libvirt)", clean);
		return -EINVAL;
	}
	r = be->open_side(c, state_dir, false, &w->src, d);
	if (r < 0) {
		diag_prefix(d, "source");
		return r;
	}
	r = be->open_side(c, state_dir, true, &w->dst, d);
	if (r < 0) {
		diag_prefix(d, "destination");
		return r;
	}
	w->env.src = (struct plan_side){&w->src.hv, &w->src.ag, &w->src.vp};
	w->env.dst = (struct plan_side){&w->dst.hv, &w->dst.ag, &w->dst.vp};
	w->env.clock = &real_clock;
	w->env.event = cli_out_event;
	w->env.event_userdata = &w->out;
	return 0;
}

/* How one side's guest agent was reached, for the report; NULL: not used (yet). */
static const char *side_agent_transport(const struct side_res *r)
{
#ifdef VFM_HAVE_LIBVIRT
	if (r->lazy)
		return r->lazy->used == CONFIG_AGENT_AUTO ? NULL
							  : config_agent_to_string(r->lazy->used);
#endif
	return agent_vfm_used(r->agent) ? config_agent_to_string(CONFIG_AGENT_SOCKET) : NULL;
}

static void world_note_agents(struct world *w)
{
	w->out.agent_src = side_agent_transport(&w->src);
	w->out.agent_dst = side_agent_transport(&w->dst);
}

static void world_close(struct world *w)
{
	side_close(&w->src);
	side_close(&w->dst);
}

static bool is_libvirt(const struct args *a, const struct config *c)
{
	return a->connect_uri || strcmp(c->backend, "libvirt") == 0;
}

#ifdef VFM_HAVE_LIBVIRT
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
 * and the VF as the guest has it. ret_found false: no metadata (a plain migration). */
static int lv_read_meta(const struct args *a, struct domxml_meta *m, struct plug_spec *src_vf,
			bool *ret_found, struct diag *d)
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
		if (rc >= 0) {
			*ret_found = true;
			rc = lv_src_vf(h, m, src_vf, d);
		}
		if (rc < 0)
			diag_prefix(d, "%s", i == 0 ? "source" : "destination");
		hv_libvirt_free(h);
	}
	return rc == -ENODATA ? 0 : rc;
}

static int lv_prepare(const struct args *a, const struct config *c, struct plan *p, struct world *w,
		      bool need_dest, struct diag *d)
{
	struct domxml_meta m;
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
	domxml_meta_init(&m);
	rc = lv_read_meta(a, &m, &p->src_vf, &found, d);
	if (rc < 0)
		return rc;
	if (found && m.n_sources == 0) {
		source_of_spec(&p->src_vf, m.sources[0]);
		m.n_sources = 1;
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
	hv_libvirt_set_peer(w->src.hvl, w->dst.hvl);
	p->has_vf = found;
	if (found) {
		snprintf(p->bond, sizeof(p->bond), "%s", m.bond);
		memcpy(p->vf_mac, m.vf_mac, 6);
		memcpy(p->backup_mac, m.backup_mac, 6);
		snprintf(p->physnet, sizeof(p->physnet), "%s", m.physnet);
		p->vlan = m.vlan;
		snprintf(p->dst_device_id, sizeof(p->dst_device_id), "%s", m.vf_alias);
	}
	p->create_bond = c->create_bond;
	p->fail_over_mac = c->fail_over_mac;
	snprintf(p->migrate.uri, sizeof(p->migrate.uri), "%s",
		 a->migrate_uri ? a->migrate_uri : "");
	plan_apply_limits(c, p);
	w->env.src = (struct plan_side){&w->src.hv, &w->src.ag, &w->src.vp};
	w->env.dst = (struct plan_side){&w->dst.hv, &w->dst.ag, &w->dst.vp};
	w->env.clock = &real_clock;
	w->env.event = cli_out_event;
	w->env.event_userdata = &w->out;
	return 0;
}
#endif

/* The plan and the two sides, for either backend. *ret_usage: a failure is a usage error. */
static int prepare(const struct args *a, const struct config *c, struct plan *p, struct world *w,
		   bool need_uri, bool *ret_usage, struct diag *d)
{
	int rc;

	*ret_usage = true;
	if (is_libvirt(a, c)) {
#ifdef VFM_HAVE_LIBVIRT
		rc = lv_prepare(a, c, p, w, need_uri, d);
		*ret_usage = rc == -EINVAL || rc == -E2BIG || rc == -EBADMSG;
		return rc;
#else
		diag_set(d, "this vfmigrate was built without libvirt");
		return -EOPNOTSUPP;
#endif
	}
	rc = config_to_plan(a, c, p, need_uri, d);
	if (rc < 0)
		return rc;
	return world_open(c, state_dir(a), w, d);
}

static void print_json_error(const struct args *a, enum vfm_exit exit, const char *code,
			     const char *msg)
{
	json_t *o = json_pack("{s:s,s:s,s:i,s:s,s:s,s:s}", "command", a->command, "guest",
			      a->guest ? a->guest : "", "exit_code", (int)exit, "exit",
			      vfm_exit_to_string(exit), "code", code, "message", msg);

	/* A usage error has always said so as its outcome too. */
	if (o && exit == VFM_EXIT_USAGE)
		json_object_set_new(o, "outcome", json_string("usage"));
	cli_json_print(stdout, o, JSON_INDENT(2));
	json_decref(o);
}

static int fail_usage(const struct args *a, const struct diag *d)
{
	char clean[600];

	if (a->json) {
		str_sanitize_keep_format(clean, sizeof(clean), d->msg);
		print_json_error(a, VFM_EXIT_USAGE, vfm_error_to_string(VFM_ERR_USAGE), clean);
	}
	str_sanitize(clean, sizeof(clean), d->msg);
	fprintf(stderr, "vfmigrate: %s\n", clean);
	return VFM_EXIT_USAGE;
}

static int fail_error(const struct args *a, enum vfm_exit exit, enum vfm_error code,
		      const struct diag *d)
{
	char clean[600];

	if (a->json) {
		str_sanitize_keep_format(clean, sizeof(clean), d->msg);
		print_json_error(a, exit, vfm_error_to_string(code), clean);
	}
	str_sanitize(clean, sizeof(clean), d->msg);
	fprintf(stderr, "vfmigrate: %s\n", clean);
	return exit;
}

/* A journal that could not be created or opened, by its errno. */
static int fail_journal(const struct args *a, int rc, const struct diag *d)
{
	switch (rc) {
	case -EEXIST:
		return fail_error(a, VFM_EXIT_NEEDS_RECOVER, VFM_ERR_JOURNAL_UNFINISHED, d);
	case -EBUSY:
		return fail_error(a, VFM_EXIT_ERROR, VFM_ERR_BUSY, d);
	default:
		return fail_error(a, VFM_EXIT_ERROR, VFM_ERR_JOURNAL, d);
	}
}

static int cmd_config(const struct args *a, const struct config *c)
{
	static char buf[CONFIG_FILE_MAX];
	int n = config_format(c, buf, sizeof(buf));

	if (n < 0)
		return VFM_EXIT_ERROR;
	fwrite(buf, 1, (size_t)n, stdout);
	(void)a;
	return VFM_EXIT_OK;
}

static int cmd_check(const struct args *a, const struct config *c)
{
	struct world w = {0};
	struct plan_report r;
	struct plan p;
	struct diag d = {0};
	enum vfm_exit code;
	bool usage;
	int rc;

	w.out = (struct cli_out){.json = a->json, .f = stdout, .t0 = time_now_ms()};
	rc = prepare(a, c, &p, &w, is_libvirt(a, c), &usage, &d);
	if (rc < 0) {
		world_close(&w);
		return usage ? fail_usage(a, &d)
			     : fail_error(a, VFM_EXIT_ERROR, vfm_error_from_errno(rc), &d);
	}
	plan_check(&p, &w.env, &r);
	world_note_agents(&w);
	code = r.outcome == OUTCOME_MIGRATED ? VFM_EXIT_OK : VFM_EXIT_REFUSED;
	if (!a->json && r.has_error) {
		cli_out_problems(stderr, "check", &r);
		if (r.n_problems == 0) {
			char clean[600];

			str_sanitize(clean, sizeof(clean), r.error);
			fprintf(stderr, "vfmigrate: check: %s\n", clean);
		}
		printf("%s: pre-flight failed; exit %d (refused)\n", a->guest, code);
	} else if (a->json) {
		cli_out_report(&w.out, "check", a->guest, &r, code);
	} else {
		printf("%s: pre-flight passed: ready to migrate\n", a->guest);
		cli_out_agents(&w.out);
	}
	world_close(&w);
	return code;
}

/*
 * SIGINT/SIGTERM during `migrate`. The first one sets a flag the core polls (through
 * env.interrupted): before the switchover it rolls back, after it the run finishes on the
 * destination. The handler says at once which of the two will happen. A second one exits at
 * once with "needs recover": every step is journaled before its effect, so `recover` can
 * finish from wherever this stops. Installed without SA_RESTART; the clients' polls restart
 * anyway, so a wait notices the flag within its slice.
 */
static volatile sig_atomic_t sig_first;	 /* the first signal's number, 0: none */
static volatile sig_atomic_t sig_on_dst; /* the guest runs on the destination now */
static char sig_again_msg[200];
static size_t sig_again_len;

static void sig_write(const char *s, size_t n)
{
	ssize_t r = write(STDERR_FILENO, s, n);

	(void)r;
}

#define SIG_WRITE(lit) sig_write(lit, sizeof(lit) - 1)

static void on_interrupt(int sig)
{
	int saved = errno;

	if (sig_first) {
		sig_write(sig_again_msg, sig_again_len);
		_exit(VFM_EXIT_NEEDS_RECOVER);
	}
	sig_first = sig;
	SIG_WRITE("\nvfmigrate: interrupted by ");
	if (sig == SIGTERM)
		SIG_WRITE("SIGTERM");
	else
		SIG_WRITE("SIGINT");
	if (sig_on_dst)
		SIG_WRITE(": the guest already runs on the destination; finishing on the "
			  "destination...\n");
	else
		SIG_WRITE(": rolling back... (again: exit at once, leaving the rest to "
			  "'vfmigrate recover')\n");
	errno = saved;
}

static const char *migrate_interrupted(void *ud)
{
	(void)ud;
	switch (sig_first) {
	case 0:
		return NULL;
	case SIGTERM:
		return "SIGTERM";
	default:
		return "SIGINT";
	}
}

/* Tracks where the guest runs, for the handler's message; then prints as usual. */
static void migrate_event(void *ud, const struct plan_event *ev)
{
	if (ev->kind == PLAN_EV_SWITCHED || ev->kind == PLAN_EV_PONR)
		sig_on_dst = 1;
	else if (ev->kind == PLAN_EV_STEP_END && ev->step == STEP_MIGRATE && ev->rc < 0)
		sig_on_dst = 0; /* arrived dead: the source resumed */
	cli_out_event(ud, ev);
}

static void interrupt_handlers(const char *guest, bool install)
{
	struct sigaction sa = {0};

	if (install) {
		int n = snprintf(sig_again_msg, sizeof(sig_again_msg),
				 "vfmigrate: interrupted again: exiting now; run 'vfmigrate "
				 "recover %s'\n",
				 guest);

		sig_again_len = n > 0 && (size_t)n < sizeof(sig_again_msg) ? (size_t)n : 0;
		sig_first = 0;
		sig_on_dst = 0;
		sa.sa_handler = on_interrupt;
		sigemptyset(&sa.sa_mask);
		sigaddset(&sa.sa_mask, SIGINT);
		sigaddset(&sa.sa_mask, SIGTERM);
		sa.sa_flags = 0; /* no SA_RESTART */
	} else {
		sa.sa_handler = SIG_DFL;
		sigemptyset(&sa.sa_mask);
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

static int cmd_migrate(const struct args *a, const struct config *c)
{
	struct journal_file *jf = NULL;
	struct journal_ops jops;
	struct world w = {0};
	struct plan_report r;
	struct plan p;
	struct diag d = {0};
	enum vfm_exit code;
	bool usage;
	int rc;

	w.out = (struct cli_out){.json = a->json, .f = stdout, .t0 = time_now_ms()};
	rc = prepare(a, c, &p, &w, true, &usage, &d);
	if (rc < 0) {
		world_close(&w);
		return usage ? fail_usage(a, &d)
			     : fail_error(a, VFM_EXIT_ERROR, vfm_error_from_errno(rc), &d);
	}
	rc = journal_file_create(state_dir(a), a->guest, &jf, &d);
	if (rc < 0) {
		world_close(&w);
		return fail_journal(a, rc, &d);
	}
	journal_file_ops(jf, &jops);
	w.env.journal = &jops;
	if (!a->json)
		printf("migrating %s to %s%s\n", a->guest, p.dest,
		       p.has_vf ? "" : " (no VF configured: plain live migration)");
	w.env.interrupted = migrate_interrupted;
	w.env.event = migrate_event;
	interrupt_handlers(a->guest, true);
	plan_run(&p, &w.env, &r);
	/* The journal is finished or left for recover: a signal from here just ends us. */
	interrupt_handlers(a->guest, false);
	code = vfm_exit_from_outcome(r.outcome);
	world_note_agents(&w);
	cli_out_report(&w.out, "migrate", a->guest, &r, code);
	journal_file_close(jf);
	world_close(&w);
	return code;
}

/*
 * libvirt: the destination recover works with is the one the run recorded in its journal
 * (begin: its BEGIN record, NULL without a journal). DEST may repeat it; a different one is
 * refused (-EINVAL), since finishing or undoing against another host would act on the wrong
 * side. An older journal records none: then DEST is required, as without a journal.
 * *ret is DEST, else the journal's (pointing into begin).
 */
/*
 * Whether a libvirt URI read from a journal may be opened without the operator naming it: not
 * one that makes libvirt run a program here (the ext transport, or a command= parameter).
 * The state dir is root's; this is for a journal someone else managed to write.
 */
static bool journal_uri_safe(const char *uri)
{
	const char *q = strchr(uri, '?'), *scheme_end = strstr(uri, "://");

	if (scheme_end && memmem(uri, (size_t)(scheme_end - uri), "+ext", 4))
		return false;
	return !q || (!strstr(q, "?command=") && !strstr(q, "&command="));
}

static int recover_dest(const struct args *a, const struct config *c,
			const struct journal_record *begin, const char **ret, struct diag *d)
{
	const char *recorded = begin && begin->dest[0] ? begin->dest : NULL;

	*ret = a->dest;
	if (!is_libvirt(a, c))
		return 0; /* qmp: the config names the destination's sockets; DEST is unused */
	if (a->dest && recorded && strcmp(a->dest, recorded) != 0) {
		diag_set(d,
			 "DEST %s differs from the destination %s recorded in the journal of "
			 "guest %s: give that one or none; nothing was done",
			 a->dest, recorded, a->guest);
		return -EINVAL;
	}
	if (!a->dest && !recorded) {
		diag_set(d, "DEST (the destination libvirt URI) is required with libvirt%s",
			 begin ? " (the journal does not record it)" : "");
		return -EINVAL;
	}
	if (!a->dest && !journal_uri_safe(recorded)) {
		diag_set(d,
			 "the destination %s recorded in the journal would run a program: give it "
			 "as DEST if it is really yours; nothing was done",
			 recorded);
		return -EINVAL;
	}
	if (!a->dest)
		*ret = recorded;
	return 0;
}

static int cmd_recover(const struct args *a, const struct config *c)
{
	struct journal_record *recs = NULL;
	struct journal_file *jf = NULL;
	struct journal_ops jops;
	struct world w = {0};
	struct plan_report r;
	struct plan p;
	struct diag d = {0};
	enum vfm_exit code;
	struct args ra = *a; /* with DEST from the journal */
	size_t n;
	bool usage;
	int rc;

	w.out = (struct cli_out){.json = a->json, .f = stdout, .t0 = time_now_ms()};
	/* Open first: it takes the lock and cuts a torn tail; then read what it holds. Both
	 * before the hypervisors: the journal may name the destination. */
	rc = journal_file_open(state_dir(a), a->guest, &jf, &d);
	if (rc >= 0)
		rc = journal_file_load(state_dir(a), a->guest, &recs, &n, NULL, &d);
	if (rc == -ENOENT && !a->dest && is_libvirt(a, c)) {
		/* Neither a journal nor DEST: DEST is what is missing, as it always was. */
		journal_file_close(jf);
		recover_dest(a, c, NULL, &ra.dest, &d);
		return fail_usage(a, &d);
	}
	if (rc < 0) {
		journal_file_close(jf);
		return fail_journal(a, rc, &d);
	}
	if (recover_dest(a, c, &recs[0], &ra.dest, &d) < 0) {
		free(recs);
		journal_file_close(jf);
		return fail_usage(a, &d);
	}
	rc = prepare(&ra, c, &p, &w, is_libvirt(a, c), &usage, &d);
	if (rc < 0) {
		free(recs);
		journal_file_close(jf);
		world_close(&w);
		return usage ? fail_usage(a, &d)
			     : fail_error(a, VFM_EXIT_ERROR, vfm_error_from_errno(rc), &d);
	}
	journal_file_ops(jf, &jops);
	w.env.journal = &jops;
	plan_recover(&p, &w.env, recs, n, &r);
	code = vfm_exit_from_outcome(r.outcome);
	world_note_agents(&w);
	cli_out_report(&w.out, "recover", a->guest, &r, code);
	free(recs);
	journal_file_close(jf);
	world_close(&w);
	return code;
}

static int cmd_status(const struct args *a, const struct config *c)
{
	struct journal_record *recs = NULL;
	struct journal_summary js = {0};
	struct world w = {0};
	struct bond_status b;
	struct diag d = {0}, bd = {0};
	bool torn = false, on_dst = false, have_bond = false;
	size_t n = 0;
	int rc, brc = -ENOENT;
	enum vfm_exit code = VFM_EXIT_OK;
	const char *state, *dest;
	char bond[VFM_IFNAME_MAX] = "";
	bool opened;
	json_t *o;

	rc = journal_file_load(state_dir(a), a->guest, &recs, &n, &torn, &d);
	if (rc < 0 && rc != -ENOENT)
		return fail_error(a, VFM_EXIT_NEEDS_RECOVER, VFM_ERR_JOURNAL, &d);
	if (rc >= 0 && journal_summarize(recs, n, &js, &d) < 0) {
		free(recs);
		return fail_error(a, VFM_EXIT_NEEDS_RECOVER, VFM_ERR_JOURNAL, &d);
	}
	free(recs);
	if (rc == -ENOENT)
		state = "none";
	else if (js.finished)
		state = "finished";
	else {
		state = "unfinished";
		code = VFM_EXIT_NEEDS_RECOVER;
	}
	/* Where the guest should be: on the destination once the point of no return passed. */
	on_dst = rc >= 0 && js.passed_ponr;
	dest = rc >= 0 && js.begin.dest[0] ? js.begin.dest : NULL;
	if (is_libvirt(a, c)) {
		struct args sa = *a;
		struct plan p;
		bool usage;

		/* Without DEST, the destination of the journal's run is where to look. */
		if (!sa.dest && dest && journal_uri_safe(dest))
			sa.dest = dest;
		opened = prepare(&sa, c, &p, &w, false, &usage, &d) >= 0;
		if (opened && p.has_vf)
			snprintf(bond, sizeof(bond), "%s", p.bond);
	} else {
		opened = world_open(c, state_dir(a), &w, &d) >= 0;
		snprintf(bond, sizeof(bond), "%s", c->bond);
	}
	if (opened && bond[0]) {
		struct side_res *s = on_dst ? &w.dst : &w.src;

		brc = s->ag.bond_status(s->ag.userdata, bond, time_now_ms() + 3000, &b, &bd);
		have_bond = brc >= 0;
	}
	if (a->json) {
		json_t *slaves = json_array();
		char m[18], clean[600];

		for (size_t i = 0; have_bond && i < b.n_slaves; i++) {
			str_sanitize_keep_format(clean, sizeof(clean), b.slaves[i].name);
			json_array_append_new(slaves,
					      json_pack("{s:s,s:s,s:b}", "mac",
							format_mac(b.slaves[i].mac, m), "name",
							clean, "link_up", b.slaves[i].link_up));
		}
		o = json_pack(
		    "{s:s,s:s,s:s,s:o,s:b,s:s,s:s,s:i,s:s}", "command", "status", "guest", a->guest,
		    "journal", state, "destination", dest ? json_string(dest) : json_null(),
		    "passed_point_of_no_return", js.passed_ponr, "journal_outcome",
		    js.finished ? js.outcome : "", "last_step",
		    rc >= 0 && js.last_kind != JOURNAL_BEGIN ? step_to_string(js.last_step) : "",
		    "exit_code", (int)code, "side", on_dst ? "destination" : "source");
		if (have_bond) {
			str_sanitize_keep_format(clean, sizeof(clean), b.mode);
			json_object_set_new(
			    o, "bond",
			    json_pack("{s:s,s:s,s:s,s:o,s:o,s:o}", "name", bond, "mode", clean,
				      "fail_over_mac", bond_fom_to_string(b.fail_over_mac), "mac",
				      b.has_mac ? json_string(format_mac(b.mac, m)) : json_null(),
				      "active",
				      b.has_active ? json_string(format_mac(b.active_mac, m))
						   : json_null(),
				      "slaves", slaves));
		} else {
			str_sanitize_keep_format(clean, sizeof(clean), bd.msg[0] ? bd.msg : d.msg);
			json_decref(slaves);
			json_object_set_new(o, "bond", json_null());
			json_object_set_new(o, "bond_error", json_string(clean));
		}
		cli_json_print(stdout, o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		json_decref(o);
	} else {
		char m[18], clean[600];

		printf("%s: journal %s", a->guest, state);
		if (dest)
			printf(", destination %s", dest);
		if (js.finished)
			printf(" (outcome %s)", js.outcome);
		else if (rc >= 0)
			printf(" (last: %s %s; point of no return %s) - run 'vfmigrate recover %s'",
			       journal_kind_to_string(js.last_kind),
			       js.last_kind == JOURNAL_BEGIN ? "" : step_to_string(js.last_step),
			       js.passed_ponr ? "passed" : "not passed", a->guest);
		if (torn)
			printf(" [torn last record ignored]");
		printf("\n");
		if (have_bond) {
			char bm[18];

			str_sanitize(clean, sizeof(clean), b.mode);
			printf("%s: bond %s (%s, fail_over_mac %s, MAC %s) on the %s, active %s\n",
			       a->guest, bond, clean, bond_fom_to_string(b.fail_over_mac),
			       b.has_mac ? format_mac(b.mac, bm) : "unknown",
			       on_dst ? "destination" : "source",
			       b.has_active ? format_mac(b.active_mac, m) : "none");
			for (size_t i = 0; i < b.n_slaves; i++) {
				str_sanitize(clean, sizeof(clean), b.slaves[i].name);
				printf("  slave %s %s link %s\n", format_mac(b.slaves[i].mac, m),
				       clean, b.slaves[i].link_up ? "up" : "down");
			}
		} else if (bond[0]) {
			str_sanitize(clean, sizeof(clean), bd.msg[0] ? bd.msg : d.msg);
			printf("%s: bond %s: unavailable (%s)\n", a->guest, bond, clean);
		}
	}
	world_close(&w);
	return code;
}

#ifdef VFM_HAVE_LIBVIRT
/* setup: the VF's MAC and the backup's from the domain's XML, the rest from the options. */
static int setup_meta(const struct args *a, struct hv_libvirt *h, struct domxml_meta *m,
		      struct diag *d)
{
	_cleanup_free_ struct domxml_domain *dom = calloc(1, sizeof(*dom));
	const struct domxml_nic *vf, *bk = NULL;
	int rc;

	if (!dom)
		return -ENOMEM;
	domxml_meta_init(m);
	if (!a->bond || !a->vf_alias) {
		diag_set(d, "setup needs --bond and --vf-alias");
		return -EINVAL;
	}
	if (strlen(a->bond) >= sizeof(m->bond) || strlen(a->vf_alias) >= sizeof(m->vf_alias) ||
	    (a->physnet && strlen(a->physnet) >= sizeof(m->physnet))) {
		diag_set(d, "--bond, --vf-alias or --physnet too long");
		return -EINVAL;
	}
	snprintf(m->bond, sizeof(m->bond), "%s", a->bond);
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
	rc = hv_libvirt_domain(h, false, dom, d);
	if (rc < 0)
		return rc;
	vf = domxml_find_nic(dom, a->vf_alias, NULL);
	if (!vf) {
		diag_set(d, "domain %s has no interface or PCI hostdev with alias %s", a->guest,
			 a->vf_alias);
		return -ENOENT;
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
		/* The one other NIC, if there is exactly one. */
		for (size_t i = 0; i < dom->n_nics; i++) {
			if (&dom->nics[i] == vf || !dom->nics[i].has_mac)
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
		if (rc < 0)
			return rc;
		snprintf(m->sources[m->n_sources++], VFM_ID_MAX, "%s", a->vf_sources[i]);
	}
	return 0;
}
#endif

static int cmd_setup(const struct args *a, const struct config *c)
{
	struct diag d = {0};
#ifdef VFM_HAVE_LIBVIRT
	struct hv_libvirt_options o = {0};
	struct hv_libvirt *h = NULL;
	struct domxml_meta m;
	_cleanup_free_ char *xml = NULL;
	int rc;

	(void)c;
	snprintf(o.uri, sizeof(o.uri), "%s", a->connect_uri ? a->connect_uri : "");
	snprintf(o.domain, sizeof(o.domain), "%s", a->guest);
	rc = hv_libvirt_new(&o, &h, &d);
	if (rc >= 0)
		rc = setup_meta(a, h, &m, &d);
	if (rc >= 0)
		rc = hv_libvirt_set_metadata(h, &m, &d);
	if (rc >= 0)
		rc = domxml_meta_format(&m, &xml, &d);
	hv_libvirt_free(h);
	if (rc < 0)
		return rc == -EINVAL ? fail_usage(a, &d)
				     : fail_error(a, VFM_EXIT_ERROR, vfm_error_from_errno(rc), &d);
	printf("%s: vfmigrate metadata written: %s\n", a->guest, xml);
	return VFM_EXIT_OK;
#else
	(void)c;
	diag_set(&d, "this vfmigrate was built without libvirt");
	return fail_usage(a, &d);
#endif
}

struct command {
	const char *name;
	int (*fn)(const struct args *a, const struct config *c);
};

static const struct command commands[] = {
    {"migrate", cmd_migrate}, {"check", cmd_check},   {"status", cmd_status},
    {"recover", cmd_recover}, {"config", cmd_config}, {"setup", cmd_setup},
};

int main(int argc, char **argv)
{
	struct args a = {0};
	struct config c;
	struct diag d = {0};
	const struct command *cmd = NULL;

	signal(SIGPIPE, SIG_IGN);
	/* A parent that ignored SIGCHLD would have our children reaped before we wait for
	 * them (the sysfs VF pool's bounded writes). */
	signal(SIGCHLD, SIG_DFL);
	if (parse_args(argc, argv, &a) < 0)
		return VFM_EXIT_USAGE;
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (!strcmp(commands[i].name, a.command))
			cmd = &commands[i];
	if (!cmd) {
		char clean[64];

		str_sanitize(clean, sizeof(clean), a.command);
		fprintf(stderr, "vfmigrate: unknown command \"%s\"\n", clean);
		usage(stderr);
		return VFM_EXIT_USAGE;
	}
	if (!journal_guest_name_valid(a.guest)) {
		diag_set(&d, "invalid guest name (allowed: letters, digits, '_', '.', '-')");
		return fail_usage(&a, &d);
	}
	if (load_config(&a, &c, &d) < 0)
		return fail_usage(&a, &d);
	return cmd->fn(&a, &c);
}
