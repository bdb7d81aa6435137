// SPDX-License-Identifier: MIT
#include "vfpool_sysfs.h"
#include "vfpool_sysfs_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "proto/vfnl.h"
#include "util/fdio.h"
#include "util/file.h"

/* ------------------------------------------------------------------------------------------ */
/* Names                                                                                       */

static bool is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

bool vfpool_sysfs_pci_addr_valid(const char *s)
{
	static const char pat[] = "xxxx:xx:xx.f";

	if (!s || strlen(s) != sizeof(pat) - 1)
		return false;
	for (size_t i = 0; pat[i]; i++) {
		if (pat[i] == 'x' && !is_hex(s[i]))
			return false;
		if (pat[i] == 'f' && !(s[i] >= '0' && s[i] <= '7'))
			return false;
		if ((pat[i] == ':' || pat[i] == '.') && s[i] != pat[i])
			return false;
	}
	/* Device numbers are 5 bits. */
	return (s[8] >= '0' && s[8] <= '1');
}

bool id_ok(const char *s, size_t max)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n >= max)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '.' || s[i] == '-'))
			return false;
	return !(s[0] == '.' && (n == 1 || (n == 2 && s[1] == '.')));
}

/* ------------------------------------------------------------------------------------------ */
/* Binding                                                                                     */

static int wait_driver(struct vfpool_sysfs *p, const struct vf *vf, const char *want,
		       int64_t deadline_ms, struct diag *d)
{
	for (;;) {
		char drv[DRIVER_NAME_MAX];
		int r = vf_driver(p, vf, drv, d);

		if (r < 0)
			return r;
		if (!strcmp(drv, want))
			return 0;
		if (time_now_ms() >= deadline_ms) {
			diag_set(d, "VF %s: not bound to %s by the deadline (driver: %s)", vf->bdf,
				 want, drv[0] ? drv : "none");
			return -ETIMEDOUT;
		}
		sleep_ms(p->o.bind_poll_ms);
	}
}

/* driver_override = vfio-pci, unbind from the current driver, drivers_probe, wait. */
static int bind_vfio(struct vfpool_sysfs *p, const struct vf *vf, const char *cur,
		     int64_t deadline_ms, struct diag *d)
{
	char rel[VFPOOL_SYSFS_PATH_MAX];
	int r;

	/* Bound to vfio-pci by someone else since it was found free: never take it from them. */
	if (!strcmp(cur, VFIO_DRIVER)) {
		diag_set(d, "VF %s was bound to vfio-pci by someone else meanwhile", vf->bdf);
		return -EBUSY;
	}
	snprintf(rel, sizeof(rel), "bus/pci/devices/%s/driver_override", vf->bdf);
	r = sysfs_write(p, rel, VFIO_DRIVER, d);
	if (r < 0)
		return r;
	if (cur[0]) {
		snprintf(rel, sizeof(rel), "bus/pci/drivers/%s/unbind", cur);
		r = sysfs_write_bounded(p, rel, vf->bdf, deadline_ms, d);
		if (r < 0)
			return r;
	}
	r = sysfs_write(p, "bus/pci/drivers_probe", vf->bdf, d);
	if (r < 0)
		return r;
	return wait_driver(p, vf, VFIO_DRIVER, deadline_ms, d);
}

/* Off vfio-pci (if on it), driver_override cleared, back to whatever driver matches. */
static int unbind_vfio(struct vfpool_sysfs *p, const struct vf *vf, int64_t deadline_ms,
		       struct diag *d)
{
	char rel[VFPOOL_SYSFS_PATH_MAX], drv[DRIVER_NAME_MAX];
	int r;

