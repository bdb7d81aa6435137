// SPDX-License-Identifier: MIT
#include "plan.h"
#include "plan_impl.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static const char *const step_names[_STEP_MAX] = {
    [STEP_PREFLIGHT] = "preflight",
    [STEP_BOND] = "bond",
    [STEP_RESERVE] = "reserve",
    [STEP_BACKUP_ACTIVE] = "backup-active",
    [STEP_RELEASE_VF] = "release-vf",
    [STEP_UNPLUG] = "unplug",
    [STEP_SOURCE_HANDOFF] = "source-handoff",
    [STEP_MIGRATE] = "migrate",
    [STEP_PLUG] = "plug",
    [STEP_ENSLAVE] = "enslave",
    [STEP_RELEASE_SOURCE] = "release-source",
};

const char *step_to_string(enum step_id s)
{
	return (unsigned)s < _STEP_MAX ? step_names[s] : "unknown";
}

int step_from_string(const char *name, enum step_id *ret)
{
	for (int i = 0; i < _STEP_MAX; i++)
		if (strcmp(step_names[i], name) == 0) {
			*ret = (enum step_id)i;
			return 0;
		}
	return -EINVAL;
}

static const char *const mode_names[_PLAN_MODE_MAX] = {
    [PLAN_MODE_AUTO] = "auto",
    [PLAN_MODE_BOND] = "bond",
    [PLAN_MODE_FAILOVER] = "failover",
};

const char *plan_mode_to_string(enum plan_mode m)
{
	return (unsigned)m < _PLAN_MODE_MAX ? mode_names[m] : "unknown";
}

int plan_mode_from_string(const char *s, enum plan_mode *ret)
{
	for (int i = 0; i < _PLAN_MODE_MAX; i++)
		if (strcmp(mode_names[i], s) == 0) {
			*ret = (enum plan_mode)i;
			return 0;
		}
	return -EINVAL;
}

static const char *const outcome_names[_OUTCOME_MAX] = {
    [OUTCOME_MIGRATED] = "migrated",	       [OUTCOME_REFUSED] = "refused",
    [OUTCOME_ROLLED_BACK] = "rolled-back",     [OUTCOME_DEGRADED] = "degraded",
    [OUTCOME_NEEDS_RECOVER] = "needs-recover", [OUTCOME_NOTHING_TO_DO] = "nothing-to-do",
};

const char *plan_outcome_to_string(enum plan_outcome o)
{
	return (unsigned)o < _OUTCOME_MAX ? outcome_names[o] : "unknown";
}

int plan_outcome_from_string(const char *s, enum plan_outcome *ret)
{
	for (int i = 0; i < _OUTCOME_MAX; i++)
		if (strcmp(outcome_names[i], s) == 0) {
			*ret = (enum plan_outcome)i;
			return 0;
		}
	return -EINVAL;
}

static const char *const result_names[] = {
    [STEP_NOT_RUN] = "not-run",
    [STEP_OK] = "ok",
    [STEP_FAILED] = "failed",
    [STEP_SKIPPED] = "skipped",
    [STEP_UNDONE] = "undone",
    [STEP_UNDO_FAILED] = "undo-failed",
    [STEP_UNDO_SKIPPED] = "undo-skipped",
};

const char *step_result_to_string(enum step_result r)
{
	return (unsigned)r < ARRAY_SIZE(result_names) ? result_names[r] : "unknown";
}

static const char *const error_code_names[_PLAN_ERR_MAX] = {
    [PLAN_ERR_FAILED] = "failed",
    [PLAN_ERR_REFUSED] = "refused",
    [PLAN_ERR_DEAD_ARRIVAL] = "dead-arrival",
    [PLAN_ERR_INTERRUPTED] = "interrupted",
    [PLAN_ERR_TIMEOUT] = "timeout",
    [PLAN_ERR_PEER_GONE] = "peer-gone",
    [PLAN_ERR_CANCELLED] = "cancelled",
    [PLAN_ERR_JOURNAL] = "journal",
};

const char *plan_error_code_to_string(enum plan_error_code c)
{
	return (unsigned)c < _PLAN_ERR_MAX ? error_code_names[c] : "unknown";
}

