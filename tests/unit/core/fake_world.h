/* SPDX-License-Identifier: MIT */
/*
 * A fake world for the core's unit tests: two hypervisors, one guest with a bond, two VF pools,
 * a clock that only moves when an operation "takes time", and a journal in memory. It models
 * the facts the core relies on (a VF must be unplugged before migrating, an unplugged VF leaves
 * the bond, the agent answers only where the guest runs) so a wrong order fails visibly.
 */
#ifndef FAKE_WORLD_H
#define FAKE_WORLD_H

#include <setjmp.h>

#include "core/plan.h"

enum fake_side {
	FAKE_SRC = 0,
	FAKE_DST = 1
};

enum fake_unplug {
	FAKE_UNPLUG_OK = 0,  /* removed at once */
	FAKE_UNPLUG_SLOW,    /* in flight at the first deadline, removed while settling */
	FAKE_UNPLUG_STUCK,   /* never settles */
	FAKE_UNPLUG_REFUSED, /* the guest refuses (-EBUSY) */
};

enum fake_nic {
	FAKE_NIC_VF = 0,
	FAKE_NIC_BACKUP = 1
};

struct fake_world;
struct fake_ud {
	struct fake_world *w;
	int side;
};

struct fake_world {
	int64_t now;
	/* hypervisors */
	bool running[2];
	bool gone[2]; /* QEMU quit */
	bool dst_incoming;
	bool vf_present[2];		 /* the VF device on that side */
	bool migrated;			 /* guest state now lives on the destination */
	bool dst_dead;			 /* guest arrives dead on the destination */
	struct migrate_tuning tuning[2]; /* each QEMU's migration parameters */
	enum fake_unplug unplug_mode;
	int unplug_waits;
	/* guest */
	bool bond_exists;
	enum bond_fom created_fom; /* what bond_create was asked for */
	/* The bond's fail_over_mac and own MAC as the agent reports them (default: none on the
	 * backup's MAC, as the lab's guest). */
	enum bond_fom fom;
	bool has_bond_mac;
	uint8_t bond_mac[6];
	/* The permanent MAC of the VF NIC each side plugged (the source's is vf-mac; the
	 * destination's is what its plug spec said). A VF of a pool that does not take a guest
	 * MAC (pool[side].vf_takes_guest_mac false) keeps it: on the destination the bond can
	 * only enslave it (none) or make it active (follow) when it already is the bond's MAC,
	 * as the kernel with an untrusted VF. */
	uint8_t vf_nic_mac[2][6];
	/* What the destination was asked for: reserve's MAC, the plug spec's, the last enslave
	 * through the destination's agent. */
	uint8_t reserve_mac[6], plug_mac[6], enslave_mac[6];
	/* The guest's bond takes this MAC just as the bond step begins (after pre-flight). */
	bool bond_mac_moves;
	uint8_t bond_mac_later[6];
	bool slave[2]; /* FAKE_NIC_VF, FAKE_NIC_BACKUP */
	/* An agent older than NIC selectors: reports no kind for its NICs and refuses a
	 * selector with one (-EOPNOTSUPP, as agent_vfm maps it). */
	bool old_agent;
	/* The source VF's MAC as the guest was set up (vf-mac before any config change). */
	uint8_t guest_vf_mac[6];
	/* The VF's kind as the agent reports it (default NIC_KIND_VF; the backup is virtio). */
	enum nic_kind vf_kind;
	bool has_active;
	int active;
	bool backup_link;
	/* The guest agent stops answering (every call waits until its deadline, then times out,
	 * doing nothing) from the moment the run begins step stall_step (-1: never), or while
	 * agent_stalled is set. */
	int stall_step;
	bool agent_stalled;
	/* pools */
	/* The source VF's PF still claims the guest's MAC for it (its handoff has not cleared
	 * it, or gave it back). A source VF of a pool that does not take a guest MAC, plugged
	 * while not, comes up with a random MAC. */
	bool src_pf_mac;
	unsigned dst_free;
	bool dst_reserved;
	bool src_released;
	/* injection: fail the op whose name contains fail_op during the run of fail_step */
	int fail_step; /* -1: none */
	const char *fail_op;
	int fail_rc;
	int fail_times;	      /* how many calls fail (default 1000: all) */
	const char *fail_msg; /* the failure's text (NULL: "injected failure in OP") */
	int cur_step;
	bool in_undo;
	/* operator interrupt: raised when an op whose name contains intr_op runs during the run
	 * of intr_step (intr_op NULL: when intr_step begins); env.interrupted then says intr_sig */
	int intr_step; /* -1: none */
	const char *intr_op;
	const char *intr_sig;
	bool intr_raised;
	unsigned intr_polls;
	interrupt_fn hv_intr[2]; /* what set_interrupt installed on each hypervisor */
	void *hv_intr_ud[2];
	bool cancel_too_late; /* the migration completes as the interrupt is noticed */
	/* crash: longjmp out when journal record number crash_at is about to be written */
	uint32_t crash_at;
	/* crash: longjmp out when this op ("src.hv.unplug_wait") is entered, outside undo */
	const char *crash_op;
	uint32_t journal_fail_at; /* append of this seq fails with -EIO */
	jmp_buf crash_jmp;
	/* records */
	struct journal_record journal[JOURNAL_RECORDS_MAX];
	size_t n_journal;
	char log[8192]; /* "op;op;..." of every mutating call and every step event */
	char notes[4096];
	unsigned progress_events;

