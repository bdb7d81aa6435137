// SPDX-License-Identifier: MIT
#include "fake_world.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const uint8_t fake_vf_mac[6] = {0x52, 0x54, 0x00, 0x00, 0x00, 0x0f};
const uint8_t fake_bk_mac[6] = {0x52, 0x54, 0x00, 0x00, 0x00, 0x0b};
#define VF_MAC fake_vf_mac
#define BK_MAC fake_bk_mac

#define W(ud)	 (((struct fake_ud *)(ud))->w)
#define SIDE(ud) (((struct fake_ud *)(ud))->side)

/* A record that is full ends the test run: one that quietly stopped would let a test that
 * asserts an entry's absence pass without having looked. */
static void record_full(const char *what, size_t cap)
{
	fprintf(stderr, "fake_world: the %s (%zu bytes) is full; make it larger\n", what, cap);
	abort();
}

static void logf_(struct fake_world *w, const char *fmt, ...) _printf_(2, 3);
static void logf_(struct fake_world *w, const char *fmt, ...)
{
	size_t l = strlen(w->log);
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(w->log + l, sizeof(w->log) - l, fmt, ap);
	va_end(ap);
	/* The entry and its ';' must fit, with the NUL. */
	if (n < 0 || l + (size_t)n + 2 > sizeof(w->log))
		record_full("call log", sizeof(w->log));
	w->log[l + (size_t)n] = ';';
	w->log[l + (size_t)n + 1] = '\0';
}

/* Every op: takes 10 ms, may be injected to fail. name is "src.hv.plug" etc. */
static int enter(void *ud, const char *op, struct diag *d)
{
	struct fake_world *w = W(ud);
	char name[64];

	snprintf(name, sizeof(name), "%s.%s", SIDE(ud) == FAKE_SRC ? "src" : "dst", op);
	w->now += 10;
	if (w->crash_op && !w->in_undo && strcmp(name, w->crash_op) == 0)
		longjmp(w->crash_jmp, 1);
	if (!w->intr_raised && w->intr_step >= 0 && w->cur_step == w->intr_step && !w->in_undo &&
	    w->intr_op && strstr(name, w->intr_op)) {
		w->intr_raised = true;
		logf_(w, "SIGNAL");
	}
	if (w->fail_step >= 0 && w->cur_step == w->fail_step && !w->in_undo && w->fail_times > 0 &&
	    w->fail_op && strstr(name, w->fail_op)) {
		w->fail_times--;
		logf_(w, "FAIL %s", name);
		if (w->fail_msg)
			diag_set(d, "%s", w->fail_msg);
		else
			diag_set(d, "injected failure in %s", name);
		return w->fail_rc;
	}
	return 0;
}

/* The side the guest runs on. */
static int guest_side(const struct fake_world *w)
{
	return w->migrated ? FAKE_DST : FAKE_SRC;
}

/* The NIC sel names; -2 when two match (the agent refuses: InvalidState). */
static int nic_of(const struct fake_world *w, const struct nic_sel *sel)
{
	bool vf = memcmp(sel->mac, w->vf_nic_mac[guest_side(w)], 6) == 0 &&
		  (sel->kind == NIC_KIND_ANY || sel->kind == w->vf_kind);
	bool bk = memcmp(sel->mac, BK_MAC, 6) == 0 &&
		  (sel->kind == NIC_KIND_ANY || sel->kind == NIC_KIND_VIRTIO);

	if (vf && bk)
		return -2;
	return vf ? FAKE_NIC_VF : bk ? FAKE_NIC_BACKUP : -1;
}

/* The guest's NIC exists (the VF only while plugged on the side the guest runs on). */
static bool nic_exists(struct fake_world *w, int nic)
{
	if (nic == FAKE_NIC_BACKUP)
		return true;
	return w->vf_present[guest_side(w)];
}

/* The kernel drops a removed NIC from the bond; active-backup then picks the other one. */
static void vf_removed(struct fake_world *w)
{
	w->slave[FAKE_NIC_VF] = false;
	if (w->has_active && w->active == FAKE_NIC_VF) {
		w->has_active = w->slave[FAKE_NIC_BACKUP];
		w->active = FAKE_NIC_BACKUP;
	}
}

/* ---- hypervisor ---- */

