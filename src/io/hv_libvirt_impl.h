/* SPDX-License-Identifier: MIT */
/*
 * What the libvirt adapter's pieces share: hv_libvirt.c (connection, domain, devices),
 * hv_libvirt_stream.c (a channel through libvirt as a socket), hv_libvirt_migrate.c (the
 * migration). Private to src/io.
 */
#ifndef VFM_IO_HV_LIBVIRT_IMPL_H
#define VFM_IO_HV_LIBVIRT_IMPL_H

#include <libvirt/libvirt-qemu.h>
#include <libvirt/virterror.h>
#include <pthread.h>

#include "hv_libvirt.h"

/* One event loop thread per process, and one lock for everything its callbacks touch. */
extern pthread_mutex_t lv_lock;
extern pthread_cond_t lv_cond;

static inline void domp(virDomainPtr *dom)
{
	if (*dom)
		virDomainFree(*dom);
}
#define _cleanup_dom_ _cleanup_(domp)

enum unplug_state {
	UNPLUG_IDLE = 0,
	UNPLUG_PENDING,
	UNPLUG_REMOVED,
	UNPLUG_FAILED
};

struct mig_thread {
	/* Owned by the thread once started; freed by whoever sees it last (refs). */
	int refs;
	bool done;
	bool ok;
	char err[sizeof(((struct diag *)0)->msg)];
	int err_code, err_domain; /* libvirt's error (virErrorNumber, virErrorDomain) */
	virDomainPtr dom;
	virConnectPtr dconn;
	virTypedParameterPtr params;
	int nparams;
	unsigned flags;
};

struct hv_libvirt {
	struct hv_libvirt_options o;
	struct hv_libvirt *peer;
	virConnectPtr conn;
	int cb_removed, cb_failed, cb_job;
	unsigned gen, unplug_gen;
	/* Under lv_lock. */
	enum unplug_state unplug;
	char unplug_alias[VFM_ID_MAX];
	struct mig_thread *mig;
	/* The domain's last job-completed event since migrate_start cleared it (the completed
	 * migration's statistics), on this connection. */
	bool job_completed;
	struct migrate_stats job_stats;
	/* migrate_wait stops with -EINTR once this says so (set_interrupt). */
	interrupt_fn interrupted;
	void *intr_userdata;
	/* Channels opened through libvirt so far (a reopen forces out our own stale stream). */
	unsigned channels_opened;
};

/* hv_libvirt_migrate.c */
int hv_migrate_incoming(void *ud, const struct migrate_params *p, int64_t deadline_ms,
			struct diag *d);
int hv_migrate_start(void *ud, const struct migrate_params *p, int64_t deadline_ms, struct diag *d);
int hv_migrate_wait(void *ud, int64_t deadline_ms, migrate_progress_fn progress, void *cb_userdata,
		    struct migrate_stats *ret_stats, struct diag *d);
void hv_set_interrupt(void *ud, interrupt_fn interrupted, void *intr_userdata);
int hv_migrate_wait_unplug(void *ud, int64_t deadline_ms, struct diag *d);
/* The VIR_DOMAIN_EVENT_ID_JOB_COMPLETED callback; opaque is the struct hv_libvirt. */
void lv_on_job_completed(virConnectPtr c, virDomainPtr dom, virTypedParameterPtr params,
			 int nparams, void *opaque);
int hv_migrate_cancel(void *ud, int64_t deadline_ms, struct diag *d);

/* hv_libvirt.c */
bool lv_dom_is_ours(struct hv_libvirt *h, virDomainPtr dom);
void lv_cond_wait_until(int64_t deadline_ms);
int lv_error(struct diag *d, const char *fmt, ...) _printf_(2, 3);
void mig_unref_locked(struct mig_thread *m);
int lv_conn(struct hv_libvirt *h, struct diag *d);
int lv_dom(struct hv_libvirt *h, virDomainPtr *ret, struct diag *d);

#endif
