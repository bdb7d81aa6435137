// SPDX-License-Identifier: MIT
/*
 * The report as the printer writes it, text and JSON, for reports of every kind (migrated
 * with stats, rolled back with undos left, refused with problems, an interrupt, errors with
 * peer text holding control and bidi characters). Prints them all; the test compares the
 * whole with report.expected.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static void show(const char *title, const struct plan_report *r, enum vfm_exit code)
{
	for (int json = 0; json < 2; json++) {
		struct cli_out o = {.json = json, .f = stdout, .t0 = time_now_ms()};

		o.agent_src = "socket";
		if (r->outcome == OUTCOME_MIGRATED)
			o.agent_dst = "channel";
		snprintf(o.notes[0], sizeof(o.notes[0]), "a note \u202e with bidi");
		o.n_notes = 1;
		printf("== %s (%s)\n", title, json ? "json" : "text");
		fflush(stdout);
		cli_out_report(&o, "migrate", "g1", r, code);
		fflush(stderr);
	}
}

int main(void)
{
	struct plan_report r;

	memset(&r, 0, sizeof(r));
	r.outcome = OUTCOME_MIGRATED;
	r.mode = PLAN_MODE_FAILOVER;
	for (int i = 0; i < _STEP_MAX; i++) {
		r.steps[i].result = STEP_OK;
		r.steps[i].duration_ms = 10 * i;
	}
	r.has_migration = true;
	snprintf(r.migration.status, sizeof(r.migration.status), "completed");
	r.migration.total_ms = 1234;
	r.migration.downtime_ms = 56;
	r.migration.setup_ms = 7;
	r.migration.transferred_bytes = 300ull << 20;
	r.migration.total_bytes = 1024ull << 20;
	r.migration.dirty_sync_count = 3;
	r.without_vf_ms = 4321;
	r.vf_restored = true;
	r.total_ms = 9999;
	r.passed_ponr = true;
	snprintf(r.interrupted, sizeof(r.interrupted), "SIGINT");
	r.interrupt_ignored = true;
	r.n_vfs = 1;
	snprintf(r.vfs[0].name, sizeof(r.vfs[0].name), "vf0");
	show("migrated", &r, VFM_EXIT_OK);

	memset(&r, 0, sizeof(r));
	r.outcome = OUTCOME_NEEDS_RECOVER;
	r.steps[STEP_BACKUP_ACTIVE].result = STEP_UNDO_SKIPPED;
	r.steps[STEP_BACKUP_ACTIVE].undo_blocked_by = STEP_RELEASE_VF;
	r.steps[STEP_RELEASE_VF].result = STEP_UNDO_FAILED;
	snprintf(r.steps[STEP_RELEASE_VF].undo_error, sizeof(r.steps[0].undo_error),
		 "agent gone\nvfmigrate: forged line \u2066x");
	r.steps[STEP_UNPLUG].result = STEP_UNDONE;
	r.without_vf_ms = 800;
	r.total_ms = 2000;
	r.has_error = true;
	r.error_step = STEP_UNPLUG;
	r.error_code = PLAN_ERR_TIMEOUT;
	snprintf(r.error, sizeof(r.error), "no removal event\tin time");
	r.has_error2 = true;
	r.error2_step = STEP_RELEASE_VF;
	r.error2_code = PLAN_ERR_PEER_GONE;
	snprintf(r.error2, sizeof(r.error2), "undo: agent gone");
	snprintf(r.interrupted, sizeof(r.interrupted), "SIGTERM");
	show("needs-recover", &r, VFM_EXIT_NEEDS_RECOVER);

	memset(&r, 0, sizeof(r));
	r.outcome = OUTCOME_REFUSED;
	r.steps[STEP_PREFLIGHT].result = STEP_FAILED;
	r.without_vf_ms = -1;
	r.has_error = true;
	r.error_step = STEP_PREFLIGHT;
	r.error_code = PLAN_ERR_REFUSED;
	snprintf(r.error, sizeof(r.error), "source hypervisor: down; really");
	r.n_problems = 2;
	r.problems[0].code = PROBLEM_HYPERVISOR;
	r.problems[0].side = PROBLEM_SIDE_SOURCE;
	snprintf(r.problems[0].text, sizeof(r.problems[0].text), "source hypervisor: down; really");
	r.problems[1].code = PROBLEM_AGENT;
	r.problems[1].side = PROBLEM_SIDE_GUEST;
	snprintf(r.problems[1].text, sizeof(r.problems[1].text), "guest agent: \u202egone");
	r.n_problems_dropped = 3;
	show("refused", &r, VFM_EXIT_REFUSED);

	/* Two VFs, one left on its backup after the point of no return. */
	memset(&r, 0, sizeof(r));
	r.outcome = OUTCOME_DEGRADED;
	r.passed_ponr = true;
	r.steps[STEP_PLUG].result = STEP_FAILED;
	r.without_vf_ms = 3000;
	r.total_ms = 5000;
	r.has_error = true;
	r.error_step = STEP_PLUG;
	r.error_code = PLAN_ERR_FAILED;
	snprintf(r.error, sizeof(r.error), "VF net1: device_add: \u2066no slot");
	r.n_vfs = 2;
	snprintf(r.vfs[0].name, sizeof(r.vfs[0].name), "net0");
	snprintf(r.vfs[1].name, sizeof(r.vfs[1].name), "net1\x1b[2J");
	r.vfs[1].degraded = true;
	r.vfs[1].has_failed = true;
	r.vfs[1].failed_step = STEP_PLUG;
	show("degraded, two VFs", &r, VFM_EXIT_DEGRADED);
	return 0;
}