static int hv_probe(void *ud, int64_t deadline, struct hv_probe *ret, struct diag *d)
{
	struct fake_world *w = W(ud);
	int s = SIDE(ud), rc = enter(ud, "hv.probe", d);

	(void)deadline;
	if (rc < 0)
		return rc;
	if (w->gone[s]) {
		diag_set(d, "connection refused");
		return -ECONNREFUSED;
	}
	memset(ret, 0, sizeof(*ret));
	ret->running = w->running[s];
	snprintf(ret->status, sizeof(ret->status), "%s",
		 w->running[s]			    ? "running"
		 : s == FAKE_DST && w->dst_incoming ? "inmigrate"
						    : "paused");
	ret->incoming = s == FAKE_DST && w->dst_incoming ? HV_INCOMING_LISTENING : HV_INCOMING_NONE;
	return 0;
}

static int hv_device_present(void *ud, const char *id, int64_t deadline, bool *ret, struct diag *d)
{
	struct fake_world *w = W(ud);
	int rc = enter(ud, "hv.device_present", d);

	(void)deadline;
	(void)id;
	if (rc < 0)
		return rc;
	if (w->gone[SIDE(ud)])
		return -ECONNREFUSED;
	*ret = w->vf_present[SIDE(ud)];
	return 0;
}

static int hv_unplug_start(void *ud, const struct plug_spec *spec, int64_t deadline, struct diag *d)
{
	struct fake_world *w = W(ud);
	int rc = enter(ud, "hv.unplug_start", d);

	(void)deadline;
	if (rc < 0)
		return rc;
	logf_(w, "%s.unplug_start(%s)", SIDE(ud) ? "dst" : "src", spec->device_id);
	if (!w->vf_present[SIDE(ud)]) {
		diag_set(d, "Device '%s' not found", spec->device_id);
		return -ENODEV;
	}
	w->unplug_waits = 0;
	return 0;
}

static int hv_unplug_wait(void *ud, const struct plug_spec *spec, int64_t deadline, struct diag *d)
{
	struct fake_world *w = W(ud);
	int rc = enter(ud, "hv.unplug_wait", d);

	(void)spec;
	if (rc < 0)
		return rc;
	w->unplug_waits++;
	switch (w->unplug_mode) {
	case FAKE_UNPLUG_OK:
		break;
	case FAKE_UNPLUG_SLOW:
		if (w->unplug_waits == 1) {
			w->now = deadline;
			return -ETIMEDOUT;
		}
		w->now += 500;
		break;
	case FAKE_UNPLUG_STUCK:
		w->now = deadline;
		return -ETIMEDOUT;
	case FAKE_UNPLUG_REFUSED:
		diag_set(d, "Device unplug failed: guest refused");
		return -EBUSY;
	}
	w->now += 100;
	w->vf_present[SIDE(ud)] = false;
	if (!w->migrated && SIDE(ud) == FAKE_SRC)
		vf_removed(w);
	logf_(w, "%s.removed", SIDE(ud) ? "dst" : "src");
	return 0;
}

static int hv_plug(void *ud, const struct plug_spec *spec, int64_t deadline, struct diag *d)
{
	struct fake_world *w = W(ud);
	int s = SIDE(ud), rc = enter(ud, "hv.plug", d);

	(void)deadline;
	if (rc < 0)
		return rc;
	logf_(w, "%s.plug(%s,%s)", s ? "dst" : "src", spec->device_id, spec->backend);
	if (w->gone[s])
		return -ECONNREFUSED;
	if (w->vf_present[s]) {
		diag_set(d, "Duplicate device ID '%s'", spec->device_id);
		return -EEXIST;
	}
	w->vf_present[s] = true;
	if (spec->has_mac)
		memcpy(w->vf_nic_mac[s], spec->mac, 6);
	if (s == FAKE_SRC && !w->pool[FAKE_SRC].vf_takes_guest_mac && !w->src_pf_mac)
		memcpy(w->vf_nic_mac[s], (uint8_t[6]){0x02, 0, 0, 0, 0, 0x42}, 6);
	if (s == FAKE_DST)
		memcpy(w->plug_mac, spec->mac, 6);
	return 0;
}

static int hv_migrate_incoming(void *ud, const struct migrate_params *p, int64_t deadline,
			       struct diag *d)
{
	(void)p;
	(void)deadline;
	return enter(ud, "hv.migrate_incoming", d);
}

static int hv_tuning_get(void *ud, struct migrate_tuning *ret, int64_t deadline, struct diag *d)
{
	int rc = enter(ud, "hv.tuning_get", d);

	(void)deadline;
	if (rc < 0)
		return rc;
	*ret = W(ud)->tuning[SIDE(ud)];
	return 0;
}

