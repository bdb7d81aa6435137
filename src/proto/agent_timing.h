/* SPDX-License-Identifier: MIT */
/*
 * The reply of vfmigrate-agent's guest-agent-timing (no I/O): how the agent spent the last
 * request it answered before this one. Encoded by the agent, parsed strictly by the host.
 *
 * Times are nanoseconds of the guest's monotonic clock. A request's total runs from the framed
 * message (before its JSON is parsed) to the formatted reply (before it is written); kernel is
 * from the start of the agent's first call into the kernel (rtnetlink, sysfs, or a wait for
 * netlink events) to the return of its last, so before + after is the agent's own share:
 * parsing, dispatch, argument checks, building the reply.
 *   {"requests": N, "last": null | {"command": NAME, "total_ns": T, "before_kernel_ns": B,
 *    "kernel_ns": K, "after_kernel_ns": A, "kernel_calls": C}}
 * with T = B + K + A, and K = A = 0 when C = 0.
 */
#ifndef VFM_AGENT_TIMING_H
#define VFM_AGENT_TIMING_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "qga.h"

#define AGENT_TIMING_COMMAND   "guest-agent-timing"
#define AGENT_TIMING_NS_MAX    1000000000000LL /* 1000 s: far above any deadline */
#define AGENT_TIMING_CALLS_MAX 1000000

struct agent_timing_rec {
	char command[QGA_COMMAND_NAME_MAX];
	int64_t total_ns, before_ns, kernel_ns, after_ns;
	int64_t kernel_calls;
};

struct agent_timing_reply {
	int64_t requests;
	bool has_last;
	struct agent_timing_rec last;
};

/* The reply's "return" value (a new reference), or NULL when out of memory. */
json_t *agent_timing_to_json(const struct agent_timing_reply *r);

/*
 * Parses a "return" value strictly: exactly these members, integers in range, a command name
 * of printable ASCII, and the sums above. Returns 0 or -EBADMSG with d filled (*ret untouched).
 */
int agent_timing_parse(json_t *v, struct agent_timing_reply *ret, struct diag *d);

#endif
