// SPDX-License-Identifier: MIT
/* The steps of a migration: each one's run and undo, over the ops. */
#include "plan_impl.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* ------------------------------------------------------------------------------------------ */
/* Helpers over the ops.                                                                       */

/* An agent call's result: a failure names the side whose guest agent it was, once (the
 * adapters name only their transport). */
int agent_rc(const struct ctx *c, const struct agent_ops *a, int rc, struct diag *d)
{
	if (rc < 0)
		diag_prefix(d, "%s guest agent", a == c->env->dst.agent ? "destination" : "source");
	return rc;
}

/*
 * Whether NICs the run names share a MAC: the virtio NIC carries vf-mac (net_failover's
 * layout) or the MAC the destination VF is given (a bond at fail_over_mac=none on the virtio
 * NIC's MAC). Then each NIC is named by its kind too; otherwise by MAC alone, which every guest
 * agent understands. Depends only on the plan and the destination MAC (journaled in BEGIN),
 * so recover names the NICs as the run did.
 */
static bool macs_shared(const struct ctx *c)
{
	const struct vf_state *v = ccs(c);
	const uint8_t *bk = cv(c)->backup_mac;

	return memcmp(cv(c)->vf_mac, bk, 6) == 0 ||
	       (v->has_dst_mac && memcmp(v->dst_mac, bk, 6) == 0) ||
	       (v->has_dst_spec && v->dst_spec.has_mac && memcmp(v->dst_spec.mac, bk, 6) == 0);
}

/* How the run names the NIC with this MAC that is of this kind (virtio: the backup). */
struct nic_sel nic_sel_of(const struct ctx *c, const uint8_t mac[6], enum nic_kind kind)
{
	struct nic_sel s = {.kind = macs_shared(c) ? kind : NIC_KIND_ANY};

	memcpy(s.mac, mac, 6);
	return s;
}

/* The slave sel names, when exactly one does. */
const struct bond_slave *bond_find(const struct bond_status *b, const struct nic_sel *sel)
{
	const struct bond_slave *hit = NULL;

	for (size_t i = 0; i < b->n_slaves && i < VFM_BOND_SLAVES_MAX; i++) {
		const struct bond_slave *s = &b->slaves[i];

		if (memcmp(s->mac, sel->mac, 6) != 0 ||
		    (sel->kind != NIC_KIND_ANY && s->kind != sel->kind))
			continue;
		if (hit)
			return NULL;
		hit = s;
	}
	return hit;
}

/* Whether the agent said the kind of every slave (an older agent says none). */
static bool bond_kinds_known(const struct bond_status *b)
{
	if (b->n_slaves == 0)
		return false;
	for (size_t i = 0; i < b->n_slaves && i < VFM_BOND_SLAVES_MAX; i++)
		if (b->slaves[i].kind == NIC_KIND_ANY)
			return false;
	return true;
}

/*
 * Where the run names NICs by kind: that the bond's slaves carrying the shared MAC are one
 * virtio NIC and (before the migration) one VF, as the agent reports them; else -EINVAL with
 * why and what to do.
 */
int bond_nics_apart(const struct ctx *c, const struct bond_status *b, struct diag *d)
{
	const struct plan_vf *pv = cv(c);
	unsigned n_virtio = 0, n_vf = 0, n_other = 0;
	char m[18];

	if (!macs_shared(c))
		return 0;
	format_mac(pv->backup_mac, m);
	if (!bond_kinds_known(b)) {
		diag_set(d,
			 "the virtio NIC and a VF share MAC %s but the guest agent does not say "
			 "which slave of %s is which (vfmigrate-agent too old?): update "
			 "vfmigrate-agent in the guest, or give the NICs distinct MACs",
			 m, pv->bond);
		return -EINVAL;
	}
	for (size_t i = 0; i < b->n_slaves && i < VFM_BOND_SLAVES_MAX; i++) {
		if (memcmp(b->slaves[i].mac, pv->backup_mac, 6) != 0 &&
		    memcmp(b->slaves[i].mac, pv->vf_mac, 6) != 0)
			continue;
		if (b->slaves[i].kind == NIC_KIND_VIRTIO)
			n_virtio++;
		else if (b->slaves[i].kind == NIC_KIND_VF)
			n_vf++;
		else
			n_other++;
	}
	if (n_virtio != 1 || n_vf > 1 || n_other) {
		diag_set(d,
			 "the slaves of %s that share MAC %s cannot be told apart: %u virtio, %u "
			 "VF, %u other (vfmigrate names NICs that share a MAC by kind: one virtio "
			 "NIC and one VF); give the NICs distinct MACs",
			 pv->bond, m, n_virtio, n_vf, n_other);
		return -EINVAL;
	}
	return 0;
}

