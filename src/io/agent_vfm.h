/* SPDX-License-Identifier: MIT */
/*
 * struct agent_ops over vfmigrate-agent (QGA wire protocol on a QEMU chardev UNIX socket, or on
 * any stream a connect callback opens; commands guest-bond-*, guest-link-wait, guest-ping).
 * The connection is opened lazily with the deadline of the first call and reopened after it
 * broke. NICs are named by MAC.
 *
 * Errors from the agent reach d verbatim ("guest-bond-enslave: ..."); the error class maps to
 * -errno: DeviceNotFound -> -ENOENT (bond_status) / -ENODEV, Timeout -> -ETIMEDOUT,
 * InvalidState -> -EINVAL, others -> -EREMOTEIO. Text the guest sends (bond and slave names,
 * mode, PCI addresses, error descs) comes out sanitized (str_sanitize()). guest-bond-status's
 * fail_over_mac and the bond's own mac are optional (an older agent sends neither: unknown,
 * no MAC) but strict when present: another word or a malformed MAC is -EPROTO.
 */
#ifndef VFM_IO_AGENT_VFM_H
#define VFM_IO_AGENT_VFM_H

#include <jansson.h>

#include "core/ops.h"

struct agent_vfm;

int agent_vfm_new(const char *socket_path, struct agent_vfm **ret, struct diag *d);

/*
 * Opens a new connection to the agent: returns a connected stream fd (the caller of the
 * callback owns it) or -errno with the reason in d. deadline_ms: when the first call that
 * needs the connection gives up.
 */
typedef int (*agent_vfm_connect_fn)(void *userdata, int64_t deadline_ms, struct diag *d);

/*
 * The same over connections that connect() makes (e.g. a channel through libvirt): opened at
 * the first call and again after one broke, like a socket path. what names the transport in
 * messages ("WHAT: ..."; the caller names the guest agent and its side); userdata is
 * borrowed.
 */
int agent_vfm_new_connect(const char *what, agent_vfm_connect_fn connect, void *userdata,
			  struct agent_vfm **ret, struct diag *d);
/* Accepts NULL; returns NULL. */
struct agent_vfm *agent_vfm_free(struct agent_vfm *a);
/* Whether any call tried to reach the agent (for a report of what was used). */
bool agent_vfm_used(const struct agent_vfm *a);
void agent_vfm_ops(struct agent_vfm *a, struct agent_ops *ret_ops);

/* guest-failover-status's reply (strict: -EPROTO with d on anything else). For the fuzzer. */
int agent_vfm_parse_failover(json_t *r, struct failover_status *ret, struct diag *d);

#endif