static int hv_tuning_set(void *ud, const struct migrate_tuning *t, int64_t deadline, struct diag *d)
{
	struct fake_world *w = W(ud);
	int rc = enter(ud, "hv.tuning_set", d);

	(void)deadline;
	if (rc < 0)
		return rc;
	logf_(w, "%s.tuning_set(%lld,%lld)", SIDE(ud) == FAKE_SRC ? "src" : "dst",
	      (long long)t->max_bandwidth, (long long)t->downtime_limit_ms);
	if (t->max_bandwidth >= 0)
		w->tuning[SIDE(ud)].max_bandwidth = t->max_bandwidth;
	if (t->downtime_limit_ms >= 0)
		w->tuning[SIDE(ud)].downtime_limit_ms = t->downtime_limit_ms;
	return 0;
}

static int hv_migrate_start(void *ud, const struct migrate_params *p, int64_t deadline,
			    struct diag *d)
{
	struct fake_world *w = W(ud);
	int rc = enter(ud, "hv.migrate_start", d);

	(void)deadline;
	if (rc < 0)
		return rc;
	logf_(w, "src.migrate_start");
	/* QEMU keeps what migrate-set-parameters set, whatever becomes of the migration. */
	if (p->max_bandwidth > 0)
		w->tuning[FAKE_SRC].max_bandwidth = p->max_bandwidth;
	if (p->downtime_limit_ms > 0)
		w->tuning[FAKE_SRC].downtime_limit_ms = p->downtime_limit_ms;
	if (w->vf_present[FAKE_SRC]) {
		diag_set(d, "0000:00:05.0: VFIO device doesn't support migration");
		return -EBUSY;
	}
	if (!w->dst_incoming || w->gone[FAKE_DST]) {
		diag_set(d, "Failed to connect socket: Connection refused");
		return -ECONNREFUSED;
	}
	return 0;
}

static int hv_migrate_wait(void *ud, int64_t deadline, migrate_progress_fn fn, void *fn_ud,
			   struct migrate_stats *ret, struct diag *d)
{
	struct fake_world *w = W(ud);
	struct migrate_stats st = {.status = "active", .total_ms = -1, .downtime_ms = -1};
	int rc = enter(ud, "hv.migrate_wait", d);

	(void)deadline;
	if (rc < 0)
		return rc;
	st.total_bytes = 256 << 20;
	st.transferred_bytes = 100 << 20;
	if (w->migrated)
		goto completed; /* asked again after it completed behind a cancel */
	if (fn)
		fn(fn_ud, &st);
	if (w->hv_intr[SIDE(ud)] && w->hv_intr[SIDE(ud)](w->hv_intr_ud[SIDE(ud)])) {
		logf_(w, "src.wait_interrupted");
		diag_set(d, "interrupted");
		if (!w->cancel_too_late)
			return -EINTR;
		w->now += 100;
		w->running[FAKE_SRC] = false;
		w->running[FAKE_DST] = true;
		w->dst_incoming = false;
		w->migrated = true;
		logf_(w, "src.migrated");
		return -EINTR;
	}
	w->now += 2000;
	w->running[FAKE_SRC] = false;
	w->running[FAKE_DST] = true;
	w->dst_incoming = false;
	w->migrated = true;
	logf_(w, "src.migrated");
completed:
	snprintf(st.status, sizeof(st.status), "completed");
	st.total_ms = 2000;
	st.downtime_ms = 42;
	st.transferred_bytes = 270 << 20;
	*ret = st;
	return 0;
}

static int hv_migrate_cancel(void *ud, int64_t deadline, struct diag *d)
{
	struct fake_world *w = W(ud);
	int rc;

	(void)deadline;
	logf_(w, "src.migrate_cancel");
	rc = enter(ud, "hv.migrate_cancel", d);
	if (rc >= 0 && w->cancel_too_late && w->migrated) {
		diag_set(d, "migration completed before it could be cancelled");
		return -EALREADY;
	}
	return rc;
}

static void hv_set_interrupt(void *ud, interrupt_fn fn, void *fn_ud)
{
	struct fake_world *w = W(ud);

	w->hv_intr[SIDE(ud)] = fn;
	w->hv_intr_ud[SIDE(ud)] = fn_ud;
}

static int hv_stop(void *ud, int64_t deadline, struct diag *d)
{
	int rc = enter(ud, "hv.stop", d);

	(void)deadline;
	if (rc >= 0)
		W(ud)->running[SIDE(ud)] = false;
	return rc;
}

static int hv_cont(void *ud, int64_t deadline, struct diag *d)
{
	struct fake_world *w = W(ud);
	int s = SIDE(ud), rc = enter(ud, "hv.cont", d);

	(void)deadline;
	if (rc < 0)
		return rc;
	logf_(w, "%s.cont", s ? "dst" : "src");
	if (s == FAKE_SRC && w->running[FAKE_DST]) {
		diag_set(d, "test: resuming the source while the destination runs");
		return -EINVAL;
	}
	w->running[s] = true;
	if (s == FAKE_SRC)
		w->migrated = false;
	return 0;
}

