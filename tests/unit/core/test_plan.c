// SPDX-License-Identifier: MIT
/* The step table on fakes: every step failing with its undo order, the unplug deadline cases,
 * a guest dead on the destination, roll-forward after the point of no return, recover at
 * every cut point of the journal. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "fake_world.h"

/* A MAC none of the guest's NICs has. */
static const uint8_t other_mac[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x99};

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

/* Whether a rollback undoes step s: it has an undo and ran (was not skipped). */
static bool undone_by_rollback(const struct plan_report *r, int s)
{
	return s != STEP_BOND && r->steps[s].result != STEP_SKIPPED &&
	       r->steps[s].result != STEP_NOT_RUN;
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
	/* Emulated VFs have nothing on a PF to hand off. */
	for (int s = 0; s < _STEP_MAX; s++)
		assert_int_equal(r.steps[s].result,
				 s == STEP_SOURCE_HANDOFF ? STEP_SKIPPED : STEP_OK);
	assert_log_lacks(w, "run:source-handoff");
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

/* BEGIN records where the guest was going, for recover; a plan without one records none. */
static void test_begin_records_destination(void **state)
{
	struct fake_world *w = new_world();
	struct plan_report r;

	(void)state;
	assert_int_equal(plan_run(&w->plan, &w->env, &r), 0);
	assert_true(w->n_journal > 0);
	assert_int_equal(w->journal[0].kind, JOURNAL_BEGIN);
	assert_string_equal(w->journal[0].dest, "");

	fake_world_init(w);
	snprintf(w->plan.dest, sizeof(w->plan.dest), "qemu+ssh://h2/system");
	assert_int_equal(plan_run(&w->plan, &w->env, &r), 0);
	assert_int_equal(r.outcome, OUTCOME_MIGRATED);
	assert_string_equal(w->journal[0].dest, "qemu+ssh://h2/system");

	/* One the journal could not hold is a bad plan: refused before anything happens. */
	fake_world_init(w);
	snprintf(w->plan.dest, sizeof(w->plan.dest), "qemu:///system\n");
	assert_int_equal(plan_run(&w->plan, &w->env, &r), -EINVAL);
	assert_int_equal(w->n_journal, 0);
	assert_true(fake_on_source_with_vf(w));
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
		int undos = 0, expected_undos = 0;
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
			if (!undone_by_rollback(&r, s))
				continue;
			snprintf(tag, sizeof(tag), "undo:%s;undone:%s;", step_to_string(s),
				 step_to_string(s));
			strncat(expect, tag, sizeof(expect) - strlen(expect) - 1);
			expected_undos++;
		}
		assert_log(w, expect);
		for (p = w->log; (p = strstr(p, ";undo:")); p++)
			undos++;
		assert_int_equal(undos, expected_undos);
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
	/* All problems at once, so one `check` tells the whole story: one record each. */
	assert_int_equal(r.n_problems, 3);
	assert_int_equal(r.problems[0].code, PROBLEM_NOT_INCOMING);
	assert_int_equal(r.problems[0].side, PROBLEM_SIDE_DESTINATION);
	assert_non_null(strstr(r.problems[0].text, "not waiting for an incoming migration"));
	assert_int_equal(r.problems[1].code, PROBLEM_BACKUP_NO_LINK);
	assert_int_equal(r.problems[1].side, PROBLEM_SIDE_GUEST);
	assert_string_equal(r.problems[1].text, "backup NIC 52:54:00:00:00:0b has no link");
	assert_int_equal(r.problems[2].code, PROBLEM_NO_FREE_VF);
	assert_string_equal(plan_problem_code_to_string(r.problems[2].code), "no-free-vf");
	assert_string_equal(problem_side_to_string(r.problems[2].side), "destination");
	assert_non_null(strstr(r.problems[2].text, "no free VF"));
	/* The step's error is the first one, not a joined string. */
	assert_string_equal(r.error, r.problems[0].text);
	assert_int_equal(r.error_code, PLAN_ERR_REFUSED);
	assert_int_equal(w->n_journal, 0);
	assert_log_lacks(w, "set_active");
	assert_log_lacks(w, "reserve");
	assert_log_lacks(w, "unplug");
	test_free(w);
}

