/* SPDX-License-Identifier: MIT */
/* What hv_qmp.c and hv_qmp_failover.c share. Private to src/io. */
#ifndef VFM_HV_QMP_IMPL_H
#define VFM_HV_QMP_IMPL_H

#include "hv_qmp.h"

struct hv_qmp {
	struct hv_qmp_options o;
	struct qmp_client *c;
	/* Incremented on every (re)connection: events from before it are lost. */
	unsigned gen;
	unsigned unplug_gen;
	/* QEMU's refusal of a device_del taken for a removal already pending (unplug_refused):
	 * named should that removal not come. "" otherwise. */
	char unplug_refusal[512];
	bool incoming_started;
	/* migrate_wait stops with -EINTR once this says so (set_interrupt). */
	interrupt_fn interrupted;
	void *intr_userdata;
};

/* Runs one command on a (re)connected client. */
int hv_qmp_exec(struct hv_qmp *h, const char *cmd, json_t *args, int64_t deadline_ms, json_t **ret,
		struct diag *d);
/* Same, consuming args (a new reference, may be NULL on allocation failure). */
int hv_qmp_exec_new(struct hv_qmp *h, const char *cmd, json_t *args, int64_t deadline_ms,
		    json_t **ret, struct diag *d);
/* Whether the last command failed with QMP error class cls. */
bool hv_qmp_error_class_is(struct hv_qmp *h, const char *cls);
int hv_qmp_copy_str(char *dst, size_t n, const char *src, const char *what, struct diag *d);
int hv_qmp_query_migrate(struct hv_qmp *h, int64_t deadline_ms, struct qmp_migration_info *ret_info,
			 struct diag *d);

/* hv_qmp_failover.c: the ops of the same names. */
int hv_qmp_failover_pair(void *ud, const char *device_id, int64_t deadline_ms, char ret[VFM_ID_MAX],
			 struct diag *d);
int hv_qmp_migrate_wait_unplug(void *ud, int64_t deadline_ms, struct diag *d);
int hv_qmp_announce_nic(void *ud, const char *nic_id, int64_t deadline_ms, struct diag *d);

#endif