static const char *const problem_names[_PROBLEM_MAX] = {
    [PROBLEM_HYPERVISOR] = "hypervisor",
    [PROBLEM_GUEST_NOT_RUNNING] = "guest-not-running",
    [PROBLEM_NOT_INCOMING] = "not-incoming",
    [PROBLEM_AGENT] = "agent",
    [PROBLEM_BOND] = "bond",
    [PROBLEM_BOND_MODE] = "bond-mode",
    [PROBLEM_MAC_MODEL] = "mac-model",
    [PROBLEM_VF_NOT_SLAVE] = "vf-not-slave",
    [PROBLEM_VF_NOT_ACTIVE] = "vf-not-active",
    [PROBLEM_BACKUP_NOT_SLAVE] = "backup-not-slave",
    [PROBLEM_BACKUP_NO_LINK] = "backup-no-link",
    [PROBLEM_VF_POOL] = "vf-pool",
    [PROBLEM_NO_FREE_VF] = "no-free-vf",
    [PROBLEM_NICS_APART] = "nics-apart",
    [PROBLEM_FAILOVER_PAIR] = "failover-pair",
    [PROBLEM_FAILOVER_MASTER] = "failover-master",
    [PROBLEM_FAILOVER_MULTIVF] = "failover-multivf",
    [PROBLEM_FAILOVER_SOURCE] = "failover-source",
};

const char *plan_problem_code_to_string(enum plan_problem_code c)
{
	return (unsigned)c < _PROBLEM_MAX ? problem_names[c] : "unknown";
}

static const char *const side_names[_PROBLEM_SIDE_MAX] = {
    [PROBLEM_SIDE_SOURCE] = "source",
    [PROBLEM_SIDE_DESTINATION] = "destination",
    [PROBLEM_SIDE_GUEST] = "guest",
};

const char *problem_side_to_string(enum problem_side s)
{
	return (unsigned)s < _PROBLEM_SIDE_MAX ? side_names[s] : "unknown";
}

void plan_timeouts_default(struct plan_timeouts *t)
{
	t->command_ms = 5000;
	t->unplug_ms = 10000;
	t->unplug_settle_ms = 30000;
	t->migrate_ms = 600000;
	t->alive_ms = 10000;
	t->link_ms = 10000;
}

const char *plan_vf_label(const struct plan *p, size_t i, char buf[VFM_ID_MAX])
{
	if (i < p->n_vfs && p->vfs[i].name[0])
		snprintf(buf, VFM_ID_MAX, "%s", p->vfs[i].name);
	else
		snprintf(buf, VFM_ID_MAX, "vf%zu", i);
	return buf;
}

void plan_init(struct plan *p)
{
	memset(p, 0, sizeof(*p));
	for (size_t i = 0; i < VFM_VFS_MAX; i++) {
		p->vfs[i].vlan = -1;
		p->vfs[i].src_vf.vlan = -1;
	}
	p->fail_over_mac = BOND_FOM_ACTIVE;
	plan_timeouts_default(&p->timeouts);
	p->plug_attempts = 2;
	p->enslave_attempts = 2;
}

/* ------------------------------------------------------------------------------------------ */

void emit(struct ctx *c, enum plan_event_kind kind, enum step_id step, int rc, int64_t duration_ms,
	  const char *msg, const struct migrate_stats *mig)
{
	struct plan_event ev = {
	    .kind = kind,
	    .step = step,
	    .rc = rc,
	    .duration_ms = duration_ms,
	    .msg = msg,
	    .mig = mig,
	};

	if (c->env->event)
		c->env->event(c->env->event_userdata, &ev);
}

void note(struct ctx *c, enum step_id step, const char *fmt, ...)
{
	char buf[640];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	emit(c, PLAN_EV_NOTE, step, 0, 0, buf, NULL);
}

/* The kind of a failure, from its errno (the kinds no errno tells are given by the caller). */
static enum plan_error_code error_code_of(int rc)
{
	if (rc == -EINTR)
		return PLAN_ERR_INTERRUPTED;
	if (rc == -ETIMEDOUT)
		return PLAN_ERR_TIMEOUT;
	if (rc == -ECANCELED)
		return PLAN_ERR_CANCELLED;
	if (errno_is_peer_gone(rc))
		return PLAN_ERR_PEER_GONE;
	return PLAN_ERR_FAILED;
}