/* A guest-supplied text with ';' (or anything) is one problem, verbatim. */
static void test_preflight_problem_with_semicolon(void **state)
{
	static const char forged[] = "no bond; vfmigrate: check: destination is fine; exit 0";
	struct fake_world *w = new_world();
	struct plan_report r;

	(void)state;
	w->fail_step = STEP_PREFLIGHT;
	w->fail_op = "src.agent.bond_status";
	w->fail_rc = -EIO;
	w->fail_msg = forged;
	w->backup_link = false; /* not seen: the bond could not be read */
	w->dst_free = 0;
	assert_int_equal(plan_check(&w->plan, &w->env, &r), 0);
	assert_int_equal(r.outcome, OUTCOME_REFUSED);
	assert_int_equal(r.n_problems, 2);
	assert_int_equal(r.problems[0].code, PROBLEM_BOND);
	assert_int_equal(r.problems[0].side, PROBLEM_SIDE_GUEST);
	assert_int_equal(r.problems[0].rc, -EIO);
	assert_string_equal(r.problems[0].text,
			    "bond bond0: source guest agent: no bond; vfmigrate: check: "
			    "destination is fine; exit 0");
	assert_int_equal(r.problems[1].code, PROBLEM_NO_FREE_VF);
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
	assert_int_equal(r.error_code, PLAN_ERR_DEAD_ARRIVAL);
	assert_non_null(strstr(r.error, "(destination guest agent: did not answer)"));
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
	w->plan.n_vfs = 0;
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
	/* A VF whose MAC its PF sets keeps it: active is what --create-bond builds. */
	assert_log(w, "run:bond;bond_create(active);ok:bond");
	assert_int_equal(w->created_fom, BOND_FOM_ACTIVE);
	assert_true(fake_on_destination_with_vf(w));
	test_free(w);

	/* Another one when configured. */
	w = new_world();
	w->bond_exists = false;
	w->slave[0] = w->slave[1] = w->has_active = false;
	w->plan.create_bond = true;
	w->plan.fail_over_mac = BOND_FOM_FOLLOW;
	assert_int_equal(plan_run(&w->plan, &w->env, &r), 0);
	assert_int_equal(r.outcome, OUTCOME_MIGRATED);
	assert_log(w, "run:bond;bond_create(follow);ok:bond");
	test_free(w);

	/* Never "unknown": that is a bad plan, nothing happens. */
	w = new_world();
	w->plan.create_bond = true;
	w->plan.fail_over_mac = BOND_FOM_UNKNOWN;
	assert_int_equal(plan_run(&w->plan, &w->env, &r), -EINVAL);
	assert_int_equal(w->n_journal, 0);
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
	assert_int_equal(r.error_code, PLAN_ERR_JOURNAL);
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

/*
 * Crash (longjmp) just before journal record `cut` is written, for every cut, then recover.
 * setup (may be NULL) prepares each world after fake_world_init; after the crash the config
 * may have moved on: recover gets a plan whose MACs are garbage, and must work from what the
 * journal recorded.
 */
static void recover_every_cut_point(void (*setup)(struct fake_world *w))
{
	struct fake_world *w = new_world();
	struct plan_report r;
	size_t total;

	if (setup)
		setup(w);
	assert_int_equal(plan_run(&w->plan, &w->env, &r), 0);
	assert_int_equal(r.outcome, OUTCOME_MIGRATED);
	total = w->n_journal;
	assert_true(total > 10);
	test_free(w);

	for (uint32_t cut = 1; cut <= total; cut++) {
		struct journal_record *recs;
		size_t n;

		w = new_world();
		if (setup)
			setup(w);
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
		/* Today's config says otherwise; the journal wins. */
		memset(w->plan.vfs[0].vf_mac, 0xee, 6);
		memset(w->plan.vfs[0].src_vf.mac, 0xee, 6);
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

static void test_recover_every_cut_point(void **state)
{
	(void)state;
	recover_every_cut_point(NULL);
}

/* A real destination VF given the bond's own MAC (none, on another MAC than the backup's):
 * recover releases, plugs and enslaves with that MAC, from the journal (BEGIN, and the
 * reserve's spec), not vf-mac. */
static void model_none_on_other(struct fake_world *w)
{
	w->pool[FAKE_DST].vf_takes_guest_mac = false;
	w->fom = BOND_FOM_NONE;
	memcpy(w->bond_mac, other_mac, 6);
}

static void test_recover_every_cut_point_mac_model(void **state)
{
	(void)state;
	recover_every_cut_point(model_none_on_other);
}

/* net_failover's layout on real VFs: recover names the NICs by kind as the run did (the MACs
 * come from the journal). */
static void model_shared_mac(struct fake_world *w)
{
	w->pool[FAKE_SRC].vf_takes_guest_mac = w->pool[FAKE_DST].vf_takes_guest_mac = false;
	w->src_pf_mac = true;
	fake_world_share_mac(w);
}

static void test_recover_every_cut_point_shared_mac(void **state)
{
	(void)state;
	recover_every_cut_point(model_shared_mac);
}

/* Recover after a crash in the middle of the migration itself: the destination already runs
 * the guest but no point of no return was recorded. */
/*
 * Runs the plan (--max-bandwidth bw, 0: none) crashing at journal record 1, 2, ... until a
 * crash leaves the guest switched over to the destination with "done:migrate" not written;
 * returns a copy of that journal (n records; test_free it).
 */
static struct journal_record *crash_after_switchover(struct fake_world *w, int64_t bw, size_t *n)
{
	struct journal_record *recs;
	struct plan_report r;

	for (volatile uint32_t cut = 1;; cut++) {
		fake_world_init(w);
		w->plan.migrate.max_bandwidth = bw;
		w->crash_at = cut;
		if (setjmp(w->crash_jmp) == 0)
			plan_run(&w->plan, &w->env, &r);
		if (w->migrated)
			break;
	}
	w->crash_at = 0;
	*n = w->n_journal;
	recs = test_malloc(*n * sizeof(*recs));
	memcpy(recs, w->journal, *n * sizeof(*recs));
	return recs;
}

static void test_recover_mid_migration_resumes_source(void **state)
{
	struct fake_world *w = new_world();
	struct plan_report r;
	struct journal_record *recs;
	size_t n;

	(void)state;
	recs = crash_after_switchover(w, 0, &n);
	assert_int_equal(recs[n - 1].kind, JOURNAL_INTENT);
	assert_string_equal(recs[n - 1].step, "migrate");
	assert_int_equal(plan_recover(&w->plan, &w->env, recs, n, &r), 0);
	assert_int_equal(r.outcome, OUTCOME_ROLLED_BACK);
	assert_log(w, "src.migrate_cancel;dst.quit;src.cont;src.plug(vf0,taps0)");
	assert_true(fake_on_source_with_vf(w));
	test_free(recs);
	test_free(w);
}

/* --max-bandwidth changes the source QEMU for good: a rollback gives back what it had, and
 * only what this run changed; the journal carries it for recover. */
static void test_tuning_restored_on_rollback(void **state)
{
	struct fake_world *w = new_world();
	struct plan_report r;
	bool journaled = false;

	(void)state;
	w->plan.migrate.max_bandwidth = 1000000;
	w->dst_dead = true;
	assert_int_equal(plan_run(&w->plan, &w->env, &r), 0);
	assert_int_equal(r.outcome, OUTCOME_ROLLED_BACK);
	assert_log(w, "src.migrate_start;src.migrated;dst.quit;src.cont;failed:migrate;"
		      "undo:migrate;src.tuning_set(134217728,-1);undo:unplug");
	assert_int_equal(w->tuning[FAKE_SRC].max_bandwidth, 134217728);
	assert_int_equal(w->tuning[FAKE_SRC].downtime_limit_ms, 300);
	for (size_t i = 0; i < w->n_journal; i++)
		if (w->journal[i].has_tuning) {
			assert_int_equal(w->journal[i].kind, JOURNAL_INTENT);
			assert_string_equal(w->journal[i].step, "migrate");
			assert_int_equal(w->journal[i].tuning.max_bandwidth, 134217728);
			assert_int_equal(w->journal[i].tuning.downtime_limit_ms, -1);
			journaled = true;
		}
	assert_true(journaled);
	test_free(w);
}

/* No tuning asked for: the source's parameters are neither read nor written; a completed
 * migration does not give them back either (the source is done). */
static void test_tuning_untouched(void **state)
{
	struct fake_world *w = new_world();
	struct plan_report r;

	(void)state;
	assert_int_equal(plan_run(&w->plan, &w->env, &r), 0);
	assert_int_equal(r.outcome, OUTCOME_MIGRATED);
	assert_log_lacks(w, "tuning_set");
	for (size_t i = 0; i < w->n_journal; i++)
		assert_false(w->journal[i].has_tuning);

	fake_world_init(w);
	w->plan.migrate.downtime_limit_ms = 20;
	assert_int_equal(plan_run(&w->plan, &w->env, &r), 0);
	assert_int_equal(r.outcome, OUTCOME_MIGRATED);
	assert_log_lacks(w, "tuning_set");
	assert_int_equal(w->tuning[FAKE_SRC].downtime_limit_ms, 20);
	test_free(w);
}

/* Reading the tuning fails: the migration goes on, and says the values will not come back. */
static void test_tuning_get_fails(void **state)
{
	struct fake_world *w = new_world();
	struct plan_report r;

	(void)state;
	w->plan.migrate.max_bandwidth = 1000000;
	w->fail_step = STEP_MIGRATE;
	w->fail_op = "hv.tuning_get";
	w->fail_rc = -EIO;
	assert_int_equal(plan_run(&w->plan, &w->env, &r), 0);
	assert_int_equal(r.outcome, OUTCOME_MIGRATED);
	assert_non_null(strstr(w->notes, "could not read the source's migration parameters"));
	assert_log(w, "src.migrate_start");
	for (size_t i = 0; i < w->n_journal; i++)
		assert_false(w->journal[i].has_tuning);

	/* And a rollback then leaves them as they are. */
	fake_world_init(w);
	w->plan.migrate.max_bandwidth = 1000000;
	w->fail_step = STEP_MIGRATE;
	w->fail_op = "hv.tuning_get";
	w->fail_rc = -EIO;
	w->dst_dead = true;
	assert_int_equal(plan_run(&w->plan, &w->env, &r), 0);
	assert_int_equal(r.outcome, OUTCOME_ROLLED_BACK);
	assert_log_lacks(w, "tuning_set");
	assert_int_equal(w->tuning[FAKE_SRC].max_bandwidth, 1000000);
	test_free(w);
}

/* vfmigrate died mid-migration with --max-bandwidth set: recover, in a new process, gives the
 * source its own max-bandwidth back from the journal. */
static void test_recover_restores_tuning(void **state)
{
	struct fake_world *w = new_world();
	struct plan_report r;
	struct journal_record *recs;
	size_t n;

	(void)state;
	recs = crash_after_switchover(w, 1000000, &n);
	assert_int_equal(w->tuning[FAKE_SRC].max_bandwidth, 1000000);
	w->log[0] = '\0';
	assert_int_equal(plan_recover(&w->plan, &w->env, recs, n, &r), 0);
	assert_int_equal(r.outcome, OUTCOME_ROLLED_BACK);
	assert_log(w, "src.migrate_cancel;dst.quit;src.cont;src.tuning_set(134217728,-1);"
		      "src.plug(vf0,taps0)");
	assert_int_equal(w->tuning[FAKE_SRC].max_bandwidth, 134217728);
	assert_true(fake_on_source_with_vf(w));
	test_free(recs);
	test_free(w);
}

/* Operator interrupt (SIGINT/SIGTERM) raised while op `op` of step `step` runs (op NULL: as
 * the step begins). `last` is the last step that completed: everything up to it is undone in
 * reverse; `stopped` is the step that carries the error. */
struct intr_case {
	enum step_id step;
	const char *op;
	enum step_id last;
	enum step_id stopped;
};

static const struct intr_case intr_cases[] = {
    {STEP_PREFLIGHT, "hv.probe", STEP_PREFLIGHT, STEP_BOND},
    {STEP_BOND, NULL, STEP_BOND, STEP_RESERVE},
    {STEP_RESERVE, "pool.reserve", STEP_RESERVE, STEP_BACKUP_ACTIVE},
    {STEP_BACKUP_ACTIVE, "agent.set_active", STEP_BACKUP_ACTIVE, STEP_RELEASE_VF},
    {STEP_RELEASE_VF, "agent.release", STEP_RELEASE_VF, STEP_UNPLUG},
    {STEP_UNPLUG, "hv.unplug_wait", STEP_UNPLUG, STEP_MIGRATE},
    {STEP_MIGRATE, "dst.hv.probe", STEP_MIGRATE, STEP_MIGRATE},
    {STEP_MIGRATE, "hv.migrate_start", STEP_MIGRATE, STEP_MIGRATE},
    {STEP_MIGRATE, "hv.migrate_wait", STEP_MIGRATE, STEP_MIGRATE},
};

static void test_interrupt_before_ponr_rolls_back(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(intr_cases); i++) {
		const struct intr_case *ic = &intr_cases[i];
		struct fake_world *w = new_world();
		struct plan_report r;
		char expect[512] = "SIGNAL;", tag[64];
		int undos = 0, expected_undos = 0;
		const char *p;

		w->intr_step = ic->step;
		w->intr_op = ic->op;
		w->intr_sig = i % 2 ? "SIGTERM" : "SIGINT";
		assert_int_equal(plan_run(&w->plan, &w->env, &r), 0);
		if (r.outcome != OUTCOME_ROLLED_BACK || !fake_on_source_with_vf(w)) {
			print_error("case %zu (%s/%s): outcome %s\nlog: %s\n", i,
				    step_to_string(ic->step), ic->op ? ic->op : "begin",
				    plan_outcome_to_string(r.outcome), w->log);
			fail();
		}
		assert_true(w->intr_raised);
		assert_string_equal(r.interrupted, w->intr_sig);
		assert_false(r.interrupt_ignored);
		assert_true(r.has_error);
		assert_int_equal(r.error_step, ic->stopped);
		assert_int_equal(r.error_code, PLAN_ERR_INTERRUPTED);
		snprintf(tag, sizeof(tag), "interrupted by %s", w->intr_sig);
		if (!strstr(r.error, tag)) {
			print_error("case %zu: error \"%s\" lacks \"%s\"\n", i, r.error, tag);
			fail();
		}
		assert_non_null(strstr(w->notes, "rolling back"));
		assert_false(r.passed_ponr);
		/* The steps after the last one that ran never started. */
		for (int s = ic->last + 1; s <= STEP_MIGRATE; s++)
			assert_true(r.steps[s].result == STEP_NOT_RUN ||
				    r.steps[s].result == STEP_SKIPPED);
		if (ic->stopped == STEP_MIGRATE && ic->last == STEP_MIGRATE) {
			/* A running migration is cancelled before the source is touched again. */
			assert_log(w, "SIGNAL;src.migrate_cancel;failed:migrate;undo:migrate");
			assert_non_null(strstr(r.error, "migration cancelled"));
			assert_log_lacks(w, "src.migrated");
			assert_log_lacks(w, "switched");
		}
		if (ic->last < STEP_MIGRATE)
			assert_log_lacks(w, "src.migrate_start");
		/* Undo in reverse from the last step that ran, each step that has an undo. */
		for (int s = ic->last; s >= STEP_RESERVE; s--) {
			if (!undone_by_rollback(&r, s))
				continue;
			snprintf(tag, sizeof(tag), "undo:%s;undone:%s;", step_to_string(s),
				 step_to_string(s));
			strncat(expect, tag, sizeof(expect) - strlen(expect) - 1);
			expected_undos++;
		}
		assert_log(w, expect);
		for (p = w->log; (p = strstr(p, ";undo:")); p++)
			undos++;
		assert_int_equal(undos, expected_undos);
		assert_log_lacks(w, "ponr");
		assert_string_equal(last_outcome(w), "rolled-back");
		assert_true(r.vf_restored || ic->last < STEP_BACKUP_ACTIVE);
		test_free(w);
	}
}

/* After the switchover the interrupt is ignored: the run finishes with the VF. */
static void test_interrupt_after_switchover_ignored(void **state)
{
	static const struct {
		enum step_id step;
		const char *op;
	} cases[] = {
	    {STEP_MIGRATE, "dst.agent.ping"}, /* proving the guest alive */
	    {STEP_PLUG, NULL},
	    {STEP_PLUG, "hv.plug"},
	    {STEP_ENSLAVE, "agent.enslave"},
	    {STEP_RELEASE_SOURCE, "pool.release"},
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct fake_world *w = new_world();
		struct plan_report r;

		w->intr_step = cases[i].step;
		w->intr_op = cases[i].op;
		w->intr_sig = "SIGTERM";
		assert_int_equal(plan_run(&w->plan, &w->env, &r), 0);
		if (r.outcome != OUTCOME_MIGRATED || !fake_on_destination_with_vf(w)) {
			print_error("case %zu: outcome %s\nlog: %s\n", i,
				    plan_outcome_to_string(r.outcome), w->log);
			fail();
		}
		assert_true(w->intr_raised);
		assert_false(r.has_error);
		assert_true(r.passed_ponr);
		assert_true(r.vf_restored);
		assert_string_equal(r.interrupted, "SIGTERM");
		assert_true(r.interrupt_ignored);
		assert_non_null(strstr(w->notes,
				       "interrupted by SIGTERM: ignored, the guest already runs on "
				       "the destination"));
		/* Said once. */
		assert_null(strstr(strstr(w->notes, "ignored") + 1, "ignored"));
		assert_log(w, "src.migrated;switched;ponr;dst.plug(vf0,tapd0);enslave(vf);"
			      "src.pool_release;J:end");
		assert_log_lacks(w, "undo:");
		assert_log_lacks(w, "migrate_cancel");
		assert_string_equal(last_outcome(w), "migrated");
		test_free(w);
	}
}

/* The migration completes as the interrupt is noticed: the cancel comes too late, the guest
 * runs on the destination, so the run finishes there instead of running it twice. */
static void test_interrupt_too_late_to_cancel(void **state)
{
	struct fake_world *w = new_world();
	struct plan_report r;

	(void)state;
	w->intr_step = STEP_MIGRATE;
	w->intr_op = "hv.migrate_wait";
	w->cancel_too_late = true;
	assert_int_equal(plan_run(&w->plan, &w->env, &r), 0);
	assert_int_equal(r.outcome, OUTCOME_MIGRATED);
	assert_true(fake_on_destination_with_vf(w));
	assert_true(r.interrupt_ignored);
	assert_true(r.has_migration);
	assert_int_equal(r.migration.downtime_ms, 42);
	assert_non_null(strstr(w->notes, "just as the migration completed"));
	assert_log(w, "SIGNAL;src.wait_interrupted;src.migrated;src.migrate_cancel;switched;ponr;"
		      "enslave(vf)");
	assert_log_lacks(w, "undo:");
	assert_log_lacks(w, "dst.quit");
	test_free(w);
}

/* A hypervisor without set_interrupt: the migration runs to its end, the run finishes. */
static void test_interrupt_without_hv_support(void **state)
{
	struct fake_world *w = new_world();
	struct plan_report r;

	(void)state;
	w->hv[FAKE_SRC].set_interrupt = NULL;
	w->intr_step = STEP_MIGRATE;
	w->intr_op = "hv.migrate_wait";
	assert_int_equal(plan_run(&w->plan, &w->env, &r), 0);
	assert_int_equal(r.outcome, OUTCOME_MIGRATED);
	assert_true(fake_on_destination_with_vf(w));
	assert_true(r.interrupt_ignored);
	test_free(w);
}

/* No interrupt source (recover, old callers): nothing changes, and the flag is polled only
 * when there is one. */
static void test_no_interrupt_source(void **state)
{
	struct fake_world *w = new_world();
	struct plan_report r;

	(void)state;
	w->env.interrupted = NULL;
	w->intr_step = STEP_RESERVE;
	assert_int_equal(plan_run(&w->plan, &w->env, &r), 0);
	assert_int_equal(r.outcome, OUTCOME_MIGRATED);
	assert_string_equal(r.interrupted, "");
	assert_int_equal(w->intr_polls, 0);
	assert_null(w->hv_intr[FAKE_SRC]);
	test_free(w);
}

/* ---- The MAC model: {VFs take a guest MAC: yes, no} x the bond's fail_over_mac ---- */

enum which_mac {
	MAC_NONE = 0, /* the agent reports no MAC for the bond */
	MAC_BACKUP,
	MAC_VF,
	MAC_OTHER,
};

static const uint8_t *mac_of(enum which_mac m)
{
	return m == MAC_BACKUP ? fake_bk_mac : m == MAC_VF ? fake_vf_mac : other_mac;
}

struct mac_case {
	bool takes_guest_mac; /* the destination pool's VFs */
	enum bond_fom fom;
	enum which_mac bond_mac;
	const char *refused; /* NULL: migrates; else text pre-flight's refusal holds */
	enum which_mac dst;  /* the MAC reserve, plug and enslave use */
	bool old_agent;	     /* the agent does not report its NICs' kinds */
};

static const struct mac_case mac_cases[] = {
    /* Real VFs (the PF sets their MAC). */
    {false, BOND_FOM_ACTIVE, MAC_BACKUP, NULL, MAC_VF, false},
    /* On the virtio NIC's MAC: the destination VF carries it too, named by kind. */
    {false, BOND_FOM_NONE, MAC_BACKUP, NULL, MAC_BACKUP, false},
    {false, BOND_FOM_NONE, MAC_BACKUP,
     "bond bond0 is at fail_over_mac=none on the virtio NIC's MAC 52:54:00:00:00:0b: a "
     "destination VF whose MAC its PF sets would carry it too, and the guest agent cannot "
     "tell the two apart",
     0, true},
    {false, BOND_FOM_NONE, MAC_VF, NULL, MAC_VF, false},
    {false, BOND_FOM_NONE, MAC_OTHER, NULL, MAC_OTHER, false},
    {false, BOND_FOM_FOLLOW, MAC_OTHER, NULL, MAC_OTHER, false},
    {false, BOND_FOM_FOLLOW, MAC_VF, NULL, MAC_VF, false},
    {false, BOND_FOM_FOLLOW, MAC_BACKUP, NULL, MAC_BACKUP, false},
    {false, BOND_FOM_FOLLOW, MAC_BACKUP, "is at fail_over_mac=follow on the virtio NIC's MAC", 0,
     true},
    {false, BOND_FOM_UNKNOWN, MAC_BACKUP, "the fail_over_mac of bond bond0 could not be read", 0,
     false},
    {false, BOND_FOM_NONE, MAC_NONE, "is at fail_over_mac=none but its MAC could not be read", 0,
     false},
    /* Emulated VFs take any MAC: everything as before, vf-mac. */
    {true, BOND_FOM_ACTIVE, MAC_BACKUP, NULL, MAC_VF, false},
    {true, BOND_FOM_NONE, MAC_BACKUP, NULL, MAC_VF, false},
    {true, BOND_FOM_NONE, MAC_VF, NULL, MAC_VF, false},
    {true, BOND_FOM_NONE, MAC_OTHER, NULL, MAC_VF, false},
    {true, BOND_FOM_FOLLOW, MAC_OTHER, NULL, MAC_VF, false},
    {true, BOND_FOM_UNKNOWN, MAC_BACKUP, NULL, MAC_VF, false},
    {true, BOND_FOM_NONE, MAC_NONE, NULL, MAC_VF, false},
};

static void mac_case_world(struct fake_world *w, const struct mac_case *mc)
{
	fake_world_init(w);
	w->pool[FAKE_DST].vf_takes_guest_mac = mc->takes_guest_mac;
	w->fom = mc->fom;
	w->old_agent = mc->old_agent;
	w->has_bond_mac = mc->bond_mac != MAC_NONE;
	memset(w->bond_mac, 0, 6);
	if (w->has_bond_mac)
		memcpy(w->bond_mac, mac_of(mc->bond_mac), 6);
}

static void test_mac_model(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(mac_cases); i++) {
		const struct mac_case *mc = &mac_cases[i];
		struct fake_world *w = new_world();
		struct plan_report r;
		char what[96];

		snprintf(what, sizeof(what), "case %zu (%s VF, fail_over_mac=%s, bond MAC %d)", i,
			 mc->takes_guest_mac ? "emulated" : "real", bond_fom_to_string(mc->fom),
			 mc->bond_mac);
		/* check says what migrate will do. */
		mac_case_world(w, mc);
		assert_int_equal(plan_check(&w->plan, &w->env, &r), 0);
		if (r.outcome != (mc->refused ? OUTCOME_REFUSED : OUTCOME_MIGRATED))
			fail_msg("%s: check %s (%s)", what, plan_outcome_to_string(r.outcome),
				 r.error);

		mac_case_world(w, mc);
		assert_int_equal(plan_run(&w->plan, &w->env, &r), 0);
		if (mc->refused) {
			/* Refused before anything changed, saying why and what to do. */
			if (r.outcome != OUTCOME_REFUSED || !strstr(r.error, mc->refused))
				fail_msg("%s: %s: \"%s\"", what, plan_outcome_to_string(r.outcome),
					 r.error);
			assert_int_equal(r.error_step, STEP_PREFLIGHT);
			assert_int_equal(w->n_journal, 0);
			assert_log_lacks(w, "reserve");
			assert_true(fake_on_source_with_vf(w));
			if (mc->bond_mac == MAC_BACKUP && mc->fom != BOND_FOM_UNKNOWN)
				assert_non_null(strstr(r.error, "rebuild the bond with "
								"fail_over_mac=active"));
			test_free(w);
			continue;
		}
		if (r.outcome != OUTCOME_MIGRATED || !fake_on_destination_with_vf(w))
			fail_msg("%s: %s (%s)\nlog: %s", what, plan_outcome_to_string(r.outcome),
				 r.error, w->log);
		/* One MAC, from pre-flight to the guest: reserve, plug spec, enslave, BEGIN. */
		assert_memory_equal(w->reserve_mac, mac_of(mc->dst), 6);
		assert_memory_equal(w->plug_mac, mac_of(mc->dst), 6);
		assert_memory_equal(w->enslave_mac, mac_of(mc->dst), 6);
		assert_true(w->journal[0].has_dst_mac);
		assert_memory_equal(w->journal[0].dst_mac, mac_of(mc->dst), 6);
		if (mc->dst != MAC_VF) {
			char note[64], m[18];

			snprintf(note, sizeof(note), "the destination VF is given MAC %s by its PF",
				 format_mac(mac_of(mc->dst), m));
			assert_non_null(strstr(w->notes, note));
		}
		/* Only a shared MAC makes the run name NICs by kind. */
		if (mc->dst == MAC_BACKUP)
			assert_log(w, "set_active(backup,kind=virtio);release(vf,kind=vf);"
				      "enslave(vf,kind=vf)");
		else
			assert_log_lacks(w, "kind=");
		test_free(w);
	}
}

/* ---- NICs that share a MAC (the virtio NIC carries the VF's MAC) ---- */

/*
 * Each NIC is named by its kind in every agent call, on emulated and on real VFs, and the
 * guest migrates with its VF; a rollback (the migration fails) puts the VF back, by kind too.
 */
static void test_shared_mac_migrates(void **state)
{
	(void)state;
	for (int real = 0; real < 2; real++) {
		struct fake_world *w = new_world();
		struct plan_report r;

		fake_world_share_mac(w);
		if (real) {
			w->pool[FAKE_SRC].vf_takes_guest_mac = false;
			w->pool[FAKE_DST].vf_takes_guest_mac = false;
			w->src_pf_mac = true;
		}
		assert_int_equal(plan_check(&w->plan, &w->env, &r), 0);
		assert_int_equal(r.outcome, OUTCOME_MIGRATED);
		assert_int_equal(plan_run(&w->plan, &w->env, &r), 0);
		if (r.outcome != OUTCOME_MIGRATED || !fake_on_destination_with_vf(w))
			fail_msg("real=%d: %s (%s)\nlog: %s", real,
				 plan_outcome_to_string(r.outcome), r.error, w->log);
		assert_log(w, "set_active(backup,kind=virtio);release(vf,kind=vf);ponr;"
			      "enslave(vf,kind=vf)");
		assert_memory_equal(w->enslave_mac, fake_bk_mac, 6);
		test_free(w);

		w = new_world();
		fake_world_share_mac(w);
		w->pool[FAKE_SRC].vf_takes_guest_mac = w->pool[FAKE_DST].vf_takes_guest_mac = !real;
		w->src_pf_mac = real;
		w->fail_step = STEP_MIGRATE;
		w->fail_op = "hv.migrate_start";
		w->fail_rc = -EIO;
		assert_int_equal(plan_run(&w->plan, &w->env, &r), 0);
		assert_int_equal(r.outcome, OUTCOME_ROLLED_BACK);
		assert_true(fake_on_source_with_vf(w));
		assert_log(w, "undo:release-vf;enslave(vf,kind=vf);undo:backup-active;"
			      "set_active(vf,kind=vf)");
		test_free(w);
	}
}

/* Pre-flight refuses (nothing changed, nothing journaled) when the NICs that share the MAC
 * cannot be told apart: an agent that does not report kinds, two NICs of one kind. */
static void test_shared_mac_refused(void **state)
{
	static const struct {
		bool old_agent;
		enum nic_kind vf_kind;
		const char *why;
	} cases[] = {
	    {true, NIC_KIND_VF, "the guest agent does not say which slave of bond0 is which"},
	    {false, NIC_KIND_VIRTIO, "cannot be told apart: 2 virtio, 0 VF, 0 other"},
	    {false, NIC_KIND_OTHER, "cannot be told apart: 1 virtio, 0 VF, 1 other"},
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct fake_world *w = new_world();
		struct plan_report r;

		fake_world_share_mac(w);
		w->old_agent = cases[i].old_agent;
		w->vf_kind = cases[i].vf_kind;
		assert_int_equal(plan_run(&w->plan, &w->env, &r), 0);
		if (r.outcome != OUTCOME_REFUSED || !strstr(r.error, cases[i].why))
			fail_msg("case %zu: %s: %s", i, plan_outcome_to_string(r.outcome), r.error);
		assert_int_equal(r.error_step, STEP_PREFLIGHT);
		assert_int_equal(w->n_journal, 0);
		assert_log_lacks(w, "set_active");
		assert_log_lacks(w, "reserve");
		assert_true(fake_on_source_with_vf(w));
		test_free(w);
	}
}

/* An agent older than NIC selectors still serves a guest whose NICs have distinct MACs: the
 * run names them by MAC alone. --create-bond cannot build a bond over one shared MAC. */
static void test_shared_mac_compat(void **state)
{
	struct fake_world *w = new_world();
	struct plan_report r;

	(void)state;
	w->old_agent = true;
	assert_int_equal(plan_run(&w->plan, &w->env, &r), 0);
	assert_int_equal(r.outcome, OUTCOME_MIGRATED);
	assert_true(fake_on_destination_with_vf(w));
	assert_log_lacks(w, "kind=");
	assert_log_lacks(w, "REFUSED");
	test_free(w);

	w = new_world();
	fake_world_share_mac(w);
	w->bond_exists = false;
	w->slave[0] = w->slave[1] = w->has_active = false;
	w->plan.create_bond = true;
	assert_int_equal(plan_run(&w->plan, &w->env, &r), 0);
	assert_int_equal(r.outcome, OUTCOME_REFUSED);
	assert_non_null(strstr(r.error, "--create-bond cannot build one whose NICs share MAC"));
	assert_false(w->bond_exists);
	assert_int_equal(w->n_journal, 0);
	test_free(w);
}

/* --create-bond on a real VF: at active (the default) it migrates with vf-mac; at none or
 * follow the bond would take the virtio NIC's MAC (enslaved first): refused, not created. */
static void test_mac_model_create_bond(void **state)
{
	static const enum bond_fom foms[] = {BOND_FOM_ACTIVE, BOND_FOM_NONE, BOND_FOM_FOLLOW};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(foms); i++) {
		struct fake_world *w = new_world();
		struct plan_report r;

		w->pool[FAKE_DST].vf_takes_guest_mac = false;
		w->bond_exists = false;
		w->slave[0] = w->slave[1] = w->has_active = false;
		w->plan.create_bond = true;
		w->plan.fail_over_mac = foms[i];
		assert_int_equal(plan_run(&w->plan, &w->env, &r), 0);
		if (foms[i] == BOND_FOM_ACTIVE) {
			assert_int_equal(r.outcome, OUTCOME_MIGRATED);
			assert_true(fake_on_destination_with_vf(w));
			assert_memory_equal(w->enslave_mac, fake_vf_mac, 6);
		} else {
			assert_int_equal(r.outcome, OUTCOME_REFUSED);
			assert_non_null(strstr(r.error, "would be created at fail_over_mac="));
			assert_non_null(strstr(r.error, "create it at fail_over_mac=active"));
			assert_false(w->bond_exists);
			assert_int_equal(w->n_journal, 0);
		}
		test_free(w);
	}
}