static int hv_quit(void *ud, int64_t deadline, struct diag *d)
{
	struct fake_world *w = W(ud);
	int s = SIDE(ud), rc = enter(ud, "hv.quit", d);

	(void)deadline;
	if (rc < 0)
		return rc;
	logf_(w, "%s.quit", s ? "dst" : "src");
	if (w->gone[s])
		return -ECONNREFUSED;
	w->gone[s] = true;
	w->running[s] = false;
	w->vf_present[s] = false;
	if (s == FAKE_DST)
		w->dst_incoming = false;
	return 0;
}

/* ---- agent ---- */

/* The agent answers through a side only while the guest runs there and is alive. */
static int agent_enter(void *ud, const char *op, int64_t deadline, struct diag *d)
{
	struct fake_world *w = W(ud);
	int s = SIDE(ud), rc = enter(ud, op, d);

	if (rc < 0)
		return rc;
	if (w->agent_stalled) {
		w->now = deadline;
		logf_(w, "STALL %s.%s", s == FAKE_SRC ? "src" : "dst", op);
		diag_set(d, "no reply within the deadline");
		return -ETIMEDOUT;
	}
	if (!w->running[s] || w->migrated != (s == FAKE_DST) || (s == FAKE_DST && w->dst_dead)) {
		w->now = deadline;
		diag_set(d, "did not answer");
		return -ETIMEDOUT;
	}
	return 0;
}

static int ag_ping(void *ud, int64_t deadline, struct diag *d)
{
	return agent_enter(ud, "agent.ping", deadline, d);
}

static int ag_bond_status(void *ud, const char *bond, int64_t deadline, struct bond_status *ret,
			  struct diag *d)
{
	struct fake_world *w = W(ud);
	struct bond_status b = {0};
	int rc = agent_enter(ud, "agent.bond_status", deadline, d);

	if (rc < 0)
		return rc;
	if (!w->bond_exists) {
		diag_set(d, "no bond %s", bond);
		return -ENOENT;
	}
	snprintf(b.name, sizeof(b.name), "%s", bond);
	snprintf(b.mode, sizeof(b.mode), "active-backup");
	if (w->slave[FAKE_NIC_VF]) {
		memcpy(b.slaves[b.n_slaves].mac, w->vf_nic_mac[guest_side(w)], 6);
		b.slaves[b.n_slaves].link_up = true;
		b.slaves[b.n_slaves].kind = w->old_agent ? NIC_KIND_ANY : w->vf_kind;
		b.slaves[b.n_slaves].active = w->has_active && w->active == FAKE_NIC_VF;
		snprintf(b.slaves[b.n_slaves++].name, VFM_IFNAME_MAX, "eth1");
	}
	if (w->slave[FAKE_NIC_BACKUP]) {
		memcpy(b.slaves[b.n_slaves].mac, BK_MAC, 6);
		b.slaves[b.n_slaves].link_up = w->backup_link;
		b.slaves[b.n_slaves].kind = w->old_agent ? NIC_KIND_ANY : NIC_KIND_VIRTIO;
		b.slaves[b.n_slaves].active = w->has_active && w->active == FAKE_NIC_BACKUP;
		snprintf(b.slaves[b.n_slaves++].name, VFM_IFNAME_MAX, "eth0");
	}
	b.has_active = w->has_active;
	if (w->has_active)
		memcpy(b.active_mac,
		       w->active == FAKE_NIC_VF ? w->vf_nic_mac[guest_side(w)] : BK_MAC, 6);
	b.fail_over_mac = w->fom;
	b.has_mac = w->has_bond_mac;
	memcpy(b.mac, w->bond_mac, 6);
	*ret = b;
	return 0;
}

static int ag_bond_create(void *ud, const char *bond, const uint8_t bk[6], const uint8_t *vf,
			  enum bond_fom fom, int64_t deadline, struct diag *d)
{
	struct fake_world *w = W(ud);
	int rc = agent_enter(ud, "agent.bond_create", deadline, d);

	(void)bond;
	(void)bk;
	if (rc < 0)
		return rc;
	logf_(w, "bond_create(%s)", bond_fom_to_string(fom));
	w->bond_exists = true;
	w->created_fom = fom;
	/* The backup is enslaved first: the bond takes its MAC. */
	w->fom = fom;
	w->has_bond_mac = true;
	memcpy(w->bond_mac, BK_MAC, 6);
	w->slave[FAKE_NIC_BACKUP] = true;
	w->slave[FAKE_NIC_VF] = vf && nic_exists(w, FAKE_NIC_VF);
	w->has_active = true;
	w->active = w->slave[FAKE_NIC_VF] ? FAKE_NIC_VF : FAKE_NIC_BACKUP;
	return 0;
}

