/* SPDX-License-Identifier: MIT */
/*
 * The plan of an evacuation: which guest goes to which destination, checked against the VFs
 * each destination has free per physical network and against every guest's pre-flight,
 * before anything moves. Pure: the caller counts the free VFs (evac_count_free) and runs the
 * pre-flights; this decides and says why a plan does not fit.
 */
#ifndef VFM_CORE_EVAC_H
#define VFM_CORE_EVAC_H

#include <stdbool.h>
#include <stddef.h>

#include "plan.h"

#define EVAC_NEEDS_MAX	  8  /* physical networks one guest needs VFs on */
#define EVAC_DESTS_MAX	  16 /* destinations of one evacuation */
#define EVAC_GUESTS_MAX	  64 /* guests of one evacuation */
#define EVAC_PROBLEMS_MAX 64

/* count VFs on physnet. */
struct evac_need {
	char physnet[VFM_ID_MAX];
	unsigned count;
};

/*
 * The VFs a guest needs on its destination, one entry per physical network: the one place
 * that reads them from a plan. Returns how many entries it wrote (0: no VF), or -E2BIG.
 */
int evac_plan_needs(const struct plan *p, struct evac_need *ret, size_t max);

/* Pre-flight's count of free VFs on physnet (vfpool probe); a pool that refuses with
 * -ENOSPC has 0 free. Reserves nothing. */
int evac_count_free(const struct vfpool_ops *vp, const char *physnet, int64_t deadline_ms,
		    unsigned *ret_free, struct diag *d);

struct evac_guest {
	char name[VFM_ID_MAX];
	struct evac_need needs[EVAC_NEEDS_MAX];
	size_t n_needs;
	bool preflight_ok;
	/* The destinations it may go to (indices into the dests), in the operator's order. */
	size_t cand[EVAC_DESTS_MAX];
	size_t n_cand;
};

struct evac_dest {
	char name[VFM_URI_MAX];
	/* Free VFs per physical network now (a network not listed: 0). */
	struct evac_need free[EVAC_NEEDS_MAX];
	size_t n_free;
};

/* Why a plan does not fit, one record per reason; the codes are stable (--json). */
enum evac_problem_code {
	EVAC_PROBLEM_PREFLIGHT = 0,  /* a guest's pre-flight failed (its check says why) */
	EVAC_PROBLEM_CAPACITY,	     /* no destination has the VFs the guest needs left */
	EVAC_PROBLEM_NO_DESTINATION, /* the guest has no destination it may go to */
	EVAC_PROBLEM_TOO_MANY,	     /* more guests, needs or destinations than the limits */
	_EVAC_PROBLEM_MAX,
};

const char *evac_problem_code_to_string(enum evac_problem_code c);

struct evac_problem {
	enum evac_problem_code code;
	size_t guest;
	/* CAPACITY: the network short of VFs on the guest's best destination, what it needs
	 * and what is left there once the guests placed before it are counted. */
	char physnet[VFM_ID_MAX];
	unsigned need, left;
	size_t dest; /* CAPACITY: that destination */
};

struct evac_plan {
	/* Per guest: its destination (valid when placed). */
	size_t dest_of[EVAC_GUESTS_MAX];
	bool placed[EVAC_GUESTS_MAX];
	/* Per destination and network: free VFs left once every placed guest took its own. */
	unsigned left[EVAC_DESTS_MAX][EVAC_NEEDS_MAX];
	struct evac_problem problems[EVAC_PROBLEMS_MAX];
	size_t n_problems;
};

/*
 * Places the guests in their order: each on the candidate that has every VF it needs left
 * and, among those, the most VFs left on its first network (so a drain spreads over the
 * destinations); ties go to the earlier candidate. A guest whose pre-flight failed is not
 * placed. Returns 0 when every guest is placed, -ENOSPC when some are not (the problems say
 * why), -E2BIG beyond the limits.
 */
int evac_plan_make(const struct evac_guest *guests, size_t n, const struct evac_dest *dests,
		   size_t nd, struct evac_plan *ret);

#endif