void set_error_code(struct ctx *c, enum step_id step, int rc, enum plan_error_code code,
		    const struct diag *d)
{
	struct plan_report *r = c->rep;

	if (!r->has_error) {
		r->has_error = true;
		r->error_step = step;
		r->error_rc = rc;
		r->error_code = code;
		snprintf(r->error, sizeof(r->error), "%s", d->msg[0] ? d->msg : strerror(-rc));
	} else if (!r->has_error2) {
		r->has_error2 = true;
		r->error2_step = step;
		r->error2_code = code;
		snprintf(r->error2, sizeof(r->error2), "%s", d->msg[0] ? d->msg : strerror(-rc));
	}
}

static void set_error(struct ctx *c, enum step_id step, int rc, const struct diag *d)
{
	set_error_code(c, step, rc, error_code_of(rc), d);
}

/* Polls the operator's interrupt; the first reason seen sticks (it goes into the report). */
const char *interrupt_poll(struct ctx *c)
{
	const char *why;

	if (c->rep->interrupted[0])
		return c->rep->interrupted;
	if (!c->env->interrupted)
		return NULL;
	why = c->env->interrupted(c->env->interrupted_userdata);
	if (!why)
		return NULL;
	snprintf(c->rep->interrupted, sizeof(c->rep->interrupted), "%s", why[0] ? why : "signal");
	return c->rep->interrupted;
}

/* After the switchover an interrupt changes nothing: say so once. */
static void interrupt_ignore(struct ctx *c, enum step_id step)
{
	const char *why = interrupt_poll(c);

	if (!why || c->rep->interrupt_ignored)
		return;
	c->rep->interrupt_ignored = true;
	note(c, step,
	     "interrupted by %s: ignored, the guest already runs on the destination; finishing "
	     "there",
	     why);
}

static bool steps_vf_only(enum step_id s);

/* BEGIN: the guest, its first VF where a single-VF journal has it, the others in more_vfs;
 * failover mode's run says so, and each VF's spec carries its failover_pair_id. */
static void begin_fill(struct ctx *c, struct journal_record *r)
{
	const struct plan *p = c->p;

	snprintf(r->guest, sizeof(r->guest), "%s", p->guest);
	snprintf(r->dest, sizeof(r->dest), "%s", p->dest);
	r->has_vf = p->n_vfs > 0;
	if (plan_failover(c))
		snprintf(r->mode, sizeof(r->mode), "%s", mode_names[PLAN_MODE_FAILOVER]);
	if (!r->has_vf)
		return;
	snprintf(r->bond, sizeof(r->bond), "%s", p->vfs[0].bond);
	snprintf(r->vf_name, sizeof(r->vf_name), "%s", p->vfs[0].name);
	memcpy(r->vf_mac, p->vfs[0].vf_mac, 6);
	memcpy(r->backup_mac, p->vfs[0].backup_mac, 6);
	r->has_dst_mac = c->vs[0].has_dst_mac;
	memcpy(r->dst_mac, c->vs[0].dst_mac, 6);
	for (size_t i = 1; i < p->n_vfs; i++) {
		struct journal_vf *v = &r->more_vfs[r->n_more_vfs++];

		snprintf(v->name, sizeof(v->name), "%s", p->vfs[i].name);
		snprintf(v->bond, sizeof(v->bond), "%s", p->vfs[i].bond);
		memcpy(v->vf_mac, p->vfs[i].vf_mac, 6);
		memcpy(v->backup_mac, p->vfs[i].backup_mac, 6);
		v->has_dst_mac = c->vs[i].has_dst_mac;
		memcpy(v->dst_mac, c->vs[i].dst_mac, 6);
		v->spec = p->vfs[i].src_vf;
		if (plan_failover(c))
			snprintf(v->spec.failover_pair_id, sizeof(v->spec.failover_pair_id), "%s",
				 c->vs[i].failover_pair);
	}
}

/* Records one journal entry. Fails when the sink fails: the caller must not go on with the
 * side effect the record announces. */
static int jrec(struct ctx *c, enum journal_kind kind, enum step_id step,
		const struct plug_spec *spec, int err, const char *msg, struct diag *d)
{
	struct journal_record r = {0};

	if (!c->env->journal)
		return 0;
	r.kind = kind;
	if (journal_kind_has_step(kind))
		snprintf(r.step, sizeof(r.step), "%s", step_names[step]);
	if (journal_kind_has_step(kind) && steps_vf_only(step))
		r.vf = (unsigned)c->cur;
	if (kind == JOURNAL_BEGIN)
		begin_fill(c, &r);
	if (spec) {
		r.has_spec = true;
		r.spec = *spec;
		if (kind == JOURNAL_BEGIN && plan_failover(c))
			snprintf(r.spec.failover_pair_id, sizeof(r.spec.failover_pair_id), "%s",
				 c->vs[0].failover_pair);
	}
	if (kind == JOURNAL_FAIL) {
		r.err = err < 0 ? -err : err;
		if (r.err > 4095)
			r.err = EIO;
		snprintf(r.msg, sizeof(r.msg), "%s", msg ? msg : "");
	}
	if (kind == JOURNAL_END)
		snprintf(r.outcome, sizeof(r.outcome), "%s", msg);
	return jappend(c, &r, d);
}

