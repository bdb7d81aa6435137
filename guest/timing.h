/* SPDX-License-Identifier: MIT */
/*
 * The agent's own share of each request's time (guest-agent-timing): a backend that wraps the
 * real one and notes when the first call into the kernel of a request starts and its last
 * returns, and the request's begin and end around them. Replies of other commands do not
 * change; only guest-agent-timing shows what was measured.
 */
#ifndef VFM_GUEST_TIMING_H
#define VFM_GUEST_TIMING_H

#include "agent.h"
#include "../src/proto/agent_timing.h"

struct agent_timing {
	const struct agent_backend *inner;
	struct agent_backend ops; /* what the agent calls: inner's, each kernel call timed */
	int64_t (*now_ns)(void);  /* monotonic */
	/* The request under way. */
	int64_t t_begin, t_first, t_last, calls;
	/* The last one answered. */
	struct agent_timing_reply done;
};

/* Wraps inner (borrowed; outlives t). now_ns: the clock (time_now_ns, or a test's). */
void agent_timing_init(struct agent_timing *t, const struct agent_backend *inner,
		       int64_t (*now_ns)(void));
void agent_timing_begin(struct agent_timing *t);
/* The request that began is answered; command: its name ("" when it had none). */
void agent_timing_end(struct agent_timing *t, const char *command);

#endif
