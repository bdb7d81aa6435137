// SPDX-License-Identifier: MIT
/* The step table on fakes: every step failing with its undo order, the unplug deadline cases,
 * a guest dead on the destination, roll-forward after the point of no return, recover at
 * every cut point of the journal. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "fake_world.h"

static struct fake_world *new_world(void)
{
	struct fake_world *w = test_malloc(sizeof(*w));

	fake_world_init(w);
	return w;
}

static void assert_log(const struct fake_world *w, const char *seq)
{
	if (!fake_log_has_in_order(w, seq)) {
		print_error("expected in order: %s\nlog: %s\n", seq, w->log);
		fail();
	}
}

static void assert_log_lacks(const struct fake_world *w, const char *what)
{
	if (strstr(w->log, what)) {
		print_error("unexpected \"%s\" in log: %s\n", what, w->log);
		fail();
	}
}

static const char *last_outcome(const struct fake_world *w)
{
	if (w->n_journal == 0 || w->journal[w->n_journal - 1].kind != JOURNAL_END)
		return NULL;
	return w->journal[w->n_journal - 1].outcome;
}

static void test_happy_path(void **state)
{
	struct fake_world *w = new_world();
	struct plan_report r;

	(void)state;
	assert_int_equal(plan_run(&w->plan, &w->env, &r), 0);
	assert_int_equal(r.outcome, OUTCOME_MIGRATED);
	assert_false(r.has_error);
	assert_true(r.passed_ponr);
	assert_true(fake_on_destination_with_vf(w));
	for (int s = 0; s < _STEP_MAX; s++)
		assert_int_equal(r.steps[s].result, STEP_OK);
	assert_true(r.has_migration);
	assert_int_equal(r.migration.downtime_ms, 42);
	assert_true(w->progress_events > 0);
	assert_true(r.vf_restored);
	assert_true(r.without_vf_ms > 2000);
	assert_true(r.without_vf_ms < r.total_ms);
	/* Every side effect is journaled before it happens. */
	assert_log(w, "J:begin;J:intent:reserve;dst.reserve;J:done:reserve;"
		      "J:intent:backup-active;set_active(backup);J:done:backup-active;"
		      "J:intent:release-vf;release(vf);J:intent:unplug;src.unplug_start(vf0);"
		      "src.removed;J:done:unplug;J:intent:migrate;src.migrate_start;src.migrated;"
		      "J:done:migrate;J:ponr;ponr;J:intent:plug;dst.plug(vf0,tapd0);J:done:plug;"
		      "J:intent:enslave;enslave(vf);J:done:enslave;J:intent:release-source;"
		      "src.pool_release;J:end");
	assert_string_equal(last_outcome(w), "migrated");
	test_free(w);
}

struct fail_case {
	enum step_id step;
	const char *op;
	int rc;
};

static const struct fail_case fail_cases[] = {
    {STEP_BOND, "agent.bond_status", -EIO},	    {STEP_RESERVE, "pool.reserve", -ENOSPC},
    {STEP_BACKUP_ACTIVE, "agent.set_active", -EIO}, {STEP_RELEASE_VF, "agent.release", -EIO},
    {STEP_UNPLUG, "hv.unplug_start", -EIO},	    {STEP_MIGRATE, "hv.migrate_start", -EIO},
    {STEP_MIGRATE, "hv.migrate_wait", -EIO},	    {STEP_MIGRATE, "dst.hv.probe", -EIO},
};

static void test_every_step_fails(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(fail_cases); i++) {
		const struct fail_case *fc = &fail_cases[i];
		struct fake_world *w = new_world();
		struct plan_report r;
		char expect[512] = "", tag[64];
		int undos = 0;
		const char *p;

		w->fail_step = fc->step;
		w->fail_op = fc->op;
		w->fail_rc = fc->rc;
		assert_int_equal(plan_run(&w->plan, &w->env, &r), 0);
		if (r.outcome != OUTCOME_ROLLED_BACK || !fake_on_source_with_vf(w)) {
			print_error("case %zu (%s/%s): outcome %s\nlog: %s\n", i,
				    step_to_string(fc->step), fc->op,
				    plan_outcome_to_string(r.outcome), w->log);
			fail();
		}
		assert_true(r.has_error);
		assert_int_equal(r.error_step, fc->step);
		assert_non_null(strstr(r.error, "injected failure"));
		assert_false(r.passed_ponr);
		assert_int_equal(r.steps[fc->step].result, r.steps[fc->step].result);
		/* Undo in reverse from the failed step, each step that has an undo. */
		snprintf(expect, sizeof(expect), "failed:%s;", step_to_string(fc->step));
		for (int s = fc->step; s >= STEP_RESERVE; s--) {
			if (s == STEP_BOND)
				continue;
			snprintf(tag, sizeof(tag), "undo:%s;undone:%s;", step_to_string(s),
				 step_to_string(s));
			strncat(expect, tag, sizeof(expect) - strlen(expect) - 1);
		}
		assert_log(w, expect);
		for (p = w->log; (p = strstr(p, ";undo:")); p++)
			undos++;
		assert_int_equal(undos, fc->step >= STEP_RESERVE ? fc->step - STEP_RESERVE + 1 : 0);
		assert_log_lacks(w, "ponr");
		assert_string_equal(last_outcome(w), "rolled-back");
		test_free(w);
	}
}

