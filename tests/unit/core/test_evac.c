// SPDX-License-Identifier: MIT
/* The evacuation planner on plain data: capacity fits, does not fit, several destinations, a
 * guest whose pre-flight failed; the needs of a plan; counting free VFs on a fake pool. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/evac.h"

static void guest(struct evac_guest *g, const char *name, const char *physnet, unsigned count,
		  bool ok, size_t n_cand, const size_t *cand)
{
	memset(g, 0, sizeof(*g));
	snprintf(g->name, sizeof(g->name), "%s", name);
	if (count) {
		snprintf(g->needs[0].physnet, sizeof(g->needs[0].physnet), "%s", physnet);
		g->needs[0].count = count;
		g->n_needs = 1;
	}
	g->preflight_ok = ok;
	for (size_t i = 0; i < n_cand; i++)
		g->cand[i] = cand[i];
	g->n_cand = n_cand;
}

static void dest(struct evac_dest *d, const char *name, const char *physnet, unsigned free_)
{
	memset(d, 0, sizeof(*d));
	snprintf(d->name, sizeof(d->name), "%s", name);
	snprintf(d->free[0].physnet, sizeof(d->free[0].physnet), "%s", physnet);
	d->free[0].count = free_;
	d->n_free = 1;
}

static const size_t only0[] = {0};
static const size_t both[] = {0, 1};

static void test_fits(void **state)
{
	struct evac_guest g[3];
	struct evac_dest d;
	struct evac_plan pl;

	(void)state;
	dest(&d, "dst", "net", 3);
	for (int i = 0; i < 3; i++)
		guest(&g[i], "g", "net", 1, true, 1, only0);
	assert_int_equal(evac_plan_make(g, 3, &d, 1, &pl), 0);
	assert_int_equal(pl.n_problems, 0);
	for (int i = 0; i < 3; i++) {
		assert_true(pl.placed[i]);
		assert_int_equal(pl.dest_of[i], 0);
	}
	assert_int_equal(pl.left[0][0], 0);
}

/* One VF too few: the last guest does not fit; one capacity problem names it, its network,
 * what it needs and what is left. */
static void test_one_too_few(void **state)
{
	struct evac_guest g[3];
	struct evac_dest d;
	struct evac_plan pl;

	(void)state;
	dest(&d, "dst", "net", 2);
	for (int i = 0; i < 3; i++)
		guest(&g[i], "g", "net", 1, true, 1, only0);
	assert_int_equal(evac_plan_make(g, 3, &d, 1, &pl), -ENOSPC);
	assert_int_equal(pl.n_problems, 1);
	assert_int_equal(pl.problems[0].code, EVAC_PROBLEM_CAPACITY);
	assert_int_equal(pl.problems[0].guest, 2);
	assert_string_equal(pl.problems[0].physnet, "net");
	assert_int_equal(pl.problems[0].need, 1);
	assert_int_equal(pl.problems[0].left, 0);
	assert_false(pl.placed[2]);
	assert_string_equal(evac_problem_code_to_string(pl.problems[0].code), "capacity");
}

/* A guest that needs two VFs where one is left does not fit although the count of guests
 * does; VFs on another network do not count. */
static void test_multi_vf_and_physnet(void **state)
{
	struct evac_guest g[2];
	struct evac_dest d;
	struct evac_plan pl;

	(void)state;
	dest(&d, "dst", "net", 2);
	snprintf(d.free[1].physnet, sizeof(d.free[1].physnet), "other");
	d.free[1].count = 5;
	d.n_free = 2;
	guest(&g[0], "a", "net", 1, true, 1, only0);
	guest(&g[1], "b", "net", 2, true, 1, only0);
	assert_int_equal(evac_plan_make(g, 2, &d, 1, &pl), -ENOSPC);
	assert_true(pl.placed[0]);
	assert_false(pl.placed[1]);
	assert_int_equal(pl.problems[0].need, 2);
	assert_int_equal(pl.problems[0].left, 1);
	/* A network the destination does not list has nothing free. */
	guest(&g[0], "a", "missing", 1, true, 1, only0);
	assert_int_equal(evac_plan_make(g, 1, &d, 1, &pl), -ENOSPC);
	assert_string_equal(pl.problems[0].physnet, "missing");
	assert_int_equal(pl.problems[0].left, 0);
}