	/* failover (fake_failover.c) */
	bool failover;		       /* the VF is a failover primary */
	bool fo_hidden;		       /* QEMU unplugged it for a migration (hidden, not deleted) */
	bool fo_paused;		       /* the guest never releases the primary (paused) */
	bool fo_no_primary;	       /* the primary never becomes active on the destination */
	bool fo_pause_at_migrate;      /* the guest is paused as the migration starts */
	bool fo_cancelling;	       /* a cancel waits for the unplug QEMU requested */
	char fo_plug_pair[VFM_ID_MAX]; /* failover_pair_id of the last plug on the destination */
	struct migrate_params fo_migrate; /* what the last migrate_start was given */
	/* libvirt: a resume waits for the migration job, so QEMU's own 30 s end the cancel and
	 * the resumed guest still has the unplug request pending (it ejects the primary). */
	bool fo_resume_waits_job;
	bool fo_eject_pending;
	bool fo_watching;		   /* removal_watch armed */
	char fo_src_plug_pair[VFM_ID_MAX]; /* failover_pair_id of the last plug on the source */
	struct hv_ops fo_orig[2];	   /* the plain fakes the failover ones wrap */
	struct hv_ops hv[2];
	struct agent_ops agent[2];
	struct vfpool_ops pool[2];
	struct clock_ops clock;
	struct journal_ops jops;
	struct plan_env env;
	struct plan plan;
	struct fake_ud ud[2];
};

/* The guest's vf-mac and backup-mac. */
extern const uint8_t fake_vf_mac[6], fake_bk_mac[6];

/* A world where everything is ready for a migration with a VF. */
void fake_world_init(struct fake_world *w);

/* net_failover's layout: the guest's VF carries the virtio NIC's MAC (vf-mac = backup-mac),
 * and so does the bond. */
void fake_world_share_mac(struct fake_world *w);

/* Guest consistent on the source with its VF active (a real source VF with its MAC on the PF
 * again) / on the destination with its VF (the source's PF no longer claiming the MAC). */
bool fake_on_source_with_vf(const struct fake_world *w);
bool fake_on_destination_with_vf(const struct fake_world *w);

/* An op's entry (10 ms, failure injection; the agent's: only where the guest runs), for fakes
 * in other files. */
int fake_enter(void *ud, const char *op, struct diag *d);
int fake_agent_enter(void *ud, const char *op, int64_t deadline, struct diag *d);

/* fake_failover.c: the guest is a QEMU failover pair (virtio-net failover=on, the VF its primary
 * with failover_pair_id "net0", one MAC) under the kernel's net_failover; no bond. The plan
 * asks for mode AUTO. */
void fake_world_failover(struct fake_world *w);
/* Appends rec to recs (n of them so far, room for JOURNAL_RECORDS_MAX) as the journal file
 * would: encoded, then decoded back. */
int fake_journal_put(struct journal_record *recs, size_t *n, const struct journal_record *rec,
		     struct diag *d);

/* Whether the log contains these entries in this order (";"-separated, not contiguous). */
bool fake_log_has_in_order(const struct fake_world *w, const char *seq);

#endif
