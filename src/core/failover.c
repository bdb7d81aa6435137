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

#define FO_PROBLEM(first, r, code, side, ...)                                      \
	do {                                                                       \
		if (!*(first))                                                     \
			*(first) = (r) < 0 ? (r) : -EINVAL;                        \
		problem(c, PROBLEM_##code, PROBLEM_SIDE_##side, (r), __VA_ARGS__); \
	} while (0)

/* The current VF's pair as pre-flight read it (pair_rc, pair_d): one of its own. */
static void failover_preflight_pair(struct ctx *c, int pair_rc, const struct diag *pair_d,
				    int *first)
{
	const char *dev = cv(c)->src_vf.device_id, *pair = cs(c)->failover_pair;

	if (pair_rc < 0)
		FO_PROBLEM(first, pair_rc, FAILOVER_PAIR, SOURCE, "VF %s: %s", dev, pair_d->msg);
	else if (!pair[0])
		FO_PROBLEM(
		    first, -EINVAL, FAILOVER_PAIR, SOURCE,
		    "VF %s has no failover_pair_id: it is no QEMU failover primary "
		    "(failover mode needs virtio-net-pci failover=on and the VF plugged with "
		    "failover_pair_id; with libvirt, <teaming type='persistent'/> on the virtio "
		    "<interface> and <teaming type='transient' persistent='ALIAS'/> on the VF's)",
		    dev);
	for (size_t i = 0; pair[0] && i < c->cur; i++)
		if (!strcmp(c->vs[i].failover_pair, pair))
			FO_PROBLEM(first, -EINVAL, FAILOVER_PAIR, SOURCE,
				   "VFs %s and %s are both failover primaries of %s: each VF "
				   "needs a virtio-net NIC of its own",
				   c->p->vfs[i].src_vf.device_id, dev, pair);
}

/* The guest's failover master of the current VF's MAC sends on its primary now. */
static void failover_preflight_master(struct ctx *c, int *first)
{
	const struct agent_ops *a = c->env->src.agent;
	struct failover_status st;
	struct diag sd = {0};
	char m[18];
	int rc;

	rc = agent_rc(c, a, a->failover_status(a->userdata, cv(c)->vf_mac, 0, cmd_dl(c), &st, &sd),
		      &sd);
	if (rc < 0)
		FO_PROBLEM(first, rc, FAILOVER_MASTER, GUEST, "net_failover on MAC %s: %s",
			   format_mac(cv(c)->vf_mac, m), sd.msg);
	else if (!st.has_primary || !st.primary_active)
		FO_PROBLEM(first, -EINVAL, FAILOVER_MASTER, GUEST,
			   "failover master %s does not send on a primary (VF) now", st.master);
	else if (!st.has_standby || !st.standby_link)
		FO_PROBLEM(first, -EINVAL, FAILOVER_MASTER, GUEST,
			   "failover master %s: its standby (virtio) NIC has no link", st.master);
}

/* Failover mode's own checks, of every VF; changes nothing. pair_rc, pair_d: how reading each
 * VF's pair went. */
static int failover_preflight(struct ctx *c, const int pair_rc[], const struct diag pair_d[],
			      struct diag *d)
{
	const struct plan_env *e = c->env;
	const struct agent_ops *a = e->src.agent;
	struct diag sd = {0};
	int rc, first = preflight_hosts(c);

	if (!e->src.hv->failover_pair || !e->src.hv->migrate_wait_unplug)
		FO_PROBLEM(&first, -EOPNOTSUPP, FAILOVER_PAIR, SOURCE,
			   "this hypervisor backend does not drive QEMU's failover");
	else if (!c->p->n_vfs)
		FO_PROBLEM(&first, -EINVAL, FAILOVER_PAIR, SOURCE, "the guest has no VF");
	else
		for (c->cur = 0; c->cur < c->p->n_vfs; c->cur++)
			failover_preflight_pair(c, pair_rc[c->cur], &pair_d[c->cur], &first);

	rc = agent_rc(c, a, a->ping(a->userdata, cmd_dl(c), &sd), &sd);
	if (rc < 0)
		FO_PROBLEM(&first, rc, AGENT, GUEST, "%s", sd.msg);
	else if (!a->failover_status)
		FO_PROBLEM(&first, -EOPNOTSUPP, FAILOVER_MASTER, GUEST,
			   "the guest agent cannot report the guest's net_failover");
	else
		for (c->cur = 0; c->cur < c->p->n_vfs; c->cur++)
			failover_preflight_master(c, &first);
	c->cur = 0;

	if ((rc = preflight_pool(c)) < 0 && !first)
		first = rc;
	for (size_t i = 0; e->dst.vfpool->failover_fits && i < c->p->n_vfs; i++) {
		struct diag fd = {0};

		rc = e->dst.vfpool->failover_fits(e->dst.vfpool->userdata, &c->p->vfs[i].src_vf,
						  &fd);
		if (rc < 0)
			FO_PROBLEM(&first, rc, FAILOVER_SOURCE, DESTINATION, "%s",
				   fd.msg[0] ? fd.msg : "a destination VF cannot replace it");
	}
	if (first) {
		diag_set(d, "%s", c->rep->problems[0].text);
		return first;
	}
	/* Each pair shares one MAC: the destination VF carries the guest's. */
	for (size_t i = 0; i < c->p->n_vfs; i++) {
		memcpy(c->vs[i].dst_mac, c->p->vfs[i].vf_mac, 6);
		c->vs[i].has_dst_mac = true;
	}
	return 0;
}
#undef FO_PROBLEM

/*
 * Under auto, a guest whose VFs are all failover primaries goes through QEMU's failover, one
 * with none of them through its bonds; one with some of each (net_failover for some NICs, a
 * bond for others) is refused: one migration cannot be both.
 */
static int preflight_mixed(struct ctx *c, struct diag *d)
{
	const struct plan *p = c->p;
	size_t paired = 0, unpaired = 0;
	char lp[VFM_ID_MAX], lu[VFM_ID_MAX];

	for (size_t i = 0; i < p->n_vfs; i++) {
		if (c->vs[i].failover_pair[0])
			paired = i + 1;
		else
			unpaired = i + 1;
	}
	if (!paired || !unpaired)
		return 0;
	problem(c, PROBLEM_FAILOVER_MULTIVF, PROBLEM_SIDE_SOURCE, -EOPNOTSUPP,
		"VF %s (%s) is the QEMU failover primary of %s but VF %s (%s) is no failover "
		"primary: one migration takes every VF through QEMU's failover or every VF "
		"through its bond",
		plan_vf_label(p, paired - 1, lp), p->vfs[paired - 1].src_vf.device_id,
		c->vs[paired - 1].failover_pair, plan_vf_label(p, unpaired - 1, lu),
		p->vfs[unpaired - 1].src_vf.device_id);
	diag_set(d, "%s", c->rep->problems[0].text);
	return -EOPNOTSUPP;
}

int run_preflight_pick(struct ctx *c, struct diag *d)
{
	const struct plan *p = c->p;
	const struct hv_ops *h = c->env->src.hv;
	struct diag pd[VFM_VFS_MAX] = {0};
	int pair_rc[VFM_VFS_MAX];
	bool all_paired = p->n_vfs > 0;
	int rc;

	for (size_t i = 0; i < VFM_VFS_MAX; i++) {
		c->vs[i].failover_pair[0] = '\0';
		pair_rc[i] = -EOPNOTSUPP;
	}
	for (size_t i = 0; p->mode != PLAN_MODE_BOND && h->failover_pair && i < p->n_vfs; i++) {
		pair_rc[i] = h->failover_pair(h->userdata, p->vfs[i].src_vf.device_id, cmd_dl(c),
					      c->vs[i].failover_pair, &pd[i]);
		if (pair_rc[i] < 0)
			c->vs[i].failover_pair[0] = '\0';
	}
	for (size_t i = 0; i < p->n_vfs; i++)
		all_paired &= c->vs[i].failover_pair[0] != '\0';
	if (p->mode == PLAN_MODE_AUTO) {
		rc = preflight_mixed(c, d);
		if (rc < 0)
			return rc;
		c->rep->mode = all_paired ? PLAN_MODE_FAILOVER : PLAN_MODE_BOND;
	}
	if (plan_failover(c)) {
		rc = failover_preflight(c, pair_rc, pd, d);
		for (size_t i = 0; rc >= 0 && i < p->n_vfs; i++)
			note(c, STEP_PREFLIGHT,
			     "failover mode: VF %s is the failover primary of %s",
			     p->vfs[i].src_vf.device_id, c->vs[i].failover_pair);
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
	struct vf_state *v = cs(c);
	int rc = run_reserve(c, d);

	_Static_assert(sizeof(v->dst_spec.failover_pair_id) == sizeof(v->failover_pair),
		       "one pair id size");
	if (rc >= 0)
		memcpy(v->dst_spec.failover_pair_id, v->failover_pair, sizeof(v->failover_pair));
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

/* The source's failover primaries, "vf0" or "vf0, vf1", into buf. */
static const char *primaries(const struct ctx *c, char *buf, size_t n)
{
	size_t l = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < c->p->n_vfs && l < n; i++)
		l += (size_t)snprintf(buf + l, n - l, "%s%s", i ? ", " : "",
				      c->p->vfs[i].src_vf.device_id);
	return buf;
}

/*
 * Right after migrate_start: QEMU asked the guest to unplug every primary and sits in
 * wait-unplug until all of them are released, without a deadline of its own (a paused guest
 * never answers). Past ours the migration is cancelled.
 */
int failover_wait_unplug(struct ctx *c, struct diag *d)
{
	const struct hv_ops *h = c->env->src.hv;
	const struct plan_timeouts *t = &c->p->timeouts;
	const char *pl = c->p->n_vfs > 1 ? "primaries" : "primary";
	char devs[VFM_VFS_MAX * (VFM_ID_MAX + 2)];
	struct diag sd = {0};
	int64_t t0 = now(c);
	const char *why;
	int rc, crc;

	primaries(c, devs, sizeof(devs));
	/* An operator's interrupt ends the wait too (the hypervisor checks it each slice). */
	if (c->env->interrupted && h->set_interrupt)
		h->set_interrupt(h->userdata, c->env->interrupted, c->env->interrupted_userdata);
	rc = h->migrate_wait_unplug(h->userdata, dl(c, t->unplug_ms), d);
	if (c->env->interrupted && h->set_interrupt)
		h->set_interrupt(h->userdata, NULL, NULL);
	if (rc >= 0) {
		if (c->t_vf_left < 0)
			c->t_vf_left = now(c);
		note(c, STEP_MIGRATE, "the guest released failover %s %s after %lld ms", pl, devs,
		     (long long)(now(c) - t0));
		/* net_failover sends on the standby now but announces nothing: the network
		 * would keep the guest's MAC on the gone VF until the guest's next frame. */
		for (size_t i = 0; h->announce_nic && i < c->p->n_vfs; i++) {
			const char *nic = c->vs[i].failover_pair;

			if (h->announce_nic(h->userdata, nic, cmd_dl(c), &sd) < 0)
				note(c, STEP_MIGRATE, "announcing the guest on %s: %s", nic,
				     sd.msg);
		}
		return 0;
	}
	why = rc == -EINTR ? interrupt_poll(c) : NULL;
	if (rc == -ETIMEDOUT)
		diag_set(d,
			 "the guest did not release failover %s %s within %lld ms (QEMU's "
			 "wait-unplug); migration cancelled",
			 pl, devs, (long long)t->unplug_ms);
	else if (rc == -EINTR)
		diag_set(d, "interrupted by %s in QEMU's wait-unplug; migration cancelled",
			 why ? why : "a signal");
	else
		diag_prefix(d, "waiting for the unplug of failover %s %s", pl, devs);
	crc = cancel_wait_unplug(c, &sd);
	if (crc < 0)
		note(c, STEP_MIGRATE, "cancelling the migration: %s", sd.msg);
	return rc;
}

/* The current VF's primary sends again on the source, plugged again if QEMU deleted it. */
static int primary_back(struct ctx *c, struct diag *d)
{
	const struct hv_ops *h = c->env->src.hv;
	struct plug_spec s = cv(c)->src_vf;
	struct diag wd = {0};
	bool present = true;
	int rc, prc;

	/*
	 * A guest resumed with QEMU's unplug request still pending ejects the primary once it
	 * runs, which may be after QEMU gave up waiting and cancelled: the primary looks active
	 * until then. Its removal is waited for as long as an unplug may take (the hypervisor
	 * watches the first VF's, the one failover mode on libvirt has).
	 */
	if (c->fo_eject_watch && c->cur == 0) {
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
	prc = primary_active(c, c->env->src.agent, &wd);
	if (prc >= 0)
		return 0;
	rc = h->device_present(h->userdata, s.device_id, cmd_dl(c), &present, d);
	if (rc < 0)
		return rc;
	/* Still plugged: why the master does not send on it is the answer (a silent agent is
	 * not a timeout of the primary). */
	if (present) {
		*d = wd;
		return prc;
	}
	note(c, STEP_MIGRATE, "failover primary %s is gone from the source QEMU: plugging it again",
	     s.device_id);
replug:
	snprintf(s.failover_pair_id, sizeof(s.failover_pair_id), "%s", cs(c)->failover_pair);
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

/*
 * The source runs the guest again (as in bond mode) and its failover masters send on their
 * primaries again: QEMU plugs back the primaries the guest had released when a migration
 * fails or is cancelled; one it still holds stays. One that a late eject deleted from QEMU is
 * plugged again as it was. Every VF is checked; the first failure is returned.
 */
int undo_failover_migrate(struct ctx *c, struct diag *d)
{
	size_t cur = c->cur;
	int rc, first = 0;

	rc = undo_migrate(c, d);
	if (rc < 0)
		return rc;
	for (c->cur = 0; c->cur < c->p->n_vfs; c->cur++) {
		struct diag vd = {0};
		char l[VFM_ID_MAX];

		rc = primary_back(c, &vd);
		if (rc >= 0)
			continue;
		if (c->p->n_vfs > 1)
			diag_prefix(&vd, "VF %s", plan_vf_label(c->p, c->cur, l));
		if (!first) {
			first = rc;
			*d = vd;
		} else {
			note(c, STEP_MIGRATE, "%s", vd.msg);
		}
	}
	c->cur = cur;
	return first;
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