/* Appends r (kind and payload filled in) with the next sequence number and the time. */
int jappend(struct ctx *c, struct journal_record *r, struct diag *d)
{
	int rc;

	if (!c->env->journal)
		return 0;
	r->seq = ++c->seq;
	r->wall_ms = wall(c);
	rc = c->env->journal->append(c->env->journal->userdata, r, d);
	if (rc < 0) {
		c->seq--;
		c->journal_broken = true;
		diag_prefix(d, "journal");
	}
	return rc;
}

struct step_def {
	int (*run)(struct ctx *c, struct diag *d);
	int (*undo)(struct ctx *c, struct diag *d);
	bool vf_only;
	/* NULL: always; else whether this run has anything for the step to do. */
	bool (*wanted)(const struct ctx *c);
	/* The undo acts in the guest, through the source's agent (else on a host). */
	bool undo_in_guest;
	/*
	 * The steps (STEP_BIT) whose undo must not have failed or been skipped before this undo
	 * runs, because it acts on what they restore. An undo whose needs are met runs whatever
	 * else failed before it: a silent guest does not keep the hosts from being put back.
	 */
	unsigned undo_needs;
	/* Failover mode: the step has nothing to do (the bond's steps; QEMU unplugs the VF),
	 * or these replace run and undo (NULL: the same as in bond mode). */
	bool bond_only;
	int (*fo_run)(struct ctx *c, struct diag *d);
	int (*fo_undo)(struct ctx *c, struct diag *d);
};

static const struct step_def steps[_STEP_MAX] = {
    /* Picks the mode, then checks what that mode needs. */
    [STEP_PREFLIGHT] = {.run = run_preflight_pick},
    [STEP_BOND] = {.run = run_bond, .vf_only = true, .bond_only = true},
    /* The reserved VF is not in the guest before the point of no return: always given back. */
    [STEP_RESERVE] = {.run = run_reserve,
		      .undo = undo_reserve,
		      .vf_only = true,
		      .fo_run = run_failover_reserve},
    /* Making the VF active again needs it back in the bond. */
    [STEP_BACKUP_ACTIVE] = {.run = run_backup_active,
			    .undo = undo_backup_active,
			    .vf_only = true,
			    .undo_in_guest = true,
			    .undo_needs = STEP_BIT(STEP_RELEASE_VF),
			    .bond_only = true},
    /* Enslaving the VF needs it plugged again. */
    [STEP_RELEASE_VF] = {.run = run_release_vf,
			 .undo = undo_release_vf,
			 .vf_only = true,
			 .undo_in_guest = true,
			 .undo_needs = STEP_BIT(STEP_UNPLUG),
			 .bond_only = true},
    /* Re-plugging needs the guest running on the source and the PF giving the VF its MAC. */
    [STEP_UNPLUG] = {.run = run_unplug,
		     .undo = undo_unplug,
		     .vf_only = true,
		     .undo_needs = STEP_BIT(STEP_SOURCE_HANDOFF) | STEP_BIT(STEP_MIGRATE),
		     .bond_only = true},
    /* The guest's MAC goes back on the source PF only once the guest runs there again. */
    [STEP_SOURCE_HANDOFF] = {.run = run_source_handoff,
			     .undo = undo_source_handoff,
			     .vf_only = true,
			     .wanted = source_handoff_wanted,
			     .undo_needs = STEP_BIT(STEP_MIGRATE),
			     .bond_only = true},
    [STEP_MIGRATE] = {.run = run_migrate, .undo = undo_migrate, .fo_undo = undo_failover_migrate},
    [STEP_PLUG] = {.run = run_plug, .vf_only = true},
    [STEP_ENSLAVE] = {.run = run_enslave, .vf_only = true, .fo_run = run_failover_primary},
    [STEP_RELEASE_SOURCE] = {.run = run_release_source, .vf_only = true},
};