/*
 * The MAC model: which MAC the destination VF must be given by its pool so that the guest's
 * bond can enslave it, or -EINVAL with what is wrong and how to fix it. A VF that takes a MAC
 * from the guest (emulated) gets vf-mac whatever the bond does. A VF whose MAC its PF sets
 * keeps that MAC: at fail_over_mac=active each slave keeps its own, so vf-mac; at none the
 * bond gives every slave its MAC, at follow the active one, so the VF must already carry the
 * bond's MAC; when that is the backup's, the guest agent must tell the two NICs apart by kind.
 */
int dst_mac_model(const struct ctx *c, const struct bond_status *b, uint8_t ret_mac[6],
		  struct diag *d)
{
	const struct plan_vf *pv = cv(c);
	const char *fom = bond_fom_to_string(b->fail_over_mac);
	char m[18];

	if (c->env->dst.vfpool->vf_takes_guest_mac || b->fail_over_mac == BOND_FOM_ACTIVE) {
		memcpy(ret_mac, pv->vf_mac, 6);
		return 0;
	}
	if (b->fail_over_mac != BOND_FOM_NONE && b->fail_over_mac != BOND_FOM_FOLLOW) {
		diag_set(
		    d,
		    "the fail_over_mac of bond %s could not be read (vfmigrate-agent too "
		    "old?): the destination's VFs keep the MAC their PF sets, and which one the "
		    "bond can enslave depends on it; update vfmigrate-agent in the guest",
		    pv->bond);
		return -EINVAL;
	}
	if (!b->has_mac) {
		diag_set(d,
			 "bond %s is at fail_over_mac=%s but its MAC could not be read: the "
			 "destination VF's PF must give it that MAC; update vfmigrate-agent in the "
			 "guest or rebuild the bond with fail_over_mac=active",
			 pv->bond, fom);
		return -EINVAL;
	}
	/* The destination VF will carry the virtio NIC's MAC: fine when the agent can tell the
	 * two apart by kind (bond_nics_apart() checks the rest). */
	if (memcmp(b->mac, pv->backup_mac, 6) == 0 && !bond_kinds_known(b)) {
		diag_set(
		    d,
		    "bond %s is at fail_over_mac=%s on the virtio NIC's MAC %s: a destination "
		    "VF whose MAC its PF sets would carry it too, and the guest agent cannot "
		    "tell the two apart (it does not report the kind of its NICs: update "
		    "vfmigrate-agent in the guest); or rebuild the bond with "
		    "fail_over_mac=active (vfmigrate --create-bond does), or enslave the VF first "
		    "so the bond takes the VF's MAC",
		    pv->bond, fom, format_mac(b->mac, m));
		return -EINVAL;
	}
	memcpy(ret_mac, b->mac, 6);
	return 0;
}

