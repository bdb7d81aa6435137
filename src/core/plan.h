/* SPDX-License-Identifier: MIT */
/*
 * The migration as a table of steps, each with run and undo, and a point of no return (the
 * migration completed and the guest answered on the destination). Before it a failure undoes
 * what was done, in reverse; after it the run rolls forward (retries, or finishes degraded on
 * virtio). Pure: it calls only the ops of ops.h, never sleeps and never prints.
 */
#ifndef VFM_CORE_PLAN_H
#define VFM_CORE_PLAN_H

#include <stdbool.h>
#include <stdint.h>

#include "../proto/journal.h"
#include "ops.h"

enum step_id {
	STEP_PREFLIGHT = 0, /* changes nothing */
	STEP_BOND,	    /* verify the bond; create it only when asked */
	STEP_RESERVE,	    /* take a VF from the destination's pool */
	STEP_BACKUP_ACTIVE, /* guest: backup (virtio) becomes the active slave */
	STEP_RELEASE_VF,    /* guest: VF leaves the bond */
	STEP_UNPLUG,	    /* source: hot-unplug the VF, wait for its removal */
	/* source: the PF stops claiming the guest's MAC (VFs that do not take a guest MAC) */
	STEP_SOURCE_HANDOFF,
	STEP_MIGRATE, /* migrate, then prove the guest alive on the destination */
	STEP_PLUG,    /* destination: hot-plug the reserved VF (after the point of no return) */
	STEP_ENSLAVE, /* guest: enslave the new VF, wait for link, make it active */
	STEP_RELEASE_SOURCE, /* source: give the old VF back to its pool */
	_STEP_MAX,
};

const char *step_to_string(enum step_id s);
/* -EINVAL when the name is unknown. */
int step_from_string(const char *name, enum step_id *ret);

enum plan_outcome {
	OUTCOME_MIGRATED = 0,  /* on the destination with its VF (or no VF configured) */
	OUTCOME_REFUSED,       /* pre-flight failed, nothing changed */
	OUTCOME_ROLLED_BACK,   /* failed and undone: on the source with its VF */
	OUTCOME_DEGRADED,      /* on the destination, networked through the backup, no VF */
	OUTCOME_NEEDS_RECOVER, /* an undo failed or the state is unknown: run recover */
	OUTCOME_NOTHING_TO_DO, /* recover: the journal was already finished */
	_OUTCOME_MAX,
};

const char *plan_outcome_to_string(enum plan_outcome o);
int plan_outcome_from_string(const char *s, enum plan_outcome *ret);

/* How the VF is taken out of the guest's way: through its bond (vfmigrate-agent/qemu-ga), or
 * by QEMU's failover (failover=on, failover_pair_id) and the guest kernel's net_failover. */
enum plan_mode {
	PLAN_MODE_AUTO = 0, /* pre-flight picks: failover when the VF has a failover_pair_id */
	PLAN_MODE_BOND,
	PLAN_MODE_FAILOVER,
	_PLAN_MODE_MAX,
};

const char *plan_mode_to_string(enum plan_mode m);
int plan_mode_from_string(const char *s, enum plan_mode *ret);

struct plan_timeouts {
	int64_t command_ms;	  /* one hypervisor/agent/pool command */
	int64_t unplug_ms;	  /* VF removal (default 10 s) */
	int64_t unplug_settle_ms; /* after that, how long an in-flight removal may settle */
	int64_t migrate_ms;	  /* the whole migration */
	int64_t alive_ms;	  /* guest agent answering on the destination after migration */
	int64_t link_ms;	  /* VF carrier in the guest */
};

void plan_timeouts_default(struct plan_timeouts *t);

/* One VF of the guest, with the backup NIC it fails over to in its bond. Several VFs may be
 * in one bond (each with its own backup) or each in its own. */