/* Two destinations: the guests spread over them (most left first) and fit where one
 * destination alone would not. */
static void test_several_destinations(void **state)
{
	struct evac_guest g[4];
	struct evac_dest d[2];
	struct evac_plan pl;
	unsigned on[2] = {0, 0};

	(void)state;
	dest(&d[0], "a", "net", 2);
	dest(&d[1], "b", "net", 2);
	for (int i = 0; i < 4; i++)
		guest(&g[i], "g", "net", 1, true, 2, both);
	assert_int_equal(evac_plan_make(g, 4, d, 2, &pl), 0);
	for (int i = 0; i < 4; i++) {
		assert_true(pl.placed[i]);
		on[pl.dest_of[i]]++;
	}
	assert_int_equal(on[0], 2);
	assert_int_equal(on[1], 2);
	assert_int_equal(pl.dest_of[0], 0); /* a tie goes to the first candidate */
	assert_int_equal(pl.dest_of[1], 1);
	/* A fifth guest fits nowhere. */
	guest(&g[0], "g", "net", 1, true, 2, both);
	{
		struct evac_guest five[5];

		for (int i = 0; i < 5; i++)
			five[i] = g[0];
		assert_int_equal(evac_plan_make(five, 5, d, 2, &pl), -ENOSPC);
		assert_int_equal(pl.n_problems, 1);
		assert_int_equal(pl.problems[0].guest, 4);
	}
}

/* One guest's pre-flight failed: a preflight problem for it alone; the others are placed, and
 * its VF is not counted against the destination. A guest without VF needs none. */
static void test_preflight_failure(void **state)
{
	struct evac_guest g[3];
	struct evac_dest d;
	struct evac_plan pl;

	(void)state;
	dest(&d, "dst", "net", 2);
	guest(&g[0], "a", "net", 1, true, 1, only0);
	guest(&g[1], "b", "net", 1, false, 1, only0);
	guest(&g[2], "c", "net", 1, true, 1, only0);
	assert_int_equal(evac_plan_make(g, 3, &d, 1, &pl), -ENOSPC);
	assert_int_equal(pl.n_problems, 1);
	assert_int_equal(pl.problems[0].code, EVAC_PROBLEM_PREFLIGHT);
	assert_int_equal(pl.problems[0].guest, 1);
	assert_true(pl.placed[0]);
	assert_false(pl.placed[1]);
	assert_true(pl.placed[2]);
	assert_int_equal(pl.left[0][0], 0);
	guest(&g[0], "novf", "", 0, true, 1, only0);
	dest(&d, "dst", "net", 0);
	assert_int_equal(evac_plan_make(g, 1, &d, 1, &pl), 0);
	guest(&g[0], "nowhere", "net", 1, true, 0, NULL);
	assert_int_equal(evac_plan_make(g, 1, &d, 1, &pl), -ENOSPC);
	assert_int_equal(pl.problems[0].code, EVAC_PROBLEM_NO_DESTINATION);
}

static void test_limits(void **state)
{
	static struct evac_guest g[EVAC_GUESTS_MAX + 1];
	struct evac_dest d;
	struct evac_plan pl;

	(void)state;
	dest(&d, "dst", "net", 100);
	for (size_t i = 0; i <= EVAC_GUESTS_MAX; i++)
		guest(&g[i], "g", "net", 1, true, 1, only0);
	assert_int_equal(evac_plan_make(g, EVAC_GUESTS_MAX + 1, &d, 1, &pl), -E2BIG);
	assert_int_equal(pl.problems[0].code, EVAC_PROBLEM_TOO_MANY);
	g[0].n_cand = EVAC_DESTS_MAX + 1;
	assert_int_equal(evac_plan_make(g, 1, &d, 1, &pl), -ENOSPC);
	assert_int_equal(pl.problems[0].code, EVAC_PROBLEM_TOO_MANY);
}