/* An old agent refuses a selector with a kind; the log shows the kind a call named. */
static int agent_sel(struct fake_world *w, const struct nic_sel *sel, struct diag *d)
{
	if (sel->kind != NIC_KIND_ANY && w->old_agent) {
		logf_(w, "REFUSED kind");
		diag_set(d, "the guest's vfmigrate-agent cannot name a NIC by kind");
		return -EOPNOTSUPP;
	}
	return 0;
}

static const char *sel_kind(const struct nic_sel *sel)
{
	return sel->kind == NIC_KIND_ANY  ? ""
	       : sel->kind == NIC_KIND_VF ? ",kind=vf"
					  : ",kind=virtio";
}

static int ag_set_active(void *ud, const char *bond, const struct nic_sel *sel, bool primary,
			 int64_t deadline, struct diag *d)
{
	struct fake_world *w = W(ud);
	int nic = nic_of(w, sel), rc = agent_enter(ud, "agent.set_active", deadline, d);

	(void)bond;
	(void)primary;
	if (rc < 0 || (rc = agent_sel(w, sel, d)) < 0)
		return rc;
	logf_(w, "set_active(%s%s)", nic == FAKE_NIC_VF ? "vf" : "backup", sel_kind(sel));
	if (nic == -2) {
		diag_set(d, "several NICs match");
		return -EINVAL;
	}
	if (nic < 0 || !w->slave[nic]) {
		diag_set(d, "not a slave");
		return -EINVAL;
	}
	w->has_active = true;
	w->active = nic;
	return 0;
}

static int ag_release(void *ud, const char *bond, const struct nic_sel *sel, int64_t deadline,
		      struct diag *d)
{
	struct fake_world *w = W(ud);
	int nic = nic_of(w, sel), rc = agent_enter(ud, "agent.release", deadline, d);

	(void)bond;
	if (rc < 0 || (rc = agent_sel(w, sel, d)) < 0)
		return rc;
	logf_(w, "release(%s%s)", nic == FAKE_NIC_VF ? "vf" : "backup", sel_kind(sel));
	if (nic == -2) {
		diag_set(d, "several NICs match");
		return -EINVAL;
	}
	if (nic < 0 || !w->slave[nic]) {
		diag_set(d, "not a slave");
		return -EINVAL;
	}
	if (nic == FAKE_NIC_VF)
		vf_removed(w);
	else
		w->slave[nic] = false;
	return 0;
}

static int ag_enslave(void *ud, const char *bond, const struct nic_sel *sel, int64_t link_ms,
		      bool make_active, int64_t deadline, struct diag *d)
{
	struct fake_world *w = W(ud);
	int nic = nic_of(w, sel), rc = agent_enter(ud, "agent.enslave", deadline, d);

	(void)bond;
	if (rc < 0 || (rc = agent_sel(w, sel, d)) < 0)
		return rc;
	logf_(w, "enslave(%s%s)", nic == FAKE_NIC_VF ? "vf" : "backup", sel_kind(sel));
	if (SIDE(ud) == FAKE_DST)
		memcpy(w->enslave_mac, sel->mac, 6);
	if (nic == -2) {
		diag_set(d, "several NICs have MAC ..");
		return -EINVAL;
	}
	if (nic < 0 || !nic_exists(w, nic)) {
		w->now += link_ms;
		diag_set(d, "no NIC appeared");
		return -ETIMEDOUT;
	}
	/* A VF that keeps its PF's MAC, on the destination, under a bond that must change it. */
	if (nic == FAKE_NIC_VF && w->migrated && !w->pool[FAKE_DST].vf_takes_guest_mac &&
	    (w->fom == BOND_FOM_NONE || (w->fom == BOND_FOM_FOLLOW && make_active)) &&
	    (!w->has_bond_mac || memcmp(w->vf_nic_mac[FAKE_DST], w->bond_mac, 6) != 0)) {
		diag_set(d, "enslaving: Cannot assign requested address");
		return -EADDRNOTAVAIL;
	}
	w->now += 300;
	w->slave[nic] = true;
	if (make_active) {
		w->has_active = true;
		w->active = nic;
	}
	return 0;
}

