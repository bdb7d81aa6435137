// SPDX-License-Identifier: MIT
/* hv_qmp's ops for failover mode: a VF's failover_pair_id, QEMU's wait-unplug, an announce out
 * of one NIC. */
#include "hv_qmp_impl.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* The device's failover_pair_id property (qom-get): "" when it is no failover primary. */
int hv_qmp_failover_pair(void *ud, const char *device_id, int64_t deadline_ms, char ret[VFM_ID_MAX],
			 struct diag *d)
{
	struct hv_qmp *h = ud;
	char path[VFM_ID_MAX + 32];
	json_t *v = NULL;
	int r;

	snprintf(path, sizeof(path), "/machine/peripheral/%s", device_id);
	r = hv_qmp_exec_new(h, "qom-get",
			    json_pack("{ssss}", "path", path, "property", "failover_pair_id"),
			    deadline_ms, &v, d);
	if (r == -EREMOTEIO && hv_qmp_error_class_is(h, "DeviceNotFound"))
		r = -ENOENT;
	if (r < 0)
		return r;
	if (!json_is_string(v)) {
		json_decref(v);
		diag_set(d, "qom-get failover_pair_id: not a string");
		return -EPROTO;
	}
	r = hv_qmp_copy_str(ret, VFM_ID_MAX, json_string_value(v), "failover_pair_id", d);
	json_decref(v);
	return r;
}

static bool unplug_pending(enum qmp_migration_status st)
{
	return st == QMP_MIG_SETUP || st == QMP_MIG_WAIT_UNPLUG;
}

/* The migration left wait-unplug with status st: 0 when it goes on (the guest released the
 * primary), else why it does not (failed, cancelled, or a status we do not know). */
static int left_unplug(enum qmp_migration_status st, struct diag *d)
{
	switch (st) {
	case QMP_MIG_FAILED:
		diag_set(d, "the migration failed in wait-unplug");
		return -EIO;
	case QMP_MIG_CANCELLING:
	case QMP_MIG_CANCELLED:
		diag_set(d, "the migration was cancelled in wait-unplug");
		return -ECANCELED;
	case QMP_MIG_UNKNOWN:
		diag_set(d, "the migration left wait-unplug for status %s",
			 qmp_migration_status_to_string(st));
		return -EPROTO;
	default:
		return 0;
	}
}

/* Until the migration leaves setup and wait-unplug: its MIGRATION events, re-polled each
 * progress interval (an event may be lost to a reconnect). */
int hv_qmp_migrate_wait_unplug(void *ud, int64_t deadline_ms, struct diag *d)
{
	struct hv_qmp *h = ud;
	struct qmp_migration_info mi;
	int r;

	r = hv_qmp_query_migrate(h, deadline_ms, &mi, d);
	while (r >= 0 && unplug_pending(mi.status)) {
		int64_t slice = time_now_ms() + h->o.progress_interval_ms;
		struct qmp_event ev = {0};
		enum qmp_migration_status st;

		if (time_now_ms() >= deadline_ms) {
			diag_set(d, "migration still in %s at the deadline",
				 qmp_migration_status_to_string(mi.status));
			return -ETIMEDOUT;
		}
		r = qmp_client_wait_event(h->c, "MIGRATION", NULL, NULL,
					  slice < deadline_ms ? slice : deadline_ms, &ev, d);
		if (r == 0) {
			r = qmp_parse_migration_event(ev.data, &st, d);
			qmp_event_clear(&ev);
			if (r < 0)
				return -EPROTO;
			if (!unplug_pending(st))
				return left_unplug(st, d);
		} else if (r == -ETIMEDOUT && time_now_ms() < deadline_ms) {
			r = hv_qmp_query_migrate(h, deadline_ms, &mi, d);
		} else if (r == -ETIMEDOUT) {
			r = 0; /* the deadline: say so with the last state seen */
		}
		if (r >= 0 && h->interrupted && unplug_pending(mi.status)) {
			const char *why = h->interrupted(h->intr_userdata);

			if (why) {
				diag_set(d, "interrupted by %s in wait-unplug", why);
				return -EINTR;
			}
		}
	}
	if (r < 0)
		return r;
	return unplug_pending(mi.status) ? 0 : left_unplug(mi.status, d);
}

/* One round, at once, out of one NIC (QMP announce-self with "interfaces"). */
int hv_qmp_announce_nic(void *ud, const char *nic_id, int64_t deadline_ms, struct diag *d)
{
	return hv_qmp_exec_new(ud, "announce-self",
			       json_pack("{sisisisis[s]}", "initial", 1, "max", 1, "rounds", 1,
					 "step", 1, "interfaces", nic_id),
			       deadline_ms, NULL, d);
}
