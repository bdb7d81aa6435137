/* SPDX-License-Identifier: MIT */
/*
 * An agent_ops for a libvirt domain that picks its transport at the first call, by
 * [libvirt] agent: the channel's socket when it is on this machine, the channel through
 * libvirt, or the stock qemu-ga through libvirt (see agent_lazy.c).
 */
#ifndef VFM_IO_AGENT_LAZY_H
#define VFM_IO_AGENT_LAZY_H

#include "core/ops.h"
#include "hv_libvirt.h"
#include "proto/config.h"

struct agent_lazy;

/* fixed_path: the socket the config names ("" or NULL: none); hv must outlive it. */
int agent_lazy_new(struct hv_libvirt *hv, enum config_agent mode, const char *fixed_path,
		   struct agent_lazy **ret);
struct agent_lazy *agent_lazy_free(struct agent_lazy *l);
void agent_lazy_ops(struct agent_lazy *l, struct agent_ops *ret_ops);
/* How the agent was reached ("socket", "channel", "qemu-ga"); NULL: not yet. */
const char *agent_lazy_transport(const struct agent_lazy *l);

#endif