/* The bond's MAC changes between pre-flight and the bond step: the run stops there, before
 * any VF is taken, rather than hand out a MAC the bond no longer wants. */
static void test_mac_model_bond_changed(void **state)
{
	struct fake_world *w = new_world();
	struct plan_report r;

	(void)state;
	w->pool[FAKE_DST].vf_takes_guest_mac = false;
	memcpy(w->bond_mac, other_mac, 6);
	w->bond_mac_moves = true;
	memcpy(w->bond_mac_later, fake_vf_mac, 6);
	assert_int_equal(plan_run(&w->plan, &w->env, &r), 0);
	assert_int_equal(r.outcome, OUTCOME_ROLLED_BACK);
	assert_int_equal(r.error_step, STEP_BOND);
	assert_non_null(strstr(r.error, "changed since pre-flight"));
	assert_log_lacks(w, "dst.reserve");
	assert_true(fake_on_source_with_vf(w));
	test_free(w);
}

/* ---- Source handoff: a real source VF's MAC leaves its PF as soon as the VF is unplugged ---- */

/* Real VFs on both sides, the bond at active (what works on them). */
static void model_real_vfs(struct fake_world *w)
{
	w->pool[FAKE_SRC].vf_takes_guest_mac = false;
	w->pool[FAKE_DST].vf_takes_guest_mac = false;
	w->fom = BOND_FOM_ACTIVE;
}

