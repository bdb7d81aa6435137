/* SPDX-License-Identifier: MIT */
/*
 * struct agent_ops over vfmigrate-agent (QGA wire protocol on a QEMU chardev UNIX socket,
 * commands guest-bond-*, guest-link-wait, guest-ping). The connection is opened lazily with
 * the deadline of the first call and reopened after it broke. NICs are named by MAC.
 *
 * Errors from the agent reach d verbatim ("guest-bond-enslave: ..."); the error class maps to
 * -errno: DeviceNotFound -> -ENOENT (bond_status) / -ENODEV, Timeout -> -ETIMEDOUT,
 * InvalidState -> -EINVAL, others -> -EREMOTEIO. Text the guest sends (bond and slave names,
 * mode, PCI addresses, error descs) comes out sanitized (str_sanitize()).
 */
#ifndef VFM_IO_AGENT_VFM_H
#define VFM_IO_AGENT_VFM_H

#include "core/ops.h"

struct agent_vfm;

int agent_vfm_new(const char *socket_path, struct agent_vfm **ret, struct diag *d);
/* Accepts NULL; returns NULL. */
struct agent_vfm *agent_vfm_free(struct agent_vfm *a);
void agent_vfm_ops(struct agent_vfm *a, struct agent_ops *ret_ops);

#endif