int run_bond(struct ctx *c, struct diag *d)
{
	const struct agent_ops *a = c->env->src.agent;
	struct nic_sel svf, sbk;
	struct bond_status b;
	uint8_t mac[6];
	int rc;

	rc = agent_rc(c, a, a->bond_status(a->userdata, cv(c)->bond, cmd_dl(c), &b, d), d);
	if (rc == -ENOENT && c->p->create_bond) {
		rc = agent_rc(
		    c, a,
		    a->bond_create(a->userdata, cv(c)->bond, cv(c)->backup_mac, cv(c)->vf_mac,
				   c->p->fail_over_mac,
				   dl(c, c->p->timeouts.link_ms + c->p->timeouts.command_ms), d),
		    d);
		if (rc < 0)
			return rc;
		note(c, STEP_BOND, "created bond %s", cv(c)->bond);
		/* The new bond must end up as pre-flight would want it. */
		svf = nic_sel_of(c, cv(c)->vf_mac, NIC_KIND_VF);
		rc = agent_rc(c, a,
			      a->set_active(a->userdata, cv(c)->bond, &svf, true, cmd_dl(c), d), d);
		if (rc < 0)
			return rc;
		rc = agent_rc(c, a, a->bond_status(a->userdata, cv(c)->bond, cmd_dl(c), &b, d), d);
	}
	if (rc < 0)
		return rc;
	svf = nic_sel_of(c, cv(c)->vf_mac, NIC_KIND_VF);
	sbk = nic_sel_of(c, cv(c)->backup_mac, NIC_KIND_VIRTIO);
	if (!bond_find(&b, &svf) || !bond_find(&b, &sbk)) {
		diag_set(d, "bond %s lacks the VF or the backup NIC", cv(c)->bond);
		return -ENODEV;
	}
	/* The bond as it is now must still want the MAC that BEGIN recorded. */
	rc = dst_mac_model(c, &b, mac, d);
	if (rc < 0)
		return rc;
	if (cs(c)->has_dst_mac && memcmp(mac, cs(c)->dst_mac, 6) != 0) {
		char m1[18], m2[18];

		diag_set(d,
			 "bond %s changed since pre-flight: the destination VF would now need MAC "
			 "%s, not %s; run again",
			 cv(c)->bond, format_mac(mac, m1), format_mac(cs(c)->dst_mac, m2));
		return -ESTALE;
	}
	memcpy(cs(c)->dst_mac, mac, 6);
	cs(c)->has_dst_mac = true;
	return bond_nics_apart(c, &b, d);
}

int run_reserve(struct ctx *c, struct diag *d)
{
	const struct vfpool_ops *v = c->env->dst.vfpool;
	const struct plan_vf *pv = cv(c);
	struct plug_spec s;
	const char *hint = pv->dst_device_id[0] ? pv->dst_device_id : pv->src_vf.device_id;
	int rc;

	rc = v->reserve(v->userdata, pv->physnet, cs(c)->dst_mac, pv->vlan, hint, cmd_dl(c), &s, d);
	if (rc < 0)
		return rc;
	/* Where it goes in the guest is ours to say; what backs it is the pool's. */
	if (pv->dst_bus[0])
		snprintf(s.bus, sizeof(s.bus), "%s", pv->dst_bus);
	else if (!s.bus[0])
		snprintf(s.bus, sizeof(s.bus), "%s", pv->src_vf.bus);
	if (!s.device_id[0])
		snprintf(s.device_id, sizeof(s.device_id), "%s", hint);
	if (!s.driver[0])
		snprintf(s.driver, sizeof(s.driver), "%s", pv->src_vf.driver);
	if (!s.has_mac) {
		memcpy(s.mac, cs(c)->dst_mac, 6);
		s.has_mac = true;
	}
	cs(c)->dst_spec = s;
	cs(c)->has_dst_spec = true;
	return 0;
}

int undo_reserve(struct ctx *c, struct diag *d)
{
	const struct vfpool_ops *v = c->env->dst.vfpool;
	int rc;

	if (!cs(c)->has_dst_spec) {
		struct plug_spec any = {.vlan = -1};

		if (!c->recovering)
			return 0;
		/* The journal holds the intent but not what was taken: release by MAC. */
		memcpy(any.mac, cs(c)->dst_mac, 6);
		any.has_mac = true;
		rc = v->release(v->userdata, &any, cmd_dl(c), d);
		/* A pool that keeps no reservations across processes has nothing to give back. */
		return rc == -ENOENT ? 0 : rc;
	}
	rc = v->release(v->userdata, &cs(c)->dst_spec, cmd_dl(c), d);
	if (rc < 0)
		return rc;
	cs(c)->has_dst_spec = false;
	return 0;
}

