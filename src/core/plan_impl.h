/* SPDX-License-Identifier: MIT */
/*
 * What the runner (plan.c), the steps (steps.c) and recover (recover.c) share: the context of
 * one run and the helpers over it. Private to src/core.
 */
#ifndef VFM_CORE_PLAN_IMPL_H
#define VFM_CORE_PLAN_IMPL_H

#include "plan.h"

/* What one run knows about one of its VFs. */
struct vf_state {
	bool has_dst_spec;
	struct plug_spec dst_spec;
	/* The MAC the destination VF is given (reserve, plug, enslave): vf-mac, or the bond's
	 * own MAC when the destination's VFs cannot take one from the guest and the bond's
	 * fail_over_mac gives every slave (none) or the active one (follow) its MAC. Set by
	 * pre-flight, confirmed by the bond step, recorded in BEGIN for recover. */
	bool has_dst_mac;
	uint8_t dst_mac[6];
	/* The removal of the source VF did not settle: its state is unknown, stop undoing. */
	bool unplug_unsettled;
	/* Per step (STEP_BIT): run for this VF, successfully or not (what an undo must look at),
	 * and undone for it. */
	unsigned touched, done, undone;
	/* Per step: recover found only its intent in the journal (a run killed inside it: what
	 * it asked for, e.g. a device removal, may still be under way). */
	unsigned in_flight;
	/* Per step: its undo failed or was skipped for this VF (what later undos may need). */
	unsigned undo_bad;
	/* After the point of no return: plug or enslave failed, the VF stays off. */
	bool degraded;
	/* Failover mode: the VF's failover_pair_id (its virtio-net NIC's id), read in pre-flight
	 * (or from the journal): the destination VF is plugged with it. */
	char failover_pair[VFM_ID_MAX];
};

struct ctx {
	const struct plan *p;
	const struct plan_env *env;
	struct plan_report *rep;
	uint32_t seq;
	bool journal_broken;
	/* The VF a per-VF step acts on now (cv(), cs()). */
	size_t cur;
	struct vf_state vs[VFM_VFS_MAX];
	/* run_migrate: the migration completed and the guest did not answer on the destination. */
	bool dead_arrival;
	int64_t t_start;
	int64_t t_vf_left; /* -1: the VF still carries the traffic */
	bool recovering;   /* plan_recover: the live state may be anything */
	/* The source's migration tuning before run_migrate changed it: a rollback restores it. */
	bool has_prev_tuning;
	struct migrate_tuning prev_tuning;
	/* Failover mode: the source guest was resumed while QEMU still held an unplug request
	 * for the primary it never acted on (paused in wait-unplug), and the hypervisor watches
	 * for the primary's removal: the guest may eject it once it runs (failover.c). */
	bool fo_eject_watch;
};

/* Whether the run goes through QEMU's failover (the mode pre-flight picked or the journal
 * recorded), not through a bond. */
static inline bool plan_failover(const struct ctx *c)
{
	return c->rep->mode == PLAN_MODE_FAILOVER;
}

#define STEP_BIT(s) (1u << (s))

static inline const struct plan_vf *cv(const struct ctx *c)
{
	return &c->p->vfs[c->cur];
}

static inline struct vf_state *cs(struct ctx *c)
{
	return &c->vs[c->cur];
}

static inline const struct vf_state *ccs(const struct ctx *c)
{
	return &c->vs[c->cur];
}

static inline int64_t now(struct ctx *c)
{
	return c->env->clock->now_ms(c->env->clock->userdata);
}

static inline int64_t wall(struct ctx *c)
{
	const struct clock_ops *k = c->env->clock;

	return k->wall_ms ? k->wall_ms(k->userdata) : 0;
}

static inline int64_t dl(struct ctx *c, int64_t ms)
{
	return now(c) + ms;
}

static inline int64_t cmd_dl(struct ctx *c)
{
	return dl(c, c->p->timeouts.command_ms);
}

/* plan.c: events, errors and the journal of a run. */
void emit(struct ctx *c, enum plan_event_kind kind, enum step_id step, int rc, int64_t duration_ms,
	  const char *msg, const struct migrate_stats *mig);
void set_error_code(struct ctx *c, enum step_id step, int rc, enum plan_error_code code,
		    const struct diag *d);
const char *interrupt_poll(struct ctx *c);
int jappend(struct ctx *c, struct journal_record *r, struct diag *d);
enum plan_outcome rollback(struct ctx *c, enum step_id from);
void report_init(struct ctx *c, const struct plan *p, const struct plan_env *env,
		 struct plan_report *rep);
void finish(struct ctx *c, enum plan_outcome o);
enum plan_outcome roll_forward(struct ctx *c, enum step_id from);
void note(struct ctx *c, enum step_id step, const char *fmt, ...) _printf_(3, 4);

/* steps.c: what the steps and pre-flight share. An agent call's result; a failure names the
 * side whose guest agent it was. */
int agent_rc(const struct ctx *c, const struct agent_ops *a, int rc, struct diag *d);
struct nic_sel nic_sel_of(const struct ctx *c, const uint8_t mac[6], enum nic_kind kind);
const struct bond_slave *bond_find(const struct bond_status *b, const struct nic_sel *sel);
int bond_nics_apart(const struct ctx *c, const struct bond_status *b, struct diag *d);
int dst_mac_model(const struct ctx *c, const struct bond_status *b, uint8_t ret_mac[6],
		  struct diag *d);

/* preflight.c, steps.c: each step's run and undo (see the step table in plan.c). */
int run_preflight(struct ctx *c, struct diag *d);
int run_bond(struct ctx *c, struct diag *d);
int run_reserve(struct ctx *c, struct diag *d);
int undo_reserve(struct ctx *c, struct diag *d);
int run_backup_active(struct ctx *c, struct diag *d);
int undo_backup_active(struct ctx *c, struct diag *d);
int run_release_vf(struct ctx *c, struct diag *d);
int undo_release_vf(struct ctx *c, struct diag *d);
int run_unplug(struct ctx *c, struct diag *d);
int undo_unplug(struct ctx *c, struct diag *d);
bool source_handoff_wanted(const struct ctx *c);
int run_source_handoff(struct ctx *c, struct diag *d);
int undo_source_handoff(struct ctx *c, struct diag *d);
int run_migrate(struct ctx *c, struct diag *d);
int undo_migrate(struct ctx *c, struct diag *d);
int run_plug(struct ctx *c, struct diag *d);
int run_enslave(struct ctx *c, struct diag *d);
int run_release_source(struct ctx *c, struct diag *d);
int ensure_source_running(struct ctx *c, struct diag *d);

/* preflight.c: pre-flight's checks of the hypervisors and of the destination's pool (every
 * VF's network), shared by the modes: each records its problems and returns the first one's
 * rc (0: none). */
int preflight_hosts(struct ctx *c);
int preflight_pool(struct ctx *c);
/* Records one pre-flight problem in the report. */
void problem(struct ctx *c, enum plan_problem_code code, enum problem_side side, int rc,
	     const char *fmt, ...) _printf_(5, 6);

/* failover.c: failover mode's own steps (the step table's fo_run/fo_undo). */
int run_preflight_pick(struct ctx *c, struct diag *d);
int run_failover_reserve(struct ctx *c, struct diag *d);
int failover_wait_unplug(struct ctx *c, struct diag *d);
int undo_failover_migrate(struct ctx *c, struct diag *d);
int run_failover_primary(struct ctx *c, struct diag *d);

#endif