static int ag_link_wait(void *ud, const struct nic_sel *sel, int64_t link_ms, int64_t deadline,
			struct diag *d)
{
	(void)sel;
	(void)link_ms;
	return agent_enter(ud, "agent.link_wait", deadline, d);
}

/* For the fakes of other files (fake_failover.c): an op's entry, on a host or in the guest. */
int fake_enter(void *ud, const char *op, struct diag *d)
{
	return enter(ud, op, d);
}

int fake_agent_enter(void *ud, const char *op, int64_t deadline, struct diag *d)
{
	return agent_enter(ud, op, deadline, d);
}

/* ---- pools ---- */

static int pool_probe(void *ud, const char *physnet, int64_t deadline, unsigned *ret,
		      struct diag *d)
{
	int rc = enter(ud, "pool.probe", d);

	(void)physnet;
	(void)deadline;
	if (rc < 0)
		return rc;
	*ret = SIDE(ud) == FAKE_DST ? W(ud)->dst_free : 0;
	return 0;
}

static int pool_reserve(void *ud, const char *physnet, const uint8_t mac[6], int vlan,
			const char *hint, int64_t deadline, struct plug_spec *ret, struct diag *d)
{
	struct fake_world *w = W(ud);
	struct plug_spec s = {0};
	int rc = enter(ud, "pool.reserve", d);

	(void)physnet;
	(void)deadline;
	if (rc < 0)
		return rc;
	if (w->dst_free == 0) {
		diag_set(d, "no free VF");
		return -ENOSPC;
	}
	w->dst_free--;
	w->dst_reserved = true;
	memcpy(w->reserve_mac, mac, 6);
	logf_(w, "dst.reserve");
	snprintf(s.device_id, sizeof(s.device_id), "%s", hint ? hint : "");
	snprintf(s.backend, sizeof(s.backend), "tapd0");
	s.backend_kind = PLUG_BACKEND_TAP;
	memcpy(s.mac, mac, 6);
	s.has_mac = true;
	s.vlan = vlan;
	*ret = s;
	return 0;
}

static int pool_release(void *ud, const struct plug_spec *spec, int64_t deadline, struct diag *d)
{
	struct fake_world *w = W(ud);
	int rc = enter(ud, "pool.release", d);

	(void)deadline;
	if (rc < 0)
		return rc;
	logf_(w, "%s.pool_release%s", SIDE(ud) ? "dst" : "src", spec->backend[0] ? "" : "(by-mac)");
	/* By MAC: only what was reserved for that MAC. */
	if (SIDE(ud) == FAKE_DST && !spec->backend[0] && memcmp(spec->mac, w->reserve_mac, 6) != 0)
		return 0;
	if (SIDE(ud) == FAKE_DST) {
		if (w->dst_reserved)
			w->dst_free++;
		w->dst_reserved = false;
	} else {
		w->src_released = true;
	}
	return 0;
}

static int pool_handoff(void *ud, const struct plug_spec *spec, bool incoming, int64_t deadline,
			struct diag *d)
{
	struct fake_world *w = W(ud);
	int rc = enter(ud, "pool.handoff", d);

	(void)spec;
	(void)deadline;
	if (rc < 0)
		return rc;
	logf_(w, "%s.handoff(%s)", SIDE(ud) ? "dst" : "src", incoming ? "in" : "out");
	if (SIDE(ud) == FAKE_SRC)
		w->src_pf_mac = incoming;
	return 0;
}

/* ---- clock, journal, events ---- */

static int64_t clk_now(void *ud)
{
	return ((struct fake_world *)ud)->now;
}

static int64_t clk_wall(void *ud)
{
	return 1700000000000 + ((struct fake_world *)ud)->now;
}

int fake_journal_put(struct journal_record *recs, size_t *n, const struct journal_record *rec,
		     struct diag *d)
{
	char line[JOURNAL_LINE_MAX];
	int k;

	k = journal_record_encode(rec, line, sizeof(line));
	if (k < 0) {
		diag_set(d, "encode: %d", k);
		return k;
	}
	if (*n >= JOURNAL_RECORDS_MAX)
		return -EFBIG;
	if (journal_record_decode(line, (size_t)k - 1, &recs[*n], d) < 0)
		return -EBADMSG;
	(*n)++;
	return 0;
}

/* Round-trips every record through the codec, as the file would. */
static int j_append(void *ud, const struct journal_record *rec, struct diag *d)
{
	struct fake_world *w = ud;
	int rc;

	if (w->crash_at && rec->seq == w->crash_at)
		longjmp(w->crash_jmp, 1);
	if (w->journal_fail_at && rec->seq == w->journal_fail_at) {
		diag_set(d, "No space left on device");
		return -ENOSPC;
	}
	rc = fake_journal_put(w->journal, &w->n_journal, rec, d);
	if (rc < 0)
		return rc;
	logf_(w, "J:%s%s%s", journal_kind_to_string(rec->kind), rec->step[0] ? ":" : "", rec->step);
	return 0;
}