static bool steps_vf_only(enum step_id s)
{
	return (unsigned)s < _STEP_MAX && steps[s].vf_only;
}

bool step_undo_in_guest(enum step_id s)
{
	return (unsigned)s < _STEP_MAX && steps[s].undo_in_guest;
}

/* A step this run skips: a VF step without a VF, or one with nothing to do. */
static bool step_skipped(const struct ctx *c, enum step_id s)
{
	return (steps[s].vf_only && !c->p->n_vfs) || (steps[s].wanted && !steps[s].wanted(c)) ||
	       (steps[s].bond_only && plan_failover(c));
}

/* The step's run and undo in the run's mode. */
static int step_run(struct ctx *c, enum step_id s, struct diag *d)
{
	return (plan_failover(c) && steps[s].fo_run ? steps[s].fo_run : steps[s].run)(c, d);
}

static int step_undo(struct ctx *c, enum step_id s, struct diag *d)
{
	return (plan_failover(c) && steps[s].fo_undo ? steps[s].fo_undo : steps[s].undo)(c, d);
}

/* ------------------------------------------------------------------------------------------ */
/* The runner.                                                                                 */

/* A failure of one VF's step in a run of several names the VF. */
static void vf_prefix(struct ctx *c, enum step_id s, struct diag *d)
{
	char l[VFM_ID_MAX];

	if (steps[s].vf_only && c->p->n_vfs > 1)
		diag_prefix(d, "VF %s", plan_vf_label(c->p, c->cur, l));
}

/* Runs step s for the current VF (or once, for a step that is not per VF). */
static int do_step_one(struct ctx *c, enum step_id s, enum plan_error_code *code, struct diag *d)
{
	int rc;

	rc = s == STEP_PREFLIGHT ? 0 : jrec(c, JOURNAL_INTENT, s, NULL, 0, NULL, d);
	if (rc < 0) {
		*code = PLAN_ERR_JOURNAL;
		return rc;
	}
	cs(c)->touched |= STEP_BIT(s);
	rc = step_run(c, s, d);
	if (rc < 0) {
		*code = s == STEP_PREFLIGHT		       ? PLAN_ERR_REFUSED
			: s == STEP_MIGRATE && c->dead_arrival ? PLAN_ERR_DEAD_ARRIVAL
							       : error_code_of(rc);
		return rc;
	}
	cs(c)->undone &= ~STEP_BIT(s);
	if (s != STEP_PREFLIGHT) {
		const struct plug_spec *spec = s == STEP_RESERVE ? &cs(c)->dst_spec : NULL;
		struct diag jd = {0};

		/* The effect happened; a journal failure now only weakens recover. */
		if (jrec(c, JOURNAL_DONE, s, spec, 0, NULL, &jd) < 0)
			note(c, s, "%s", jd.msg);
	}
	return 0;
}

/* After the point of no return one VF's failure leaves the others going: it is degraded. */
static void vf_degrade(struct ctx *c, enum step_id s)
{
	struct plan_vf_report *vr = &c->rep->vfs[c->cur];
	struct diag d = {0};

	if (s == STEP_PLUG && undo_reserve(c, &d) < 0)
		note(c, STEP_PLUG, "releasing the destination VF: %s", d.msg);
	if (s == STEP_PLUG || s == STEP_ENSLAVE) {
		cs(c)->degraded = true;
		vr->degraded = true;
	}
}

/*
 * Runs step s: once, or for every VF in the plan's order. Before the point of no return the
 * first VF that fails stops the step (rollback undoes the VFs it touched); after it every
 * VF is tried and a failed one is degraded (plug, enslave) or only reported. Returns the
 * first failure.
 */