int run_backup_active(struct ctx *c, struct diag *d)
{
	const struct agent_ops *a = c->env->src.agent;
	int rc;

	struct nic_sel bk = nic_sel_of(c, cv(c)->backup_mac, NIC_KIND_VIRTIO);

	rc = agent_rc(c, a, a->set_active(a->userdata, cv(c)->bond, &bk, true, cmd_dl(c), d), d);
	if (rc >= 0 && c->t_vf_left < 0)
		c->t_vf_left = now(c);
	return rc;
}

int undo_backup_active(struct ctx *c, struct diag *d)
{
	const struct agent_ops *a = c->env->src.agent;
	struct nic_sel vf = nic_sel_of(c, cv(c)->vf_mac, NIC_KIND_VF);

	return agent_rc(c, a, a->set_active(a->userdata, cv(c)->bond, &vf, true, cmd_dl(c), d), d);
}

int run_release_vf(struct ctx *c, struct diag *d)
{
	const struct agent_ops *a = c->env->src.agent;
	struct nic_sel vf = nic_sel_of(c, cv(c)->vf_mac, NIC_KIND_VF);

	return agent_rc(c, a, a->release(a->userdata, cv(c)->bond, &vf, cmd_dl(c), d), d);
}

/* Puts the VF back in the bond as its active slave, whatever part of that is missing. */
static int ensure_enslaved(struct ctx *c, const struct agent_ops *a, const uint8_t mac[6],
			   struct diag *d)
{
	const struct plan_timeouts *t = &c->p->timeouts;
	struct nic_sel vf = nic_sel_of(c, mac, NIC_KIND_VF);

	/* One call does all of it: the agent waits for the NIC, enslaves it unless it already
	 * is a slave, waits for carrier, then makes it active. A separate status read first
	 * would only add a round trip that can stall while the guest probes a new NIC. */
	return agent_rc(c, a,
			a->enslave(a->userdata, cv(c)->bond, &vf, t->link_ms, true,
				   dl(c, t->link_ms + t->command_ms), d),
			d);
}

int undo_release_vf(struct ctx *c, struct diag *d)
{
	return ensure_enslaved(c, c->env->src.agent, cv(c)->vf_mac, d);
}

int run_unplug(struct ctx *c, struct diag *d)
{
	const struct hv_ops *h = c->env->src.hv;
	const struct plan_timeouts *t = &c->p->timeouts;
	struct diag sd = {0};
	bool present;
	int rc;

	rc = h->unplug_start(h->userdata, &cv(c)->src_vf, cmd_dl(c), d);
	if (rc < 0)
		return rc;
	rc = h->unplug_wait(h->userdata, &cv(c)->src_vf, dl(c, t->unplug_ms), d);
	if (rc == 0)
		return 0;
	if (rc == -ETIMEDOUT) {
		/* Never leave a half-removed device: let the removal finish, then undo it. */
		note(c, STEP_UNPLUG,
		     "VF %s not removed within %lld ms; waiting up to %lld ms for the removal "
		     "to settle before undoing",
		     cv(c)->src_vf.device_id, (long long)t->unplug_ms,
		     (long long)t->unplug_settle_ms);
		rc = h->unplug_wait(h->userdata, &cv(c)->src_vf, dl(c, t->unplug_settle_ms), &sd);
		if (rc == -ETIMEDOUT) {
			cs(c)->unplug_unsettled = true;
			diag_set(d,
				 "VF %s removal neither finished nor failed within %lld ms; its "
				 "state is unknown",
				 cv(c)->src_vf.device_id,
				 (long long)(t->unplug_ms + t->unplug_settle_ms));
			return -ETIMEDOUT;
		}
		if (rc == 0)
			diag_set(d, "VF %s removal took longer than %lld ms",
				 cv(c)->src_vf.device_id, (long long)t->unplug_ms);
		else
			*d = sd;
		return -ETIMEDOUT;
	}
	if (rc == -EBUSY)
		return rc;
	/* Could not tell: ask. The undo re-plugs only if it is gone. */
	if (h->device_present(h->userdata, cv(c)->src_vf.device_id, cmd_dl(c), &present, &sd) < 0)
		cs(c)->unplug_unsettled = true;
	return rc;
}

