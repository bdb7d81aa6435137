/* SPDX-License-Identifier: MIT */
/* The agent backend over rtnetlink sockets (libmnl). */
#ifndef VFM_AGENT_BACKEND_NL_H
#define VFM_AGENT_BACKEND_NL_H

#include "agent.h"

struct nl_backend;

/* sysfs_root: "/sys" normally (tests may point elsewhere). Returns 0 or -errno. */
int nl_backend_new(const char *sysfs_root, struct nl_backend **ret);
struct nl_backend *nl_backend_free(struct nl_backend *b);
/* Fills ret with the backend's operations (ctx = b). */
void nl_backend_ops(struct nl_backend *b, struct agent_backend *ret);

#endif