static void on_event(void *ud, const struct plan_event *ev)
{
	struct fake_world *w = ud;
	const char *name = step_to_string(ev->step);

	switch (ev->kind) {
	case PLAN_EV_STEP_BEGIN:
		w->cur_step = (int)ev->step;
		w->in_undo = false;
		logf_(w, "run:%s", name);
		if (w->stall_step == (int)ev->step)
			w->agent_stalled = true;
		if (ev->step == STEP_BOND && w->bond_mac_moves)
			memcpy(w->bond_mac, w->bond_mac_later, 6);
		if (!w->intr_raised && !w->intr_op && w->intr_step == (int)ev->step) {
			w->intr_raised = true;
			logf_(w, "SIGNAL");
		}
		break;
	case PLAN_EV_STEP_END:
		logf_(w, "%s:%s", ev->rc < 0 ? "failed" : "ok", name);
		break;
	case PLAN_EV_UNDO_BEGIN:
		w->in_undo = true;
		logf_(w, "undo:%s", name);
		break;
	case PLAN_EV_UNDO_END:
		logf_(w, "%s:%s", ev->rc < 0 ? "undo-failed" : "undone", name);
		break;
	case PLAN_EV_PROGRESS:
		w->progress_events++;
		break;
	case PLAN_EV_NOTE: {
		size_t l = strlen(w->notes);
		int n = snprintf(w->notes + l, sizeof(w->notes) - l, "%s\n", ev->msg);

		if (n < 0 || l + (size_t)n >= sizeof(w->notes))
			record_full("notes", sizeof(w->notes));
		break;
	}
	case PLAN_EV_PONR:
		logf_(w, "ponr");
		break;
	case PLAN_EV_SWITCHED:
		logf_(w, "switched");
		break;
	}
}

static const char *fake_interrupted(void *ud)
{
	struct fake_world *w = ud;

	w->intr_polls++;
	return w->intr_raised ? w->intr_sig : NULL;
}

void fake_world_init(struct fake_world *w)
{
	memset(w, 0, sizeof(*w));
	w->now = 1000;
	w->running[FAKE_SRC] = true;
	w->dst_incoming = true;
	w->vf_present[FAKE_SRC] = true;
	w->src_pf_mac = true;
	w->bond_exists = true;
	w->slave[FAKE_NIC_VF] = w->slave[FAKE_NIC_BACKUP] = true;
	w->has_active = true;
	w->active = FAKE_NIC_VF;
	w->backup_link = true;
	w->dst_free = 2;
	w->fail_step = -1;
	w->fail_times = 1000;
	w->cur_step = -1;
	w->intr_step = -1;
	w->stall_step = -1;
	w->intr_sig = "SIGINT";
	w->tuning[FAKE_SRC] = w->tuning[FAKE_DST] = (struct migrate_tuning){134217728, 300};
	w->fom = BOND_FOM_NONE;
	w->has_bond_mac = true;
	memcpy(w->bond_mac, BK_MAC, 6);
	memcpy(w->vf_nic_mac[FAKE_SRC], VF_MAC, 6);
	w->vf_kind = NIC_KIND_VF;
	memcpy(w->guest_vf_mac, VF_MAC, 6);

	for (int s = 0; s < 2; s++) {
		w->ud[s] = (struct fake_ud){w, s};
		w->hv[s] = (struct hv_ops){
		    .userdata = &w->ud[s],
		    .probe = hv_probe,
		    .device_present = hv_device_present,
		    .unplug_start = hv_unplug_start,
		    .unplug_wait = hv_unplug_wait,
		    .plug = hv_plug,
		    .migrate_incoming = hv_migrate_incoming,
		    .tuning_get = hv_tuning_get,
		    .tuning_set = hv_tuning_set,
		    .migrate_start = hv_migrate_start,
		    .migrate_wait = hv_migrate_wait,
		    .migrate_cancel = hv_migrate_cancel,
		    .stop = hv_stop,
		    .cont = hv_cont,
		    .quit = hv_quit,
		    .set_interrupt = hv_set_interrupt,
		};
		w->agent[s] = (struct agent_ops){
		    .userdata = &w->ud[s],
		    .ping = ag_ping,
		    .bond_status = ag_bond_status,
		    .bond_create = ag_bond_create,
		    .set_active = ag_set_active,
		    .release = ag_release,
		    .enslave = ag_enslave,
		    .link_wait = ag_link_wait,
		};
		w->pool[s] = (struct vfpool_ops){
		    .userdata = &w->ud[s],
		    .vf_takes_guest_mac = true, /* emulated, as the lab's */
		    .probe = pool_probe,
		    .reserve = pool_reserve,
		    .release = pool_release,
		    .handoff = pool_handoff,
		};
	}
	w->clock = (struct clock_ops){.userdata = w, .now_ms = clk_now, .wall_ms = clk_wall};
	w->jops = (struct journal_ops){.userdata = w, .append = j_append};
	w->env = (struct plan_env){
	    .src = {&w->hv[0], &w->agent[0], &w->pool[0]},
	    .dst = {&w->hv[1], &w->agent[1], &w->pool[1]},
	    .clock = &w->clock,
	    .journal = &w->jops,
	    .event = on_event,
	    .event_userdata = w,
	    .interrupted = fake_interrupted,
	    .interrupted_userdata = w,
	};

	plan_init(&w->plan);
	snprintf(w->plan.guest, sizeof(w->plan.guest), "g1");
	w->plan.n_vfs = 1;
	snprintf(w->plan.vfs[0].bond, sizeof(w->plan.vfs[0].bond), "bond0");
	memcpy(w->plan.vfs[0].vf_mac, VF_MAC, 6);
	memcpy(w->plan.vfs[0].backup_mac, BK_MAC, 6);
	snprintf(w->plan.vfs[0].src_vf.device_id, VFM_ID_MAX, "vf0");
	snprintf(w->plan.vfs[0].src_vf.driver, VFM_ID_MAX, "e1000e");
	snprintf(w->plan.vfs[0].src_vf.bus, VFM_ID_MAX, "rp1");
	snprintf(w->plan.vfs[0].src_vf.backend, VFM_ID_MAX, "taps0");
	memcpy(w->plan.vfs[0].src_vf.mac, VF_MAC, 6);
	w->plan.vfs[0].src_vf.has_mac = true;
	snprintf(w->plan.migrate.uri, VFM_URI_MAX, "tcp:10.0.0.2:4444");
}