static void test_source_handoff_after_unplug(void **state)
{
	struct fake_world *w = new_world();
	struct plan_report r;

	(void)state;
	model_real_vfs(w);
	assert_int_equal(plan_run(&w->plan, &w->env, &r), 0);
	assert_int_equal(r.outcome, OUTCOME_MIGRATED);
	assert_true(fake_on_destination_with_vf(w));
	/* Right after the removal, journaled, before the migration: not at release-source. */
	assert_log(w, "src.removed;J:done:unplug;run:source-handoff;J:intent:source-handoff;"
		      "src.handoff(out);J:done:source-handoff;ok:source-handoff;"
		      "J:intent:migrate;src.migrate_start");
	assert_int_equal(r.steps[STEP_SOURCE_HANDOFF].result, STEP_OK);
	assert_non_null(strstr(w->notes, "source VF taps0 unplugged: its MAC and VLAN cleared on "
					 "its PF"));
	assert_false(w->src_pf_mac);
	test_free(w);

	/* The source's VFs take a guest MAC (emulated): nothing to hand off, the step is
	 * skipped and not journaled, whatever the destination has. */
	w = new_world();
	w->pool[FAKE_DST].vf_takes_guest_mac = false;
	w->fom = BOND_FOM_ACTIVE;
	assert_int_equal(plan_run(&w->plan, &w->env, &r), 0);
	assert_int_equal(r.outcome, OUTCOME_MIGRATED);
	assert_int_equal(r.steps[STEP_SOURCE_HANDOFF].result, STEP_SKIPPED);
	assert_log_lacks(w, "source-handoff");
	test_free(w);

	/* A pool without a handoff (libvirt sets and restores a VF's MAC itself): skipped. */
	w = new_world();
	model_real_vfs(w);
	w->pool[FAKE_SRC].handoff = NULL;
	w->src_pf_mac = false;
	assert_int_equal(plan_run(&w->plan, &w->env, &r), 0);
	assert_int_equal(r.outcome, OUTCOME_MIGRATED);
	assert_int_equal(r.steps[STEP_SOURCE_HANDOFF].result, STEP_SKIPPED);
	test_free(w);
}

