/* SPDX-License-Identifier: MIT */
/*
 * The interfaces the migration core calls. Each is a struct of function pointers plus a
 * userdata pointer handed back as the first argument; a real adapter lives in src/io/, a fake
 * in tests/unit/core/. The core includes no socket header and never sleeps: it calls these.
 *
 * Common contract for every operation below:
 *  - returns >= 0 on success, -errno on failure; on failure `d` (may be NULL) holds text for
 *    the user. Text that came from the hypervisor or the guest (a QMP "desc", an agent error)
 *    is put into `d` verbatim (the CLI sanitizes it before printing); the core adds the step.
 *  - `deadline_ms` is an absolute time on the monotonic clock (time_now_ms() in the real
 *    world, clock_ops in tests). An operation that cannot finish by then returns -ETIMEDOUT.
 *    Every operation takes one, because every one may wait on a peer.
 *  - out-parameters `ret_*` are written only on success.
 *
 * The data these take and return (struct plug_spec, migrate_*, bond_status, the VFM_*_MAX
 * limits) is the data model in model/vfm.h; this header holds only the interfaces.
 */
#ifndef VFM_CORE_OPS_H
#define VFM_CORE_OPS_H

#include <stdbool.h>
#include <stdint.h>

#include "../model/vfm.h"
#include "../util/util.h"

/* ------------------------------------------------------------------------------------------ */
/* Hypervisor, one instance per host side. Real: hv_qmp (bare QEMU), later hv_libvirt.        */

/* Called from migrate_wait() whenever new progress is known (at most a few times a second). */
typedef void (*migrate_progress_fn)(void *cb_userdata, const struct migrate_stats *progress);

/* Whether the operator asked the run to stop: NULL while not, else a short reason for the
 * user ("SIGINT"). Must be cheap and safe to call often (it reads a flag). */
typedef const char *(*interrupt_fn)(void *userdata);

struct hv_ops {
	void *userdata;

	/* Is it there and answering; its run state; is it waiting for an incoming migration. */
	int (*probe)(void *ud, int64_t deadline_ms, struct hv_probe *ret_probe, struct diag *d);

	/* Whether a device with this id is currently present in the guest (0 + *ret_present). */
	int (*device_present)(void *ud, const char *device_id, int64_t deadline_ms,
			      bool *ret_present, struct diag *d);

	/*
	 * Asks for the removal of spec->device_id (QMP device_del); returns once the request is
	 * accepted, not when the device is gone. The other fields of spec are hints (netdev_id:
	 * the backend to remove once the device is gone).
	 */
	int (*unplug_start)(void *ud, const struct plug_spec *spec, int64_t deadline_ms,
			    struct diag *d);
	/*
	 * Waits for the removal started by unplug_start, on events, until deadline_ms.
	 *   0           the device is gone (and its TAP backend removed, if any)
	 *   -ETIMEDOUT  deadline reached, removal still in flight: the device may still go away.
	 *               The core calls unplug_wait again with a later deadline to let it settle.
	 *   -EBUSY      the guest or hypervisor refused/failed the removal (e.g. QMP
	 *               DEVICE_UNPLUG_GUEST_ERROR); the device is still present. d says why.
	 *   other <0    could not tell (lost connection, ...); the core asks device_present.
	 */
	int (*unplug_wait)(void *ud, const struct plug_spec *spec, int64_t deadline_ms,
			   struct diag *d);

	/* Hot-plugs a device (TAP: netdev_add then device_add); returns when QEMU accepted it. */
	int (*plug)(void *ud, const struct plug_spec *spec, int64_t deadline_ms, struct diag *d);

	/* Destination started with -incoming defer: start listening (QMP migrate-incoming). */
	int (*migrate_incoming)(void *ud, const struct migrate_params *p, int64_t deadline_ms,
				struct diag *d);
	/*
	 * Optional (both NULL for a hypervisor that takes the tuning per migration, as libvirt
	 * does). tuning_get: the source's current max-bandwidth and downtime-limit, read before
	 * migrate_start changes them, so that a rollback (also `recover` in another process:
	 * the core journals them) can give them back with tuning_set (fields at -1 untouched).
	 */
	int (*tuning_get)(void *ud, struct migrate_tuning *ret, int64_t deadline_ms,
			  struct diag *d);
	int (*tuning_set)(void *ud, const struct migrate_tuning *t, int64_t deadline_ms,
			  struct diag *d);
	/* Source: sets the parameters (0 = unchanged) and starts the migration; returns when
	 * the hypervisor accepted the command. */
	int (*migrate_start)(void *ud, const struct migrate_params *p, int64_t deadline_ms,
			     struct diag *d);
	/*
	 * Source: waits for the migration to end, calling progress (may be NULL) as it runs.
	 * 0 = "completed" (ret_stats final: total, downtime, bytes; an adapter re-polls while
	 * QEMU still reports total 0 right after completion). -ETIMEDOUT = still running at the
	 * deadline (the core then calls migrate_cancel). Other <0 = failed/cancelled, d holds the
	 * hypervisor's error text; ret_stats is not written on failure.
	 */
	int (*migrate_wait)(void *ud, int64_t deadline_ms, migrate_progress_fn progress,
			    void *cb_userdata, struct migrate_stats *ret_stats, struct diag *d);
	/* Source: cancels a running migration and waits until the source runs again. */
	int (*migrate_cancel)(void *ud, int64_t deadline_ms, struct diag *d);