	r = vf_driver(p, vf, drv, d);
	if (r < 0)
		return r;
	snprintf(rel, sizeof(rel), "bus/pci/devices/%s/driver_override", vf->bdf);
	r = sysfs_write(p, rel, "\n", d);
	if (r < 0)
		return r;
	if (!strcmp(drv, VFIO_DRIVER)) {
		r = sysfs_write_bounded(p, "bus/pci/drivers/" VFIO_DRIVER "/unbind", vf->bdf,
					deadline_ms, d);
		if (r < 0)
			return r;
	}
	if (strcmp(drv, VFIO_DRIVER) != 0 && drv[0])
		return 0; /* on its net driver already */
	r = sysfs_write(p, "bus/pci/drivers_probe", vf->bdf, d);
	if (r < 0)
		return r;
	r = vf_driver(p, vf, drv, d);
	if (r < 0)
		return r;
	if (!strcmp(drv, VFIO_DRIVER)) {
		diag_set(d, "VF %s: still on vfio-pci after clearing driver_override", vf->bdf);
		return -EBUSY;
	}
	return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* vfpool_ops                                                                                  */

/* Whether vf is free (see the header); *why says why not, for a diagnostic. */
static int vf_is_free(struct vfpool_sysfs *p, const struct vf *vf, const struct vfnl_vf *nl,
		      size_t n_nl, bool *ret, const char **why, struct diag *d)
{
	char drv[DRIVER_NAME_MAX], ovr[DRIVER_NAME_MAX];
	struct marker m;
	int r;

	r = marker_read(p, vf->bdf, &m);
	if (r != -ENOENT) {
		*why = "reserved";
		*ret = false;
		return 0;
	}
	r = vf_driver(p, vf, drv, d);
	if (r >= 0)
		r = vf_override(p, vf, ovr, d);
	if (r < 0)
		return r;
	*ret = false;
	char rel[VFPOOL_SYSFS_PATH_MAX], net[VFPOOL_SYSFS_PATH_MAX];

	snprintf(rel, sizeof(rel), "bus/pci/devices/%s/iommu_group", vf->bdf);
	snprintf(net, sizeof(net), "bus/pci/devices/%s/net", vf->bdf);
	if (!strcmp(drv, VFIO_DRIVER))
		*why = "on vfio-pci";
	else if (ovr[0])
		*why = "driver_override set";
	else if (drv[0] && !sysfs_exists(p, net))
		/* pci-stub, pci-pf-stub, a driver of someone's: parked there on purpose. */
		*why = "on a driver that is not a network driver";
	else if (!sysfs_exists(p, rel))
		/* vfio-pci cannot take it: no IOMMU, or it is off (intel_iommu=on). */
		*why = "no IOMMU group";
	else if (!vfnl_find(nl, n_nl, vf->index))
		*why = "not listed by the PF";
	else
		*ret = true;
	return 0;
}

/* What each_free_vf's walk carries from one callback to the next. */
struct free_walk {
	int (*fn)(struct vfpool_sysfs *p, const struct vf *vf, void *arg);
	void *arg;
	int64_t deadline_ms;
	struct vfnl_vf *nl; /* the current PF's VFs as rtnetlink lists them */
	size_t n_nl;
	unsigned n_free;
	char *busy; /* why VFs are not free, for a diagnostic */
	size_t busy_n, busy_len;
};

static void busy_add(struct free_walk *w, const char *a, const char *b)
{
	if (w->busy_len < w->busy_n) {
		int k = snprintf(w->busy + w->busy_len, w->busy_n - w->busy_len, "%s%s %s",
				 w->busy_len ? ", " : "", a, b);

		w->busy_len = k < 0 ? w->busy_n : w->busy_len + (size_t)k;
	}
}

static int free_walk_pf(struct vfpool_sysfs *p, const struct pf *pf, unsigned n_vfs, void *arg,
			struct diag *d)
{
	struct free_walk *w = arg;

