// SPDX-License-Identifier: MIT
/* Migration through libvirt: virDomainMigrate3 on a thread of its own, its job's stats. */
#include "hv_libvirt_impl.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

int hv_migrate_incoming(void *ud, const struct migrate_params *p, int64_t deadline_ms,
			struct diag *d)
{
	(void)ud;
	(void)p;
	(void)deadline_ms;
	(void)d;
	return 0; /* libvirt prepares the destination itself */
}

int hv_libvirt_migrate_errno(int code, int domain)
{
	/* The plan treats a timeout or an interrupt of the migration as its own (deadline, signal):
	 * a failure libvirt reports is cancelled or it is not. */
	return hv_libvirt_errno(code, domain) == -ECANCELED ? -ECANCELED : -EIO;
}

static void *mig_run(void *ud)
{
	struct mig_thread *m = ud;
	virDomainPtr nd;
	char err[sizeof(m->err)] = "";
	int code = VIR_ERR_OK, domain = VIR_FROM_NONE;

	nd = virDomainMigrate3(m->dom, m->dconn, m->params, (unsigned)m->nparams, m->flags);
	if (nd)
		virDomainFree(nd);
	else {
		virErrorPtr e = virGetLastError();

		snprintf(err, sizeof(err), "%s",
			 e && e->message ? e->message : "unknown libvirt error");
		if (e) {
			code = e->code;
			domain = e->domain;
		}
	}
	pthread_mutex_lock(&lv_lock);
	m->done = true;
	m->ok = nd != NULL;
	memcpy(m->err, err, sizeof(err));
	m->err_code = code;
	m->err_domain = domain;
	pthread_cond_broadcast(&lv_cond);
	mig_unref_locked(m);
	pthread_mutex_unlock(&lv_lock);
	return NULL;
}

/*
 * Bond mode: xml without the VFs, each found by its alias. Not by MAC as well: the layout where
 * the VF and its virtio backup share one MAC (see MAC MODEL) would lose the virtio NIC too, and
 * libvirt would refuse the definition (its NIC count differs). A VF without an alias (none
 * that vfmigrate knows) is found by its MAC.
 */
static int xml_without_vfs(const struct hv_libvirt_options *o, const char *xml, char **ret,
			   struct diag *d)
{
	char *cur = strdup(xml);

	if (!cur)
		return -ENOMEM;
	for (size_t i = 0; i < o->n_vfs && i < VFM_VFS_MAX; i++) {
		const char *alias = o->vfs[i].alias[0] ? o->vfs[i].alias : NULL;
		char *out = NULL;
		unsigned removed = 0;
		int r = domxml_remove_nic(cur, strlen(cur), alias, alias ? NULL : o->vfs[i].mac,
					  &out, &removed, d);

		free(cur);
		if (r < 0)
			return r;
		cur = out;
	}
	*ret = cur;
	return 0;
}

/*
 * Failover mode: xml with each VF's <interface> given its destination VF's source (the rest of
 * it stays: QEMU on the destination starts it hidden and plugs it once the guest arrived). An
 * inactive definition without such an interface keeps it as it is.
 */
static int xml_with_dest_vfs(const char *xml, bool inactive, const struct migrate_params *p,
			     char **ret, struct diag *d)
{
	char *cur = strdup(xml);

	if (!cur)
		return -ENOMEM;
	for (size_t i = 0; i < p->n_failover_vfs && i < VFM_VFS_MAX; i++) {
		const struct plug_spec *vf = &p->failover_vfs[i];
		char *out = NULL;
		int r = domxml_set_nic_source(cur, strlen(cur), vf->device_id, vf, &out, d);

		if (r == -ENOENT && inactive)
			continue;
		free(cur);
		if (r < 0) {
			diag_prefix(d, "destination XML");
			return r;
		}
		cur = out;
	}
	*ret = cur;
	return 0;
}

int hv_libvirt_dest_xml(const struct hv_libvirt_options *o, const char *xml, bool inactive,
			const struct migrate_params *p, char **ret, struct diag *d)
{
	if (p->n_failover_vfs)
		return xml_with_dest_vfs(xml, inactive, p, ret, d);
	return xml_without_vfs(o, xml, ret, d);
}

/* The destination XML of dom (flags for virDomainGetXMLDesc) in p's mode. */
static int dest_xml(struct hv_libvirt *h, virDomainPtr dom, unsigned flags,
		    const struct migrate_params *p, char **ret, struct diag *d)
{
	_cleanup_free_ char *xml = virDomainGetXMLDesc(dom, flags);

	if (!xml)
		return lv_error(d, "XML of %s", h->o.domain);
	return hv_libvirt_dest_xml(&h->o, xml, (flags & VIR_DOMAIN_XML_INACTIVE) != 0, p, ret, d);
}