static int do_step(struct ctx *c, enum step_id s)
{
	struct step_report *sr = &c->rep->steps[s];
	bool after_ponr = s >= STEP_PLUG;
	size_t n = steps[s].vf_only ? c->p->n_vfs : 1, ran = 0;
	int64_t t0;
	int first = 0;

	if (step_skipped(c, s)) {
		sr->result = STEP_SKIPPED;
		return 0;
	}
	emit(c, PLAN_EV_STEP_BEGIN, s, 0, 0, NULL, NULL);
	t0 = now(c);
	for (c->cur = 0; c->cur < n; c->cur++) {
		enum plan_error_code code = PLAN_ERR_FAILED;
		struct diag d = {0}, jd = {0};
		int rc;

		/* recover: what the journal says is done; roll-forward: no enslave unplugged. */
		if (steps[s].vf_only &&
		    ((c->recovering && (cs(c)->done & STEP_BIT(s))) ||
		     (after_ponr && s != STEP_RELEASE_SOURCE && cs(c)->degraded)))
			continue;
		ran++;
		rc = do_step_one(c, s, &code, &d);
		if (rc >= 0) {
			cs(c)->done |= STEP_BIT(s);
			continue;
		}
		if (!d.msg[0])
			snprintf(d.msg, sizeof(d.msg), "%s", strerror(-rc));
		vf_prefix(c, s, &d);
		set_error_code(c, s, rc, code, &d);
		if (steps[s].vf_only && !c->rep->vfs[c->cur].has_failed) {
			c->rep->vfs[c->cur].has_failed = true;
			c->rep->vfs[c->cur].failed_step = s;
		}
		if (s != STEP_PREFLIGHT && code != PLAN_ERR_JOURNAL && !c->journal_broken)
			jrec(c, JOURNAL_FAIL, s, NULL, rc, d.msg, &jd);
		if (!first) {
			first = rc;
			emit(c, PLAN_EV_STEP_END, s, rc, now(c) - t0, d.msg, NULL);
		} else {
			note(c, s, "%s", d.msg);
		}
		if (!after_ponr)
			break;
		vf_degrade(c, s);
	}
	c->cur = 0;
	sr->duration_ms = now(c) - t0;
	sr->rc = first;
	sr->result = first < 0 ? STEP_FAILED : ran ? STEP_OK : STEP_SKIPPED;
	if (!first)
		emit(c, PLAN_EV_STEP_END, s, 0, sr->duration_ms, NULL, NULL);
	return first;
}

/* The step whose undo s needs for the current VF and that failed or was skipped; -1: none. */
static int undo_blocker(const struct ctx *c, enum step_id s)
{
	for (int n = _STEP_MAX - 1; n > STEP_PREFLIGHT; n--) {
		enum step_result r = c->rep->steps[n].result;
		bool bad = steps[n].vf_only ? (ccs(c)->undo_bad & STEP_BIT(n)) != 0
					    : r == STEP_UNDO_FAILED || r == STEP_UNDO_SKIPPED;

		if ((steps[s].undo_needs & STEP_BIT(n)) && bad)
			return n;
	}
	return -1;
}

/* Undoes step s for the current VF (or once). */
static int do_undo_one(struct ctx *c, enum step_id s, struct diag *d)
{
	struct diag jd = {0};
	int rc;

	jrec(c, JOURNAL_UNDO, s, NULL, 0, NULL, &jd);
	rc = step_undo(c, s, d);
	if (rc < 0) {
		cs(c)->undo_bad |= STEP_BIT(s);
		return rc;
	}
	jrec(c, JOURNAL_UNDONE, s, NULL, 0, NULL, &jd);
	cs(c)->undone |= STEP_BIT(s);
	return 0;
}

/*
 * Undoes step s: once, or for every VF it touched, in reverse. A VF whose undo fails does
 * not keep the others from being undone. Returns <0 when an undo failed or was skipped.
 */
