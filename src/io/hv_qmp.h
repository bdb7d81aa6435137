/* SPDX-License-Identifier: MIT */
/*
 * struct hv_ops over QMP, for a bare QEMU (7.2) with one monitor socket per guest per host.
 * The connection is opened lazily, with the deadline of the first operation, and reopened
 * after it broke (events sent while it was down are lost; unplug_wait then asks QEMU whether
 * the device is still there).
 */
#ifndef VFM_HV_QMP_H
#define VFM_HV_QMP_H

#include "core/ops.h"
#include "io/qmp_client.h"

struct hv_qmp_options {
	char socket_path[108];
	/* Destination started with "-incoming defer" (probe then reports HV_INCOMING_DEFERRED
	 * until migrate_incoming succeeded); false: started with "-incoming URI". */
	bool incoming_deferred;
	/* How often migrate_wait asks query-migrate for progress between events; 0 = 250. */
	int64_t progress_interval_ms;
	/* After "completed", how long migrate_wait re-polls while QEMU still reports total-time
	 * or downtime 0 (seen with QEMU 7.2); 0 = 2000. */
	int64_t stats_settle_ms;
	/* announce: NIC ids to announce (QMP announce-self "interfaces"); empty = all. */
	char announce_nic[VFM_ID_MAX];
};

struct hv_qmp;

int hv_qmp_new(const struct hv_qmp_options *o, struct hv_qmp **ret, struct diag *d);
/* Accepts NULL; returns NULL. */
struct hv_qmp *hv_qmp_free(struct hv_qmp *h);

/* Uses an already started client instead of connecting (tests); takes ownership of c. */
void hv_qmp_attach(struct hv_qmp *h, struct qmp_client *c);

/* Fills ops with this adapter's functions and h as userdata. */
void hv_qmp_ops(struct hv_qmp *h, struct hv_ops *ret_ops);

/*
 * The QEMU netdev id used for a TAP plug spec: spec->netdev_id, or "nd-" + device_id when it is
 * empty. -E2BIG when that does not fit.
 */
int hv_qmp_netdev_id(const struct plug_spec *spec, char ret[VFM_ID_MAX]);

#endif