/*
 * Recover of a run killed inside the unplug: the device is there, but the removal that run
 * asked for may still be pending, and would take the VF away after it was taken for plugged
 * (the undo of release-vf would then wait for a NIC that is gone). Make it definite: ask for
 * the removal again (QEMU waits for a pending one; a device never asked to go goes now, which
 * is harmless: the VF was out of the bond) and wait for it; the undo then plugs the VF back.
 * A removal that does not come within the unplug timeout leaves the device as it is (the
 * guest kept it).
 */
static int unplug_settle(struct ctx *c, struct diag *d)
{
	const struct hv_ops *h = c->env->src.hv;
	struct diag sd = {0};
	int rc;

	rc = h->unplug_start(h->userdata, &cv(c)->src_vf, cmd_dl(c), &sd);
	if (rc == -ENOENT)
		return 0;
	if (rc < 0) {
		*d = sd;
		return rc;
	}
	rc = h->unplug_wait(h->userdata, &cv(c)->src_vf, dl(c, c->p->timeouts.unplug_ms), &sd);
	if (rc < 0)
		note(c, STEP_UNPLUG,
		     "VF %s: a removal asked for again did not complete (%s); left as it is",
		     cv(c)->src_vf.device_id, sd.msg);
	else
		note(c, STEP_UNPLUG, "VF %s: the killed run's removal completed; plugging it back",
		     cv(c)->src_vf.device_id);
	return 0;
}

int undo_unplug(struct ctx *c, struct diag *d)
{
	const struct hv_ops *h = c->env->src.hv;
	bool present;
	int rc;

	if (cs(c)->unplug_unsettled) {
		diag_set(d, "the state of VF %s is unknown; not re-plugging",
			 cv(c)->src_vf.device_id);
		return -EIO;
	}
	rc = h->device_present(h->userdata, cv(c)->src_vf.device_id, cmd_dl(c), &present, d);
	if (rc < 0)
		return rc;
	if (present && (cs(c)->in_flight & STEP_BIT(STEP_UNPLUG))) {
		rc = unplug_settle(c, d);
		if (rc < 0)
			return rc;
		rc =
		    h->device_present(h->userdata, cv(c)->src_vf.device_id, cmd_dl(c), &present, d);
		if (rc < 0)
			return rc;
	}
	if (present)
		return 0;
	return h->plug(h->userdata, &cv(c)->src_vf, cmd_dl(c), d);
}

/*
 * A VF whose MAC its PF sets keeps that MAC claimed on the PF until the PF is told otherwise:
 * once the VF left the guest, nothing of the guest's should stay there (the destination VF
 * carries the guest's MAC next). Emulated VFs have nothing on a PF.
 */
bool source_handoff_wanted(const struct ctx *c)
{
	const struct vfpool_ops *v = c->env->src.vfpool;

	return !v->vf_takes_guest_mac && v->handoff;
}

int run_source_handoff(struct ctx *c, struct diag *d)
{
	const struct vfpool_ops *v = c->env->src.vfpool;
	const struct plug_spec *s = &cv(c)->src_vf;
	int rc;

	rc = v->handoff(v->userdata, s, false, cmd_dl(c), d);
	if (rc < 0)
		return rc;
	note(c, STEP_SOURCE_HANDOFF, "source VF %s unplugged: its MAC and VLAN cleared on its PF",
	     s->backend);
	return 0;
}