static int do_undo(struct ctx *c, enum step_id s)
{
	struct step_report *sr = &c->rep->steps[s];
	bool failed = false, skipped = false, any = false;
	int64_t t0;
	int first = 0;

	if (!steps[s].undo || sr->result == STEP_SKIPPED)
		return 0;
	t0 = now(c);
	for (size_t i = steps[s].vf_only ? c->p->n_vfs : 1; i-- > 0;) {
		struct diag d = {0};
		int rc, blocker = -1;

		c->cur = i;
		if (!(cs(c)->touched & STEP_BIT(s)) || (cs(c)->undone & STEP_BIT(s)))
			continue;
		blocker = undo_blocker(c, s);
		if (blocker >= 0) {
			char l[VFM_ID_MAX];

			cs(c)->undo_bad |= STEP_BIT(s);
			skipped = true;
			sr->undo_blocked_by = (enum step_id)blocker;
			note(c, s, "%s%s%snot undone: it needs %s undone first; left to recover",
			     steps[s].vf_only && c->p->n_vfs > 1 ? "VF " : "",
			     steps[s].vf_only && c->p->n_vfs > 1 ? plan_vf_label(c->p, i, l) : "",
			     steps[s].vf_only && c->p->n_vfs > 1 ? ": " : "", step_names[blocker]);
			continue;
		}
		if (!any)
			emit(c, PLAN_EV_UNDO_BEGIN, s, 0, 0, NULL, NULL);
		any = true;
		rc = do_undo_one(c, s, &d);
		if (rc < 0) {
			if (!d.msg[0])
				snprintf(d.msg, sizeof(d.msg), "%s", strerror(-rc));
			vf_prefix(c, s, &d);
			if (!failed)
				snprintf(sr->undo_error, sizeof(sr->undo_error), "%s", d.msg);
			diag_prefix(&d, "undo");
			set_error(c, s, rc, &d);
			failed = true;
			if (!first)
				first = rc;
		}
	}
	c->cur = 0;
	if (failed)
		sr->result = STEP_UNDO_FAILED;
	else if (skipped)
		sr->result = STEP_UNDO_SKIPPED;
	else if (any && sr->result != STEP_FAILED)
		sr->result = STEP_UNDONE;
	if (any) {
		sr->undo_ms = now(c) - t0;
		emit(c, PLAN_EV_UNDO_END, s, first, sr->undo_ms, failed ? sr->undo_error : NULL,
		     NULL);
	}
	return failed || skipped ? (first ? first : -EAGAIN) : 0;
}

/*
 * Undoes, in reverse from `from` down to the bond step, every step that may have had an effect
 * and is not undone yet, each for the VFs it touched in reverse. An undo whose needs (the step
 * table's undo_needs) failed for that VF is skipped; every other undo runs, whatever failed
 * before it: a silent guest does not keep the hosts from being put back. Returns ROLLED_BACK,
 * or NEEDS_RECOVER when an undo failed or was skipped (recover takes it up from the journal).
 */
enum plan_outcome rollback(struct ctx *c, enum step_id from)
{
	bool left = false;

	for (int s = (int)from; s > STEP_PREFLIGHT; s--) {
		struct step_report *sr = &c->rep->steps[s];

		if (!steps[s].undo || sr->result == STEP_NOT_RUN || sr->result == STEP_SKIPPED ||
		    sr->result == STEP_UNDONE || (steps[s].vf_only && !c->p->n_vfs))
			continue;
		if (do_undo(c, (enum step_id)s) < 0)
			left = true;
	}
	if (!left && c->t_vf_left >= 0 && c->p->n_vfs) {
		c->rep->without_vf_ms = now(c) - c->t_vf_left;
		c->rep->vf_restored = true;
		c->t_vf_left = -1;
	}
	return left ? OUTCOME_NEEDS_RECOVER : OUTCOME_ROLLED_BACK;
}

void report_init(struct ctx *c, const struct plan *p, const struct plan_env *env,
		 struct plan_report *rep)
{
	memset(c, 0, sizeof(*c));
	memset(rep, 0, sizeof(*rep));
	c->p = p;
	c->env = env;
	c->rep = rep;
	c->t_start = now(c);
	c->t_vf_left = -1;
	rep->without_vf_ms = -1;
	rep->mode = p->mode;
	rep->n_vfs = p->n_vfs;
	for (size_t i = 0; i < p->n_vfs && i < VFM_VFS_MAX; i++)
		plan_vf_label(p, i, rep->vfs[i].name);
}

void finish(struct ctx *c, enum plan_outcome o)
{
	struct diag jd = {0};

	c->rep->outcome = o;
	if (c->t_vf_left >= 0)
		c->rep->without_vf_ms = now(c) - c->t_vf_left;
	c->rep->total_ms = now(c) - c->t_start;
	if (o != OUTCOME_NEEDS_RECOVER && o != OUTCOME_REFUSED && c->seq > 0)
		jrec(c, JOURNAL_END, STEP_PREFLIGHT, NULL, 0, outcome_names[o], &jd);
}