	int (*stop)(void *ud, int64_t deadline_ms, struct diag *d); /* pause vCPUs */
	int (*cont)(void *ud, int64_t deadline_ms, struct diag *d); /* resume vCPUs */
	/* Ends this hypervisor's guest (QMP quit). Used on the destination when the guest
	 * arrived dead, so the source may resume. Returns once the process is going away. */
	int (*quit)(void *ud, int64_t deadline_ms, struct diag *d);
	/* Optional (NULL allowed): self-announce of the guest's NICs after migration. */
	int (*announce)(void *ud, int64_t deadline_ms, struct diag *d);
	/*
	 * Optional (NULL allowed). From now on migrate_wait also returns -EINTR (d says by what;
	 * ret_stats not written) when interrupted(intr_userdata) returns non-NULL while the
	 * migration still runs, checked at least once per progress interval; a final state seen
	 * at the same time wins. The migration keeps running: the caller cancels it.
	 * interrupted NULL switches this off again.
	 */
	void (*set_interrupt)(void *ud, interrupt_fn interrupted, void *intr_userdata);

	/*
	 * QEMU failover (both optional, NULL: the hypervisor has none). failover_pair: the
	 * failover_pair_id of device_id into ret ("" when it has none); -ENOENT when no such
	 * device. migrate_wait_unplug: source, after migrate_start: waits until the migration
	 * left QEMU's wait-unplug (the guest released the failover primary); 0 then (the
	 * migration runs, or already ended: migrate_wait says how), -ETIMEDOUT still waiting at
	 * the deadline, -EINTR interrupted as set_interrupt says (in both cases the migration is
	 * not cancelled: the caller does that).
	 */
	int (*failover_pair)(void *ud, const char *device_id, int64_t deadline_ms,
			     char ret[VFM_ID_MAX], struct diag *d);
	int (*migrate_wait_unplug)(void *ud, int64_t deadline_ms, struct diag *d);
	/*
	 * Optional. From now on unplug_wait(device_id) also ends when the guest removes
	 * device_id by itself (no unplug_start): a failover primary whose unplug request QEMU
	 * still holds after a cancelled migration (a guest paused in wait-unplug ejects it once
	 * it runs again). Without it the core cannot see such a late eject.
	 */
	int (*removal_watch)(void *ud, const char *device_id, struct diag *d);
	/* Optional: one self-announce (RARP) out of NIC nic_id now, so the network learns the
	 * guest's MAC there (the failover standby, once the guest let the primary go). */
	int (*announce_nic)(void *ud, const char *nic_id, int64_t deadline_ms, struct diag *d);
};

/* ------------------------------------------------------------------------------------------ */
/* Guest agent (vfmigrate-agent), reached through one host side's channel. NICs by MAC.       */

/*
 * link_timeout_ms arguments are relative (the guest has its own clock); the agent waits that
 * long for carrier. deadline_ms bounds the whole call on the host, so callers pass a deadline
 * later than now + link_timeout_ms.
 */
struct agent_ops {
	void *userdata;

