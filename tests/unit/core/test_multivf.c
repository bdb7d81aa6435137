// SPDX-License-Identifier: MIT
/*
 * A guest with two VFs, each in its own active-backup bond with its own virtio backup, over a
 * small fake world that keeps what the ops do: the devices each hypervisor has, the guest's
 * bonds (their slaves and which is active), the destination pool's reservations, the journal.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../../src/core/plan.h"
#include "fake_world.h"

#define NVF	 2
#define SRC	 0
#define DST	 1
#define POOL_MAX 4

struct mw;
struct mud {
	struct mw *w;
	int side;
};

struct mbond {
	char name[VFM_IFNAME_MAX];
	bool vf_slave, bk_slave;
	bool vf_active; /* else the backup is active */
};

struct mw {
	int64_t now;
	bool running[2], migrated, quit[2];
	/* Which VF device (by plan index) each hypervisor has. */
	bool dev[2][NVF];
	struct mbond bond[NVF];
	/* Destination pool: its VFs, and which plan VF holds each (-1: free). */
	int held[POOL_MAX];
	unsigned n_pool;
	unsigned src_released;
	/* Which VF devices (by plan index) are QEMU failover primaries (of "net<i>", or all of
	 * "net0" with fo_same_pair). */
	bool fo_primary[NVF];
	bool fo_same_pair;
	/* Failover mode (fo_world): QEMU's failover on the source. fo_hidden: QEMU asked the
	 * guest to unplug the primary (hidden, not a device to device_present); fo_released:
	 * the guest let it go (its master sends on the standby). fo_hold: the guest never lets
	 * it go; fo_delete: a cancel leaves it deleted from QEMU (a late eject). fo_plug_pair:
	 * the failover_pair_id each destination VF was plugged with. */
	bool failover, fo_hidden[NVF], fo_released[NVF], fo_hold[NVF], fo_delete[NVF];
	char fo_plug_pair[NVF][VFM_ID_MAX];
	/* What the last migrate_start was given (libvirt defines the destination VFs there). */
	struct migrate_params fo_migrate;
	/* Injection: op (e.g. "dst.reserve") fails for VF fail_vf (-1: any), fail_times times. */
	const char *fail_op;
	int fail_vf;
	int fail_times;
	uint32_t crash_at;
	jmp_buf crash_jmp;
	struct journal_record journal[JOURNAL_RECORDS_MAX];
	size_t n_journal;
	char log[8192];

	struct hv_ops hv[2];
	struct agent_ops agent[2];
	struct vfpool_ops pool[2];
	struct clock_ops clock;
	struct journal_ops jops;
	struct plan_env env;
	struct plan plan;
	struct mud ud[2];
};

