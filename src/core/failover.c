// SPDX-License-Identifier: MIT
/*
 * Failover mode: a guest whose kernel pairs VF and virtio-net itself (net_failover, QEMU's
 * failover=on on the virtio NIC and failover_pair_id on the VF). QEMU unplugs the VF when the
 * migration starts and waits in wait-unplug for the guest to let it go; vfmigrate bounds that
 * wait, takes the destination VF from the pool, plugs it with the same failover_pair_id after
 * the point of no return and waits for the guest's failover master to send on it again.
 * The journal, recover and the rollback rules are the bond mode's (plan.c).
 */
#include "plan_impl.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/*
 * The guest's failover master sends on its primary again, waiting up to the link timeout;
 * through agent a (the side where the guest runs).
 */
static int primary_active(struct ctx *c, const struct agent_ops *a, struct diag *d)
{
	const struct plan_timeouts *t = &c->p->timeouts;
	struct failover_status st;
	int rc;

	if (!a->failover_status) {
		diag_set(d, "the guest agent cannot report the guest's net_failover");
		return -EOPNOTSUPP;
	}
	rc = a->failover_status(a->userdata, cv(c)->vf_mac, t->link_ms,
				dl(c, t->link_ms + t->command_ms), &st, d);
	if (rc >= 0 && !st.primary_active) {
		diag_set(d, "failover master %s does not send on its primary", st.master);
		rc = -ETIMEDOUT;
	}
	return agent_rc(c, a, rc, d);
}

