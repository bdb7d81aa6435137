// SPDX-License-Identifier: MIT
#include "vfpool_emul.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

struct slot {
	char physnet[VFM_ID_MAX];
	char tap[VFM_IFNAME_MAX];
	char bus[VFM_ID_MAX];
	bool reserved;
	bool handed_in; /* handoff(incoming=true) seen since reserve */
	char device_id[VFM_ID_MAX];
	uint8_t mac[6];
	int vlan;
};

struct vfpool_emul {
	char driver[VFM_ID_MAX];
	size_t n;
	struct slot slots[VFPOOL_EMUL_SLOTS_MAX];
};

static bool name_ok(const char *s, size_t max)
{
	size_t n = s ? strlen(s) : 0, i;

	if (n == 0 || n >= max)
		return false;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '.' || s[i] == '-'))
			return false;
	return true;
}

int vfpool_emul_new(const char *driver, struct vfpool_emul **ret, struct diag *d)
{
	struct vfpool_emul *p;

	if (!driver || !driver[0])
		driver = "e1000e";
	if (!name_ok(driver, VFM_ID_MAX)) {
		diag_set(d, "invalid emulated VF driver name");
		return -EINVAL;
	}
	p = calloc(1, sizeof(*p));
	if (!p) {
		diag_set(d, "out of memory");
		return -ENOMEM;
	}
	snprintf(p->driver, sizeof(p->driver), "%s", driver);
	*ret = p;
	return 0;
}

struct vfpool_emul *vfpool_emul_free(struct vfpool_emul *p)
{
	free(p);
	return NULL;
}

int vfpool_emul_add(struct vfpool_emul *p, const char *physnet, const char *tap, const char *bus,
		    const char *in_use_by, struct diag *d)
{
	struct slot *s;
	size_t i;

	if (!physnet)
		physnet = "";
	if (!name_ok(tap, VFM_IFNAME_MAX) || !name_ok(bus, VFM_ID_MAX) ||
	    (physnet[0] && !name_ok(physnet, VFM_ID_MAX)) ||
	    (in_use_by && in_use_by[0] && !name_ok(in_use_by, VFM_ID_MAX))) {
		diag_set(d, "emulated VF slot: invalid tap, root port or physnet name");
		return -EINVAL;
	}
	for (i = 0; i < p->n; i++) {
		if (strcmp(p->slots[i].tap, tap) == 0 || strcmp(p->slots[i].bus, bus) == 0) {
			diag_set(d,
				 "emulated VF slot %s on %s: tap or root port already in the pool",
				 tap, bus);
			return -EEXIST;
		}
	}
	if (p->n == VFPOOL_EMUL_SLOTS_MAX) {
		diag_set(d, "more than %d emulated VF slots", VFPOOL_EMUL_SLOTS_MAX);
		return -ENOSPC;
	}
	s = &p->slots[p->n++];
	memset(s, 0, sizeof(*s));
	snprintf(s->physnet, sizeof(s->physnet), "%s", physnet);
	snprintf(s->tap, sizeof(s->tap), "%s", tap);
	snprintf(s->bus, sizeof(s->bus), "%s", bus);
	s->vlan = -1;
	if (in_use_by && in_use_by[0]) {
		s->reserved = true;
		snprintf(s->device_id, sizeof(s->device_id), "%s", in_use_by);
	}
	return 0;
}

static bool serves(const struct slot *s, const char *physnet)
{
	return !s->physnet[0] || !physnet || !physnet[0] || strcmp(s->physnet, physnet) == 0;
}

/* The slot of a spec's tap; -ENOENT when the tap is not in the pool, -EINVAL on a bus mismatch. */
static int slot_of(struct vfpool_emul *p, const struct plug_spec *spec, struct slot **ret,
		   struct diag *d)
{
	size_t i;

