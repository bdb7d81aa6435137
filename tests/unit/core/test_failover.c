// SPDX-License-Identifier: MIT
/*
 * Failover mode on the fake world (fake_failover.c): how pre-flight picks the mode, a whole
 * run, the wait-unplug deadline (a paused guest: cancel, roll back, bounded), the rules after
 * the point of no return, and recover of a failover journal.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "fake_world.h"

static struct fake_world *fo_world(void)
{
	struct fake_world *w = test_malloc(sizeof(*w));

	fake_world_init(w);
	fake_world_failover(w);
	return w;
}

static void assert_log(const struct fake_world *w, const char *seq)
{
	if (!fake_log_has_in_order(w, seq)) {
		print_error("expected in order: %s\nlog: %s\n", seq, w->log);
		fail();
	}
}

static bool has_problem(const struct plan_report *r, enum plan_problem_code code)
{
	for (size_t i = 0; i < r->n_problems; i++)
		if (r->problems[i].code == code)
			return true;
	return false;
}

static void test_auto_picks_failover_and_migrates(void **state)
{
	struct fake_world *w = fo_world();
	struct plan_report r;

	(void)state;
	assert_int_equal(plan_run(&w->plan, &w->env, &r), 0);
	assert_int_equal(r.outcome, OUTCOME_MIGRATED);
	assert_int_equal(r.mode, PLAN_MODE_FAILOVER);
	/* The bond's steps have nothing to do; QEMU unplugs the VF during the migration. */
	assert_int_equal(r.steps[STEP_BOND].result, STEP_SKIPPED);
	assert_int_equal(r.steps[STEP_BACKUP_ACTIVE].result, STEP_SKIPPED);
	assert_int_equal(r.steps[STEP_RELEASE_VF].result, STEP_SKIPPED);
	assert_int_equal(r.steps[STEP_UNPLUG].result, STEP_SKIPPED);
	assert_int_equal(r.steps[STEP_ENSLAVE].result, STEP_OK);
	/* The standby is announced as soon as the guest let the primary go. */
	assert_log(w, "src.unplug_primary;src.migrate_start;src.primary_released;"
		      "src.announce(net0);src.migrated;dst.plug(vf0,tapd0)");
	assert_string_equal(w->fo_plug_pair, "net0");
	/* The destination VF carries the pair's one MAC. */
	assert_memory_equal(w->plug_mac, fake_bk_mac, 6);
	/* The migration is told the reserved destination VF (libvirt defines it there). */
	assert_int_equal(w->fo_migrate.n_failover_vfs, 1);
	assert_string_equal(w->fo_migrate.failover_vfs[0].backend, "tapd0");
	assert_string_equal(w->fo_migrate.failover_vfs[0].failover_pair_id, "net0");
	assert_memory_equal(w->fo_migrate.failover_vfs[0].mac, fake_bk_mac, 6);
	assert_true(fake_on_destination_with_vf(w));
	assert_true(r.vf_restored);
	assert_true(r.without_vf_ms > 0);
	/* The journal says how: BEGIN with the mode and the pair, reserve's VF with the pair. */
	assert_string_equal(w->journal[0].mode, "failover");
	assert_string_equal(w->journal[0].spec.failover_pair_id, "net0");
	for (size_t i = 0; i < w->n_journal; i++)
		if (w->journal[i].kind == JOURNAL_DONE && !strcmp(w->journal[i].step, "reserve"))
			assert_string_equal(w->journal[i].spec.failover_pair_id, "net0");
	test_free(w);
}

static void test_auto_picks_bond_without_pair(void **state)
{
	struct fake_world *w = test_malloc(sizeof(*w));
	struct plan_report r;

	(void)state;
	/* A plain bonded guest, QEMU answering that the VF has no failover_pair_id. */
	fake_world_init(w);
	w->hv[FAKE_SRC].failover_pair = w->hv[FAKE_DST].failover_pair = NULL;
	assert_int_equal(plan_run(&w->plan, &w->env, &r), 0);
	assert_int_equal(r.mode, PLAN_MODE_BOND);
	assert_int_equal(r.outcome, OUTCOME_MIGRATED);
	assert_int_equal(w->journal[0].mode[0], '\0');
	test_free(w);
}