	if (n_vfs == 0) {
		busy_add(w, pf->name, "has sriov_numvfs 0");
		return 1;
	}
	w->n_nl = 0;
	return pf_vf_list(p, pf, w->nl, &w->n_nl, w->deadline_ms, d);
}

static int free_walk_vf(struct vfpool_sysfs *p, const struct vf *vf, void *arg, struct diag *d)
{
	struct free_walk *w = arg;
	const char *why = "";
	bool free_;
	int r;

	r = vf_is_free(p, vf, w->nl, w->n_nl, &free_, &why, d);
	if (r < 0)
		return r;
	if (!free_) {
		busy_add(w, vf->bdf, why);
		return 0;
	}
	w->n_free++;
	return w->fn ? w->fn(p, vf, w->arg) : 0;
}

/* Calls fn for every free VF until it returns non-zero; counts them in *ret_free. */
static int each_free_vf(struct vfpool_sysfs *p, int64_t deadline_ms,
			int (*fn)(struct vfpool_sysfs *p, const struct vf *vf, void *arg),
			void *arg, unsigned *ret_free, char *busy, size_t busy_n, struct diag *d)
{
	static const struct vf_walk walk = {.pf = free_walk_pf, .vf = free_walk_vf};
	_cleanup_free_ struct vfnl_vf *nl = calloc(VFNL_VFS_MAX, sizeof(*nl));
	struct free_walk w = {.fn = fn,
			      .arg = arg,
			      .deadline_ms = deadline_ms,
			      .nl = nl,
			      .busy = busy,
			      .busy_n = busy_n};
	int r;

	if (!nl)
		return -ENOMEM;
	if (busy_n)
		busy[0] = '\0';
	r = vf_each(p, &walk, &w, d);
	if (r != 0)
		return r;
	if (ret_free)
		*ret_free = w.n_free;
	return 0;
}

static int sysfs_probe(void *ud, const char *physnet, int64_t deadline_ms, unsigned *ret_free,
		       struct diag *d)
{
	char busy[512];
	unsigned n = 0;
	int r;

	(void)physnet; /* every PF of the pool serves the guest's physnet */
	r = each_free_vf(ud, deadline_ms, NULL, NULL, &n, busy, sizeof(busy), d);
	if (r < 0)
		return r;
	if (n == 0) {
		/* Pre-flight's refusal, with why each VF is not free. */
		diag_set(d, "no free VF%s%s%s", busy[0] ? " (" : "", busy, busy[0] ? ")" : "");
		return -ENOSPC;
	}
	*ret_free = n;
	return 0;
}

struct take {
	const uint8_t *mac;
	int vlan;
	const char *device_id;
	int64_t deadline_ms;
	struct vf vf;
	int err;
	struct diag *d;
};

#define UNDO_GRACE_MS 2000

/* Undoes a reserve that failed after its marker, best effort. A reserve that ran out of time
 * still gets UNDO_GRACE_MS for this, or it would leave the VF half-taken. */
static void reserve_undo(struct vfpool_sysfs *p, const struct vf *vf, int64_t deadline_ms)
{
	struct diag ignored = {{0}};

	if (deadline_ms < time_now_ms() + UNDO_GRACE_MS)
		deadline_ms = time_now_ms() + UNDO_GRACE_MS;

	(void)vf_set_mac_vlan(p, vf, (const uint8_t[6]){0}, -1, deadline_ms, &ignored);
	/* A VF that could not be unbound stays marked: ours, to be released by MAC later,
	 * rather than unmarked on vfio-pci and nobody's. */
	if (unbind_vfio(p, vf, deadline_ms, &ignored) < 0)
		return;
	(void)marker_remove(p, vf->bdf, &ignored);
}

/* each_free_vf callback: tries to take vf; 1 = taken, 0 = raced (next one), <0 = failed. */
static int take_vf(struct vfpool_sysfs *p, const struct vf *vf, void *arg)
{
	struct take *t = arg;
	char drv[DRIVER_NAME_MAX], ovr[DRIVER_NAME_MAX];
	int r;

	r = marker_create(p, vf, t->mac, t->vlan, t->device_id, t->d);
	if (r == -EEXIST)
		return 0; /* another vfmigrate was faster */
	if (r < 0)
		return r;
	/* The marker keeps other vfmigrate runs out, not libvirt or a hand-started guest: look
	 * again now that it is ours, before its MAC is touched. */
	r = vf_driver(p, vf, drv, t->d);
	if (r >= 0)
		r = vf_override(p, vf, ovr, t->d);
	if (r < 0 || !strcmp(drv, VFIO_DRIVER) || ovr[0]) {
		struct diag ignored = {{0}};

		(void)marker_remove(p, vf->bdf, &ignored);
		return r < 0 ? r : 0; /* taken meanwhile: the next one */
	}
	r = vf_set_mac_vlan(p, vf, t->mac, t->vlan, t->deadline_ms, t->d);
	if (r < 0) {
		struct diag ignored = {{0}};

		/* Nothing written to sysfs yet. The PF may hold the MAC after all (acked, not
		 * read back): clear it, best effort. */
		if (r != -EOPNOTSUPP && r != -EPERM)
			(void)vf_set_mac_vlan(p, vf, (const uint8_t[6]){0}, -1, t->deadline_ms,
					      &ignored);
		(void)marker_remove(p, vf->bdf, &ignored);
		return r;
	}
	r = vf_driver(p, vf, drv, t->d);
	if (r >= 0)
		r = bind_vfio(p, vf, drv, t->deadline_ms, t->d);
	if (r == -EBUSY) {
		struct diag ignored = {{0}};

		/* Someone else's now, between the check above and here (its owner sets the MAC
		 * it wants before use, as libvirt does): leave it, take the next one. */
		(void)marker_remove(p, vf->bdf, &ignored);
		return 0;
	}
	if (r < 0) {
		diag_prefix(t->d, "binding VF %s to vfio-pci", vf->bdf);
		reserve_undo(p, vf, t->deadline_ms);
		return r;
	}
	t->vf = *vf;
	return 1;
}

static bool mac_ok(const uint8_t mac[6])
{
	static const uint8_t zero[6];

	return !(mac[0] & 1) && memcmp(mac, zero, 6) != 0;
}

static int sysfs_reserve(void *ud, const char *physnet, const uint8_t mac[6], int vlan,
			 const char *device_id_hint, int64_t deadline_ms,
			 struct plug_spec *ret_spec, struct diag *d)
{
	struct vfpool_sysfs *p = ud;
	struct plug_spec spec = {.backend_kind = PLUG_BACKEND_HOSTDEV, .has_mac = true};
	struct take t = {.mac = mac, .vlan = vlan, .deadline_ms = deadline_ms, .d = d};
	char busy[256];
	unsigned n;
	int r;