struct plan_vf {
	/* How the operator named it ([vf NAME], a libvirt entry's name); "" for the single VF
	 * of an old config. */
	char name[VFM_ID_MAX];
	char bond[VFM_IFNAME_MAX];
	uint8_t vf_mac[6];
	uint8_t backup_mac[6];
	/* The VF as plugged on the source: re-plugged from this on rollback. */
	struct plug_spec src_vf;
	/* Destination: which pool, and where the new VF goes (bus, device id; the pool fills
	 * the backend). Empty fields are taken from src_vf. */
	char physnet[VFM_ID_MAX];
	int vlan;
	char dst_bus[VFM_ID_MAX];
	char dst_device_id[VFM_ID_MAX];
};

struct plan {
	char guest[VFM_ID_MAX];
	/* Where the guest goes, as the operator named it (libvirt URI, QMP migration URI): only
	 * recorded in the journal's BEGIN so recover finds the destination again. "" = none;
	 * else journal_dest_valid(). */
	char dest[JOURNAL_DEST_MAX];
	/* The VFs, in the order the steps take them (rollback undoes them in reverse). 0: plain
	 * live migration. */
	size_t n_vfs;
	struct plan_vf vfs[VFM_VFS_MAX];
	bool create_bond;
	/* What create_bond builds the bond with; default BOND_FOM_ACTIVE (a VF whose MAC its PF
	 * sets keeps that MAC: only active leaves each slave its own). */
	enum bond_fom fail_over_mac;
	struct migrate_params migrate;
	struct plan_timeouts timeouts;
	unsigned plug_attempts;	   /* after the point of no return; default 2 */
	unsigned enslave_attempts; /* default 2 */
	enum plan_mode mode;	   /* default AUTO */
};

/* The VF's name for the user: its name, else "vfN". */
const char *plan_vf_label(const struct plan *p, size_t i, char buf[VFM_ID_MAX]);

void plan_init(struct plan *p);

struct plan_side {
	const struct hv_ops *hv;
	const struct agent_ops *agent;
	const struct vfpool_ops *vfpool;
};

enum plan_event_kind {
	PLAN_EV_STEP_BEGIN = 0,
	PLAN_EV_STEP_END, /* rc, duration_ms, msg on failure */
	PLAN_EV_UNDO_BEGIN,
	PLAN_EV_UNDO_END,
	PLAN_EV_PROGRESS, /* migration progress (mig) */
	PLAN_EV_NOTE,	  /* msg: something the user should know (a retry, a settle wait) */
	PLAN_EV_PONR,	  /* point of no return passed */
	/* The migration completed: the guest runs on the destination (the point of no return
	 * follows once it answers there). From here an interrupt is ignored. */
	PLAN_EV_SWITCHED,
};

struct plan_event {
	enum plan_event_kind kind;
	enum step_id step;
	int rc;
	int64_t duration_ms;
	const char *msg; /* raw: may contain peer text, sanitize before printing */
	const struct migrate_stats *mig;
};

typedef void (*plan_event_fn)(void *userdata, const struct plan_event *ev);

struct plan_env {
	struct plan_side src, dst;
	const struct clock_ops *clock;
	const struct journal_ops *journal; /* NULL: no journal (check) */
	plan_event_fn event;		   /* may be NULL */
	void *event_userdata;
	/*
	 * May be NULL. Polled between steps and (through hv set_interrupt) while migrating.
	 * Once it says "interrupted", a run before the point of no return stops at the next
	 * safe moment and rolls back as for a failure ("interrupted by <reason>"); after the
	 * switchover the interrupt is ignored and the run finishes on the destination.
	 */
	interrupt_fn interrupted;
	void *interrupted_userdata;
};

enum step_result {
	STEP_NOT_RUN = 0,
	STEP_OK,
	STEP_FAILED,
	STEP_SKIPPED,
	STEP_UNDONE,
	STEP_UNDO_FAILED,
	/* Not undone: an undo it needs first (the step table's undo_needs) failed or was
	 * skipped. Left to recover. */
	STEP_UNDO_SKIPPED,
};

const char *step_result_to_string(enum step_result r);

/* Whether the undo of step s acts in the guest (through its agent) rather than on a host:
 * what a silent guest leaves undone. */
bool step_undo_in_guest(enum step_id s);