static void test_preflight_refuses_and_changes_nothing(void **state)
{
	struct fake_world *w = new_world();
	struct plan_report r;

	(void)state;
	w->dst_incoming = false;
	w->backup_link = false;
	w->dst_free = 0;
	assert_int_equal(plan_run(&w->plan, &w->env, &r), 0);
	assert_int_equal(r.outcome, OUTCOME_REFUSED);
	assert_int_equal(r.error_step, STEP_PREFLIGHT);
	/* All problems at once, so one `check` tells the whole story. */
	assert_non_null(strstr(r.error, "not waiting for an incoming migration"));
	assert_non_null(strstr(r.error, "backup NIC 52:54:00:00:00:0b has no link"));
	assert_non_null(strstr(r.error, "no free VF"));
	assert_int_equal(w->n_journal, 0);
	assert_log_lacks(w, "set_active");
	assert_log_lacks(w, "reserve");
	assert_log_lacks(w, "unplug");
	test_free(w);
}

static void test_check_only_probes(void **state)
{
	struct fake_world *w = new_world();
	struct plan_report r;

	(void)state;
	assert_int_equal(plan_check(&w->plan, &w->env, &r), 0);
	assert_int_equal(r.outcome, OUTCOME_MIGRATED);
	assert_int_equal(w->n_journal, 0);
	assert_string_equal(w->log, "run:preflight;ok:preflight;");
	w->slave[FAKE_NIC_VF] = false;
	w->active = FAKE_NIC_BACKUP;
	assert_int_equal(plan_check(&w->plan, &w->env, &r), 0);
	assert_int_equal(r.outcome, OUTCOME_REFUSED);
	assert_non_null(strstr(r.error, "VF 52:54:00:00:00:0f is not a slave of bond0"));
	test_free(w);
}

static void test_unplug_slow_settles_then_replugs(void **state)
{
	struct fake_world *w = new_world();
	struct plan_report r;

	(void)state;
	w->unplug_mode = FAKE_UNPLUG_SLOW;
	assert_int_equal(plan_run(&w->plan, &w->env, &r), 0);
	assert_int_equal(r.outcome, OUTCOME_ROLLED_BACK);
	assert_int_equal(r.error_step, STEP_UNPLUG);
	assert_non_null(strstr(r.error, "took longer than 10000 ms"));
	assert_non_null(strstr(w->notes, "waiting up to 30000 ms"));
	/* Removed while settling, then re-plugged and re-enslaved, in that order. */
	assert_log(w, "src.unplug_start(vf0);src.removed;failed:unplug;undo:unplug;"
		      "src.plug(vf0,taps0);undone:unplug;undo:release-vf;enslave(vf);"
		      "undone:release-vf");
	assert_true(fake_on_source_with_vf(w));
	/* The deadline is measured on the injected clock: 10 s plus the settle. */
	assert_true(r.steps[STEP_UNPLUG].duration_ms >= 10000);
	test_free(w);
}

static void test_unplug_stuck_needs_recover(void **state)
{
	struct fake_world *w = new_world();
	struct plan_report r;

	(void)state;
	w->unplug_mode = FAKE_UNPLUG_STUCK;
	assert_int_equal(plan_run(&w->plan, &w->env, &r), 0);
	assert_int_equal(r.outcome, OUTCOME_NEEDS_RECOVER);
	assert_log_lacks(w, "src.plug");
	assert_null(last_outcome(w)); /* the journal stays unfinished */
	assert_true(r.has_error2);    /* why the undo stopped */

	/* Later the removal finished failing (the device stayed): recover rolls back. */
	w->unplug_mode = FAKE_UNPLUG_OK;
	w->fail_step = -1;
	size_t n = w->n_journal;
	struct journal_record *recs = test_malloc(n * sizeof(*recs));

	memcpy(recs, w->journal, n * sizeof(*recs));
	assert_int_equal(plan_recover(&w->plan, &w->env, recs, n, &r), 0);
	assert_int_equal(r.outcome, OUTCOME_ROLLED_BACK);
	assert_true(fake_on_source_with_vf(w));
	assert_string_equal(last_outcome(w), "rolled-back");
	test_free(recs);
	test_free(w);
}