	int (*ping)(void *ud, int64_t deadline_ms, struct diag *d);
	/* -ENOENT (with d) when the bond does not exist. */
	int (*bond_status)(void *ud, const char *bond, int64_t deadline_ms,
			   struct bond_status *ret_status, struct diag *d);
	/* Creates an active-backup bond at this fail_over_mac (not BOND_FOM_UNKNOWN) enslaving
	 * backup_mac first and, when vf_mac is not NULL, the VF as primary and active. */
	int (*bond_create)(void *ud, const char *bond, const uint8_t backup_mac[6],
			   const uint8_t *vf_mac, enum bond_fom fail_over_mac, int64_t deadline_ms,
			   struct diag *d);
	/*
	 * The NIC arguments below name one NIC (struct nic_sel). A selector with a kind or PCI
	 * address to a guest agent that cannot select by them fails with -EOPNOTSUPP (d says
	 * so); a selector with the MAC alone works with every agent.
	 */
	/* Makes the slave nic the active one; make_primary also sets it primary (and
	 * !make_primary clears a primary that would pull the bond back elsewhere). */
	int (*set_active)(void *ud, const char *bond, const struct nic_sel *nic, bool make_primary,
			  int64_t deadline_ms, struct diag *d);
	/* Removes nic from the bond (the NIC itself stays). */
	int (*release)(void *ud, const char *bond, const struct nic_sel *nic, int64_t deadline_ms,
		       struct diag *d);
	/* Waits up to link_timeout_ms for nic to appear (a VF just hot-plugged), enslaves it,
	 * waits (same budget) for its carrier, then (if make_active) makes it active and
	 * primary. -ENODEV: no such NIC; -ETIMEDOUT: no NIC or no carrier in time (an enslaved
	 * NIC stays enslaved). */
	int (*enslave)(void *ud, const char *bond, const struct nic_sel *nic,
		       int64_t link_timeout_ms, bool make_active, int64_t deadline_ms,
		       struct diag *d);
	/* Waits up to link_timeout_ms for carrier on nic. */
	int (*link_wait)(void *ud, const struct nic_sel *nic, int64_t link_timeout_ms,
			 int64_t deadline_ms, struct diag *d);
	/*
	 * Optional (NULL: the agent cannot tell). The guest's net_failover master whose standby
	 * (virtio) NIC carries mac. primary_wait_ms > 0: waits up to that long (guest time) for
	 * the master to send on its primary (-ETIMEDOUT, d says what it saw); 0: reports at once.
	 * -ENOENT: no failover master on that MAC.
	 */
	int (*failover_status)(void *ud, const uint8_t mac[6], int64_t primary_wait_ms,
			       int64_t deadline_ms, struct failover_status *ret, struct diag *d);
};

/* ------------------------------------------------------------------------------------------ */
/* VF provider, one per host. Real: vfpool_emul (lab: taps), later sysfs/vfio, libvirt.       */

struct vfpool_ops {
	void *userdata;
	/*
	 * Whether this pool's VFs take a MAC from inside the guest (an emulated NIC). false for
	 * real VFs whose MAC the PF sets: unless the host made the VF trusted, the PF refuses
	 * any other MAC the guest asks for. Then the core gives a destination VF the only MAC
	 * the guest's bond can make it carry, refuses in pre-flight what could only fail after
	 * the point of no return, and has the source VF's MAC cleared on the PF right after the
	 * VF is unplugged. When a pool could hand out either kind, false.
	 */
	bool vf_takes_guest_mac;

	/* Pre-flight, changing nothing: how many VFs could be reserved on physnet now. A pool
	 * may fail with -ENOSPC and say why in d instead of returning 0. */
	int (*probe)(void *ud, const char *physnet, int64_t deadline_ms, unsigned *ret_free,
		     struct diag *d);
	/*
	 * Takes a free VF for a guest NIC with this MAC (vlan -1 = none) and describes how to plug
	 * it. device_id_hint (may be NULL/empty) is the device id the caller wants in the spec.
	 * -ENOSPC when none is free.
	 */
	int (*reserve)(void *ud, const char *physnet, const uint8_t mac[6], int vlan,
		       const char *device_id_hint, int64_t deadline_ms, struct plug_spec *ret_spec,
		       struct diag *d);
	/* Gives a VF back to the pool (after it was unplugged, or never plugged). An empty
	 * spec->backend means "whatever is reserved for spec->mac" (recover after a crash between
	 * reserve and its journal record): 0 when nothing is. Releasing twice is not an error. */
	int (*release)(void *ud, const struct plug_spec *spec, int64_t deadline_ms, struct diag *d);
	/* Host-side MAC/VLAN of the VF: incoming=true sets spec->mac/vlan (destination),
	 * incoming=false clears them (source, after the guest left). No-op for emulated VFs. */
	int (*handoff)(void *ud, const struct plug_spec *spec, bool incoming, int64_t deadline_ms,
		       struct diag *d);
	/*
	 * Failover mode's pre-flight (optional, NULL: any VF will do): whether every VF this pool
	 * may give for the guest's VF src (its device_id, driver) can take its place in the
	 * failover pair. -EINVAL saying why when one cannot: the run would fail once the VF is
	 * gone (libvirt keeps the VF's interface in the destination's definition, changing only
	 * its source, and refuses a source of another kind).
	 */
	int (*failover_fits)(void *ud, const struct plug_spec *src, struct diag *d);
};

/* ------------------------------------------------------------------------------------------ */
/* Clock and journal sink, injected so unit tests run in zero real time.                      */

struct clock_ops {
	void *userdata;
	int64_t (*now_ms)(void *ud);  /* monotonic, the clock deadlines are measured on */
	int64_t (*wall_ms)(void *ud); /* wall clock, for journal and report timestamps */
};

struct journal_record; /* src/proto/journal.h */

struct journal_ops {
	void *userdata;
	/* Appends one record and makes it durable (write + fsync) before returning. */
	int (*append)(void *ud, const struct journal_record *rec, struct diag *d);
};

#endif