int hv_migrate_start(void *ud, const struct migrate_params *p, int64_t deadline_ms, struct diag *d)
{
	struct hv_libvirt *h = ud;
	_cleanup_dom_ virDomainPtr dom = NULL;
	_cleanup_free_ char *dxml = NULL, *pxml = NULL;
	virTypedParameterPtr params = NULL;
	int nparams = 0, maxparams = 0, r;
	unsigned flags = VIR_MIGRATE_LIVE;
	struct mig_thread *m;
	pthread_t t;

	(void)deadline_ms;
	if (!h->peer) {
		diag_set(d, "no destination connection for the migration");
		return -EINVAL;
	}
	pthread_mutex_lock(&lv_lock);
	r = h->mig && !h->mig->done ? -EBUSY : 0;
	pthread_mutex_unlock(&lv_lock);
	if (r < 0) {
		diag_set(d, "a migration is already running");
		return r;
	}
	r = lv_dom(h, &dom, d);
	if (r < 0)
		return r;
	r = lv_conn(h->peer, d);
	if (r < 0) {
		diag_prefix(d, "destination");
		return r;
	}
	r = dest_xml(h, dom, VIR_DOMAIN_XML_SECURE | VIR_DOMAIN_XML_MIGRATABLE, p, &dxml, d);
	if (r < 0)
		return r;
	if (virDomainIsPersistent(dom) == 1) {
		r = dest_xml(h, dom,
			     VIR_DOMAIN_XML_SECURE | VIR_DOMAIN_XML_MIGRATABLE |
				 VIR_DOMAIN_XML_INACTIVE,
			     p, &pxml, d);
		if (r < 0)
			return r;
		flags |= VIR_MIGRATE_PERSIST_DEST | VIR_MIGRATE_UNDEFINE_SOURCE;
	}
	if (p->downtime_limit_ms > 0 &&
	    virDomainMigrateSetMaxDowntime(dom, (unsigned long long)p->downtime_limit_ms, 0) < 0)
		return lv_error(d, "set the downtime limit");
	if (virTypedParamsAddString(&params, &nparams, &maxparams, VIR_MIGRATE_PARAM_DEST_XML,
				    dxml) < 0 ||
	    (pxml && virTypedParamsAddString(&params, &nparams, &maxparams,
					     VIR_MIGRATE_PARAM_PERSIST_XML, pxml) < 0) ||
	    (p->uri[0] && virTypedParamsAddString(&params, &nparams, &maxparams,
						  VIR_MIGRATE_PARAM_URI, p->uri) < 0) ||
	    (p->max_bandwidth > 0 &&
	     virTypedParamsAddULLong(&params, &nparams, &maxparams, VIR_MIGRATE_PARAM_BANDWIDTH,
				     (unsigned long long)(p->max_bandwidth + (1 << 20) - 1) >> 20) <
		 0)) {
		virTypedParamsFree(params, nparams);
		return lv_error(d, "migration parameters");
	}
	m = calloc(1, sizeof(*m));
	if (!m) {
		virTypedParamsFree(params, nparams);
		return -ENOMEM;
	}
	m->refs = 2;
	m->dom = dom;
	dom = NULL;
	m->dconn = h->peer->conn;
	virConnectRef(m->dconn);
	m->params = params;
	m->nparams = nparams;
	m->flags = flags;
	pthread_mutex_lock(&lv_lock);
	mig_unref_locked(h->mig);
	h->mig = m;
	h->job_completed = h->peer->job_completed = false;
	pthread_mutex_unlock(&lv_lock);
	if (pthread_create(&t, NULL, mig_run, m) != 0) {
		pthread_mutex_lock(&lv_lock);
		m->refs--;
		m->done = true;
		snprintf(m->err, sizeof(m->err), "cannot start the migration thread");
		pthread_mutex_unlock(&lv_lock);
		diag_set(d, "cannot start the migration thread");
		return -EAGAIN;
	}
	pthread_detach(t);
	return 0;
}

static unsigned long long tp_ull(virTypedParameterPtr p, int n, const char *name)
{
	unsigned long long v = 0;

	if (virTypedParamsGetULLong(p, n, name, &v) != 1)
		return 0;
	return v;
}

static void stats_from_params(virTypedParameterPtr p, int n, struct migrate_stats *s)
{
	s->total_ms = (int64_t)tp_ull(p, n, VIR_DOMAIN_JOB_TIME_ELAPSED);
	s->downtime_ms = (int64_t)tp_ull(p, n, VIR_DOMAIN_JOB_DOWNTIME);
	s->setup_ms = (int64_t)tp_ull(p, n, VIR_DOMAIN_JOB_SETUP_TIME);
	s->transferred_bytes = tp_ull(p, n, VIR_DOMAIN_JOB_MEMORY_PROCESSED);
	s->remaining_bytes = tp_ull(p, n, VIR_DOMAIN_JOB_MEMORY_REMAINING);
	s->total_bytes = tp_ull(p, n, VIR_DOMAIN_JOB_MEMORY_TOTAL);
	s->dirty_sync_count = tp_ull(p, n, VIR_DOMAIN_JOB_MEMORY_ITERATION);
}