static void test_auto_without_pair_or_bond_refused(void **state)
{
	struct fake_world *w = fo_world();
	struct plan_report r;

	(void)state;
	w->failover = false; /* the VF is no failover primary, and no bond is configured */
	assert_int_equal(plan_run(&w->plan, &w->env, &r), 0);
	assert_int_equal(r.outcome, OUTCOME_REFUSED);
	assert_int_equal(r.mode, PLAN_MODE_BOND);
	assert_true(has_problem(&r, PROBLEM_BOND));
	assert_int_equal(w->n_journal, 0);
	test_free(w);
}

static void test_forced_failover_without_pair_refused(void **state)
{
	struct fake_world *w = test_malloc(sizeof(*w));
	struct plan_report r;

	(void)state;
	fake_world_init(w);
	fake_world_failover(w);
	w->failover = false;
	w->plan.mode = PLAN_MODE_FAILOVER;
	assert_int_equal(plan_check(&w->plan, &w->env, &r), 0);
	assert_int_equal(r.outcome, OUTCOME_REFUSED);
	assert_int_equal(r.mode, PLAN_MODE_FAILOVER);
	assert_true(has_problem(&r, PROBLEM_FAILOVER_PAIR));
	/* And the guest has no net_failover master on that MAC either. */
	assert_true(has_problem(&r, PROBLEM_FAILOVER_MASTER));
	assert_true(fake_on_source_with_vf(w));
	test_free(w);
}

/* A destination pool whose VFs cannot stand in for the guest's (libvirt: a source of another
 * kind than the VF's interface): refused before anything changes, naming the VF. */
static char fits_asked[VFM_ID_MAX];
static int fits_refuses(void *ud, const struct plug_spec *src, struct diag *d)
{
	(void)ud;
	snprintf(fits_asked, sizeof(fits_asked), "%s", src->device_id);
	diag_set(d, "VF %s: source network:x cannot replace it", src->device_id);
	return -EINVAL;
}

static int fits_accepts(void *ud, const struct plug_spec *src, struct diag *d)
{
	(void)ud;
	(void)d;
	snprintf(fits_asked, sizeof(fits_asked), "%s", src->device_id);
	return 0;
}

static void test_failover_source_unfit_refused(void **state)
{
	struct fake_world *w = fo_world();
	struct plan_report r;

	(void)state;
	fits_asked[0] = '\0';
	w->pool[FAKE_DST].failover_fits = fits_refuses;
	assert_int_equal(plan_run(&w->plan, &w->env, &r), 0);
	assert_int_equal(r.outcome, OUTCOME_REFUSED);
	assert_int_equal(r.mode, PLAN_MODE_FAILOVER);
	assert_string_equal(fits_asked, "vf0");
	assert_int_equal(r.n_problems, 1);
	assert_int_equal(r.problems[0].code, PROBLEM_FAILOVER_SOURCE);
	assert_int_equal(r.problems[0].side, PROBLEM_SIDE_DESTINATION);
	assert_non_null(strstr(r.problems[0].text, "network:x cannot replace"));
	assert_string_equal(plan_problem_code_to_string(PROBLEM_FAILOVER_SOURCE),
			    "failover-source");
	assert_int_equal(w->n_journal, 0);
	assert_true(fake_on_source_with_vf(w));
	test_free(w);

	/* A pool whose VFs fit: asked, and the migration goes on. Bond mode never asks. */
	w = fo_world();
	fits_asked[0] = '\0';
	w->pool[FAKE_DST].failover_fits = fits_accepts;
	assert_int_equal(plan_run(&w->plan, &w->env, &r), 0);
	assert_int_equal(r.outcome, OUTCOME_MIGRATED);
	assert_string_equal(fits_asked, "vf0");
	test_free(w);
	w = fo_world();
	fits_asked[0] = '\0';
	w->pool[FAKE_DST].failover_fits = fits_refuses;
	w->plan.mode = PLAN_MODE_BOND;
	snprintf(w->plan.vfs[0].bond, sizeof(w->plan.vfs[0].bond), "bond0");
	assert_int_equal(plan_check(&w->plan, &w->env, &r), 0);
	assert_string_equal(fits_asked, "");
	test_free(w);
}

