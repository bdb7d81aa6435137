// SPDX-License-Identifier: MIT
#include <errno.h>
#include <string.h>
#include <stdio.h>

#include "evac.h"

static const char *const evac_problem_names[_EVAC_PROBLEM_MAX] = {
    [EVAC_PROBLEM_PREFLIGHT] = "preflight",
    [EVAC_PROBLEM_CAPACITY] = "capacity",
    [EVAC_PROBLEM_NO_DESTINATION] = "no-destination",
    [EVAC_PROBLEM_TOO_MANY] = "too-many",
};

const char *evac_problem_code_to_string(enum evac_problem_code c)
{
	return (unsigned)c < _EVAC_PROBLEM_MAX ? evac_problem_names[c] : "unknown";
}

int evac_plan_needs(const struct plan *p, struct evac_need *ret, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < p->n_vfs; i++) {
		const char *net = p->vfs[i].physnet;
		size_t k = 0;

		while (k < n && strcmp(ret[k].physnet, net) != 0)
			k++;
		if (k == n) {
			if (n == max)
				return -E2BIG;
			memset(&ret[n], 0, sizeof(ret[n]));
			snprintf(ret[n].physnet, sizeof(ret[n].physnet), "%s", net);
			n++;
		}
		ret[k].count++;
	}
	return (int)n;
}

int evac_count_free(const struct vfpool_ops *vp, const char *physnet, int64_t deadline_ms,
		    unsigned *ret_free, struct diag *d)
{
	struct diag pd = {{0}};
	unsigned n = 0;
	int r;

	if (!vp || !vp->probe) {
		diag_set(d, "the VF pool cannot count its free VFs");
		return -EOPNOTSUPP;
	}
	r = vp->probe(vp->userdata, physnet, deadline_ms, &n, &pd);
	if (r == -ENOSPC)
		n = 0;
	else if (r < 0) {
		if (d)
			*d = pd;
		return r;
	}
	*ret_free = n;
	return 0;
}

static int net_index(const struct evac_dest *dst, const char *physnet)
{
	for (size_t i = 0; i < dst->n_free; i++)
		if (!strcmp(dst->free[i].physnet, physnet))
			return (int)i;
	return -1;
}

static unsigned left_on(const struct evac_plan *pl, const struct evac_dest *dests, size_t d,
			const char *physnet)
{
	int k = net_index(&dests[d], physnet);

	return k < 0 ? 0 : pl->left[d][k];
}

static void problem_add(struct evac_plan *pl, const struct evac_problem *pr)
{
	if (pl->n_problems < EVAC_PROBLEMS_MAX)
		pl->problems[pl->n_problems++] = *pr;
}

/* The first network of g that d lacks, or -1 when d has everything g needs left. */
static int short_on(const struct evac_plan *pl, const struct evac_dest *dests, size_t d,
		    const struct evac_guest *g)
{
	for (size_t k = 0; k < g->n_needs; k++)
		if (left_on(pl, dests, d, g->needs[k].physnet) < g->needs[k].count)
			return (int)k;
	return -1;
}

static void place(struct evac_plan *pl, const struct evac_dest *dests, size_t i, size_t d,
		  const struct evac_guest *g)
{
	pl->placed[i] = true;
	pl->dest_of[i] = d;
	for (size_t k = 0; k < g->n_needs; k++)
		pl->left[d][net_index(&dests[d], g->needs[k].physnet)] -= g->needs[k].count;
}

/* g does not fit anywhere: the problem names its first candidate's shortage. */
static void capacity_problem(struct evac_plan *pl, const struct evac_dest *dests, size_t i,
			     const struct evac_guest *g)
{
	struct evac_problem pr = {.code = EVAC_PROBLEM_CAPACITY, .guest = i};
	size_t d = g->cand[0];
	int k = short_on(pl, dests, d, g);

	if (k < 0)
		k = 0;
	pr.dest = d;
	snprintf(pr.physnet, sizeof(pr.physnet), "%s", g->needs[k].physnet);
	pr.need = g->needs[k].count;
	pr.left = left_on(pl, dests, d, g->needs[k].physnet);
	problem_add(pl, &pr);
}

int evac_plan_make(const struct evac_guest *guests, size_t n, const struct evac_dest *dests,
		   size_t nd, struct evac_plan *ret)
{
	struct evac_plan *pl = ret;

	memset(pl, 0, sizeof(*pl));
	if (n > EVAC_GUESTS_MAX || nd > EVAC_DESTS_MAX) {
		problem_add(pl, &(struct evac_problem){.code = EVAC_PROBLEM_TOO_MANY});
		return -E2BIG;
	}
	for (size_t d = 0; d < nd; d++) {
		if (dests[d].n_free > EVAC_NEEDS_MAX)
			return -E2BIG;
		for (size_t k = 0; k < dests[d].n_free; k++)
			pl->left[d][k] = dests[d].free[k].count;
	}
	for (size_t i = 0; i < n; i++) {
		const struct evac_guest *g = &guests[i];
		size_t best = nd;
		unsigned best_left = 0;

		if (g->n_needs > EVAC_NEEDS_MAX || g->n_cand > EVAC_DESTS_MAX) {
			problem_add(
			    pl, &(struct evac_problem){.code = EVAC_PROBLEM_TOO_MANY, .guest = i});
			continue;
		}
		if (!g->preflight_ok) {
			problem_add(
			    pl, &(struct evac_problem){.code = EVAC_PROBLEM_PREFLIGHT, .guest = i});
			continue;
		}
		if (g->n_cand == 0) {
			problem_add(pl, &(struct evac_problem){.code = EVAC_PROBLEM_NO_DESTINATION,
							       .guest = i});
			continue;
		}
		for (size_t c = 0; c < g->n_cand; c++) {
			size_t d = g->cand[c];
			unsigned l;

			if (d >= nd || short_on(pl, dests, d, g) >= 0)
				continue;
			l = g->n_needs ? left_on(pl, dests, d, g->needs[0].physnet) : 0;
			if (best == nd || l > best_left) {
				best = d;
				best_left = l;
			}
		}
		if (best == nd) {
			if (g->cand[0] < nd)
				capacity_problem(pl, dests, i, g);
			else
				problem_add(
				    pl, &(struct evac_problem){.code = EVAC_PROBLEM_NO_DESTINATION,
							       .guest = i});
			continue;
		}
		place(pl, dests, i, best, g);
	}
	return pl->n_problems ? -ENOSPC : 0;
}