	(void)physnet;
	if (device_id_hint && device_id_hint[0] && !id_ok(device_id_hint, VFM_ID_MAX)) {
		diag_set(d, "invalid device id for the VF");
		return -EINVAL;
	}
	if (!mac_ok(mac) || vlan < -1 || vlan > 4094) {
		diag_set(d, "a VF needs a unicast MAC and a VLAN 0..4094 or none");
		return -EINVAL;
	}
	if (device_id_hint && device_id_hint[0])
		snprintf(spec.device_id, sizeof(spec.device_id), "%s", device_id_hint);
	t.device_id = spec.device_id[0] ? spec.device_id : "-";
	r = each_free_vf(p, deadline_ms, take_vf, &t, &n, busy, sizeof(busy), d);
	if (r < 0)
		return r;
	if (r == 0) {
		char names[VFPOOL_SYSFS_PFS_MAX * VFM_IFNAME_MAX + 16] = "";
		size_t o = 0;

		for (size_t i = 0; i < p->n_pfs; i++)
			o += (size_t)snprintf(names + o, sizeof(names) - o, "%s%s", i ? " " : "",
					      p->pfs[i].name);
		diag_set(d, "no free VF on PF %s%s%s%s", names, busy[0] ? " (" : "", busy,
			 busy[0] ? ")" : "");
		return -ENOSPC;
	}
	if (!spec.device_id[0])
		snprintf(spec.device_id, sizeof(spec.device_id), "vfm-vf%u", t.vf.index);
	snprintf(spec.driver, sizeof(spec.driver), "%s", p->o.driver);
	snprintf(spec.bus, sizeof(spec.bus), "%s", t.vf.pf->bus);
	snprintf(spec.backend, sizeof(spec.backend), "%s", t.vf.bdf);
	memcpy(spec.mac, mac, 6);
	spec.vlan = vlan;
	*ret_spec = spec;
	return 0;
}

/* Gives one VF back: MAC/VLAN cleared while vfio-pci still holds it (so the host's net driver
 * never comes up with the guest's MAC), then back to its net driver, then the marker goes. */
static int release_vf(struct vfpool_sysfs *p, const struct vf *vf, int64_t deadline_ms,
		      struct diag *d)
{
	char drv[DRIVER_NAME_MAX];
	bool marked;
	struct marker m;
	int r;

