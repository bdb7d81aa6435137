// SPDX-License-Identifier: MIT
/*
 * The fake world's QEMU failover: the VF is the hidden primary of virtio NIC "net0". At
 * migrate_start QEMU asks the guest to unplug it (hidden, not deleted: still a device of the
 * source) and waits in wait-unplug until the guest lets it go; a cancelled or failed migration
 * makes QEMU plug it back. In the guest, net_failover's master sends on the primary while it
 * is there and has carrier, else on the standby (the fake's bond fields stand for the master).
 */
#include "fake_world.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define W(ud)	 (((struct fake_ud *)(ud))->w)
#define SIDE(ud) (((struct fake_ud *)(ud))->side)

static void log_add(struct fake_world *w, const char *entry)
{
	size_t l = strlen(w->log);

	if (l + strlen(entry) + 2 > sizeof(w->log))
		return;
	snprintf(w->log + l, sizeof(w->log) - l, "%s;", entry);
}

static int fo_pair(void *ud, const char *device_id, int64_t deadline, char ret[VFM_ID_MAX],
		   struct diag *d)
{
	struct fake_world *w = W(ud);
	int rc = fake_enter(ud, "hv.failover_pair", d);

	(void)deadline;
	if (rc < 0)
		return rc;
	if (strcmp(device_id, "vf0") != 0 || (!w->vf_present[SIDE(ud)] && !w->fo_hidden)) {
		diag_set(d, "Device '%s' not found", device_id);
		return -ENOENT;
	}
	snprintf(ret, VFM_ID_MAX, "%s", w->failover ? "net0" : "");
	return 0;
}

/* The guest lets the primary go: the master sends on the standby. */
static void primary_left(struct fake_world *w)
{
	w->slave[FAKE_NIC_VF] = false;
	w->active = FAKE_NIC_BACKUP;
}

static int fo_migrate_start(void *ud, const struct migrate_params *p, int64_t deadline,
			    struct diag *d)
{
	struct fake_world *w = W(ud);

	w->fo_migrate = *p;
	if (w->failover && w->vf_present[FAKE_SRC]) {
		/* QEMU asks the guest to unplug the primary first. */
		log_add(w, "src.unplug_primary");
		w->vf_present[FAKE_SRC] = false;
		w->fo_hidden = true;
	}
	if (w->fo_pause_at_migrate) {
		/* The operator paused the guest just before (after pre-flight). */
		w->running[FAKE_SRC] = false;
		w->fo_paused = true;
	}
	return w->fo_orig[FAKE_SRC].migrate_start(ud, p, deadline, d);
}

static int fo_wait_unplug(void *ud, int64_t deadline, struct diag *d)
{
	struct fake_world *w = W(ud);
	int rc = fake_enter(ud, "hv.wait_unplug", d);

	if (rc < 0)
		return rc;
	if (w->fo_paused && w->hv_intr[SIDE(ud)] && w->hv_intr[SIDE(ud)](w->hv_intr_ud[SIDE(ud)])) {
		/* The operator's Ctrl-C, seen at the next slice. */
		w->now += 250;
		diag_set(d, "interrupted in wait-unplug");
		return -EINTR;
	}
	if (w->fo_paused) {
		w->now = deadline;
		diag_set(d, "migration still in wait-unplug at the deadline");
		return -ETIMEDOUT;
	}
	w->now += 250;
	primary_left(w);
	log_add(w, "src.primary_released");
	return 0;
}

static int fo_announce_nic(void *ud, const char *nic_id, int64_t deadline, struct diag *d)
{
	char e[64];
	int rc = fake_enter(ud, "hv.announce_nic", d);

	(void)deadline;
	if (rc < 0)
		return rc;
	snprintf(e, sizeof(e), "%s.announce(%s)", SIDE(ud) ? "dst" : "src", nic_id);
	log_add(W(ud), e);
	return 0;
}

/* QEMU plugs back a primary it hid when the migration does not complete. */
static void replug_if_hidden(struct fake_world *w)
{
	if (!w->fo_hidden || w->migrated)
		return;
	w->fo_hidden = false;
	w->vf_present[FAKE_SRC] = true;
	log_add(w, "src.replug_primary");
}

/* QEMU cancels a wait-unplug only once the guest did the unplug (or after 30 s). */
static int fo_migrate_cancel(void *ud, int64_t deadline, struct diag *d)
{
	struct fake_world *w = W(ud);
	int rc;

	if (w->fo_hidden && w->fo_paused && !w->running[FAKE_SRC]) {
		log_add(w, "src.cancelling");
		w->fo_cancelling = true;
		w->now = deadline;
		diag_set(d, "migration still cancelling at the deadline");
		return -ETIMEDOUT;
	}
	rc = w->fo_orig[FAKE_SRC].migrate_cancel(ud, deadline, d);
	if (rc >= 0) {
		w->fo_cancelling = false;
		replug_if_hidden(w);
	}
	return rc;
}