/* Before the VF is plugged back: the PF gives it the guest's MAC and VLAN again. */
int undo_source_handoff(struct ctx *c, struct diag *d)
{
	const struct vfpool_ops *v = c->env->src.vfpool;
	const struct plug_spec *s = &cv(c)->src_vf;
	char m[18];
	int rc;

	if (!v->handoff)
		return 0;
	rc = v->handoff(v->userdata, s, true, cmd_dl(c), d);
	if (rc < 0)
		return rc;
	note(c, STEP_SOURCE_HANDOFF, "source VF %s: MAC %s and VLAN %d set on its PF again",
	     s->backend, format_mac(s->mac, m), s->vlan < 0 ? 0 : s->vlan);
	return 0;
}

static void on_progress(void *ud, const struct migrate_stats *st)
{
	struct ctx *c = ud;

	emit(c, PLAN_EV_PROGRESS, STEP_MIGRATE, 0, now(c) - c->t_start, NULL, st);
}

/* Source running again, destination gone: what a failed migration must leave. */
int ensure_source_running(struct ctx *c, struct diag *d)
{
	const struct hv_ops *s = c->env->src.hv, *t = c->env->dst.hv;
	struct hv_probe pr;
	struct diag qd = {0};
	int rc;

	if (c->recovering) {
		/* A migration may still be running without us; QEMU refuses hot-plug during one,
		 * and it must not complete behind our back. */
		if (s->migrate_cancel(s->userdata, cmd_dl(c), &qd) < 0)
			note(c, STEP_MIGRATE, "cancelling a migration: %s", qd.msg);
	}
	rc = s->probe(s->userdata, cmd_dl(c), &pr, d);
	if (rc < 0)
		return rc;
	if (pr.running)
		return 0;
	/* The guest may be running on the destination: only one copy may run. A destination
	 * whose socket is gone is gone. */
	rc = t->quit(t->userdata, cmd_dl(c), &qd);
	if (rc < 0 && !errno_is_peer_gone(rc) && rc != -ENOENT) {
		*d = qd;
		diag_prefix(d, "stopping the destination");
		return rc;
	}
	rc = s->cont(s->userdata, cmd_dl(c), d);
	if (rc < 0)
		diag_prefix(d, "resuming the source");
	return rc;
}

/*
 * Before migrate_start changes the source's max-bandwidth or downtime-limit: reads what they
 * are and journals it (an INTENT of migrate carrying the tuning), so that a rollback, also by
 * `recover` in another process, gives them back.
 */
static int save_tuning(struct ctx *c, struct diag *d)
{
	const struct hv_ops *s = c->env->src.hv;
	const struct migrate_params *m = &c->p->migrate;
	struct journal_record r = {0};
	struct migrate_tuning cur;
	int rc;

	if ((m->max_bandwidth <= 0 && m->downtime_limit_ms <= 0) || !s->tuning_get ||
	    !s->tuning_set)
		return 0;
	rc = s->tuning_get(s->userdata, &cur, cmd_dl(c), d);
	if (rc < 0) {
		/* Not worth refusing the migration for: it goes on, the values stay changed. */
		note(c, STEP_MIGRATE,
		     "could not read the source's migration parameters (%s): a rollback will not "
		     "give them back",
		     d->msg);
		d->msg[0] = '\0';
		return 0;
	}
	/* Only what this migration changes goes back. */
	if (m->max_bandwidth <= 0 || cur.max_bandwidth < 0)
		cur.max_bandwidth = -1;
	if (m->downtime_limit_ms <= 0 || cur.downtime_limit_ms < 0)
		cur.downtime_limit_ms = -1;
	if (cur.max_bandwidth < 0 && cur.downtime_limit_ms < 0)
		return 0;
	r.kind = JOURNAL_INTENT;
	snprintf(r.step, sizeof(r.step), "%s", step_to_string(STEP_MIGRATE));
	r.has_tuning = true;
	r.tuning = cur;
	rc = jappend(c, &r, d);
	if (rc < 0)
		return rc;
	c->has_prev_tuning = true;
	c->prev_tuning = cur;
	return 0;
}