struct step_report {
	enum step_result result;
	int64_t duration_ms; /* run time (undo time is not included) */
	int64_t undo_ms;
	int rc;
	/* STEP_UNDO_FAILED: why (raw peer text, sanitize before printing). STEP_UNDO_SKIPPED:
	 * the step whose undo it needed. */
	char undo_error[sizeof(((struct diag *)0)->msg)];
	enum step_id undo_blocked_by;
};

/* The kind of a report's error, for scripts (--json "code"); stable, in vfmigrate(8). */
enum plan_error_code {
	PLAN_ERR_FAILED = 0,   /* any other failure: the message says what */
	PLAN_ERR_REFUSED,      /* pre-flight found problems (see problems) */
	PLAN_ERR_DEAD_ARRIVAL, /* the migration completed, the guest did not answer there */
	PLAN_ERR_INTERRUPTED,  /* SIGINT or SIGTERM */
	PLAN_ERR_TIMEOUT,      /* a peer did not answer within its deadline */
	PLAN_ERR_PEER_GONE,    /* a peer hung up or is not there */
	PLAN_ERR_CANCELLED,    /* the hypervisor cancelled the migration */
	PLAN_ERR_JOURNAL,      /* the journal could not be written or read */
	_PLAN_ERR_MAX,
};

const char *plan_error_code_to_string(enum plan_error_code c);

/* What pre-flight found wrong, one record per problem; the codes are stable (--json). */
enum plan_problem_code {
	PROBLEM_HYPERVISOR = 0,	   /* the hypervisor cannot be reached or probed */
	PROBLEM_GUEST_NOT_RUNNING, /* the source guest is not running */
	PROBLEM_NOT_INCOMING,	   /* the destination does not wait for a migration */
	PROBLEM_AGENT,		   /* the guest agent does not answer */
	PROBLEM_BOND,		   /* the bond cannot be read (or does not exist) */
	PROBLEM_BOND_MODE,	   /* the bond is not active-backup */
	PROBLEM_MAC_MODEL,	   /* no MAC the destination VF could be given works */
	PROBLEM_VF_NOT_SLAVE,	   /* the VF is not in the bond */
	PROBLEM_VF_NOT_ACTIVE,	   /* the VF is not the bond's active slave */
	PROBLEM_BACKUP_NOT_SLAVE,  /* the backup NIC is not in the bond */
	PROBLEM_BACKUP_NO_LINK,	   /* the backup NIC has no carrier */
	PROBLEM_VF_POOL,	   /* the destination VF pool cannot be read */
	PROBLEM_NO_FREE_VF,	   /* the destination VF pool has no free VF */
	PROBLEM_NICS_APART,	   /* NICs that share a MAC cannot be told apart */
	PROBLEM_FAILOVER_PAIR,	   /* failover mode: the VF is no QEMU failover primary */
	PROBLEM_FAILOVER_MASTER,   /* failover mode: the guest's net_failover is not ready */
	PROBLEM_FAILOVER_MULTIVF,  /* auto: some VFs failover primaries, some in bonds */
	PROBLEM_FAILOVER_SOURCE,   /* failover mode: a destination VF cannot take the VF's place */
	_PROBLEM_MAX,
};

const char *plan_problem_code_to_string(enum plan_problem_code c);

enum problem_side {
	PROBLEM_SIDE_SOURCE = 0,
	PROBLEM_SIDE_DESTINATION,
	PROBLEM_SIDE_GUEST, /* the guest itself, through its agent */
	_PROBLEM_SIDE_MAX,
};

const char *problem_side_to_string(enum problem_side s);

#define PLAN_PROBLEMS_MAX 16

struct plan_problem {
	enum plan_problem_code code;
	enum problem_side side;
	int rc;
	/* One problem, as the user reads it; raw peer text, sanitize before printing. */
	char text[sizeof(((struct diag *)0)->msg)];
};

struct plan_vf_report {
	char name[VFM_ID_MAX]; /* plan_vf_label() */
	/* After the point of no return: the VF was not plugged or not enslaved on the
	 * destination, the guest uses its backup NIC there (the run is degraded). */
	bool degraded;
	/* The first step that failed for this VF (has_failed), e.g. the one it is degraded by. */
	bool has_failed;
	enum step_id failed_step;
};