void fake_world_share_mac(struct fake_world *w)
{
	memcpy(w->plan.vfs[0].vf_mac, BK_MAC, 6);
	memcpy(w->plan.vfs[0].src_vf.mac, BK_MAC, 6);
	memcpy(w->vf_nic_mac[FAKE_SRC], BK_MAC, 6);
	memcpy(w->guest_vf_mac, BK_MAC, 6);
	memcpy(w->bond_mac, BK_MAC, 6);
	w->has_bond_mac = true;
}

bool fake_on_source_with_vf(const struct fake_world *w)
{
	return !w->migrated && w->running[FAKE_SRC] && !w->running[FAKE_DST] &&
	       w->vf_present[FAKE_SRC] && w->slave[FAKE_NIC_VF] && w->slave[FAKE_NIC_BACKUP] &&
	       w->has_active && w->active == FAKE_NIC_VF && !w->dst_reserved &&
	       !w->vf_present[FAKE_DST] &&
	       memcmp(w->vf_nic_mac[FAKE_SRC], w->guest_vf_mac, 6) == 0 &&
	       (w->pool[FAKE_SRC].vf_takes_guest_mac || w->src_pf_mac);
}

bool fake_on_destination_with_vf(const struct fake_world *w)
{
	return w->migrated && w->running[FAKE_DST] && !w->running[FAKE_SRC] &&
	       w->vf_present[FAKE_DST] && !w->vf_present[FAKE_SRC] && w->slave[FAKE_NIC_VF] &&
	       w->has_active && w->active == FAKE_NIC_VF && w->src_released &&
	       (w->pool[FAKE_SRC].vf_takes_guest_mac || !w->src_pf_mac);
}

bool fake_log_has_in_order(const struct fake_world *w, const char *seq)
{
	char buf[1024], needle[160];
	const char *pos = w->log;
	char *save = NULL, *tok;

	snprintf(buf, sizeof(buf), "%s", seq);
	for (tok = strtok_r(buf, ";", &save); tok; tok = strtok_r(NULL, ";", &save)) {
		const char *hit;

		/* Match whole entries: ";tok;" (the log starts without a leading ';'). */
		snprintf(needle, sizeof(needle), "%s;", tok);
		hit = pos;
		for (;;) {
			hit = strstr(hit, needle);
			if (!hit)
				return false;
			if (hit == w->log || hit[-1] == ';')
				break;
			hit++;
		}
		pos = hit + strlen(needle);
	}
	return true;
}