/* Rolled back after the handoff: the PF gives the source VF its MAC back before the VF is
 * plugged again (else it comes up with another MAC and cannot rejoin the bond). */
static void test_source_handoff_undone_on_rollback(void **state)
{
	struct fake_world *w = new_world();
	struct plan_report r;

	(void)state;
	model_real_vfs(w);
	w->dst_dead = true;
	assert_int_equal(plan_run(&w->plan, &w->env, &r), 0);
	assert_int_equal(r.outcome, OUTCOME_ROLLED_BACK);
	assert_log(w, "src.handoff(out);src.migrate_start;failed:migrate;undo:migrate;"
		      "undone:migrate;undo:source-handoff;src.handoff(in);undone:source-handoff;"
		      "undo:unplug;src.plug(vf0,taps0);undone:unplug;undo:release-vf;enslave(vf)");
	assert_true(fake_on_source_with_vf(w));
	assert_non_null(strstr(w->notes, "source VF taps0: MAC 52:54:00:00:00:0f and VLAN 0 set "
					 "on its PF again"));
	assert_int_equal(r.steps[STEP_SOURCE_HANDOFF].result, STEP_UNDONE);
	test_free(w);

	/* The handoff itself fails: undone (the MAC set again) and rolled back. */
	w = new_world();
	model_real_vfs(w);
	w->fail_step = STEP_SOURCE_HANDOFF;
	w->fail_op = "src.pool.handoff";
	w->fail_rc = -EIO;
	assert_int_equal(plan_run(&w->plan, &w->env, &r), 0);
	assert_int_equal(r.outcome, OUTCOME_ROLLED_BACK);
	assert_int_equal(r.error_step, STEP_SOURCE_HANDOFF);
	assert_log(w, "failed:source-handoff;undo:source-handoff;src.handoff(in);"
		      "undone:source-handoff;undo:unplug;src.plug(vf0,taps0)");
	assert_log_lacks(w, "src.migrate_start");
	assert_true(fake_on_source_with_vf(w));
	test_free(w);

	/* An interrupt right after the unplug is taken after the handoff, and undone too. */
	w = new_world();
	model_real_vfs(w);
	w->intr_step = STEP_SOURCE_HANDOFF;
	w->intr_op = "src.pool.handoff";
	assert_int_equal(plan_run(&w->plan, &w->env, &r), 0);
	assert_int_equal(r.outcome, OUTCOME_ROLLED_BACK);
	assert_int_equal(r.error_step, STEP_MIGRATE);
	assert_log(w, "SIGNAL;src.handoff(out);undo:source-handoff;src.handoff(in);undo:unplug");
	assert_true(fake_on_source_with_vf(w));
	test_free(w);
}