/* One entry per physical network, counting that network's VFs: a guest with three VFs, two
 * of them on one network, needs 2 there and 1 on the other. */
static void test_plan_needs(void **state)
{
	struct evac_need n[EVAC_NEEDS_MAX];
	struct plan p;

	(void)state;
	plan_init(&p);
	p.n_vfs = 0;
	assert_int_equal(evac_plan_needs(&p, n, EVAC_NEEDS_MAX), 0);
	p.n_vfs = 1;
	snprintf(p.vfs[0].physnet, sizeof(p.vfs[0].physnet), "physnet1");
	assert_int_equal(evac_plan_needs(&p, n, EVAC_NEEDS_MAX), 1);
	assert_string_equal(n[0].physnet, "physnet1");
	assert_int_equal(n[0].count, 1);
	assert_int_equal(evac_plan_needs(&p, n, 0), -E2BIG);
	p.n_vfs = 3;
	snprintf(p.vfs[1].physnet, sizeof(p.vfs[1].physnet), "physnet2");
	snprintf(p.vfs[2].physnet, sizeof(p.vfs[2].physnet), "physnet1");
	assert_int_equal(evac_plan_needs(&p, n, EVAC_NEEDS_MAX), 2);
	assert_string_equal(n[0].physnet, "physnet1");
	assert_int_equal(n[0].count, 2);
	assert_string_equal(n[1].physnet, "physnet2");
	assert_int_equal(n[1].count, 1);
	assert_int_equal(evac_plan_needs(&p, n, 1), -E2BIG);
}

/* A fake pool: answers its count, or fails with the errno it is given. */
struct fake_pool {
	unsigned free_;
	int rc;
	char asked[VFM_ID_MAX];
};

static int fake_probe(void *ud, const char *physnet, int64_t deadline_ms, unsigned *ret_free,
		      struct diag *d)
{
	struct fake_pool *f = ud;

	(void)deadline_ms;
	snprintf(f->asked, sizeof(f->asked), "%s", physnet);
	if (f->rc < 0) {
		diag_set(d, "pool says no (%d)", f->rc);
		return f->rc;
	}
	*ret_free = f->free_;
	return 0;
}

static void test_count_free(void **state)
{
	struct fake_pool f = {.free_ = 3};
	struct vfpool_ops vp = {.userdata = &f, .probe = fake_probe};
	struct diag d = {{0}};
	unsigned n = 99;

	(void)state;
	assert_int_equal(evac_count_free(&vp, "net", 0, &n, &d), 0);
	assert_int_equal(n, 3);
	assert_string_equal(f.asked, "net");
	/* A pool that refuses with "none free" has 0 free. */
	f.rc = -ENOSPC;
	assert_int_equal(evac_count_free(&vp, "net", 0, &n, &d), 0);
	assert_int_equal(n, 0);
	/* Any other failure is the caller's, with the pool's text; n untouched. */
	f.rc = -ECONNREFUSED;
	n = 7;
	assert_int_equal(evac_count_free(&vp, "net", 0, &n, &d), -ECONNREFUSED);
	assert_int_equal(n, 7);
	assert_non_null(strstr(d.msg, "pool says no"));
	vp.probe = NULL;
	assert_int_equal(evac_count_free(&vp, "net", 0, &n, &d), -EOPNOTSUPP);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fits),
	    cmocka_unit_test(test_one_too_few),
	    cmocka_unit_test(test_multi_vf_and_physnet),
	    cmocka_unit_test(test_several_destinations),
	    cmocka_unit_test(test_preflight_failure),
	    cmocka_unit_test(test_limits),
	    cmocka_unit_test(test_plan_needs),
	    cmocka_unit_test(test_count_free),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