	for (i = 0; spec->backend_kind == PLUG_BACKEND_TAP && i < p->n; i++) {
		struct slot *s = &p->slots[i];

		if (strcmp(s->tap, spec->backend) != 0)
			continue;
		if (strcmp(s->bus, spec->bus) != 0) {
			diag_set(d, "emulated VF %s belongs to root port %s, not %s", s->tap,
				 s->bus, spec->bus);
			return -EINVAL;
		}
		*ret = s;
		return 0;
	}
	diag_set(d, "%s is not an emulated VF of this pool", spec->backend);
	return -ENOENT;
}

static int emul_probe(void *ud, const char *physnet, int64_t deadline_ms, unsigned *ret_free,
		      struct diag *d)
{
	struct vfpool_emul *p = ud;
	unsigned n = 0;
	size_t i;

	(void)deadline_ms;
	(void)d;
	for (i = 0; i < p->n; i++)
		if (!p->slots[i].reserved && serves(&p->slots[i], physnet))
			n++;
	*ret_free = n;
	return 0;
}

static int emul_reserve(void *ud, const char *physnet, const uint8_t mac[6], int vlan,
			const char *device_id_hint, int64_t deadline_ms, struct plug_spec *ret_spec,
			struct diag *d)
{
	struct vfpool_emul *p = ud;
	struct plug_spec spec = {.backend_kind = PLUG_BACKEND_TAP, .has_mac = true};
	struct slot *s = NULL;
	size_t i;

	(void)deadline_ms;
	if (device_id_hint && device_id_hint[0] && !name_ok(device_id_hint, VFM_ID_MAX)) {
		diag_set(d, "invalid device id for the emulated VF");
		return -EINVAL;
	}
	for (i = 0; i < p->n && !s; i++)
		if (!p->slots[i].reserved && serves(&p->slots[i], physnet))
			s = &p->slots[i];
	if (!s) {
		diag_set(d, "no free emulated VF for physnet %s",
			 physnet && physnet[0] ? physnet : "(any)");
		return -ENOSPC;
	}
	if (device_id_hint && device_id_hint[0])
		snprintf(spec.device_id, sizeof(spec.device_id), "%s", device_id_hint);
	else
		snprintf(spec.device_id, sizeof(spec.device_id), "vfm-%s", s->bus);
	snprintf(spec.driver, sizeof(spec.driver), "%s", p->driver);
	snprintf(spec.bus, sizeof(spec.bus), "%s", s->bus);
	snprintf(spec.backend, sizeof(spec.backend), "%s", s->tap);
	memcpy(spec.mac, mac, 6);
	spec.vlan = vlan;
	s->reserved = true;
	s->handed_in = false;
	snprintf(s->device_id, sizeof(s->device_id), "%s", spec.device_id);
	memcpy(s->mac, mac, 6);
	s->vlan = vlan;
	*ret_spec = spec;
	return 0;
}

/* Idempotent, and valid for a slot the pool did not hand out (the source's VF, plugged when the
 * guest started). */
static int emul_release(void *ud, const struct plug_spec *spec, int64_t deadline_ms, struct diag *d)
{
	struct slot *s;
	int r;

	(void)deadline_ms;
	r = slot_of(ud, spec, &s, d);
	if (r < 0)
		return r;
	s->reserved = false;
	s->handed_in = false;
	s->device_id[0] = '\0';
	return 0;
}

static int emul_handoff(void *ud, const struct plug_spec *spec, bool incoming, int64_t deadline_ms,
			struct diag *d)
{
	struct slot *s;
	int r;

	(void)deadline_ms;
	r = slot_of(ud, spec, &s, d);
	if (r < 0)
		return r;
	s->handed_in = incoming;
	return 0;
}

void vfpool_emul_ops(struct vfpool_emul *p, struct vfpool_ops *ret_ops)
{
	*ret_ops = (struct vfpool_ops){
	    .userdata = p,
	    .vf_takes_guest_mac = true, /* an emulated NIC takes whatever MAC the guest sets */
	    .probe = emul_probe,
	    .reserve = emul_reserve,
	    .release = emul_release,
	    .handoff = emul_handoff,
	};
}