static int fo_cont(void *ud, int64_t deadline, struct diag *d)
{
	struct fake_world *w = W(ud);
	int rc = w->fo_orig[SIDE(ud)].cont(ud, deadline, d);

	if (rc < 0 || SIDE(ud) != FAKE_SRC)
		return rc;
	if (w->fo_cancelling && w->fo_resume_waits_job) {
		/* libvirt held the resume until QEMU gave up waiting (30 s) and plugged the
		 * primary back; the guest runs with QEMU's unplug request still to act on. */
		w->now += 30000;
		w->fo_cancelling = false;
		w->fo_paused = false;
		replug_if_hidden(w);
		w->fo_eject_pending = true;
	} else if (w->fo_cancelling) {
		/* Running again, the guest does the unplug QEMU waits for. */
		w->fo_paused = false;
		primary_left(w);
	} else {
		replug_if_hidden(w);
	}
	return rc;
}

static int fo_plug(void *ud, const struct plug_spec *spec, int64_t deadline, struct diag *d)
{
	struct fake_world *w = W(ud);
	int s = SIDE(ud), rc = w->fo_orig[s].plug(ud, spec, deadline, d);

	if (rc >= 0)
		snprintf(s == FAKE_DST ? w->fo_plug_pair : w->fo_src_plug_pair, VFM_ID_MAX, "%s",
			 spec->failover_pair_id);
	return rc;
}

static int fo_removal_watch(void *ud, const char *device_id, struct diag *d)
{
	(void)d;
	W(ud)->fo_watching = device_id && device_id[0];
	return 0;
}

/* A watched primary that the guest ejects by itself (the pending unplug request). */
static int fo_unplug_wait(void *ud, const struct plug_spec *spec, int64_t deadline, struct diag *d)
{
	struct fake_world *w = W(ud);

	if (SIDE(ud) == FAKE_SRC && w->fo_watching) {
		if (!w->fo_eject_pending) {
			w->now = deadline;
			diag_set(d, "removal of %s still in flight", spec->device_id);
			return -ETIMEDOUT;
		}
		w->now += 1500;
		w->fo_eject_pending = false;
		w->vf_present[FAKE_SRC] = false;
		w->slave[FAKE_NIC_VF] = false;
		w->active = FAKE_NIC_BACKUP;
		log_add(w, "src.guest_eject");
		return 0;
	}
	return w->fo_orig[SIDE(ud)].unplug_wait(ud, spec, deadline, d);
}

static int ag_failover_status(void *ud, const uint8_t mac[6], int64_t wait_ms, int64_t deadline,
			      struct failover_status *ret, struct diag *d)
{
	struct fake_world *w = W(ud);
	int s = SIDE(ud), rc = fake_agent_enter(ud, "agent.failover_status", deadline, d);
	struct failover_status st = {.has_standby = true};

	if (rc < 0)
		return rc;
	if (!w->failover || memcmp(mac, w->plan.vfs[0].vf_mac, 6) != 0) {
		diag_set(d, "no net_failover master over a virtio NIC with that MAC");
		return -ENOENT;
	}
	/* net_failover takes a primary that appeared (the kernel does, not the agent). */
	if (w->vf_present[s] && !(s == FAKE_DST && w->fo_no_primary)) {
		w->slave[FAKE_NIC_VF] = true;
		w->active = FAKE_NIC_VF;
		w->has_active = true;
	}
	snprintf(st.master, sizeof(st.master), "eth0");
	st.standby_link = w->backup_link;
	st.has_primary = w->vf_present[s] && w->slave[FAKE_NIC_VF];
	st.primary_link = st.has_primary;
	st.primary_active = st.has_primary && w->active == FAKE_NIC_VF;
	if (wait_ms > 0 && !st.primary_active) {
		w->now += wait_ms;
		diag_set(d, "failover master eth0: no primary appeared within %lld ms",
			 (long long)wait_ms);
		return -ETIMEDOUT;
	}
	*ret = st;
	return 0;
}

void fake_world_failover(struct fake_world *w)
{
	fake_world_share_mac(w);
	w->failover = true;
	w->bond_exists = false;
	w->plan.vfs[0].bond[0] = '\0';
	for (int s = 0; s < 2; s++) {
		w->fo_orig[s] = w->hv[s];
		w->hv[s].failover_pair = fo_pair;
		w->hv[s].migrate_wait_unplug = fo_wait_unplug;
		w->hv[s].announce_nic = fo_announce_nic;
		w->hv[s].migrate_start = fo_migrate_start;
		w->hv[s].migrate_cancel = fo_migrate_cancel;
		w->hv[s].cont = fo_cont;
		w->hv[s].plug = fo_plug;
		w->hv[s].removal_watch = fo_removal_watch;
		w->hv[s].unplug_wait = fo_unplug_wait;
		w->agent[s].failover_status = ag_failover_status;
	}
}