/* recover in a new process after a crash past the handoff gives the MAC back first. */
/*
 * Killed while waiting for the VF's removal (device_del asked, the removal maybe still pending):
 * recover asks for the removal again and waits for it before it plugs the VF back, so a
 * removal that comes late cannot take the re-plugged VF away.
 */
static void test_recover_killed_mid_unplug(void **state)
{
	struct fake_world *w = new_world();
	struct journal_record *recs;
	struct plan_report r;
	size_t n;

	(void)state;
	w->crash_op = "src.hv.unplug_wait";
	if (setjmp(w->crash_jmp) == 0) {
		plan_run(&w->plan, &w->env, &r);
		fail_msg("the run did not reach the crash point");
	}
	w->crash_op = NULL;
	n = w->n_journal;
	assert_int_equal(w->journal[n - 1].kind, JOURNAL_INTENT);
	assert_string_equal(w->journal[n - 1].step, "unplug");
	assert_true(w->vf_present[FAKE_SRC]);
	recs = test_malloc(n * sizeof(*recs));
	memcpy(recs, w->journal, n * sizeof(*recs));
	w->log[0] = '\0';
	assert_int_equal(plan_recover(&w->plan, &w->env, recs, n, &r), 0);
	assert_int_equal(r.outcome, OUTCOME_ROLLED_BACK);
	assert_log(w, "undo:unplug;src.unplug_start(vf0);src.removed;src.plug(vf0,taps0);"
		      "undone:unplug");
	assert_true(fake_on_source_with_vf(w));
	test_free(recs);
	test_free(w);
}

static void test_recover_source_handoff(void **state)
{
	struct fake_world *w = new_world();
	struct journal_record *recs;
	struct plan_report r;
	volatile uint32_t cut;
	size_t n;

	(void)state;
	/* Crash just before the migration's intent: the handoff is done and journaled. */
	for (cut = 1;; cut++) {
		fake_world_init(w);
		model_real_vfs(w);
		w->crash_at = cut;
		if (setjmp(w->crash_jmp) == 0)
			plan_run(&w->plan, &w->env, &r);
		if (w->n_journal > 0 && w->journal[w->n_journal - 1].kind == JOURNAL_DONE &&
		    !strcmp(w->journal[w->n_journal - 1].step, "source-handoff"))
			break;
		assert_true(cut < 64);
	}
	w->crash_at = 0;
	assert_false(w->src_pf_mac);
	n = w->n_journal;
	recs = test_malloc(n * sizeof(*recs));
	memcpy(recs, w->journal, n * sizeof(*recs));
	w->log[0] = '\0';
	assert_int_equal(plan_recover(&w->plan, &w->env, recs, n, &r), 0);
	assert_int_equal(r.outcome, OUTCOME_ROLLED_BACK);
	assert_log(w, "undo:source-handoff;src.handoff(in);undone:source-handoff;undo:unplug;"
		      "src.plug(vf0,taps0);undone:unplug");
	assert_true(fake_on_source_with_vf(w));
	test_free(recs);
	test_free(w);
}