static void test_forced_bond_ignores_pair(void **state)
{
	struct fake_world *w = fo_world();
	struct plan_report r;

	(void)state;
	w->plan.mode = PLAN_MODE_BOND;
	snprintf(w->plan.vfs[0].bond, sizeof(w->plan.vfs[0].bond), "bond0");
	assert_int_equal(plan_check(&w->plan, &w->env, &r), 0);
	assert_int_equal(r.mode, PLAN_MODE_BOND);
	/* Bond mode reads the bond (there is none), never the failover pair. */
	assert_int_equal(r.outcome, OUTCOME_REFUSED);
	assert_true(has_problem(&r, PROBLEM_BOND));
	assert_null(strstr(w->log, "failover"));
	test_free(w);
}

static void test_failover_agent_without_support_refused(void **state)
{
	struct fake_world *w = fo_world();
	struct plan_report r;

	(void)state;
	w->agent[FAKE_SRC].failover_status = NULL; /* the stock qemu-ga */
	assert_int_equal(plan_check(&w->plan, &w->env, &r), 0);
	assert_int_equal(r.mode, PLAN_MODE_FAILOVER);
	assert_int_equal(r.outcome, OUTCOME_REFUSED);
	assert_true(has_problem(&r, PROBLEM_FAILOVER_MASTER));
	test_free(w);
}

/* A paused guest never lets the primary go: cancel at our deadline, roll back, bounded. */
static void test_wait_unplug_deadline_rolls_back(void **state)
{
	struct fake_world *w = fo_world();
	struct plan_report r;
	int64_t t0 = w->now, bound;

	(void)state;
	w->fo_paused = true;
	w->plan.timeouts.unplug_ms = 3000;
	assert_int_equal(plan_run(&w->plan, &w->env, &r), 0);
	assert_int_equal(r.outcome, OUTCOME_ROLLED_BACK);
	assert_int_equal(r.error_step, STEP_MIGRATE);
	assert_int_equal(r.error_code, PLAN_ERR_TIMEOUT);
	assert_non_null(strstr(r.error, "did not release failover primary vf0 within 3000 ms"));
	assert_log(w, "src.unplug_primary;src.migrate_cancel;src.replug_primary");
	assert_null(strstr(w->log, "src.migrated"));
	assert_true(fake_on_source_with_vf(w));
	assert_int_equal(r.steps[STEP_RESERVE].result, STEP_UNDONE);
	/* The deadline, the commands around it, the link wait of the undo: never unbounded. */
	bound = w->plan.timeouts.unplug_ms + w->plan.timeouts.link_ms + 20 * 1000;
	assert_true(w->now - t0 < bound);
	assert_string_equal(w->journal[w->n_journal - 1].outcome, "rolled-back");
	test_free(w);
}

/* Paused by the operator as the migration starts: QEMU cancels only once the guest did the
 * unplug, so vfmigrate resumes it (the rollback would anyway) and the cancel goes through. */
static void test_paused_guest_resumed_to_cancel(void **state)
{
	struct fake_world *w = fo_world();
	struct plan_report r;

	(void)state;
	w->fo_pause_at_migrate = true;
	w->plan.timeouts.unplug_ms = 3000;
	assert_int_equal(plan_run(&w->plan, &w->env, &r), 0);
	assert_int_equal(r.outcome, OUTCOME_ROLLED_BACK);
	assert_int_equal(r.error_code, PLAN_ERR_TIMEOUT);
	assert_log(w, "src.unplug_primary;src.cancelling;src.cont;src.migrate_cancel;"
		      "src.replug_primary");
	assert_non_null(strstr(w->notes, "resumed so that it lets the failover primary go"));
	assert_true(fake_on_source_with_vf(w));
	test_free(w);
}

/* libvirt: the resume waits for the migration job, so QEMU's 30 s end the cancel and the
 * resumed guest ejects the primary it was asked to unplug, after the primary looked active:
 * vfmigrate waits for that removal and plugs the primary again (paired). */