static int job_stats(virDomainPtr dom, bool completed, struct migrate_stats *ret)
{
	virTypedParameterPtr p = NULL;
	int n = 0, type = 0;

	if (virDomainGetJobStats(dom, &type, &p, &n,
				 completed ? VIR_DOMAIN_JOB_STATS_COMPLETED : 0) < 0) {
		virResetLastError();
		return -EIO;
	}
	memset(ret, 0, sizeof(*ret));
	stats_from_params(p, n, ret);
	virTypedParamsFree(p, n);
	return type;
}

void lv_on_job_completed(virConnectPtr c, virDomainPtr dom, virTypedParameterPtr params,
			 int nparams, void *opaque)
{
	struct hv_libvirt *h = opaque;
	struct migrate_stats s = {0};

	(void)c;
	if (!lv_dom_is_ours(h, dom))
		return;
	stats_from_params(params, nparams, &s);
	pthread_mutex_lock(&lv_lock);
	h->job_stats = s;
	h->job_completed = true;
	pthread_cond_broadcast(&lv_cond);
	pthread_mutex_unlock(&lv_lock);
}

/* The destination's completed job: its statistics once libvirt has them, else -1. */
static int peer_job_stats(struct hv_libvirt *h, struct migrate_stats *ret)
{
	_cleanup_dom_ virDomainPtr dd = NULL;
	struct diag ignored;
	struct migrate_stats t;

	if (!h->peer || lv_dom(h->peer, &dd, &ignored) < 0 || job_stats(dd, true, &t) < 0 ||
	    t.total_ms <= 0)
		return -1;
	*ret = t;
	return 0;
}

/* Under lv_lock: the statistics a job-completed event brought, on either connection. */
static bool event_stats_locked(struct hv_libvirt *h, struct migrate_stats *ret)
{
	if (h->job_completed && h->job_stats.total_ms > 0) {
		*ret = h->job_stats;
		return true;
	}
	if (h->peer && h->peer->job_completed && h->peer->job_stats.total_ms > 0) {
		*ret = h->peer->job_stats;
		return true;
	}
	return false;
}

/*
 * The completed migration's statistics. libvirt's migrate API may return before the
 * destination has them: then they come with the domain's job-completed event (on the source's
 * or the destination's connection, whichever says first), waited for up to FINAL_STATS_MS,
 * and for a daemon that sends no such event the destination is asked once more at the end.
 */
#define FINAL_STATS_MS 2000
static void final_stats(struct hv_libvirt *h, struct migrate_stats *s)
{
	int64_t until = time_now_ms() + FINAL_STATS_MS;
	bool got;

	memset(s, 0, sizeof(*s));
	s->total_ms = s->downtime_ms = s->setup_ms = -1;
	got = peer_job_stats(h, s) == 0;
	if (!got) {
		pthread_mutex_lock(&lv_lock);
		while (!(got = event_stats_locked(h, s)) && time_now_ms() < until)
			lv_cond_wait_until(until);
		pthread_mutex_unlock(&lv_lock);
	}
	if (!got)
		(void)peer_job_stats(h, s);
	snprintf(s->status, sizeof(s->status), "completed");
	if (s->total_ms <= 0)
		s->total_ms = -1;
	if (s->downtime_ms <= 0)
		s->downtime_ms = -1;
}

int hv_migrate_wait(void *ud, int64_t deadline_ms, migrate_progress_fn progress, void *cb_userdata,
		    struct migrate_stats *ret_stats, struct diag *d)
{
	struct hv_libvirt *h = ud;
	struct mig_thread *m;
	bool ok;
	char err[sizeof(m->err)];
	int code, domain;