static void test_recover_every_cut_point_real_vfs(void **state)
{
	(void)state;
	recover_every_cut_point(model_real_vfs);
}

/* Failure kinds travel as codes, from the errno or from the step that knows (never from text). */
static void test_error_codes(void **state)
{
	static const struct {
		int step;
		const char *op;
		int rc;
		const char *msg;
		enum plan_error_code code;
	} cases[] = {
	    /* EHOSTDOWN from the hypervisor is not a dead arrival; text saying so is not either. */
	    {STEP_MIGRATE, "src.hv.migrate_wait", -EHOSTDOWN,
	     "migration completed but the guest did not answer on the destination",
	     PLAN_ERR_FAILED},
	    {STEP_MIGRATE, "src.hv.migrate_wait", -ECANCELED, "job aborted", PLAN_ERR_CANCELLED},
	    {STEP_UNPLUG, "src.hv.unplug_start", -ECONNRESET, "closed", PLAN_ERR_PEER_GONE},
	    {STEP_UNPLUG, "src.hv.unplug_start", -EPIPE, "closed", PLAN_ERR_PEER_GONE},
	    {STEP_RELEASE_VF, "src.agent.release", -ETIMEDOUT, "cancelled", PLAN_ERR_TIMEOUT},
	    {STEP_RESERVE, "dst.pool.reserve", -ENOSPC, "timeout", PLAN_ERR_FAILED},
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct fake_world *w = new_world();
		struct plan_report r;

		w->fail_step = cases[i].step;
		w->fail_op = cases[i].op;
		w->fail_rc = cases[i].rc;
		w->fail_msg = cases[i].msg;
		assert_int_equal(plan_run(&w->plan, &w->env, &r), 0);
		assert_int_equal(r.outcome, OUTCOME_ROLLED_BACK);
		assert_int_equal(r.error_step, cases[i].step);
		if (r.error_code != cases[i].code) {
			print_error("case %zu: code %s, want %s\n", i,
				    plan_error_code_to_string(r.error_code),
				    plan_error_code_to_string(cases[i].code));
			fail();
		}
		test_free(w);
	}
	assert_string_equal(plan_error_code_to_string(PLAN_ERR_DEAD_ARRIVAL), "dead-arrival");
}

/*
 * The guest agent stops answering (a stall, not a close) at each guest step, or after the last
 * one while a host step then fails. The rollback goes past the failed guest undo: the host-side
 * undos (the destination reservation, the re-plug on the source) run; a guest undo that needs
 * the failed one is skipped, not tried against a silent guest; the report lists the failed
 * undo; the journal stays unfinished for recover.
 */
struct stall_case {
	int stall_step; /* the agent goes silent as this step begins */
	int fail_step;	/* and this step fails by itself (-1: none) */
	const char *fail_op;
	enum plan_outcome outcome;
	int undo_failed;  /* the guest undo that fails (-1: none) */
	int undo_skipped; /* the guest undo skipped for it (-1: none) */
	bool vf_plugged;  /* the source VF is plugged at the end */
};

static const struct stall_case stall_cases[] = {
    /* Nothing changed yet: nothing to undo. */
    {STEP_BOND, -1, NULL, OUTCOME_ROLLED_BACK, -1, -1, true},
    {STEP_BACKUP_ACTIVE, -1, NULL, OUTCOME_NEEDS_RECOVER, STEP_BACKUP_ACTIVE, -1, true},
    {STEP_RELEASE_VF, -1, NULL, OUTCOME_NEEDS_RECOVER, STEP_RELEASE_VF, STEP_BACKUP_ACTIVE, true},
    /* Silent from the unplug on, the migration fails: the VF is re-plugged on the source. */
    {STEP_UNPLUG, STEP_MIGRATE, "src.hv.migrate_start", OUTCOME_NEEDS_RECOVER, STEP_RELEASE_VF,
     STEP_BACKUP_ACTIVE, true},
};

static void test_guest_stall_frees_destination_vf(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(stall_cases); i++) {
		const struct stall_case *sc = &stall_cases[i];
		struct fake_world *w = new_world();
		struct plan_report r;

		w->stall_step = sc->stall_step;
		w->fail_step = sc->fail_step;
		w->fail_op = sc->fail_op;
		w->fail_rc = -ECONNREFUSED;
		assert_int_equal(plan_run(&w->plan, &w->env, &r), 0);
		if (r.outcome != sc->outcome || w->dst_reserved || w->dst_free != 2) {
			print_error(
			    "case %zu (stall at %s): outcome %s, destination VF %s\nlog: %s\n", i,
			    step_to_string(sc->stall_step), plan_outcome_to_string(r.outcome),
			    w->dst_reserved ? "still reserved" : "free", w->log);
			fail();
		}
		assert_false(r.passed_ponr);
		/* The guest stays where it was, on its source, reachable through the bond. */
		assert_true(w->running[FAKE_SRC]);
		assert_false(w->migrated);
		assert_int_equal(w->vf_present[FAKE_SRC], sc->vf_plugged);
		assert_false(w->vf_present[FAKE_DST]);
		assert_true(w->slave[FAKE_NIC_BACKUP] && w->has_active);
		for (int s = STEP_BOND; s < _STEP_MAX; s++) {
			const struct step_report *sr = &r.steps[s];

			if (s == sc->undo_failed) {
				assert_int_equal(sr->result, STEP_UNDO_FAILED);
				assert_non_null(
				    strstr(sr->undo_error, "no reply within the deadline"));
				assert_true(step_undo_in_guest((enum step_id)s));
			} else if (s == sc->undo_skipped) {
				assert_int_equal(sr->result, STEP_UNDO_SKIPPED);
				assert_int_equal(sr->undo_blocked_by, sc->undo_failed);
				assert_true(step_undo_in_guest((enum step_id)s));
			} else {
				assert_int_not_equal(sr->result, STEP_UNDO_FAILED);
				assert_int_not_equal(sr->result, STEP_UNDO_SKIPPED);
			}
		}
		if (sc->undo_skipped >= 0) {
			char undo[64];

			/* Not tried: another deadline spent on a silent guest for nothing. */
			snprintf(undo, sizeof(undo), "undo:%s;", step_to_string(sc->undo_skipped));
			assert_log_lacks(w, undo);
		}
		if (sc->fail_step < 0) {
			assert_int_equal(r.error_code, PLAN_ERR_TIMEOUT);
			/* One prefix, naming the side. */
			assert_string_equal(r.error,
					    "source guest agent: no reply within the deadline");
		}
		if (sc->outcome == OUTCOME_NEEDS_RECOVER) {
			assert_int_equal(r.steps[STEP_RESERVE].result, STEP_UNDONE);
			assert_true(r.has_error2);
			assert_null(last_outcome(w)); /* the journal is left to recover */
		} else {
			assert_string_equal(last_outcome(w), "rolled-back");
			assert_true(fake_on_source_with_vf(w));
		}
		if (sc->fail_step == STEP_MIGRATE)
			assert_log(w, "failed:migrate;undo:migrate;undone:migrate;undo:unplug;"
				      "src.plug(vf0,taps0);undone:unplug;undo:release-vf;"
				      "undo-failed:release-vf;undo:reserve;dst.pool_release;"
				      "undone:reserve");
		/* Bounded: each call to the silent guest waits its own deadline, no more. */
		assert_true(r.total_ms <
			    3 * (w->plan.timeouts.link_ms + w->plan.timeouts.command_ms));

		/* The agent answers again: recover finishes what was left to the guest. */
		if (sc->outcome == OUTCOME_NEEDS_RECOVER) {
			size_t n = w->n_journal;
			struct journal_record *recs = test_malloc(n * sizeof(*recs));

			memcpy(recs, w->journal, n * sizeof(*recs));
			w->stall_step = -1;
			w->agent_stalled = false;
			w->fail_step = -1;
			assert_int_equal(plan_recover(&w->plan, &w->env, recs, n, &r), 0);
			assert_int_equal(r.outcome, OUTCOME_ROLLED_BACK);
			assert_true(fake_on_source_with_vf(w));
			assert_string_equal(last_outcome(w), "rolled-back");
			test_free(recs);
		}
		test_free(w);
	}
}