	marked = marker_read(p, vf->bdf, &m) != -ENOENT;
	r = vf_driver(p, vf, drv, d);
	if (r < 0)
		return r;
	if (!marked && strcmp(drv, VFIO_DRIVER) != 0)
		return 0; /* released already */
	r = vf_set_mac_vlan(p, vf, (const uint8_t[6]){0}, -1, deadline_ms, d);
	if (r < 0)
		return r;
	r = unbind_vfio(p, vf, deadline_ms, d);
	if (r < 0)
		return r;
	return marker_remove(p, vf->bdf, d);
}

struct by_mac {
	const uint8_t *mac;
	struct vf *ret;
};

static int vf_by_mac(struct vfpool_sysfs *p, const struct vf *vf, void *arg, struct diag *d)
{
	struct by_mac *b = arg;
	struct marker m;

	(void)d;
	if (marker_read(p, vf->bdf, &m) != 0 || memcmp(m.mac, b->mac, 6) != 0)
		return 0;
	*b->ret = *vf;
	return 1;
}

/* The reserved VF whose marker holds mac: 1 and *ret, 0 when there is none. */
static int find_by_mac(struct vfpool_sysfs *p, const uint8_t mac[6], struct vf *ret, struct diag *d)
{
	static const struct vf_walk walk = {.vf = vf_by_mac};
	struct by_mac b = {.mac = mac, .ret = ret};

	return vf_each(p, &walk, &b, d);
}

/*
 * The VF a spec names, for release and handoff: 1 and *ret, 0 when it is not ours to touch
 * any more (reserved since for another MAC: a release twice must not undo someone else's).
 */
static int spec_vf(struct vfpool_sysfs *p, const struct plug_spec *spec, struct vf *ret,
		   struct diag *d)
{
	struct marker m;
	int r;

	if (spec->backend_kind != PLUG_BACKEND_HOSTDEV) {
		diag_set(d, "%s is not a host PCI device", spec->backend);
		return -EINVAL;
	}
	r = find_vf(p, spec->backend, ret, d);
	if (r < 0)
		return r;
	if (spec->has_mac && marker_read(p, ret->bdf, &m) == 0 && memcmp(m.mac, spec->mac, 6))
		return 0;
	return 1;
}

/*
 * A VF without our marker (the source VF the guest was started with, or one released
 * before): 1 while the PF still holds spec's MAC for it, or none (the handoff cleared it); 0
 * when it holds another one: given to someone else since (a repeated release after a crash).
 */
static int unmarked_still_ours(struct vfpool_sysfs *p, const struct plug_spec *spec,
			       const struct vf *vf, int64_t deadline_ms, struct diag *d)
{
	_cleanup_free_ struct vfnl_vf *nl = NULL;
	const struct vfnl_vf *v;
	struct marker m;
	size_t n = 0;
	int r;

	if (!spec->has_mac || marker_read(p, vf->bdf, &m) != -ENOENT)
		return 1;
	nl = calloc(VFNL_VFS_MAX, sizeof(*nl));
	if (!nl)
		return -ENOMEM;
	r = pf_vf_list(p, vf->pf, nl, &n, deadline_ms, d);
	if (r < 0)
		return r;
	v = vfnl_find(nl, n, vf->index);
	if (v && v->has_mac && memcmp(v->mac, (const uint8_t[6]){0}, 6) != 0 &&
	    memcmp(v->mac, spec->mac, 6) != 0)
		return 0;
	return 1;
}

static int sysfs_release(void *ud, const struct plug_spec *spec, int64_t deadline_ms,
			 struct diag *d)
{
	struct vfpool_sysfs *p = ud;
	struct vf vf;
	int r;

	if (!spec->backend[0]) {
		if (!spec->has_mac)
			return 0;
		r = find_by_mac(p, spec->mac, &vf, d);
	} else {
		r = spec_vf(p, spec, &vf, d);
		if (r > 0)
			r = unmarked_still_ours(p, spec, &vf, deadline_ms, d);
	}
	if (r <= 0)
		return r;
	r = release_vf(p, &vf, deadline_ms, d);
	if (r < 0)
		diag_prefix(d, "releasing VF %s", vf.bdf);
	return r;
}

static int sysfs_handoff(void *ud, const struct plug_spec *spec, bool incoming, int64_t deadline_ms,
			 struct diag *d)
{
	struct vfpool_sysfs *p = ud;
	struct vf vf;
	int r;