struct plan_report {
	enum plan_outcome outcome;
	enum plan_mode mode; /* what the run used: BOND or FAILOVER (AUTO: not decided yet) */
	struct step_report steps[_STEP_MAX];
	bool has_migration;
	struct migrate_stats migration;
	/* From the backup becoming active to the new VF being active again; when the VF was
	 * not restored, until the end of the run (vf_restored false). -1: the VF never left. */
	int64_t without_vf_ms;
	bool vf_restored;
	int64_t total_ms;
	bool passed_ponr;
	/* The first failure, with its step: the text the user sees. */
	bool has_error;
	enum step_id error_step;
	int error_rc;
	enum plan_error_code error_code;
	char error[sizeof(((struct diag *)0)->msg)];
	/* A later failure worth reporting (an undo or roll-forward failure). Every failed undo
	 * is in its step's report (STEP_UNDO_FAILED, undo_error). */
	bool has_error2;
	enum step_id error2_step;
	enum plan_error_code error2_code;
	char error2[sizeof(((struct diag *)0)->msg)];
	/* Pre-flight's findings (the first one is also the error above); more than
	 * PLAN_PROBLEMS_MAX are counted in n_problems_dropped. */
	struct plan_problem problems[PLAN_PROBLEMS_MAX];
	size_t n_problems, n_problems_dropped;
	/* The operator interrupted the run (reason, e.g. "SIGINT"; empty: not interrupted);
	 * interrupt_ignored: it came after the switchover and the run finished anyway. */
	char interrupted[16];
	bool interrupt_ignored;
	/* The plan's VFs, in its order: what became of each. */
	size_t n_vfs;
	struct plan_vf_report vfs[VFM_VFS_MAX];
};

/* Pre-flight only: changes nothing, journals nothing. OUTCOME_MIGRATED = all checks pass. */
int plan_check(const struct plan *p, const struct plan_env *env, struct plan_report *ret);

/*
 * Runs the whole migration. The journal receives BEGIN before the first side effect and END
 * when the run reached a consistent state (any outcome but NEEDS_RECOVER). Returns 0 and fills
 * *ret whatever the outcome; <0 only for a programming error (bad plan).
 */
int plan_run(const struct plan *p, const struct plan_env *env, struct plan_report *ret);

/* What a journal says about an interrupted run. */
struct journal_summary {
	bool valid;
	bool finished;			/* an END record */
	char outcome[JOURNAL_NAME_MAX]; /* of the END record */
	bool passed_ponr;
	enum step_id last_step; /* last step with a record */
	unsigned last_vf;	/* the VF of that record (0: the first, or a step of no VF) */
	enum journal_kind last_kind;
	/* Per step: last record kind for it, or -1. */
	int step_state[_STEP_MAX];
	bool has_dst_spec;
	struct plug_spec dst_spec;
	/* The same per VF (the record's "vf"; the above are VF 0's): last record kind per step
	 * or -1, and the destination VF it reserved. */
	int vf_step_state[VFM_VFS_MAX][_STEP_MAX];
	bool vf_has_dst_spec[VFM_VFS_MAX];
	struct plug_spec vf_dst_spec[VFM_VFS_MAX];
	/* The source's migration tuning before the migration changed it (INTENT of migrate). */
	bool has_tuning;
	struct migrate_tuning tuning;
	uint32_t last_seq;
	/* From BEGIN. */
	struct journal_record begin;
};

int journal_summarize(const struct journal_record *recs, size_t n, struct journal_summary *ret,
		      struct diag *d);

/*
 * Brings the guest of an unfinished journal to a consistent state: before the point of no
 * return every step that may have had an effect is undone (idempotently, checking the live
 * state first); after it the remaining steps run. Appends to the journal through env->journal
 * (records numbered after the last one). p gives endpoints-independent settings (timeouts,
 * destination bus); the facts recorded in the journal (MACs, bond, VFs) take precedence.
 */
int plan_recover(const struct plan *p, const struct plan_env *env,
		 const struct journal_record *recs, size_t n, struct plan_report *ret);

#endif