static void test_paused_guest_late_eject_replugged(void **state)
{
	struct fake_world *w = fo_world();
	struct plan_report r;

	(void)state;
	w->fo_pause_at_migrate = true;
	w->fo_resume_waits_job = true;
	w->plan.timeouts.unplug_ms = 3000;
	assert_int_equal(plan_run(&w->plan, &w->env, &r), 0);
	assert_int_equal(r.outcome, OUTCOME_ROLLED_BACK);
	assert_log(w, "src.unplug_primary;src.cancelling;src.cont;src.replug_primary;"
		      "src.guest_eject;src.plug(vf0,taps0)");
	assert_non_null(strstr(w->notes, "the resumed guest ejected failover primary vf0"));
	assert_string_equal(w->fo_src_plug_pair, "net0");
	assert_false(w->fo_watching);
	assert_true(fake_on_source_with_vf(w));
	test_free(w);
}

/* Watched, but the guest keeps the primary: the wait ends at the unplug deadline and the
 * primary is taken as it is. */
static void test_paused_guest_no_eject(void **state)
{
	struct fake_world *w = fo_world();
	struct plan_report r;

	(void)state;
	w->fo_pause_at_migrate = true;
	w->plan.timeouts.unplug_ms = 3000;
	assert_int_equal(plan_run(&w->plan, &w->env, &r), 0);
	assert_int_equal(r.outcome, OUTCOME_ROLLED_BACK);
	assert_null(strstr(w->log, "guest_eject"));
	assert_null(strstr(w->notes, "ejected"));
	assert_false(w->fo_watching);
	assert_true(fake_on_source_with_vf(w));
	test_free(w);
}

/* The announce is a help, not a need: its failure is only noted. */
static void test_announce_failure_noted(void **state)
{
	struct fake_world *w = fo_world();
	struct plan_report r;

	(void)state;
	w->fail_step = STEP_MIGRATE;
	w->fail_op = "hv.announce_nic";
	w->fail_rc = -EIO;
	assert_int_equal(plan_run(&w->plan, &w->env, &r), 0);
	assert_int_equal(r.outcome, OUTCOME_MIGRATED);
	assert_non_null(strstr(w->notes, "announcing the guest on net0"));
	test_free(w);
}

/* Ctrl-C while QEMU waits for the unplug: cancelled and rolled back at once, not at the
 * deadline. */
static void test_interrupt_in_wait_unplug(void **state)
{
	struct fake_world *w = fo_world();
	struct plan_report r;
	int64_t t0 = w->now;

	(void)state;
	w->fo_paused = true;
	w->intr_step = STEP_MIGRATE;
	w->intr_op = "hv.wait_unplug";
	assert_int_equal(plan_run(&w->plan, &w->env, &r), 0);
	assert_int_equal(r.outcome, OUTCOME_ROLLED_BACK);
	assert_int_equal(r.error_code, PLAN_ERR_INTERRUPTED);
	assert_string_equal(r.interrupted, "SIGINT");
	assert_non_null(strstr(r.error, "interrupted by SIGINT in QEMU's wait-unplug"));
	assert_true(w->now - t0 < w->plan.timeouts.unplug_ms);
	assert_null(w->hv_intr[FAKE_SRC]); /* switched off again */
	assert_true(fake_on_source_with_vf(w));
	test_free(w);
}

static void test_failed_migration_replugs_primary(void **state)
{
	struct fake_world *w = fo_world();
	struct plan_report r;

	(void)state;
	w->fail_step = STEP_MIGRATE;
	w->fail_op = "hv.migrate_wait";
	w->fail_rc = -EIO;
	assert_int_equal(plan_run(&w->plan, &w->env, &r), 0);
	assert_int_equal(r.outcome, OUTCOME_ROLLED_BACK);
	assert_log(w, "src.primary_released;FAIL src.hv.migrate_wait");
	assert_true(fake_on_source_with_vf(w));
	test_free(w);
}