/* Gives the source back the tuning save_tuning recorded; a failure is only noted. */
static void restore_tuning(struct ctx *c)
{
	const struct hv_ops *s = c->env->src.hv;
	struct diag d = {0};

	if (!c->has_prev_tuning || !s->tuning_set)
		return;
	if (s->tuning_set(s->userdata, &c->prev_tuning, cmd_dl(c), &d) < 0) {
		note(c, STEP_MIGRATE, "giving the source back its migration parameters: %s", d.msg);
		return;
	}
	c->has_prev_tuning = false;
}

int run_migrate(struct ctx *c, struct diag *d)
{
	const struct hv_ops *s = c->env->src.hv, *t = c->env->dst.hv;
	const struct plan *p = c->p;
	struct migrate_params mp;
	struct migrate_stats st;
	struct hv_probe pr;
	struct diag sd = {0};
	int64_t alive_deadline;
	int rc, i;

	rc = t->probe(t->userdata, cmd_dl(c), &pr, d);
	if (rc < 0) {
		diag_prefix(d, "destination");
		return rc;
	}
	if (pr.incoming == HV_INCOMING_DEFERRED) {
		rc = t->migrate_incoming(t->userdata, &p->migrate, cmd_dl(c), d);
		if (rc < 0) {
			diag_prefix(d, "destination");
			return rc;
		}
	}
	rc = save_tuning(c, d);
	if (rc < 0)
		return rc;
	mp = p->migrate;
	mp.n_failover_vfs = 0;
	for (size_t i = 0; plan_failover(c) && i < p->n_vfs; i++)
		if (c->vs[i].has_dst_spec)
			mp.failover_vfs[mp.n_failover_vfs++] = c->vs[i].dst_spec;
	rc = s->migrate_start(s->userdata, &mp, cmd_dl(c), d);
	if (rc < 0)
		return rc;
	/* QEMU unplugs a failover primary first: bounded by our deadline, not QEMU's. */
	if (plan_failover(c) && (rc = failover_wait_unplug(c, d)) < 0)
		return rc;
	if (c->env->interrupted && s->set_interrupt)
		s->set_interrupt(s->userdata, c->env->interrupted, c->env->interrupted_userdata);
	rc = s->migrate_wait(s->userdata, dl(c, p->timeouts.migrate_ms), on_progress, c, &st, d);
	if (c->env->interrupted && s->set_interrupt)
		s->set_interrupt(s->userdata, NULL, NULL);
	if (rc == -EINTR) {
		const char *why = interrupt_poll(c);
		int crc;

		/* The source still runs the guest: stop the migration, then roll back. */
		crc = s->migrate_cancel(s->userdata, cmd_dl(c), &sd);
		if (crc != -EALREADY) {
			note(c, STEP_MIGRATE,
			     "interrupted by %s: migration cancelled, rolling back",
			     why ? why : "a signal");
			if (crc < 0)
				note(c, STEP_MIGRATE, "cancelling the migration: %s", sd.msg);
			diag_set(d, "interrupted by %s; migration %s", why ? why : "a signal",
				 crc < 0 ? "cancel failed" : "cancelled");
			return -EINTR;
		}
		/* It completed before the cancel: the guest runs on the destination. */
		c->rep->interrupt_ignored = true;
		note(c, STEP_MIGRATE,
		     "interrupted by %s just as the migration completed: ignored, the guest "
		     "already runs on the destination",
		     why ? why : "a signal");
		rc = s->migrate_wait(s->userdata, dl(c, p->timeouts.migrate_ms), on_progress, c,
				     &st, d);
	}
	if (rc == -ETIMEDOUT) {
		diag_set(d, "migration did not complete within %lld ms; cancelled",
			 (long long)p->timeouts.migrate_ms);
		if (s->migrate_cancel(s->userdata, cmd_dl(c), &sd) < 0)
			note(c, STEP_MIGRATE, "cancelling the migration: %s", sd.msg);
		return rc;
	}
	if (rc < 0)
		return rc;
	c->rep->has_migration = true;
	c->rep->migration = st;
	emit(c, PLAN_EV_SWITCHED, STEP_MIGRATE, 0, now(c) - c->t_start, NULL, &st);

	/* QEMU can say completed with the guest dead on the destination: prove it alive. */
	/* A refused connection right after the switchover is worth another try; a silent
	 * guest is not (the ping waited until the deadline). */
	alive_deadline = dl(c, p->timeouts.alive_ms);
	for (i = 0, rc = -ETIMEDOUT; i < 3 && now(c) < alive_deadline; i++) {
		rc = agent_rc(
		    c, c->env->dst.agent,
		    c->env->dst.agent->ping(c->env->dst.agent->userdata, alive_deadline, &sd), &sd);
		if (rc >= 0 || rc == -ETIMEDOUT)
			break;
	}
	if (rc < 0) {
		struct diag ud = {0};

		diag_set(d,
			 "migration completed but the guest did not answer on the destination "
			 "(%s); stopping the destination and resuming the source",
			 sd.msg);
		if (ensure_source_running(c, &ud) < 0)
			note(c, STEP_MIGRATE, "%s", ud.msg);
		c->dead_arrival = true;
		return -EHOSTDOWN;
	}
	return 0;
}