static void mlog(struct mw *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void mlog(struct mw *w, const char *fmt, ...)
{
	size_t l = strlen(w->log);
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(w->log + l, sizeof(w->log) - l, fmt, ap);
	va_end(ap);
	if (n < 0 || l + (size_t)n + 2 > sizeof(w->log))
		abort(); /* a full log would hide what a test looks for */
	strcat(w->log, ";");
}

#define W(ud)	 (((struct mud *)(ud))->w)
#define SIDE(ud) (((struct mud *)(ud))->side)

/* The plan VF a device id or MAC names; -1: none. */
static int vf_of_dev(const struct mw *w, const char *id)
{
	for (int i = 0; i < NVF; i++)
		if (!strcmp(w->plan.vfs[i].src_vf.device_id, id))
			return i;
	return -1;
}

static int vf_of_mac(const struct mw *w, const uint8_t mac[6])
{
	for (int i = 0; i < NVF; i++)
		if (!memcmp(w->plan.vfs[i].vf_mac, mac, 6))
			return i;
	return -1;
}

static int bond_of(const struct mw *w, const char *name)
{
	for (int i = 0; i < NVF; i++)
		if (!strcmp(w->bond[i].name, name))
			return i;
	return -1;
}

/* Every op takes 10 ms and may be injected to fail for one VF. */
static int enter(void *ud, const char *op, int vf, struct diag *d)
{
	struct mw *w = W(ud);
	char name[64];

	snprintf(name, sizeof(name), "%s.%s", SIDE(ud) == SRC ? "src" : "dst", op);
	w->now += 10;
	if (w->fail_op && !strcmp(w->fail_op, name) && (w->fail_vf < 0 || w->fail_vf == vf) &&
	    w->fail_times > 0) {
		w->fail_times--;
		mlog(w, "FAIL %s(%d)", name, vf);
		diag_set(d, "injected failure in %s", name);
		return -EIO;
	}
	return 0;
}

static int hv_probe(void *ud, int64_t dl, struct hv_probe *ret, struct diag *d)
{
	struct mw *w = W(ud);
	int s = SIDE(ud);

	(void)dl;
	if (w->quit[s])
		return -ECONNREFUSED;
	memset(ret, 0, sizeof(*ret));
	ret->running = w->running[s];
	ret->incoming = s == DST && !w->migrated ? HV_INCOMING_LISTENING : HV_INCOMING_NONE;
	snprintf(ret->status, sizeof(ret->status), "%s",
		 w->running[s] ? "running" : (s == DST ? "inmigrate" : "paused"));
	return enter(ud, "probe", -1, d);
}

static int hv_present(void *ud, const char *id, int64_t dl, bool *ret, struct diag *d)
{
	int v = vf_of_dev(W(ud), id);

	(void)dl;
	*ret = v >= 0 && W(ud)->dev[SIDE(ud)][v];
	return enter(ud, "device_present", v, d);
}

static int hv_unplug_start(void *ud, const struct plug_spec *s, int64_t dl, struct diag *d)
{
	(void)dl;
	return enter(ud, "unplug_start", vf_of_dev(W(ud), s->device_id), d);
}

static int hv_unplug_wait(void *ud, const struct plug_spec *s, int64_t dl, struct diag *d)
{
	struct mw *w = W(ud);
	int v = vf_of_dev(w, s->device_id), rc;

	(void)dl;
	rc = enter(ud, "unplug_wait", v, d);
	if (rc < 0)
		return -EBUSY; /* the guest refused: still there */
	w->dev[SIDE(ud)][v] = false;
	/* The NIC leaves the guest, and so its bond. */
	w->bond[v].vf_slave = w->bond[v].vf_active = false;
	mlog(w, "%s.unplug(%s)", SIDE(ud) == SRC ? "src" : "dst", s->device_id);
	return 0;
}

static int hv_plug(void *ud, const struct plug_spec *s, int64_t dl, struct diag *d)
{
	struct mw *w = W(ud);
	int v = vf_of_dev(w, s->device_id), rc;

	(void)dl;
	rc = enter(ud, "plug", v, d);
	if (rc < 0)
		return rc;
	assert_true(v >= 0);
	w->dev[SIDE(ud)][v] = true;
	if (SIDE(ud) == SRC)
		w->fo_hidden[v] = w->fo_released[v] = false;
	else
		snprintf(w->fo_plug_pair[v], VFM_ID_MAX, "%s", s->failover_pair_id);
	mlog(w, "%s.plug(%s,%s)", SIDE(ud) == SRC ? "src" : "dst", s->device_id, s->bus);
	return 0;
}

static int hv_migrate_start(void *ud, const struct migrate_params *p, int64_t dl, struct diag *d)
{
	(void)p;
	(void)dl;
	return enter(ud, "migrate_start", -1, d);
}

static int hv_migrate_wait(void *ud, int64_t dl, migrate_progress_fn fn, void *cb,
			   struct migrate_stats *ret, struct diag *d)
{
	struct mw *w = W(ud);
	int rc = enter(ud, "migrate_wait", -1, d);

	(void)dl;
	(void)fn;
	(void)cb;
	if (rc < 0)
		return rc;
	memset(ret, 0, sizeof(*ret));
	snprintf(ret->status, sizeof(ret->status), "completed");
	ret->total_ms = 100;
	ret->downtime_ms = 10;
	ret->setup_ms = 1;
	w->migrated = true;
	w->running[SRC] = false;
	w->running[DST] = true;
	/* The guest took its devices as they were: a VF device stays behind on the source. */
	mlog(w, "migrated");
	return 0;
}

static int hv_cancel(void *ud, int64_t dl, struct diag *d)
{
	(void)dl;
	(void)d;
	return W(ud)->migrated ? -EALREADY : 0;
}

static int hv_cont(void *ud, int64_t dl, struct diag *d)
{
	(void)dl;
	W(ud)->running[SIDE(ud)] = true;
	return enter(ud, "cont", -1, d);
}

static int hv_quit(void *ud, int64_t dl, struct diag *d)
{
	(void)dl;
	W(ud)->quit[SIDE(ud)] = true;
	W(ud)->running[SIDE(ud)] = false;
	return enter(ud, "quit", -1, d);
}

static int hv_nop(void *ud, int64_t dl, struct diag *d)
{
	(void)dl;
	return enter(ud, "nop", -1, d);
}

static int hv_failover_pair(void *ud, const char *id, int64_t dl, char ret[VFM_ID_MAX],
			    struct diag *d)
{
	struct mw *w = W(ud);
	int v = vf_of_dev(w, id);

	(void)dl;
	(void)d;
	mlog(w, "failover_pair(%s)", id);
	ret[0] = '\0';
	if (v >= 0 && w->fo_primary[v])
		snprintf(ret, VFM_ID_MAX, "net%d", w->fo_same_pair ? 0 : v);
	return 0;
}

static int hv_incoming(void *ud, const struct migrate_params *p, int64_t dl, struct diag *d)
{
	(void)p;
	(void)dl;
	return enter(ud, "incoming", -1, d);
}

/* The agent answers on the side the guest runs on. */
static int ag_enter(void *ud, const char *op, int vf, struct diag *d)
{
	struct mw *w = W(ud);

	if (!w->running[SIDE(ud)]) {
		diag_set(d, "no guest agent there");
		return -ECONNREFUSED;
	}
	return enter(ud, op, vf, d);
}

static int ag_ping(void *ud, int64_t dl, struct diag *d)
{
	(void)dl;
	return ag_enter(ud, "ping", -1, d);
}

static int ag_bond_status(void *ud, const char *bond, int64_t dl, struct bond_status *ret,
			  struct diag *d)
{
	struct mw *w = W(ud);
	int b = bond_of(w, bond), rc;
	struct mbond *m;

	(void)dl;
	rc = ag_enter(ud, "bond_status", b, d);
	if (rc < 0)
		return rc;
	if (b < 0)
		return -ENOENT;
	m = &w->bond[b];
	memset(ret, 0, sizeof(*ret));
	snprintf(ret->name, sizeof(ret->name), "%s", m->name);
	snprintf(ret->mode, sizeof(ret->mode), "active-backup");
	ret->fail_over_mac = BOND_FOM_ACTIVE;
	if (m->bk_slave) {
		struct bond_slave *s = &ret->slaves[ret->n_slaves++];

		memcpy(s->mac, w->plan.vfs[b].backup_mac, 6);
		s->link_up = true;
		s->active = !m->vf_active;
		s->kind = NIC_KIND_VIRTIO;
	}
	if (m->vf_slave) {
		struct bond_slave *s = &ret->slaves[ret->n_slaves++];

		memcpy(s->mac, w->plan.vfs[b].vf_mac, 6);
		s->link_up = true;
		s->active = m->vf_active;
		s->kind = NIC_KIND_VF;
	}
	return 0;
}

static int ag_set_active(void *ud, const char *bond, const struct nic_sel *nic, bool primary,
			 int64_t dl, struct diag *d)
{
	struct mw *w = W(ud);
	int b = bond_of(w, bond), v = vf_of_mac(w, nic->mac), rc;

	(void)primary;
	(void)dl;
	rc = ag_enter(ud, "set_active", b, d);
	if (rc < 0)
		return rc;
	assert_true(b >= 0);
	if (v >= 0 && !w->bond[b].vf_slave)
		return -ENODEV;
	w->bond[b].vf_active = v >= 0;
	mlog(w, "set_active(%s,%s)", bond, v >= 0 ? "vf" : "backup");
	return 0;
}

static int ag_release(void *ud, const char *bond, const struct nic_sel *nic, int64_t dl,
		      struct diag *d)
{
	struct mw *w = W(ud);
	int b = bond_of(w, bond), rc;

	(void)nic;
	(void)dl;
	rc = ag_enter(ud, "release", b, d);
	if (rc < 0)
		return rc;
	w->bond[b].vf_slave = w->bond[b].vf_active = false;
	mlog(w, "release(%s)", bond);
	return 0;
}

static int ag_enslave(void *ud, const char *bond, const struct nic_sel *nic, int64_t link_ms,
		      bool make_active, int64_t dl, struct diag *d)
{
	struct mw *w = W(ud);
	int b = bond_of(w, bond), v = vf_of_mac(w, nic->mac), rc;

	(void)link_ms;
	(void)dl;
	rc = ag_enter(ud, "enslave", b, d);
	if (rc < 0)
		return rc;
	/* The NIC must be there, in the guest, on the side it runs on. */
	if (v < 0 || v != b || !w->dev[SIDE(ud)][v])
		return -ENODEV;
	w->bond[b].vf_slave = true;
	if (make_active)
		w->bond[b].vf_active = true;
	mlog(w, "enslave(%s)", bond);
	return 0;
}

/* QEMU's failover: at migrate_start it hides every primary and asks the guest to unplug it. */
static int fo_migrate_start(void *ud, const struct migrate_params *p, int64_t dl, struct diag *d)
{
	struct mw *w = W(ud);
	int rc = hv_migrate_start(ud, p, dl, d);

	w->fo_migrate = *p;
	for (int i = 0; rc >= 0 && i < NVF; i++) {
		if (!w->dev[SRC][i])
			continue;
		w->dev[SRC][i] = false;
		w->fo_hidden[i] = true;
		mlog(w, "src.unplug_primary(vf%d)", i);
	}
	return rc;
}

/* wait-unplug lasts until the guest released every primary QEMU hid. */
static int fo_wait_unplug(void *ud, int64_t dl, struct diag *d)
{
	struct mw *w = W(ud);
	bool pending = false;
	int rc = enter(ud, "wait_unplug", -1, d);

	if (rc < 0)
		return rc;
	for (int i = 0; i < NVF; i++) {
		if (w->fo_hidden[i] && !w->fo_hold[i] && !w->fo_released[i]) {
			w->fo_released[i] = true;
			mlog(w, "src.primary_released(vf%d)", i);
		}
		pending |= w->fo_hidden[i] && !w->fo_released[i];
	}
	if (pending) {
		w->now = dl;
		diag_set(d, "migration still in wait-unplug at the deadline");
		return -ETIMEDOUT;
	}
	return 0;
}

/* A migration that does not complete: QEMU plugs back what it hid (but a deleted one). */
static void fo_replug_hidden(struct mw *w)
{
	for (int i = 0; !w->migrated && i < NVF; i++) {
		if (!w->fo_hidden[i])
			continue;
		w->fo_hidden[i] = w->fo_released[i] = false;
		w->dev[SRC][i] = !w->fo_delete[i];
		mlog(w, "src.%s_primary(vf%d)", w->fo_delete[i] ? "deleted" : "replug", i);
	}
}

static int fo_cancel(void *ud, int64_t dl, struct diag *d)
{
	int rc = hv_cancel(ud, dl, d);

	if (rc >= 0)
		fo_replug_hidden(W(ud));
	return rc;
}

static int fo_cont(void *ud, int64_t dl, struct diag *d)
{
	int rc = hv_cont(ud, dl, d);

	if (rc >= 0 && SIDE(ud) == SRC)
		fo_replug_hidden(W(ud));
	return rc;
}

static int fo_announce_nic(void *ud, const char *nic, int64_t dl, struct diag *d)
{
	(void)dl;
	mlog(W(ud), "%s.announce(%s)", SIDE(ud) == SRC ? "src" : "dst", nic);
	return enter(ud, "announce_nic", -1, d);
}

/* Whether the guest's failover master of VF v sends on its primary on side s. */
static bool fo_primary_active(const struct mw *w, int s, int v)
{
	if (s == SRC)
		return (w->dev[SRC][v] || w->fo_hidden[v]) && !w->fo_released[v];
	return w->dev[DST][v];
}

static int ag_failover_status(void *ud, const uint8_t mac[6], int64_t wait_ms, int64_t dl,
			      struct failover_status *ret, struct diag *d)
{
	struct mw *w = W(ud);
	int v = vf_of_mac(w, mac), s = SIDE(ud), rc;

	(void)dl;
	rc = ag_enter(ud, "failover_status", v, d);
	if (rc < 0)
		return rc;
	if (v < 0) {
		diag_set(d, "no net_failover master over a virtio NIC with that MAC");
		return -ENOENT;
	}
	memset(ret, 0, sizeof(*ret));
	snprintf(ret->master, sizeof(ret->master), "eth%d", v);
	ret->has_standby = ret->standby_link = true;
	ret->has_primary = ret->primary_link = ret->primary_active = fo_primary_active(w, s, v);
	if (wait_ms > 0 && !ret->primary_active) {
		w->now += wait_ms;
		diag_set(d, "failover master eth%d: no primary appeared within %lld ms", v,
			 (long long)wait_ms);
		return -ETIMEDOUT;
	}
	return 0;
}

static int pool_probe(void *ud, const char *physnet, int64_t dl, unsigned *ret, struct diag *d)
{
	struct mw *w = W(ud);
	unsigned n = 0;

	(void)physnet;
	(void)dl;
	for (unsigned i = 0; i < w->n_pool; i++)
		n += w->held[i] < 0;
	*ret = n;
	return enter(ud, "pool_probe", -1, d);
}

static int pool_reserve(void *ud, const char *physnet, const uint8_t mac[6], int vlan,
			const char *hint, int64_t dl, struct plug_spec *ret, struct diag *d)
{
	struct mw *w = W(ud);
	int v = vf_of_mac(w, mac), rc;

	(void)physnet;
	(void)dl;
	rc = enter(ud, "reserve", v, d);
	if (rc < 0)
		return rc;
	for (unsigned i = 0; i < w->n_pool; i++) {
		if (w->held[i] >= 0)
			continue;
		w->held[i] = v;
		memset(ret, 0, sizeof(*ret));
		snprintf(ret->device_id, sizeof(ret->device_id), "%s", hint);
		snprintf(ret->backend, sizeof(ret->backend), "tapd%u", i);
		snprintf(ret->bus, sizeof(ret->bus), "drp%u", i);
		ret->vlan = vlan;
		mlog(w, "dst.reserve(%d)=tapd%u", v, i);
		return 0;
	}
	diag_set(d, "no free VF");
	return -ENOSPC;
}

static int pool_release(void *ud, const struct plug_spec *s, int64_t dl, struct diag *d)
{
	struct mw *w = W(ud);
	int rc;

	(void)dl;
	rc = enter(ud, "release", vf_of_dev(w, s->device_id), d);
	if (rc < 0)
		return rc;
	if (SIDE(ud) == SRC) {
		w->src_released++;
		return 0;
	}
	for (unsigned i = 0; i < w->n_pool; i++) {
		char b[VFM_ID_MAX];

		snprintf(b, sizeof(b), "tapd%u", i);
		if (!strcmp(b, s->backend) ||
		    (!s->backend[0] && w->held[i] >= 0 && w->held[i] == vf_of_mac(w, s->mac))) {
			mlog(w, "dst.pool_release(tapd%u)", i);
			w->held[i] = -1;
		}
	}
	return 0;
}

static int64_t clk_now(void *ud)
{
	return ((struct mw *)ud)->now;
}

static int64_t clk_wall(void *ud)
{
	return 1700000000000 + ((struct mw *)ud)->now;
}

/* Round-trips every record through the codec, as the file would. */
static int j_append(void *ud, const struct journal_record *rec, struct diag *d)
{
	struct mw *w = ud;

	if (w->crash_at && rec->seq == w->crash_at)
		longjmp(w->crash_jmp, 1);
	return fake_journal_put(w->journal, &w->n_journal, rec, d);
}

static struct mw *new_world(void)
{
	struct mw *w = test_calloc(1, sizeof(*w));

	w->running[SRC] = true;
	w->fail_vf = -1;
	w->n_pool = 3;
	for (unsigned i = 0; i < POOL_MAX; i++)
		w->held[i] = -1;
	plan_init(&w->plan);
	snprintf(w->plan.guest, sizeof(w->plan.guest), "g1");
	snprintf(w->plan.migrate.uri, sizeof(w->plan.migrate.uri), "tcp:127.0.0.1:4444");
	w->plan.n_vfs = NVF;
	for (int i = 0; i < NVF; i++) {
		struct plan_vf *v = &w->plan.vfs[i];
		uint8_t vm[6] = {0x52, 0x54, 0, 0, 0x10, (uint8_t)i};
		uint8_t bm[6] = {0x52, 0x54, 0, 0, 0x20, (uint8_t)i};

		snprintf(v->name, sizeof(v->name), "net%d", i);
		snprintf(v->bond, sizeof(v->bond), "bond%d", i);
		memcpy(v->vf_mac, vm, 6);
		memcpy(v->backup_mac, bm, 6);
		snprintf(v->src_vf.device_id, VFM_ID_MAX, "vf%d", i);
		snprintf(v->src_vf.driver, VFM_ID_MAX, "e1000e");
		snprintf(v->src_vf.bus, VFM_ID_MAX, "rp%d", i);
		snprintf(v->src_vf.backend, VFM_ID_MAX, "taps%d", i);
		memcpy(v->src_vf.mac, vm, 6);
		v->src_vf.has_mac = true;
		w->dev[SRC][i] = true;
		snprintf(w->bond[i].name, sizeof(w->bond[i].name), "bond%d", i);
		w->bond[i].vf_slave = w->bond[i].bk_slave = w->bond[i].vf_active = true;
	}
	for (int s = 0; s < 2; s++) {
		w->ud[s] = (struct mud){w, s};
		w->hv[s] = (struct hv_ops){
		    .userdata = &w->ud[s],
		    .probe = hv_probe,
		    .device_present = hv_present,
		    .unplug_start = hv_unplug_start,
		    .unplug_wait = hv_unplug_wait,
		    .plug = hv_plug,
		    .migrate_incoming = hv_incoming,
		    .migrate_start = hv_migrate_start,
		    .migrate_wait = hv_migrate_wait,
		    .migrate_cancel = hv_cancel,
		    .stop = hv_nop,
		    .cont = hv_cont,
		    .quit = hv_quit,
		    .failover_pair = hv_failover_pair,
		};
		w->agent[s] = (struct agent_ops){
		    .userdata = &w->ud[s],
		    .ping = ag_ping,
		    .bond_status = ag_bond_status,
		    .set_active = ag_set_active,
		    .release = ag_release,
		    .enslave = ag_enslave,
		};
		w->pool[s] = (struct vfpool_ops){
		    .userdata = &w->ud[s],
		    .vf_takes_guest_mac = true,
		    .probe = pool_probe,
		    .reserve = pool_reserve,
		    .release = pool_release,
		};
		w->env.src = (struct plan_side){&w->hv[SRC], &w->agent[SRC], &w->pool[SRC]};
		w->env.dst = (struct plan_side){&w->hv[DST], &w->agent[DST], &w->pool[DST]};
	}
	w->clock = (struct clock_ops){.userdata = w, .now_ms = clk_now, .wall_ms = clk_wall};
	w->jops = (struct journal_ops){.userdata = w, .append = j_append};
	w->env.clock = &w->clock;
	w->env.journal = &w->jops;
	return w;
}

static unsigned held(const struct mw *w)
{
	unsigned n = 0;

	for (unsigned i = 0; i < w->n_pool; i++)
		n += w->held[i] >= 0;
	return n;
}

/* The guest on `side` with every VF plugged there and active in its bond. */
static bool all_vfs_on(const struct mw *w, int side)
{
	if (!w->running[side] || w->running[!side])
		return false;
	for (int i = 0; i < NVF; i++)
		if (!w->dev[side][i] || w->dev[!side][i] || !w->bond[i].vf_slave ||
		    !w->bond[i].vf_active || !w->bond[i].bk_slave)
			return false;
	return true;
}

/* Two VFs, each the QEMU failover primary of its own virtio NIC (net0, net1) with its MAC; no
 * bonds. */
static struct mw *fo_world(void)
{
	struct mw *w = new_world();

	w->failover = true;
	for (int i = 0; i < NVF; i++) {
		w->fo_primary[i] = true;
		w->plan.vfs[i].bond[0] = '\0';
		memcpy(w->plan.vfs[i].backup_mac, w->plan.vfs[i].vf_mac, 6);
		w->bond[i].name[0] = '\0';
	}
	for (int s = 0; s < 2; s++) {
		w->hv[s].migrate_start = fo_migrate_start;
		w->hv[s].migrate_wait_unplug = fo_wait_unplug;
		w->hv[s].migrate_cancel = fo_cancel;
		w->hv[s].cont = fo_cont;
		w->hv[s].announce_nic = fo_announce_nic;
		w->agent[s].failover_status = ag_failover_status;
	}
	return w;
}

/* Failover mode: the guest on `side`, every master sending on its primary there, none on the
 * other side. */
static bool fo_all_on(const struct mw *w, int side)
{
	if (!w->running[side] || w->running[!side])
		return false;
	for (int i = 0; i < NVF; i++)
		if (!fo_primary_active(w, side, i) || (side == SRC && w->dev[DST][i]))
			return false;
	return true;
}

static void assert_log(const struct mw *w, const char *what)
{
	if (!strstr(w->log, what)) {
		print_error("expected \"%s\" in log: %s\n", what, w->log);
		fail();
	}
}

static void test_two_vfs_migrate(void **state)
{
	struct mw *w = new_world();
	struct plan_report r;
	bool vf1_rec = false;

	(void)state;
	assert_int_equal(plan_run(&w->plan, &w->env, &r), 0);
	assert_int_equal(r.outcome, OUTCOME_MIGRATED);
	assert_true(all_vfs_on(w, DST));
	assert_int_equal(held(w), NVF);
	assert_int_equal(w->src_released, NVF);
	assert_true(r.vf_restored);
	assert_int_equal(r.n_vfs, NVF);
	assert_string_equal(r.vfs[1].name, "net1");
	assert_false(r.vfs[0].degraded || r.vfs[1].degraded);
	/* Both reserved before the guest changed; each VF unplugged before the migration. */
	assert_log(w, "dst.reserve(0)=tapd0;dst.reserve(1)=tapd1;set_active(bond0,backup);"
		      "set_active(bond1,backup);release(bond0);release(bond1);src.unplug(vf0);"
		      "src.unplug(vf1);migrated;dst.plug(vf0,drp0);dst.plug(vf1,drp1);");
	/* The second VF's records name it; BEGIN holds it. */
	assert_int_equal(w->journal[0].n_more_vfs, 1);
	assert_string_equal(w->journal[0].more_vfs[0].bond, "bond1");
	assert_string_equal(w->journal[0].vf_name, "net0");
	for (size_t i = 0; i < w->n_journal; i++)
		vf1_rec |= w->journal[i].vf == 1 && !strcmp(w->journal[i].step, "unplug");
	assert_true(vf1_rec);
	assert_string_equal(w->journal[w->n_journal - 1].outcome, "migrated");
	test_free(w);
}

static void test_second_reservation_fails(void **state)
{
	struct mw *w = new_world();
	struct plan_report r;

	(void)state;
	w->fail_op = "dst.reserve";
	w->fail_vf = 1;
	w->fail_times = 1;
	assert_int_equal(plan_run(&w->plan, &w->env, &r), 0);
	assert_int_equal(r.outcome, OUTCOME_ROLLED_BACK);
	assert_int_equal(r.error_step, STEP_RESERVE);
	assert_non_null(strstr(r.error, "VF net1"));
	/* The first VF went back to the pool; the guest was never touched. */
	assert_int_equal(held(w), 0);
	assert_log(w, "dst.reserve(0)=tapd0;FAIL dst.reserve(1);dst.pool_release(tapd0);");
	assert_null(strstr(w->log, "set_active"));
	assert_null(strstr(w->log, "unplug"));
	assert_true(all_vfs_on(w, SRC));
	assert_true(r.vfs[1].has_failed && r.vfs[1].failed_step == STEP_RESERVE);
	assert_false(r.vfs[0].has_failed);
	test_free(w);
}

static void test_one_vf_too_few_refused(void **state)
{
	struct mw *w = new_world();
	struct plan_report r;

	(void)state;
	w->n_pool = 1;
	assert_int_equal(plan_run(&w->plan, &w->env, &r), 0);
	assert_int_equal(r.outcome, OUTCOME_REFUSED);
	assert_int_equal(r.problems[0].code, PROBLEM_NO_FREE_VF);
	assert_non_null(strstr(r.problems[0].text, "1 free VF, the guest needs 2"));
	assert_int_equal(w->n_journal, 0);
	assert_true(all_vfs_on(w, SRC));
	test_free(w);
}

static void test_unplug_of_second_fails(void **state)
{
	struct mw *w = new_world();
	struct plan_report r;

	(void)state;
	w->fail_op = "src.unplug_wait";
	w->fail_vf = 1;
	w->fail_times = 1;
	assert_int_equal(plan_run(&w->plan, &w->env, &r), 0);
	assert_int_equal(r.outcome, OUTCOME_ROLLED_BACK);
	assert_int_equal(r.error_step, STEP_UNPLUG);
	/* VF net0, already unplugged, is plugged back and enslaved; net1 never left. */
	assert_log(w, "src.unplug(vf0);FAIL src.unplug_wait(1);src.plug(vf0,rp0);"
		      "enslave(bond1);enslave(bond0);");
	assert_true(all_vfs_on(w, SRC));
	assert_int_equal(held(w), 0);
	assert_false(w->migrated);
	assert_true(r.vf_restored);
	test_free(w);
}

/* A run whose destination VF vf never plugs: degraded past the point of no return, that VF
 * named and degraded, the other one not. */
static void run_plug_fails(struct mw *w, int vf, struct plan_report *r)
{
	char name[16];

	w->fail_op = "dst.plug";
	w->fail_vf = vf;
	w->fail_times = 100;
	assert_int_equal(plan_run(&w->plan, &w->env, r), 0);
	assert_int_equal(r->outcome, OUTCOME_DEGRADED);
	assert_true(r->passed_ponr);
	assert_int_equal(r->error_step, STEP_PLUG);
	snprintf(name, sizeof(name), "VF net%d", vf);
	assert_non_null(strstr(r->error, name));
	assert_true(r->vfs[vf].degraded);
	assert_false(r->vfs[!vf].degraded);
}

static void test_replug_of_one_fails_degraded(void **state)
{
	struct mw *w = new_world();
	struct plan_report r;

	(void)state;
	run_plug_fails(w, 0, &r);
	/* The other VF went on: plugged, enslaved and active on the destination. */
	assert_true(w->dev[DST][1] && w->bond[1].vf_slave && w->bond[1].vf_active);
	assert_false(w->dev[DST][0] || w->bond[0].vf_slave || w->bond[0].vf_active);
	/* The failed one's destination VF is free again; both source VFs were given back. */
	assert_int_equal(held(w), 1);
	assert_int_equal(w->src_released, NVF);
	assert_false(r.vf_restored);
	assert_string_equal(w->journal[w->n_journal - 1].outcome, "degraded");
	test_free(w);
}

/* The operator's SIGINT once both VFs left the source, before the migration. */
static const char *intr_after_unplugs(void *ud)
{
	return strstr(((struct mw *)ud)->log, "src.unplug(vf1)") ? "SIGINT" : NULL;
}

static void test_interrupt_rolls_back_both(void **state)
{
	struct mw *w = new_world();
	struct plan_report r;

	(void)state;
	w->env.interrupted = intr_after_unplugs;
	w->env.interrupted_userdata = w;
	assert_int_equal(plan_run(&w->plan, &w->env, &r), 0);
	assert_int_equal(r.outcome, OUTCOME_ROLLED_BACK);
	assert_string_equal(r.interrupted, "SIGINT");
	assert_int_equal(r.error_step, STEP_MIGRATE);
	assert_null(strstr(w->log, "migrated"));
	/* Undone in reverse: the second VF first. */
	assert_log(w, "src.unplug(vf1);src.plug(vf1,rp1);src.plug(vf0,rp0);enslave(bond1);"
		      "enslave(bond0);");
	assert_true(all_vfs_on(w, SRC));
	assert_int_equal(held(w), 0);
	test_free(w);
}

/* Runs w's plan until it crashes before journal record `cut`; a copy of the journal then. */
static struct journal_record *run_to_cut(struct mw *w, uint32_t cut, size_t *ret_n)
{
	struct journal_record *recs;
	struct plan_report r;

	w->crash_at = cut;
	if (setjmp(w->crash_jmp) == 0) {
		plan_run(&w->plan, &w->env, &r);
		fail_msg("cut %u: the run did not reach the crash point", cut);
	}
	w->crash_at = 0;
	recs = test_malloc(w->n_journal * sizeof(*recs));
	memcpy(recs, w->journal, w->n_journal * sizeof(*recs));
	*ret_n = w->n_journal;
	return recs;
}

/* Crash before each journal record of a two-VF run, then recover: the guest ends with both
 * VFs on one side, no destination VF leaked. */
static void test_recover_every_cut(void **state)
{
	struct plan_report r;
	struct mw *w = new_world();
	uint32_t total, n_back = 0, n_fwd = 0;

	(void)state;
	assert_int_equal(plan_run(&w->plan, &w->env, &r), 0);
	total = (uint32_t)w->n_journal;
	assert_true(total > 20);
	test_free(w);
	for (uint32_t cut = 2; cut <= total; cut++) {
		struct journal_record *recs;
		size_t n;

		w = new_world();
		recs = run_to_cut(w, cut, &n);
		/* Today's config says otherwise; the journal wins. */
		memset(w->plan.vfs[1].backup_mac, 0xee, 6);
		w->plan.n_vfs = 1;
		assert_int_equal(plan_recover(&w->plan, &w->env, recs, n, &r), 0);
		w->plan.n_vfs = NVF;
		memcpy(w->plan.vfs[1].backup_mac, (uint8_t[]){0x52, 0x54, 0, 0, 0x20, 1}, 6);
		if (!((r.outcome == OUTCOME_ROLLED_BACK && all_vfs_on(w, SRC) && held(w) == 0) ||
		      (r.outcome == OUTCOME_MIGRATED && all_vfs_on(w, DST) && held(w) == NVF))) {
			print_error("cut %u: %s, inconsistent (held %u)\nlog: %s\n", cut,
				    plan_outcome_to_string(r.outcome), held(w), w->log);
			fail();
		}
		n_back += r.outcome == OUTCOME_ROLLED_BACK;
		n_fwd += r.outcome == OUTCOME_MIGRATED;
		test_free(recs);
		test_free(w);
	}
	/* Cuts on both sides of the point of no return. */
	assert_true(n_back > 10 && n_fwd > 5);
}

static bool has_problem(const struct plan_report *r, enum plan_problem_code code)
{
	for (size_t i = 0; i < r->n_problems; i++)
		if (r->problems[i].code == code)
			return true;
	return false;
}

/* Forced failover mode on a guest whose VFs are in bonds: each VF without a failover pair is
 * a problem, and nothing changes. */
static void test_failover_forced_refused(void **state)
{
	struct mw *w = new_world();
	struct plan_report r;

	(void)state;
	w->plan.mode = PLAN_MODE_FAILOVER;
	w->hv[SRC].migrate_wait_unplug = fo_wait_unplug;
	w->agent[SRC].failover_status = ag_failover_status;
	assert_int_equal(plan_run(&w->plan, &w->env, &r), 0);
	assert_int_equal(r.outcome, OUTCOME_REFUSED);
	assert_int_equal(r.error_step, STEP_PREFLIGHT);
	assert_int_equal(r.n_problems, 2);
	assert_int_equal(r.problems[0].code, PROBLEM_FAILOVER_PAIR);
	assert_int_equal(r.problems[1].code, PROBLEM_FAILOVER_PAIR);
	assert_non_null(strstr(r.problems[0].text, "VF vf0 has no failover_pair_id"));
	assert_non_null(strstr(r.problems[1].text, "VF vf1 has no failover_pair_id"));
	assert_int_equal(w->n_journal, 0);
	assert_true(all_vfs_on(w, SRC));
	assert_int_equal(held(w), 0);
	/* plan_check says the same. */
	assert_int_equal(plan_check(&w->plan, &w->env, &r), 0);
	assert_int_equal(r.outcome, OUTCOME_REFUSED);
	assert_true(has_problem(&r, PROBLEM_FAILOVER_PAIR));
	test_free(w);
}

/* Auto mode on a guest with two VFs: one a failover primary, the other in its bond, is a mix
 * one migration cannot do: refused; with none, both go through their bonds. */
static void test_failover_auto(void **state)
{
	struct mw *w = new_world();
	struct plan_report r;

	(void)state;
	w->fo_primary[1] = true;
	assert_int_equal(plan_run(&w->plan, &w->env, &r), 0);
	assert_int_equal(r.outcome, OUTCOME_REFUSED);
	assert_int_equal(r.n_problems, 1);
	assert_true(has_problem(&r, PROBLEM_FAILOVER_MULTIVF));
	assert_string_equal(r.problems[0].text,
			    "VF net1 (vf1) is the QEMU failover primary of net1 but VF net0 (vf0) "
			    "is no failover primary: one migration takes every VF through QEMU's "
			    "failover or every VF through its bond");
	assert_int_equal(w->n_journal, 0);
	assert_true(all_vfs_on(w, SRC));
	test_free(w);

	w = new_world();
	assert_int_equal(plan_run(&w->plan, &w->env, &r), 0);
	assert_int_equal(r.outcome, OUTCOME_MIGRATED);
	assert_int_equal(r.mode, PLAN_MODE_BOND);
	assert_true(all_vfs_on(w, DST));
	assert_int_equal(w->journal[0].mode[0], '\0');
	test_free(w);

	/* Forced bond mode never asks for a failover pair. */
	w = new_world();
	w->fo_primary[0] = true;
	w->plan.mode = PLAN_MODE_BOND;
	assert_int_equal(plan_run(&w->plan, &w->env, &r), 0);
	assert_int_equal(r.outcome, OUTCOME_MIGRATED);
	assert_null(strstr(w->log, "failover_pair"));
	test_free(w);
}

/* The journal's records of one step (and VF). */
static bool journal_has(const struct mw *w, enum journal_kind k, const char *step, unsigned vf)
{
	for (size_t i = 0; i < w->n_journal; i++)
		if (w->journal[i].kind == k && !strcmp(w->journal[i].step, step) &&
		    w->journal[i].vf == vf)
			return true;
	return false;
}

/* Both VFs failover primaries of their own virtio NICs: auto picks failover mode, QEMU unplugs
 * both at the start, each standby is announced, each destination VF is plugged with its own
 * pair and each master sends on it. */
static void test_failover_two_vfs_migrate(void **state)
{
	struct mw *w = fo_world();
	struct plan_report r;

	(void)state;
	assert_int_equal(plan_run(&w->plan, &w->env, &r), 0);
	assert_int_equal(r.outcome, OUTCOME_MIGRATED);
	assert_int_equal(r.mode, PLAN_MODE_FAILOVER);
	assert_true(fo_all_on(w, DST));
	assert_int_equal(held(w), NVF);
	assert_int_equal(w->src_released, NVF);
	assert_true(r.vf_restored);
	assert_false(r.vfs[0].degraded || r.vfs[1].degraded);
	assert_string_equal(w->fo_plug_pair[0], "net0");
	assert_string_equal(w->fo_plug_pair[1], "net1");
	/* The migration is told both destination VFs, each replacing its own source VF. */
	assert_int_equal(w->fo_migrate.n_failover_vfs, 2);
	for (size_t i = 0; i < 2; i++) {
		assert_string_equal(w->fo_migrate.failover_vfs[i].device_id,
				    w->plan.vfs[i].src_vf.device_id);
		assert_memory_equal(w->fo_migrate.failover_vfs[i].mac, w->plan.vfs[i].vf_mac, 6);
	}
	assert_string_equal(w->fo_migrate.failover_vfs[1].failover_pair_id, "net1");
	assert_log(w, "dst.reserve(0)=tapd0;dst.reserve(1)=tapd1;src.unplug_primary(vf0);"
		      "src.unplug_primary(vf1);src.primary_released(vf0);"
		      "src.primary_released(vf1);src.announce(net0);src.announce(net1);migrated;"
		      "dst.plug(vf0,drp0);dst.plug(vf1,drp1);");
	/* No bond step ran. */
	assert_null(strstr(w->log, "set_active"));
	assert_null(strstr(w->log, "enslave"));
	assert_int_equal(r.steps[STEP_BOND].result, STEP_SKIPPED);
	/* BEGIN: the mode, each VF's pair in its spec. */
	assert_string_equal(w->journal[0].mode, "failover");
	assert_string_equal(w->journal[0].spec.failover_pair_id, "net0");
	assert_int_equal(w->journal[0].n_more_vfs, 1);
	assert_string_equal(w->journal[0].more_vfs[0].bond, "");
	assert_string_equal(w->journal[0].more_vfs[0].spec.failover_pair_id, "net1");
	assert_true(journal_has(w, JOURNAL_DONE, "enslave", 1));
	assert_string_equal(w->journal[w->n_journal - 1].outcome, "migrated");
	test_free(w);
}

/* Two VFs paired with one virtio NIC: refused, whatever the mode. */
static void test_failover_same_pair_refused(void **state)
{
	struct mw *w = fo_world();
	struct plan_report r;

	(void)state;
	w->fo_same_pair = true;
	assert_int_equal(plan_run(&w->plan, &w->env, &r), 0);
	assert_int_equal(r.outcome, OUTCOME_REFUSED);
	assert_int_equal(r.mode, PLAN_MODE_FAILOVER);
	assert_int_equal(r.n_problems, 1);
	assert_int_equal(r.problems[0].code, PROBLEM_FAILOVER_PAIR);
	assert_string_equal(r.problems[0].text, "VFs vf0 and vf1 are both failover primaries of "
						"net0: each VF needs a virtio-net NIC of its own");
	assert_int_equal(w->n_journal, 0);
	assert_true(fo_all_on(w, SRC));
	test_free(w);
}

/* The guest releases one primary and not the other: QEMU stays in wait-unplug, our deadline
 * cancels the migration, and the rollback finds both masters sending on their primaries
 * again (the released one plugged back by QEMU); no destination VF kept. */
static void test_failover_unplug_deadline_one_held(void **state)
{
	struct mw *w = fo_world();
	struct plan_report r;

	(void)state;
	w->fo_hold[1] = true;
	w->plan.timeouts.unplug_ms = 3000;
	assert_int_equal(plan_run(&w->plan, &w->env, &r), 0);
	assert_int_equal(r.outcome, OUTCOME_ROLLED_BACK);
	assert_int_equal(r.error_step, STEP_MIGRATE);
	assert_int_equal(r.error_code, PLAN_ERR_TIMEOUT);
	assert_string_equal(r.error, "the guest did not release failover primaries vf0, vf1 within "
				     "3000 ms (QEMU's wait-unplug); migration cancelled");
	assert_log(w, "src.primary_released(vf0);src.replug_primary(vf0);src.replug_primary(vf1);");
	assert_null(strstr(w->log, "announce"));
	assert_false(w->migrated);
	assert_true(fo_all_on(w, SRC));
	assert_int_equal(held(w), 0);
	assert_int_equal(r.steps[STEP_MIGRATE].result, STEP_FAILED);
	assert_string_equal(w->journal[w->n_journal - 1].outcome, "rolled-back");
	test_free(w);
}

/* The same, but the cancel leaves the second primary deleted from QEMU (a late eject): the
 * rollback plugs it again with its own pair, and the first one is only checked. */
static void test_failover_rollback_replugs_deleted(void **state)
{
	struct mw *w = fo_world();
	struct plan_report r;

	(void)state;
	w->fo_hold[1] = true;
	w->fo_delete[1] = true;
	assert_int_equal(plan_run(&w->plan, &w->env, &r), 0);
	assert_int_equal(r.outcome, OUTCOME_ROLLED_BACK);
	assert_log(w, "src.replug_primary(vf0);src.deleted_primary(vf1);src.plug(vf1,rp1);");
	assert_null(strstr(w->log, "src.plug(vf0"));
	assert_true(fo_all_on(w, SRC));
	assert_int_equal(held(w), 0);
	test_free(w);
}

/* After the point of no return the second VF cannot be plugged: the guest runs on the
 * destination on VF net0's primary and net1's standby; the report says degraded, names the
 * VF and the step; its destination VF goes back, both source VFs are released. */
static void test_failover_second_plug_fails_degraded(void **state)
{
	struct mw *w = fo_world();
	struct plan_report r;

	(void)state;
	run_plug_fails(w, 1, &r);
	assert_true(r.vfs[1].has_failed && r.vfs[1].failed_step == STEP_PLUG);
	assert_true(w->running[DST] && !w->running[SRC]);
	assert_true(fo_primary_active(w, DST, 0));
	assert_false(fo_primary_active(w, DST, 1));
	assert_string_equal(w->fo_plug_pair[0], "net0");
	assert_int_equal(held(w), 1);
	assert_int_equal(w->src_released, NVF);
	assert_false(r.vf_restored);
	assert_int_equal(r.steps[STEP_ENSLAVE].result, STEP_OK);
	assert_false(journal_has(w, JOURNAL_INTENT, "enslave", 1));
	assert_string_equal(w->journal[w->n_journal - 1].outcome, "degraded");
	test_free(w);
}

/* Crash before each journal record of a two-VF failover run, then recover with a config that
 * knows neither the mode nor the second VF: the journal's pairs and mode win; the guest ends
 * with both masters on their primaries on one side, no destination VF leaked. */
static void test_failover_recover_every_cut(void **state)
{
	struct plan_report r;
	struct mw *w = fo_world();
	uint32_t total, n_back = 0, n_fwd = 0;

	(void)state;
	assert_int_equal(plan_run(&w->plan, &w->env, &r), 0);
	total = (uint32_t)w->n_journal;
	test_free(w);
	for (uint32_t cut = 2; cut <= total; cut++) {
		struct journal_record *recs;
		size_t n;

		w = fo_world();
		recs = run_to_cut(w, cut, &n);
		w->plan.mode = PLAN_MODE_BOND;
		w->plan.n_vfs = 1;
		assert_int_equal(plan_recover(&w->plan, &w->env, recs, n, &r), 0);
		w->plan.n_vfs = NVF;
		if (r.mode != PLAN_MODE_FAILOVER ||
		    !((r.outcome == OUTCOME_ROLLED_BACK && fo_all_on(w, SRC) && held(w) == 0) ||
		      (r.outcome == OUTCOME_MIGRATED && fo_all_on(w, DST) && held(w) == NVF &&
		       !strcmp(w->fo_plug_pair[0], "net0") &&
		       !strcmp(w->fo_plug_pair[1], "net1")))) {
			print_error("cut %u: %s, inconsistent (held %u)\nlog: %s\n", cut,
				    plan_outcome_to_string(r.outcome), held(w), w->log);
			fail();
		}
		n_back += r.outcome == OUTCOME_ROLLED_BACK;
		n_fwd += r.outcome == OUTCOME_MIGRATED;
		test_free(recs);
		test_free(w);
	}
	/* Cuts on both sides of the point of no return. */
	assert_true(n_back >= 5 && n_fwd >= 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_two_vfs_migrate),
	    cmocka_unit_test(test_second_reservation_fails),
	    cmocka_unit_test(test_one_vf_too_few_refused),
	    cmocka_unit_test(test_unplug_of_second_fails),
	    cmocka_unit_test(test_replug_of_one_fails_degraded),
	    cmocka_unit_test(test_interrupt_rolls_back_both),
	    cmocka_unit_test(test_recover_every_cut),
	    cmocka_unit_test(test_failover_forced_refused),
	    cmocka_unit_test(test_failover_auto),
	    cmocka_unit_test(test_failover_two_vfs_migrate),
	    cmocka_unit_test(test_failover_same_pair_refused),
	    cmocka_unit_test(test_failover_unplug_deadline_one_held),
	    cmocka_unit_test(test_failover_rollback_replugs_deleted),
	    cmocka_unit_test(test_failover_second_plug_fails_degraded),
	    cmocka_unit_test(test_failover_recover_every_cut),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