static void test_unplug_refused(void **state)
{
	struct fake_world *w = new_world();
	struct plan_report r;

	(void)state;
	w->unplug_mode = FAKE_UNPLUG_REFUSED;
	assert_int_equal(plan_run(&w->plan, &w->env, &r), 0);
	assert_int_equal(r.outcome, OUTCOME_ROLLED_BACK);
	assert_non_null(strstr(r.error, "guest refused"));
	assert_log_lacks(w, "src.plug");
	assert_true(fake_on_source_with_vf(w));
	test_free(w);
}

static void test_dead_on_destination(void **state)
{
	struct fake_world *w = new_world();
	struct plan_report r;

	(void)state;
	w->dst_dead = true;
	assert_int_equal(plan_run(&w->plan, &w->env, &r), 0);
	assert_int_equal(r.outcome, OUTCOME_ROLLED_BACK);
	assert_int_equal(r.error_step, STEP_MIGRATE);
	assert_non_null(strstr(r.error, "did not answer on the destination"));
	assert_false(r.passed_ponr);
	/* Destination stopped before the source resumes; then the VF comes back. */
	assert_log(w, "src.migrated;dst.quit;src.cont;failed:migrate;undo:migrate;"
		      "undo:unplug;src.plug(vf0,taps0);undo:release-vf;enslave(vf);"
		      "undo:backup-active;set_active(vf);undo:reserve;dst.pool_release");
	assert_log_lacks(w, "ponr");
	assert_true(fake_on_source_with_vf(w));
	test_free(w);
}

static void test_plug_fails_after_ponr_degraded(void **state)
{
	struct fake_world *w = new_world();
	struct plan_report r;

	(void)state;
	w->fail_step = STEP_PLUG;
	w->fail_op = "hv.plug";
	w->fail_rc = -EIO;
	assert_int_equal(plan_run(&w->plan, &w->env, &r), 0);
	assert_int_equal(r.outcome, OUTCOME_DEGRADED);
	assert_true(r.passed_ponr);
	assert_int_equal(r.error_step, STEP_PLUG);
	/* Retried, then gave the VF back; never undid anything before the point of no return. */
	assert_non_null(strstr(w->notes, "attempt 2 of 2"));
	assert_log_lacks(w, "undo:");
	assert_true(w->migrated && w->running[FAKE_DST] && !w->running[FAKE_SRC]);
	assert_false(w->dst_reserved);
	assert_true(w->src_released);
	assert_true(w->has_active && w->active == FAKE_NIC_BACKUP);
	assert_int_equal(r.steps[STEP_ENSLAVE].result, STEP_SKIPPED);
	assert_false(r.vf_restored);
	assert_true(r.without_vf_ms > 0);
	assert_string_equal(last_outcome(w), "degraded");
	test_free(w);
}

static void test_plug_fails_once_retried(void **state)
{
	struct fake_world *w = new_world();
	struct plan_report r;

	(void)state;
	w->fail_step = STEP_PLUG;
	w->fail_op = "hv.plug";
	w->fail_rc = -EIO;
	w->fail_times = 1;
	assert_int_equal(plan_run(&w->plan, &w->env, &r), 0);
	assert_int_equal(r.outcome, OUTCOME_MIGRATED);
	assert_true(fake_on_destination_with_vf(w));
	assert_non_null(strstr(w->notes, "attempt 2 of 2"));
	test_free(w);
}

static void test_enslave_fails_degraded(void **state)
{
	struct fake_world *w = new_world();
	struct plan_report r;

	(void)state;
	w->fail_step = STEP_ENSLAVE;
	w->fail_op = "agent.enslave";
	w->fail_rc = -ETIMEDOUT;
	assert_int_equal(plan_run(&w->plan, &w->env, &r), 0);
	assert_int_equal(r.outcome, OUTCOME_DEGRADED);
	assert_int_equal(r.error_step, STEP_ENSLAVE);
	assert_true(w->running[FAKE_DST] && w->active == FAKE_NIC_BACKUP);
	assert_true(w->src_released);
	test_free(w);
}