int undo_migrate(struct ctx *c, struct diag *d)
{
	int rc = ensure_source_running(c, d);

	if (rc >= 0)
		restore_tuning(c);
	return rc;
}

/* After the point of no return. */
int run_plug(struct ctx *c, struct diag *d)
{
	const struct hv_ops *h = c->env->dst.hv;
	const struct vfpool_ops *v = c->env->dst.vfpool;
	unsigned n = c->p->plug_attempts ? c->p->plug_attempts : 1;
	int rc = -EINVAL;

	if (!cs(c)->has_dst_spec) {
		diag_set(d, "no destination VF was reserved");
		return -ENOENT;
	}
	for (unsigned i = 0; i < n; i++) {
		bool present = false;

		if (i > 0)
			note(c, STEP_PLUG, "plug failed (%s); attempt %u of %u", d->msg, i + 1, n);
		if (v->handoff) {
			rc = v->handoff(v->userdata, &cs(c)->dst_spec, true, cmd_dl(c), d);
			if (rc < 0)
				continue;
		}
		rc = h->device_present(h->userdata, cs(c)->dst_spec.device_id, cmd_dl(c), &present,
				       d);
		if (rc >= 0 && present)
			return 0;
		rc = h->plug(h->userdata, &cs(c)->dst_spec, cmd_dl(c), d);
		if (rc >= 0)
			return 0;
	}
	return rc;
}

int run_enslave(struct ctx *c, struct diag *d)
{
	unsigned n = c->p->enslave_attempts ? c->p->enslave_attempts : 1;
	const uint8_t *mac =
	    cs(c)->has_dst_spec && cs(c)->dst_spec.has_mac ? cs(c)->dst_spec.mac : cs(c)->dst_mac;
	int rc = -EINVAL;

	for (unsigned i = 0; i < n; i++) {
		if (i > 0)
			note(c, STEP_ENSLAVE, "enslave failed (%s); attempt %u of %u", d->msg,
			     i + 1, n);
		rc = ensure_enslaved(c, c->env->dst.agent, mac, d);
		if (rc >= 0)
			return 0;
	}
	return rc;
}

int run_release_source(struct ctx *c, struct diag *d)
{
	const struct vfpool_ops *v = c->env->src.vfpool;
	int rc;

	if (v->handoff) {
		rc = v->handoff(v->userdata, &cv(c)->src_vf, false, cmd_dl(c), d);
		if (rc < 0)
			return rc;
	}
	return v->release(v->userdata, &cv(c)->src_vf, cmd_dl(c), d);
}