	pthread_mutex_lock(&lv_lock);
	m = h->mig;
	if (!m) {
		pthread_mutex_unlock(&lv_lock);
		diag_set(d, "no migration is running");
		return -ESRCH;
	}
	for (;;) {
		int64_t slice = time_now_ms() + h->o.progress_interval_ms;

		if (slice > deadline_ms)
			slice = deadline_ms;
		while (!m->done && time_now_ms() < slice)
			lv_cond_wait_until(slice);
		if (m->done)
			break;
		if (h->interrupted) {
			/* Checked once a slice: the wait on the condition does not end early
			 * on a signal. */
			const char *why = h->interrupted(h->intr_userdata);

			if (why) {
				pthread_mutex_unlock(&lv_lock);
				diag_set(d, "interrupted by %s while migrating", why);
				return -EINTR;
			}
		}
		if (time_now_ms() >= deadline_ms) {
			pthread_mutex_unlock(&lv_lock);
			diag_set(d, "migration still running at the deadline");
			return -ETIMEDOUT;
		}
		pthread_mutex_unlock(&lv_lock);
		if (progress) {
			_cleanup_dom_ virDomainPtr dom = NULL;
			struct diag ignored;
			struct migrate_stats s;

			if (lv_dom(h, &dom, &ignored) >= 0 && job_stats(dom, false, &s) >= 0) {
				snprintf(s.status, sizeof(s.status), "active");
				progress(cb_userdata, &s);
			}
		}
		pthread_mutex_lock(&lv_lock);
	}
	ok = m->ok;
	memcpy(err, m->err, sizeof(err));
	code = m->err_code;
	domain = m->err_domain;
	pthread_mutex_unlock(&lv_lock);
	if (!ok) {
		diag_set(d, "migration failed: %s", err);
		return hv_libvirt_migrate_errno(code, domain);
	}
	final_stats(h, ret_stats);
	return 0;
}

/*
 * Failover mode, right after migrate_start: QEMU asked the guest to unplug the primary and sits
 * in wait-unplug, where its query-migrate has no RAM figures. libvirt names no such state in
 * its job stats (9.0), so the unplug is over once RAM is being sent (memory total or processed
 * above 0) or the migration ended. This also covers libvirt's preparation of the destination
 * before QEMU starts (the same zero figures): the deadline bounds both.
 */
int hv_migrate_wait_unplug(void *ud, int64_t deadline_ms, struct diag *d)
{
	struct hv_libvirt *h = ud;
	bool done;

	for (;;) {
		_cleanup_dom_ virDomainPtr dom = NULL;
		struct migrate_stats s;
		struct diag ignored;
		int64_t slice = time_now_ms() + h->o.progress_interval_ms;

		pthread_mutex_lock(&lv_lock);
		if (!h->mig) {
			pthread_mutex_unlock(&lv_lock);
			diag_set(d, "no migration is running");
			return -ESRCH;
		}
		done = h->mig->done;
		pthread_mutex_unlock(&lv_lock);
		if (done)
			return 0; /* migrate_wait says how it ended */
		if (lv_dom(h, &dom, &ignored) >= 0 && job_stats(dom, false, &s) > 0 &&
		    (s.total_bytes > 0 || s.transferred_bytes > 0))
			return 0;
		if (h->interrupted) {
			const char *why = h->interrupted(h->intr_userdata);

			if (why) {
				diag_set(d, "interrupted by %s in QEMU's wait-unplug", why);
				return -EINTR;
			}
		}
		if (time_now_ms() >= deadline_ms) {
			diag_set(d, "the migration is still in QEMU's wait-unplug at the deadline");
			return -ETIMEDOUT;
		}
		if (slice > deadline_ms)
			slice = deadline_ms;
		pthread_mutex_lock(&lv_lock);
		while (!h->mig->done && time_now_ms() < slice)
			lv_cond_wait_until(slice);
		pthread_mutex_unlock(&lv_lock);
	}
}

void hv_set_interrupt(void *ud, interrupt_fn interrupted, void *intr_userdata)
{
	struct hv_libvirt *h = ud;

	h->interrupted = interrupted;
	h->intr_userdata = interrupted ? intr_userdata : NULL;
}

int hv_migrate_cancel(void *ud, int64_t deadline_ms, struct diag *d)
{
	struct hv_libvirt *h = ud;
	_cleanup_dom_ virDomainPtr dom = NULL;
	bool running, ok;
	int r;

	pthread_mutex_lock(&lv_lock);
	running = h->mig && !h->mig->done;
	pthread_mutex_unlock(&lv_lock);
	r = lv_dom(h, &dom, d);
	if (r < 0)
		return r;
	if (virDomainAbortJob(dom) < 0) {
		struct diag ad = {{0}};

		r = lv_error(&ad, "abort the migration");
		/* No job (not ours, or already over): nothing to cancel. */
		if (running && r != -EINVAL) {
			*d = ad;
			return r;
		}
	}
	if (!running)
		return 0;
	pthread_mutex_lock(&lv_lock);
	while (!h->mig->done && time_now_ms() < deadline_ms)
		lv_cond_wait_until(deadline_ms);
	running = !h->mig->done;
	ok = h->mig->ok;
	pthread_mutex_unlock(&lv_lock);
	if (running) {
		diag_set(d, "migration still cancelling at the deadline");
		return -ETIMEDOUT;
	}
	if (ok) {
		diag_set(d, "migration completed before it could be cancelled");
		return -EALREADY;
	}
	return 0;
}