static void test_no_vf_guest(void **state)
{
	struct fake_world *w = new_world();
	struct plan_report r;

	(void)state;
	w->plan.has_vf = false;
	w->vf_present[FAKE_SRC] = false;
	w->bond_exists = false;
	w->dst_free = 0;
	assert_int_equal(plan_run(&w->plan, &w->env, &r), 0);
	assert_int_equal(r.outcome, OUTCOME_MIGRATED);
	assert_true(w->migrated && w->running[FAKE_DST]);
	assert_log_lacks(w, "unplug");
	assert_log_lacks(w, "set_active");
	assert_log_lacks(w, "reserve");
	assert_int_equal(r.steps[STEP_UNPLUG].result, STEP_SKIPPED);
	assert_int_equal(r.steps[STEP_MIGRATE].result, STEP_OK);
	assert_int_equal(r.without_vf_ms, -1);
	test_free(w);
}

static void test_create_bond_only_when_asked(void **state)
{
	struct fake_world *w = new_world();
	struct plan_report r;

	(void)state;
	w->bond_exists = false;
	w->slave[0] = w->slave[1] = w->has_active = false;
	assert_int_equal(plan_run(&w->plan, &w->env, &r), 0);
	assert_int_equal(r.outcome, OUTCOME_REFUSED);
	assert_false(w->bond_exists);
	test_free(w);

	w = new_world();
	w->bond_exists = false;
	w->slave[0] = w->slave[1] = w->has_active = false;
	w->plan.create_bond = true;
	assert_int_equal(plan_run(&w->plan, &w->env, &r), 0);
	assert_int_equal(r.outcome, OUTCOME_MIGRATED);
	assert_log(w, "run:bond;bond_create;ok:bond");
	assert_true(fake_on_destination_with_vf(w));
	test_free(w);
}

static void test_journal_failure_stops_before_side_effect(void **state)
{
	struct fake_world *w = new_world();
	struct plan_report r;

	(void)state;
	/* BEGIN cannot be written: refuse, nothing changed. */
	w->journal_fail_at = 1;
	assert_int_equal(plan_run(&w->plan, &w->env, &r), 0);
	assert_int_equal(r.outcome, OUTCOME_REFUSED);
	assert_non_null(strstr(r.error, "No space left on device"));
	assert_true(fake_on_source_with_vf(w));
	assert_log_lacks(w, "reserve");
	test_free(w);

	/* The intent of backup-active (seq 6, after begin and bond, reserve) cannot be written:
	 * the guest is not touched and the reservation is undone. */
	w = new_world();
	w->journal_fail_at = 6;
	assert_int_equal(plan_run(&w->plan, &w->env, &r), 0);
	assert_int_equal(r.outcome, OUTCOME_ROLLED_BACK);
	assert_int_equal(r.error_step, STEP_BACKUP_ACTIVE);
	assert_log_lacks(w, "set_active(backup)");
	assert_true(fake_on_source_with_vf(w));
	test_free(w);
}

