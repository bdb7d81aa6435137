/* SPDX-License-Identifier: MIT */
/* What agent_qga.c shares with agent_qga_failover.c. Private to src/io. */
#ifndef VFM_IO_AGENT_QGA_IMPL_H
#define VFM_IO_AGENT_QGA_IMPL_H

#include "agent_qga.h"

/* One qemu-ga command; args consumed (may be NULL); *ret: a new reference to "return". */
int agent_qga_cmd(struct agent_qga *a, const char *cmd, json_t *args, int64_t deadline,
		  json_t **ret, struct diag *d);
/* Reads a small guest file (malloc'd, NUL-terminated). -ENOENT: it cannot be opened. */
int agent_qga_read(struct agent_qga *a, const char *path, int64_t deadline, char **ret,
		   struct diag *d);
/* A NIC's kind from its device's uevent (no device: NIC_KIND_OTHER). name: ifname_ok. */
int agent_qga_nic_ident(struct agent_qga *a, const char *name, int64_t deadline,
			enum nic_kind *ret_kind, struct diag *d);

/* agent_qga_failover.c: struct agent_ops failover_status over qemu-ga. */
int agent_qga_failover_status(void *ud, const uint8_t mac[6], int64_t primary_wait_ms,
			      int64_t deadline, struct failover_status *ret, struct diag *d);

#endif