static void test_plug_failure_after_ponr_degraded(void **state)
{
	struct fake_world *w = fo_world();
	struct plan_report r;

	(void)state;
	w->fail_step = STEP_PLUG;
	w->fail_op = "dst.hv.plug";
	w->fail_rc = -EIO;
	assert_int_equal(plan_run(&w->plan, &w->env, &r), 0);
	assert_true(r.passed_ponr);
	assert_int_equal(r.outcome, OUTCOME_DEGRADED);
	assert_int_equal(r.steps[STEP_ENSLAVE].result, STEP_SKIPPED);
	assert_false(w->dst_reserved);
	assert_true(w->migrated);
	assert_false(r.vf_restored);
	test_free(w);
}

static void test_primary_never_active_degraded(void **state)
{
	struct fake_world *w = fo_world();
	struct plan_report r;

	(void)state;
	w->fo_no_primary = true;
	assert_int_equal(plan_run(&w->plan, &w->env, &r), 0);
	assert_int_equal(r.outcome, OUTCOME_DEGRADED);
	assert_int_equal(r.steps[STEP_ENSLAVE].result, STEP_FAILED);
	assert_non_null(strstr(r.error, "destination guest agent"));
	test_free(w);
}

/* A run cut at every journal record, then recover from what it left. */
static void test_recover_failover_journal(void **state)
{
	volatile unsigned rolled = 0, migrated = 0;

	(void)state;
	for (volatile uint32_t cut = 2;; cut++) {
		struct fake_world *w = fo_world();
		struct journal_record *recs;
		struct plan_report r;
		size_t n;

		w->crash_at = cut;
		if (setjmp(w->crash_jmp) == 0) {
			plan_run(&w->plan, &w->env, &r);
			/* No crash: the run went past its last record. */
			test_free(w);
			break;
		}
		w->crash_at = 0;
		n = w->n_journal;
		recs = test_malloc(n * sizeof(*recs));
		memcpy(recs, w->journal, n * sizeof(*recs));
		/* Today's config knows no failover pair and asks for bond mode: the journal wins.
		 */
		w->plan.mode = PLAN_MODE_BOND;
		assert_int_equal(plan_recover(&w->plan, &w->env, recs, n, &r), 0);
		assert_int_equal(r.mode, PLAN_MODE_FAILOVER);
		if (r.outcome == OUTCOME_ROLLED_BACK) {
			rolled++;
			if (!fake_on_source_with_vf(w)) {
				print_error("cut %u: rolled back but inconsistent\nlog: %s\n", cut,
					    w->log);
				fail();
			}
		} else if (r.outcome == OUTCOME_MIGRATED) {
			migrated++;
			if (!fake_on_destination_with_vf(w)) {
				print_error("cut %u: migrated but inconsistent\nlog: %s\n", cut,
					    w->log);
				fail();
			}
			assert_string_equal(w->fo_plug_pair, "net0");
		} else {
			print_error("cut %u: outcome %s\nlog: %s\n", cut,
				    plan_outcome_to_string(r.outcome), w->log);
			fail();
		}
		test_free(recs);
		test_free(w);
	}
	assert_true(rolled > 0);
	assert_true(migrated > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_auto_picks_failover_and_migrates),
	    cmocka_unit_test(test_auto_picks_bond_without_pair),
	    cmocka_unit_test(test_auto_without_pair_or_bond_refused),
	    cmocka_unit_test(test_forced_failover_without_pair_refused),
	    cmocka_unit_test(test_forced_bond_ignores_pair),
	    cmocka_unit_test(test_failover_agent_without_support_refused),
	    cmocka_unit_test(test_wait_unplug_deadline_rolls_back),
	    cmocka_unit_test(test_paused_guest_resumed_to_cancel),
	    cmocka_unit_test(test_paused_guest_late_eject_replugged),
	    cmocka_unit_test(test_paused_guest_no_eject),
	    cmocka_unit_test(test_announce_failure_noted),
	    cmocka_unit_test(test_interrupt_in_wait_unplug),
	    cmocka_unit_test(test_failed_migration_replugs_primary),
	    cmocka_unit_test(test_plug_failure_after_ponr_degraded),
	    cmocka_unit_test(test_primary_never_active_degraded),
	    cmocka_unit_test(test_recover_failover_journal),
	    cmocka_unit_test(test_failover_source_unfit_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