/* Crash (longjmp) just before journal record `cut` is written, then recover. */
static void test_recover_every_cut_point(void **state)
{
	struct fake_world *w = new_world();
	struct plan_report r;
	size_t total;

	(void)state;
	assert_int_equal(plan_run(&w->plan, &w->env, &r), 0);
	total = w->n_journal;
	assert_true(total > 10);
	test_free(w);

	for (uint32_t cut = 1; cut <= total; cut++) {
		struct journal_record *recs;
		size_t n;

		w = new_world();
		w->crash_at = cut;
		if (setjmp(w->crash_jmp) == 0) {
			plan_run(&w->plan, &w->env, &r);
			fail_msg("cut %u: the run did not reach the crash point", cut);
		}
		w->crash_at = 0;
		n = w->n_journal;
		assert_int_equal(n, cut - 1);
		if (n == 0) {
			/* Nothing journaled means nothing changed. */
			assert_true(fake_on_source_with_vf(w));
			test_free(w);
			continue;
		}
		recs = test_malloc(n * sizeof(*recs));
		memcpy(recs, w->journal, n * sizeof(*recs));
		assert_int_equal(plan_recover(&w->plan, &w->env, recs, n, &r), 0);
		if (r.outcome == OUTCOME_ROLLED_BACK) {
			if (!fake_on_source_with_vf(w)) {
				print_error("cut %u: rolled back but inconsistent\nlog: %s\n", cut,
					    w->log);
				fail();
			}
		} else if (r.outcome == OUTCOME_MIGRATED) {
			if (!fake_on_destination_with_vf(w)) {
				print_error("cut %u: migrated but inconsistent\nlog: %s\n", cut,
					    w->log);
				fail();
			}
		} else {
			print_error("cut %u: outcome %s (%s)\nlog: %s\n", cut,
				    plan_outcome_to_string(r.outcome), r.error, w->log);
			fail();
		}
		/* Before the point of no return it rolls back, after it forward. */
		bool had_ponr = false;

		for (size_t i = 0; i < n; i++)
			had_ponr |= recs[i].kind == JOURNAL_PONR;
		assert_int_equal(r.outcome, had_ponr ? OUTCOME_MIGRATED : OUTCOME_ROLLED_BACK);
		assert_non_null(last_outcome(w));
		test_free(recs);

		/* A finished journal needs nothing more. */
		n = w->n_journal;
		recs = test_malloc(n * sizeof(*recs));
		memcpy(recs, w->journal, n * sizeof(*recs));
		assert_int_equal(plan_recover(&w->plan, &w->env, recs, n, &r), 0);
		assert_int_equal(r.outcome, OUTCOME_NOTHING_TO_DO);
		test_free(recs);
		test_free(w);
	}
}

/* Recover after a crash in the middle of the migration itself: the destination already runs
 * the guest but no point of no return was recorded. */
static void test_recover_mid_migration_resumes_source(void **state)
{
	struct fake_world *w = new_world();
	struct plan_report r;
	struct journal_record *recs;
	size_t n;

	(void)state;
	w->fail_step = -1;
	/* Crash when writing "done:migrate" (after the switchover). */
	for (uint32_t cut = 1;; cut++) {
		fake_world_init(w);
		w->crash_at = cut;
		if (setjmp(w->crash_jmp) == 0)
			plan_run(&w->plan, &w->env, &r);
		if (w->migrated)
			break;
	}
	w->crash_at = 0;
	n = w->n_journal;
	recs = test_malloc(n * sizeof(*recs));
	memcpy(recs, w->journal, n * sizeof(*recs));
	assert_int_equal(recs[n - 1].kind, JOURNAL_INTENT);
	assert_string_equal(recs[n - 1].step, "migrate");
	assert_int_equal(plan_recover(&w->plan, &w->env, recs, n, &r), 0);
	assert_int_equal(r.outcome, OUTCOME_ROLLED_BACK);
	assert_log(w, "src.migrate_cancel;dst.quit;src.cont;src.plug(vf0,taps0)");
	assert_true(fake_on_source_with_vf(w));
	test_free(recs);
	test_free(w);
}

static void test_names_round_trip(void **state)
{
	enum step_id s;
	enum plan_outcome o;

	(void)state;
	for (int i = 0; i < _STEP_MAX; i++) {
		assert_int_equal(step_from_string(step_to_string(i), &s), 0);
		assert_int_equal(s, i);
		assert_true(journal_name_valid(step_to_string(i)));
	}
	for (int i = 0; i < _OUTCOME_MAX; i++) {
		assert_int_equal(plan_outcome_from_string(plan_outcome_to_string(i), &o), 0);
		assert_int_equal(o, i);
	}
	assert_int_equal(step_from_string("nope", &s), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_happy_path),
	    cmocka_unit_test(test_every_step_fails),
	    cmocka_unit_test(test_preflight_refuses_and_changes_nothing),
	    cmocka_unit_test(test_check_only_probes),
	    cmocka_unit_test(test_unplug_slow_settles_then_replugs),
	    cmocka_unit_test(test_unplug_stuck_needs_recover),
	    cmocka_unit_test(test_unplug_refused),
	    cmocka_unit_test(test_dead_on_destination),
	    cmocka_unit_test(test_plug_fails_after_ponr_degraded),
	    cmocka_unit_test(test_plug_fails_once_retried),
	    cmocka_unit_test(test_enslave_fails_degraded),
	    cmocka_unit_test(test_no_vf_guest),
	    cmocka_unit_test(test_create_bond_only_when_asked),
	    cmocka_unit_test(test_journal_failure_stops_before_side_effect),
	    cmocka_unit_test(test_recover_every_cut_point),
	    cmocka_unit_test(test_recover_mid_migration_resumes_source),
	    cmocka_unit_test(test_names_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