/* Failover mode's own checks; changes nothing. pair_rc: how reading the pair went. */
static int failover_preflight(struct ctx *c, int pair_rc, const struct diag *pair_d, struct diag *d)
{
	const struct plan_env *e = c->env;
	const struct agent_ops *a = e->src.agent;
	struct failover_status st;
	struct diag sd = {0};
	char m[18];
	int rc, first = 0;

#define FO_PROBLEM(r, code, side, ...)                                             \
	do {                                                                       \
		if (!first)                                                        \
			first = (r) < 0 ? (r) : -EINVAL;                           \
		problem(c, PROBLEM_##code, PROBLEM_SIDE_##side, (r), __VA_ARGS__); \
	} while (0)

	format_mac(cv(c)->vf_mac, m);
	first = preflight_hosts(c);

	if (!e->src.hv->failover_pair || !e->src.hv->migrate_wait_unplug)
		FO_PROBLEM(-EOPNOTSUPP, FAILOVER_PAIR, SOURCE,
			   "this hypervisor backend does not drive QEMU's failover");
	else if (pair_rc < 0)
		FO_PROBLEM(pair_rc, FAILOVER_PAIR, SOURCE, "VF %s: %s", cv(c)->src_vf.device_id,
			   pair_d->msg);
	else if (!c->failover_pair[0])
		FO_PROBLEM(
		    -EINVAL, FAILOVER_PAIR, SOURCE,
		    "VF %s has no failover_pair_id: it is no QEMU failover primary "
		    "(failover mode needs virtio-net-pci failover=on and the VF plugged with "
		    "failover_pair_id; with libvirt, <teaming type='persistent'/> on the virtio "
		    "<interface> and <teaming type='transient' persistent='ALIAS'/> on the VF's)",
		    cv(c)->src_vf.device_id);

	rc = agent_rc(c, a, a->ping(a->userdata, cmd_dl(c), &sd), &sd);
	if (rc < 0) {
		FO_PROBLEM(rc, AGENT, GUEST, "%s", sd.msg);
	} else if (!a->failover_status) {
		FO_PROBLEM(-EOPNOTSUPP, FAILOVER_MASTER, GUEST,
			   "the guest agent cannot report the guest's net_failover");
	} else {
		rc = agent_rc(
		    c, a, a->failover_status(a->userdata, cv(c)->vf_mac, 0, cmd_dl(c), &st, &sd),
		    &sd);
		if (rc < 0)
			FO_PROBLEM(rc, FAILOVER_MASTER, GUEST, "net_failover on MAC %s: %s", m,
				   sd.msg);
		else if (!st.has_primary || !st.primary_active)
			FO_PROBLEM(-EINVAL, FAILOVER_MASTER, GUEST,
				   "failover master %s does not send on a primary (VF) now",
				   st.master);
		else if (!st.has_standby || !st.standby_link)
			FO_PROBLEM(-EINVAL, FAILOVER_MASTER, GUEST,
				   "failover master %s: its standby (virtio) NIC has no link",
				   st.master);
	}

	if ((rc = preflight_pool(c)) < 0 && !first)
		first = rc;
#undef FO_PROBLEM
	if (first) {
		diag_set(d, "%s", c->rep->problems[0].text);
		return first;
	}
	/* The pair shares one MAC: the destination VF carries the guest's. */
	memcpy(cs(c)->dst_mac, cv(c)->vf_mac, 6);
	cs(c)->has_dst_mac = true;
	return 0;
}

/*
 * Failover mode is single-VF (several VFs in it are a follow-up): forced for a guest with
 * several VFs, or picked by auto for one whose VF is a failover primary, it is refused.
 * Otherwise a guest with several VFs goes through its bonds.
 */
static int preflight_multivf(struct ctx *c, struct diag *d)
{
	const struct plan *p = c->p;
	const struct hv_ops *h = c->env->src.hv;
	char pair[VFM_ID_MAX], l[VFM_ID_MAX];
	struct diag pd = {0};

	if (p->mode == PLAN_MODE_FAILOVER) {
		problem(c, PROBLEM_FAILOVER_MULTIVF, PROBLEM_SIDE_SOURCE, -EOPNOTSUPP,
			"failover mode takes a guest with one VF; this one has %zu (bond mode "
			"takes several)",
			p->n_vfs);
		diag_set(d, "%s", c->rep->problems[0].text);
		return -EOPNOTSUPP;
	}
	for (size_t i = 0; h->failover_pair && i < p->n_vfs; i++) {
		pair[0] = '\0';
		if (h->failover_pair(h->userdata, p->vfs[i].src_vf.device_id, cmd_dl(c), pair,
				     &pd) < 0 ||
		    !pair[0])
			continue;
		problem(
		    c, PROBLEM_FAILOVER_MULTIVF, PROBLEM_SIDE_SOURCE, -EOPNOTSUPP,
		    "VF %s (%s) is the QEMU failover primary of %s: failover mode takes a guest "
		    "with one VF; this one has %zu",
		    plan_vf_label(p, i, l), p->vfs[i].src_vf.device_id, pair, p->n_vfs);
		diag_set(d, "%s", c->rep->problems[0].text);
		return -EOPNOTSUPP;
	}
	return 0;
}

int run_preflight_pick(struct ctx *c, struct diag *d)
{
	const struct plan *p = c->p;
	const struct hv_ops *h = c->env->src.hv;
	struct diag pd = {0};
	int rc = -EOPNOTSUPP;

	c->failover_pair[0] = '\0';
	if (p->n_vfs > 1 && p->mode != PLAN_MODE_BOND) {
		rc = preflight_multivf(c, d);
		if (rc < 0)
			return rc;
		c->rep->mode = PLAN_MODE_BOND;
	} else if (p->n_vfs && p->mode != PLAN_MODE_BOND && h->failover_pair) {
		rc = h->failover_pair(h->userdata, cv(c)->src_vf.device_id, cmd_dl(c),
				      c->failover_pair, &pd);
		if (rc < 0)
			c->failover_pair[0] = '\0';
	}
	if (p->mode == PLAN_MODE_AUTO && p->n_vfs <= 1)
		c->rep->mode =
		    p->n_vfs && c->failover_pair[0] ? PLAN_MODE_FAILOVER : PLAN_MODE_BOND;
	if (plan_failover(c)) {
		rc = failover_preflight(c, rc, &pd, d);
		if (rc >= 0)
			note(c, STEP_PREFLIGHT,
			     "failover mode: VF %s is the failover primary of %s",
			     cv(c)->src_vf.device_id, c->failover_pair);
		return rc;
	}
	for (size_t i = 0; i < p->n_vfs; i++) {
		char l[VFM_ID_MAX];

		if (p->vfs[i].bond[0])
			continue;
		problem(c, PROBLEM_BOND, PROBLEM_SIDE_GUEST, -EINVAL,
			"no bond is configured (%s) and VF %s is no QEMU failover primary",
			p->vfs[i].name[0] ? "[vf] bond" : "[guest] bond",
			p->vfs[i].name[0] ? plan_vf_label(p, i, l) : p->vfs[i].src_vf.device_id);
		diag_set(d, "%s", c->rep->problems[0].text);
		return -EINVAL;
	}
	return run_preflight(c, d);
}

int run_failover_reserve(struct ctx *c, struct diag *d)
{
	int rc = run_reserve(c, d);

	if (rc >= 0)
		snprintf(cs(c)->dst_spec.failover_pair_id, sizeof(cs(c)->dst_spec.failover_pair_id),
			 "%s", c->failover_pair);
	return rc;
}

/*
 * Cancels a migration stuck in wait-unplug. QEMU cancels only once the unplug it requested is
 * done or 30 s have passed; a paused guest never does it, and a primary cancelled that way is
 * plugged back while the guest still has the eject pending (it then deletes the VF). The
 * rollback resumes the source anyway: resumed as soon as the cancel is asked for, the guest
 * lets the primary go, QEMU cancels at once and plugs it back, hidden, as after any failure.
 */
#define CANCEL_FIRST_MS 5000
static int cancel_wait_unplug(struct ctx *c, struct diag *d)
{
	const struct hv_ops *h = c->env->src.hv;
	struct hv_probe pr;
	struct diag wd = {0};
	int rc;

	/* Not the whole command timeout: a paused guest never lets QEMU finish this cancel, and
	 * QEMU gives up waiting for the guest 30 s after it (plugging the primary back while the
	 * guest still has the eject pending). */
	rc = h->migrate_cancel(h->userdata,
			       dl(c, c->p->timeouts.command_ms < CANCEL_FIRST_MS
					 ? c->p->timeouts.command_ms
					 : CANCEL_FIRST_MS),
			       d);
	if (rc != -ETIMEDOUT)
		return rc;
	rc = h->probe(h->userdata, cmd_dl(c), &pr, d);
	if (rc >= 0 && !pr.running) {
		note(c, STEP_MIGRATE,
		     "the source guest is paused (%s): resumed so that it lets the failover "
		     "primary go and QEMU can finish cancelling",
		     pr.status);
		/* It still has QEMU's unplug request to act on, maybe after the cancel. */
		if (h->removal_watch &&
		    h->removal_watch(h->userdata, cv(c)->src_vf.device_id, &wd) >= 0)
			c->fo_eject_watch = true;
		rc = h->cont(h->userdata, cmd_dl(c), d);
	}
	if (rc < 0)
		return rc;
	return h->migrate_cancel(h->userdata, dl(c, c->p->timeouts.unplug_settle_ms), d);
}

/*
 * Right after migrate_start: QEMU asked the guest to unplug the primary and sits in
 * wait-unplug, without a deadline of its own (a paused guest never answers). Past ours the
 * migration is cancelled.
 */
int failover_wait_unplug(struct ctx *c, struct diag *d)
{
	const struct hv_ops *h = c->env->src.hv;
	const struct plan_timeouts *t = &c->p->timeouts;
	struct diag sd = {0};
	int64_t t0 = now(c);
	const char *why;
	int rc, crc;

	/* An operator's interrupt ends the wait too (the hypervisor checks it each slice). */
	if (c->env->interrupted && h->set_interrupt)
		h->set_interrupt(h->userdata, c->env->interrupted, c->env->interrupted_userdata);
	rc = h->migrate_wait_unplug(h->userdata, dl(c, t->unplug_ms), d);
	if (c->env->interrupted && h->set_interrupt)
		h->set_interrupt(h->userdata, NULL, NULL);
	if (rc >= 0) {
		if (c->t_vf_left < 0)
			c->t_vf_left = now(c);
		note(c, STEP_MIGRATE, "the guest released failover primary %s after %lld ms",
		     cv(c)->src_vf.device_id, (long long)(now(c) - t0));
		/* net_failover sends on the standby now but announces nothing: the network
		 * would keep the guest's MAC on the gone VF until the guest's next frame. */
		if (h->announce_nic &&
		    h->announce_nic(h->userdata, c->failover_pair, cmd_dl(c), &sd) < 0)
			note(c, STEP_MIGRATE, "announcing the guest on %s: %s", c->failover_pair,
			     sd.msg);
		return 0;
	}
	why = rc == -EINTR ? interrupt_poll(c) : NULL;
	if (rc == -ETIMEDOUT)
		diag_set(d,
			 "the guest did not release failover primary %s within %lld ms (QEMU's "
			 "wait-unplug); migration cancelled",
			 cv(c)->src_vf.device_id, (long long)t->unplug_ms);
	else if (rc == -EINTR)
		diag_set(d, "interrupted by %s in QEMU's wait-unplug; migration cancelled",
			 why ? why : "a signal");
	else
		diag_prefix(d, "waiting for the failover primary's unplug");
	crc = cancel_wait_unplug(c, &sd);
	if (crc < 0)
		note(c, STEP_MIGRATE, "cancelling the migration: %s", sd.msg);
	return rc;
}

/*
 * The source runs the guest again (as in bond mode) and its failover master sends on the
 * primary again: QEMU plugs back a primary the guest had released when a migration fails or
 * is cancelled; a primary it still holds stays. One that a late eject deleted from QEMU is
 * plugged again as it was.
 */
int undo_failover_migrate(struct ctx *c, struct diag *d)
{
	const struct hv_ops *h = c->env->src.hv;
	struct plug_spec s = cv(c)->src_vf;
	struct diag wd = {0};
	bool present = true;
	int rc;

	rc = undo_migrate(c, d);
	if (rc < 0)
		return rc;
	/*
	 * A guest resumed with QEMU's unplug request still pending ejects the primary once it
	 * runs, which may be after QEMU gave up waiting and cancelled: the primary looks active
	 * until then. Its removal is waited for as long as an unplug may take.
	 */
	if (c->fo_eject_watch) {
		struct diag ed = {0};

		c->fo_eject_watch = false;
		rc = h->unplug_wait(h->userdata, &s, dl(c, c->p->timeouts.unplug_ms), &ed);
		if (h->removal_watch)
			(void)h->removal_watch(h->userdata, NULL, &ed);
		if (rc == 0) {
			note(c, STEP_MIGRATE,
			     "the resumed guest ejected failover primary %s (QEMU's unplug request "
			     "from before the cancel): plugging it again",
			     s.device_id);
			goto replug;
		}
	}
	if (primary_active(c, c->env->src.agent, &wd) >= 0)
		return 0;
	rc = h->device_present(h->userdata, s.device_id, cmd_dl(c), &present, d);
	if (rc < 0)
		return rc;
	if (present) {
		*d = wd;
		return -ETIMEDOUT;
	}
	note(c, STEP_MIGRATE, "failover primary %s is gone from the source QEMU: plugging it again",
	     s.device_id);
replug:
	snprintf(s.failover_pair_id, sizeof(s.failover_pair_id), "%s", c->failover_pair);
	/* As many tries as the plug step: a VF just removed may not be back with its host
	 * driver yet (libvirt's managed hostdev). */
	for (unsigned i = 0, n = c->p->plug_attempts ? c->p->plug_attempts : 1; i < n; i++) {
		if (i > 0)
			note(c, STEP_MIGRATE, "plugging %s again failed (%s); attempt %u of %u",
			     s.device_id, d->msg, i + 1, n);
		rc = h->plug(h->userdata, &s, cmd_dl(c), d);
		if (rc >= 0)
			break;
	}
	if (rc < 0)
		return rc;
	return primary_active(c, c->env->src.agent, d);
}

/* After the point of no return, the destination VF plugged: the master takes it. */
int run_failover_primary(struct ctx *c, struct diag *d)
{
	unsigned n = c->p->enslave_attempts ? c->p->enslave_attempts : 1;
	int rc = -EINVAL;

	for (unsigned i = 0; i < n; i++) {
		if (i > 0)
			note(c, STEP_ENSLAVE, "failover primary not active (%s); attempt %u of %u",
			     d->msg, i + 1, n);
		rc = primary_active(c, c->env->dst.agent, d);
		if (rc >= 0)
			return 0;
	}
	return rc;
}