/*
 * vfmigrate died while the guest agent was silent in release-vf (nothing undone). recover,
 * with the agent still silent, frees the destination VF, says what is left to the guest and
 * leaves the journal unfinished; once the agent answers, recover finishes.
 */
static void test_recover_guest_stall_frees_destination_vf(void **state)
{
	struct fake_world *w = new_world();
	struct journal_record *recs;
	struct plan_report r;
	volatile uint32_t cut;
	size_t n;

	(void)state;
	for (cut = 1;; cut++) {
		fake_world_init(w);
		w->stall_step = STEP_RELEASE_VF;
		w->crash_at = cut;
		if (setjmp(w->crash_jmp) == 0)
			plan_run(&w->plan, &w->env, &r);
		if (w->n_journal > 0 && w->journal[w->n_journal - 1].kind == JOURNAL_FAIL &&
		    !strcmp(w->journal[w->n_journal - 1].step, "release-vf"))
			break;
		assert_true(cut < 64);
	}
	w->crash_at = 0;
	assert_true(w->dst_reserved);
	n = w->n_journal;
	recs = test_malloc(n * sizeof(*recs));
	memcpy(recs, w->journal, n * sizeof(*recs));
	assert_int_equal(plan_recover(&w->plan, &w->env, recs, n, &r), 0);
	assert_int_equal(r.outcome, OUTCOME_NEEDS_RECOVER);
	assert_false(w->dst_reserved);
	assert_int_equal(w->dst_free, 2);
	assert_int_equal(r.steps[STEP_RESERVE].result, STEP_UNDONE);
	assert_int_equal(r.steps[STEP_RELEASE_VF].result, STEP_UNDO_FAILED);
	assert_int_equal(r.steps[STEP_BACKUP_ACTIVE].result, STEP_UNDO_SKIPPED);
	assert_non_null(strstr(w->notes, "not undone: it needs release-vf undone first"));
	assert_null(last_outcome(w));
	test_free(recs);

	/* Still silent: recover again changes nothing and does not release twice. */
	n = w->n_journal;
	recs = test_malloc(n * sizeof(*recs));
	memcpy(recs, w->journal, n * sizeof(*recs));
	w->log[0] = '\0';
	assert_int_equal(plan_recover(&w->plan, &w->env, recs, n, &r), 0);
	assert_int_equal(r.outcome, OUTCOME_NEEDS_RECOVER);
	assert_log_lacks(w, "pool_release");
	assert_int_equal(w->dst_free, 2);
	test_free(recs);

	/* The agent answers: done. */
	w->agent_stalled = false;
	n = w->n_journal;
	recs = test_malloc(n * sizeof(*recs));
	memcpy(recs, w->journal, n * sizeof(*recs));
	assert_int_equal(plan_recover(&w->plan, &w->env, recs, n, &r), 0);
	assert_int_equal(r.outcome, OUTCOME_ROLLED_BACK);
	assert_true(fake_on_source_with_vf(w));
	assert_string_equal(last_outcome(w), "rolled-back");
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
	for (int i = 0; i < _BOND_FOM_MAX; i++) {
		enum bond_fom f;

		assert_int_equal(bond_fom_from_string(bond_fom_to_string(i), &f), 0);
		assert_int_equal(f, i);
	}
	assert_string_equal(bond_fom_to_string(BOND_FOM_ACTIVE), "active");
	assert_string_equal(bond_fom_to_string(_BOND_FOM_MAX), "unknown");
	assert_int_equal(bond_fom_from_string("Active", &(enum bond_fom){0}), -EINVAL);
}

/* The fake's call log cannot silently stop: when it fills, the test program aborts and says
 * so (otherwise assert_log_lacks could pass on a log that stopped recording). */
static void test_fake_log_full_aborts(void **state)
{
	int p[2], status;
	char msg[256] = "";
	pid_t pid;

	(void)state;
	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		static struct fake_world w;

		dup2(p[1], 2);
		fake_world_init(&w);
		/* Every failed call logs "FAIL src.hv.stop;". */
		w.cur_step = w.fail_step = STEP_UNPLUG;
		w.fail_op = "hv.stop";
		w.fail_rc = -EIO;
		w.fail_times = 1 << 30;
		for (int i = 0; i < 100000; i++)
			(void)w.hv[FAKE_SRC].stop(w.hv[FAKE_SRC].userdata, 0, NULL);
		_exit(0); /* the log never filled: the test fails below */
	}
	close(p[1]);
	(void)!read(p[0], msg, sizeof(msg) - 1);
	close(p[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
	assert_non_null(strstr(msg, "fake_world: the call log (8192 bytes) is full"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_happy_path),
	    cmocka_unit_test(test_fake_log_full_aborts),
	    cmocka_unit_test(test_begin_records_destination),
	    cmocka_unit_test(test_every_step_fails),
	    cmocka_unit_test(test_preflight_refuses_and_changes_nothing),
	    cmocka_unit_test(test_check_only_probes),
	    cmocka_unit_test(test_preflight_problem_with_semicolon),
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
	    cmocka_unit_test(test_recover_every_cut_point_mac_model),
	    cmocka_unit_test(test_recover_mid_migration_resumes_source),
	    cmocka_unit_test(test_tuning_restored_on_rollback),
	    cmocka_unit_test(test_tuning_untouched),
	    cmocka_unit_test(test_tuning_get_fails),
	    cmocka_unit_test(test_recover_restores_tuning),
	    cmocka_unit_test(test_interrupt_before_ponr_rolls_back),
	    cmocka_unit_test(test_interrupt_after_switchover_ignored),
	    cmocka_unit_test(test_interrupt_too_late_to_cancel),
	    cmocka_unit_test(test_interrupt_without_hv_support),
	    cmocka_unit_test(test_no_interrupt_source),
	    cmocka_unit_test(test_names_round_trip),
	    cmocka_unit_test(test_mac_model),
	    cmocka_unit_test(test_mac_model_create_bond),
	    cmocka_unit_test(test_shared_mac_migrates),
	    cmocka_unit_test(test_shared_mac_refused),
	    cmocka_unit_test(test_shared_mac_compat),
	    cmocka_unit_test(test_recover_every_cut_point_shared_mac),
	    cmocka_unit_test(test_mac_model_bond_changed),
	    cmocka_unit_test(test_source_handoff_after_unplug),
	    cmocka_unit_test(test_source_handoff_undone_on_rollback),
	    cmocka_unit_test(test_recover_source_handoff),
	    cmocka_unit_test(test_recover_killed_mid_unplug),
	    cmocka_unit_test(test_recover_every_cut_point_real_vfs),
	    cmocka_unit_test(test_error_codes),
	    cmocka_unit_test(test_guest_stall_frees_destination_vf),
	    cmocka_unit_test(test_recover_guest_stall_frees_destination_vf),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