	r = spec_vf(p, spec, &vf, d);
	if (r < 0)
		return r;
	if (r == 0) {
		diag_set(d, "VF %s is reserved for another MAC now", spec->backend);
		return -EBUSY;
	}
	if (incoming && (!spec->has_mac || !mac_ok(spec->mac))) {
		diag_set(d, "VF %s: handoff without a unicast MAC", spec->backend);
		return -EINVAL;
	}
	return vf_set_mac_vlan(p, &vf, incoming ? spec->mac : (const uint8_t[6]){0},
			       incoming ? spec->vlan : -1, deadline_ms, d);
}

/* ------------------------------------------------------------------------------------------ */

int vfpool_sysfs_new(const struct vfpool_sysfs_options *o, struct vfpool_sysfs **ret,
		     struct diag *d)
{
	struct vfpool_sysfs *p;

	if (o->sysfs_root[0] && o->sysfs_root[0] != '/') {
		diag_set(d, "sysfs root must be an absolute path");
		return -EINVAL;
	}
	if (!o->state_dir[0]) {
		diag_set(d, "the VF pool needs a state directory for its reservations");
		return -EINVAL;
	}
	if (o->driver[0] && !id_ok(o->driver, VFM_ID_MAX)) {
		diag_set(d, "invalid VF device driver name");
		return -EINVAL;
	}
	if ((o->nl.send == NULL) != (o->nl.recv == NULL)) {
		diag_set(d, "netlink: send and recv go together");
		return -EINVAL;
	}
	p = calloc(1, sizeof(*p));
	if (p)
		p->reply = malloc(NL_REPLY_MAX);
	if (!p || !p->reply) {
		if (p)
			free(p);
		diag_set(d, "out of memory");
		return -ENOMEM;
	}
	p->o = *o;
	p->nl_fd = -1;
	if (!p->o.sysfs_root[0])
		snprintf(p->o.sysfs_root, sizeof(p->o.sysfs_root), "/sys");
	if (!p->o.driver[0])
		snprintf(p->o.driver, sizeof(p->o.driver), VFIO_DRIVER);
	if (p->o.bind_poll_ms <= 0)
		p->o.bind_poll_ms = 10;
	if (!p->o.nl.send)
		p->o.nl =
		    (struct vfpool_sysfs_nl){.userdata = p, .send = real_send, .recv = real_recv};
	*ret = p;
	return 0;
}

struct vfpool_sysfs *vfpool_sysfs_free(struct vfpool_sysfs *p)
{
	if (p) {
		if (p->nl_fd >= 0)
			close(p->nl_fd);
		free(p->reply);
		free(p);
	}
	return NULL;
}

int vfpool_sysfs_add_pf(struct vfpool_sysfs *p, const char *pf, const char *bus, struct diag *d)
{
	if (!bus)
		bus = "";
	if (!vfnl_ifname_valid(pf) || (bus[0] && !id_ok(bus, VFM_ID_MAX))) {
		diag_set(d, "VF pool: invalid PF name or root port");
		return -EINVAL;
	}
	for (size_t i = 0; i < p->n_pfs; i++)
		if (!strcmp(p->pfs[i].name, pf)) {
			diag_set(d, "PF %s is in the VF pool twice", pf);
			return -EEXIST;
		}
	if (p->n_pfs == VFPOOL_SYSFS_PFS_MAX) {
		diag_set(d, "more than %d PFs in the VF pool", VFPOOL_SYSFS_PFS_MAX);
		return -ENOSPC;
	}
	snprintf(p->pfs[p->n_pfs].name, VFM_IFNAME_MAX, "%s", pf);
	snprintf(p->pfs[p->n_pfs].bus, VFM_ID_MAX, "%s", bus);
	p->n_pfs++;
	return 0;
}

void vfpool_sysfs_ops(struct vfpool_sysfs *p, struct vfpool_ops *ret_ops)
{
	*ret_ops = (struct vfpool_ops){
	    .userdata = p,
	    .vf_takes_guest_mac = false, /* the PF sets the MAC; an untrusted VF keeps it */
	    .probe = sysfs_probe,
	    .reserve = sysfs_reserve,
	    .release = sysfs_release,
	    .handoff = sysfs_handoff,
	};
}