static int plan_validate(const struct plan *p)
{
	if (!p->guest[0] || p->n_vfs > VFM_VFS_MAX)
		return -EINVAL;
	if ((unsigned)p->mode >= _PLAN_MODE_MAX)
		return -EINVAL;
	for (size_t i = 0; i < p->n_vfs; i++) {
		/* Failover mode has no bond (auto may pick it). */
		if ((!p->vfs[i].bond[0] && p->mode == PLAN_MODE_BOND) ||
		    !p->vfs[i].src_vf.device_id[0])
			return -EINVAL;
		/* Two VFs of one guest are two devices with two MACs. */
		for (size_t j = 0; j < i; j++)
			if (!strcmp(p->vfs[i].src_vf.device_id, p->vfs[j].src_vf.device_id) ||
			    !memcmp(p->vfs[i].vf_mac, p->vfs[j].vf_mac, 6))
				return -EINVAL;
	}
	if (p->n_vfs && p->create_bond &&
	    (p->fail_over_mac == BOND_FOM_UNKNOWN || (unsigned)p->fail_over_mac >= _BOND_FOM_MAX))
		return -EINVAL;
	if (p->dest[0] && !journal_dest_valid(p->dest))
		return -EINVAL;
	return 0;
}

int plan_check(const struct plan *p, const struct plan_env *env, struct plan_report *ret)
{
	struct plan_env e = *env;
	struct ctx c;

	if (plan_validate(p) < 0)
		return -EINVAL;
	e.journal = NULL;
	report_init(&c, p, &e, ret);
	finish(&c, do_step(&c, STEP_PREFLIGHT) < 0 ? OUTCOME_REFUSED : OUTCOME_MIGRATED);
	return 0;
}

/* Runs the steps after the point of no return, from `from` on, per VF: a VF that fails to plug
 * or enslave is left on its backup (degraded), the others go on. */
enum plan_outcome roll_forward(struct ctx *c, enum step_id from)
{
	bool degraded = false;

	for (int s = from; s < _STEP_MAX; s++) {
		interrupt_ignore(c, (enum step_id)s);
		/* release-source failing leaks a host VF, the guest is fine: reported only. */
		do_step(c, (enum step_id)s);
	}
	for (size_t i = 0; i < c->p->n_vfs; i++)
		degraded |= c->vs[i].degraded;
	if (c->p->n_vfs && !degraded && c->t_vf_left >= 0 &&
	    c->rep->steps[STEP_ENSLAVE].result == STEP_OK) {
		c->rep->without_vf_ms = now(c) - c->t_vf_left;
		c->rep->vf_restored = true;
		c->t_vf_left = -1;
	}
	return degraded ? OUTCOME_DEGRADED : OUTCOME_MIGRATED;
}

int plan_run(const struct plan *p, const struct plan_env *env, struct plan_report *ret)
{
	struct diag d = {0};
	struct ctx c;
	int s;

	if (plan_validate(p) < 0)
		return -EINVAL;
	report_init(&c, p, env, ret);
	if (do_step(&c, STEP_PREFLIGHT) < 0) {
		finish(&c, OUTCOME_REFUSED);
		return 0;
	}
	if (jrec(&c, JOURNAL_BEGIN, STEP_PREFLIGHT, p->n_vfs ? &p->vfs[0].src_vf : NULL, 0, NULL,
		 &d) < 0) {
		set_error_code(&c, STEP_PREFLIGHT, -EIO, PLAN_ERR_JOURNAL, &d);
		finish(&c, OUTCOME_REFUSED);
		return 0;
	}
	for (s = STEP_BOND; s <= STEP_MIGRATE; s++) {
		const char *why;

		/* A step with nothing to do is no moment to stop at. */
		if (step_skipped(&c, (enum step_id)s)) {
			ret->steps[s].result = STEP_SKIPPED;
			continue;
		}
		why = interrupt_poll(&c);
		if (why) {
			/* Between two steps: the earliest safe moment. Step s never started. */
			diag_set(&d, "interrupted by %s before this step", why);
			set_error(&c, (enum step_id)s, -EINTR, &d);
			note(&c, (enum step_id)s, "interrupted by %s: rolling back", why);
			finish(&c, rollback(&c, (enum step_id)(s - 1)));
			return 0;
		}
		if (do_step(&c, (enum step_id)s) < 0) {
			finish(&c, rollback(&c, (enum step_id)s));
			return 0;
		}
	}
	ret->passed_ponr = true;
	if (jrec(&c, JOURNAL_PONR, STEP_MIGRATE, NULL, 0, NULL, &d) < 0)
		note(&c, STEP_MIGRATE, "%s", d.msg);
	emit(&c, PLAN_EV_PONR, STEP_MIGRATE, 0, now(&c) - c.t_start, NULL, NULL);
	finish(&c, roll_forward(&c, STEP_PLUG));
	interrupt_ignore(&c, STEP_RELEASE_SOURCE);
	return 0;
}
