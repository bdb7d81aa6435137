// SPDX-License-Identifier: MIT
/* evacuate's printing: the plan, the progress of every guest, the summary; text and JSON
 * through the printer (each field written once for both). */
#include <stdio.h>
#include <string.h>

#include "evacuate.h"
#include "print.h"

static const char *const state_names[_EVAC_STATE_MAX] = {
    [EVAC_WAITING] = "waiting",
    [EVAC_RUNNING] = "running",
    [EVAC_DONE] = "done",
    [EVAC_NOT_STARTED] = "not-started",
};

/* Rank of an exit code, worst last: ok, refused (nothing changed), degraded (moved, no VF),
 * rolled back (still here), usage, error, needs recover. */
static int exit_rank(int code)
{
	static const int order[] = {VFM_EXIT_OK,	   VFM_EXIT_REFUSED, VFM_EXIT_DEGRADED,
				    VFM_EXIT_ROLLED_BACK,  VFM_EXIT_USAGE,   VFM_EXIT_ERROR,
				    VFM_EXIT_NEEDS_RECOVER};

	for (size_t i = 0; i < ARRAY_SIZE(order); i++)
		if (order[i] == code)
			return (int)i;
	return (int)ARRAY_SIZE(order); /* unknown: worst */
}

int evac_exit_worse(int a, int b)
{
	return exit_rank(b) > exit_rank(a) ? b : a;
}

static void print_needs(struct printer *p, const struct evac_guest *g)
{
	print_open_array(p, "needs");
	for (size_t k = 0; k < g->n_needs; k++) {
		print_open_object(p, NULL);
		print_int(p, PRINT_ANY, "count", k ? ", %lld VF" : " (%lld VF", g->needs[k].count);
		print_string(p, PRINT_ANY, "physnet", " on physnet \"%s\"", g->needs[k].physnet);
		print_close(p);
	}
	print_close(p);
	print_text(p, PRINT_TEXT, "%s\n", g->n_needs ? ")" : " (no VF)");
}

/* One problem: JSON an element of problems, text a line on stderr. */
static void print_problem(struct printer *p, const struct evac_row *rows,
			  const struct evac_dest *dests, const struct evac_problem *pr)
{
	const struct evac_row *r = &rows[pr->guest];

	print_open_object(p, NULL);
	print_string(p, PRINT_ANY | PRINT_ERR, "code",
		     "vfmigrate: evacuate: %s: ", evac_problem_code_to_string(pr->code));
	print_string(p, PRINT_JSON | PRINT_ERR, "guest",
		     "%s: ", pr->code == EVAC_PROBLEM_TOO_MANY && !r->guest[0] ? NULL : r->guest);
	switch (pr->code) {
	case EVAC_PROBLEM_CAPACITY:
		print_string(p, PRINT_JSON | PRINT_ERR, "destination", "%s has ",
			     dests[pr->dest].name);
		print_int(p, PRINT_JSON | PRINT_ERR, "left", "%lld VF left", pr->left);
		print_string(p, PRINT_JSON | PRINT_ERR, "physnet", " on physnet \"%s\"",
			     pr->physnet);
		print_int(p, PRINT_JSON | PRINT_ERR, "need", ", needs %lld\n", pr->need);
		break;
	case EVAC_PROBLEM_PREFLIGHT:
		print_open_array(p, "checks");
		if (r->setup_failed) {
			print_open_object(p, NULL);
			print_string(p, PRINT_JSON | PRINT_ERR, "text", "%s\n", r->setup_error);
			print_close(p);
		}
		for (size_t k = 0; !r->setup_failed && k < r->check.n_problems; k++) {
			const struct plan_problem *cp = &r->check.problems[k];

			print_open_object(p, NULL);
			print_string(p, PRINT_JSON | PRINT_ERR, "code", k ? "    %s: " : "%s: ",
				     plan_problem_code_to_string(cp->code));
			print_string(p, PRINT_JSON | PRINT_ERR, "side",
				     "%s: ", problem_side_to_string(cp->side));
			print_string(p, PRINT_JSON | PRINT_ERR, "text", "%s\n", cp->text);
			print_close(p);
		}
		if (!r->setup_failed && r->check.n_problems == 0 && r->check.has_error)
			print_string(p, PRINT_JSON | PRINT_ERR, "error", "%s\n", r->check.error);
		print_close(p);
		break;
	case EVAC_PROBLEM_NO_DESTINATION:
		print_text(p, PRINT_ERR, "no destination it may go to\n");
		break;
	default:
		print_text(p, PRINT_ERR, "more guests, destinations or networks than %d, %d, %d\n",
			   EVAC_GUESTS_MAX, EVAC_DESTS_MAX, EVAC_NEEDS_MAX);
		break;
	}
	print_close(p);
}

void evac_out_plan(FILE *f, bool json, bool dry_run, const struct evac_row *rows, size_t n,
		   const struct evac_guest *guests, const struct evac_dest *dests, size_t nd,
		   const struct evac_plan *pl, int exit_code)
{
	struct printer p;

	print_start(&p, json, f, stderr);
	print_string(&p, PRINT_JSON, "command", NULL, "evacuate");
	print_bool(&p, PRINT_JSON, "dry_run", NULL, dry_run);
	print_text(&p, PRINT_TEXT, "plan:\n");
	print_open_array(&p, "plan");
	for (size_t i = 0; i < n; i++) {
		print_open_object(&p, NULL);
		print_string(&p, PRINT_ANY, "guest", "  %-12s -> ", rows[i].guest);
		print_string(&p, PRINT_ANY, "destination", "%s",
			     pl->placed[i] ? rows[i].dest : NULL);
		if (!pl->placed[i])
			print_text(&p, PRINT_TEXT, "(not placed)");
		print_needs(&p, &guests[i]);
		print_close(&p);
	}
	print_close(&p);
	print_open_array(&p, "destinations");
	for (size_t d = 0; d < nd; d++) {
		print_open_object(&p, NULL);
		print_string(&p, PRINT_ANY, "name", "  destination %s:", dests[d].name);
		print_open_array(&p, "physnets");
		for (size_t k = 0; k < dests[d].n_free; k++) {
			print_open_object(&p, NULL);
			print_string(&p, PRINT_ANY, "physnet", " physnet \"%s\"",
				     dests[d].free[k].physnet);
			print_int(&p, PRINT_ANY, "free", " %lld free", dests[d].free[k].count);
			print_int(&p, PRINT_ANY, "left", ", %lld left after the plan;",
				  pl->left[d][k]);
			print_close(&p);
		}
		print_close(&p);
		print_text(&p, PRINT_TEXT, "\n");
		print_close(&p);
	}
	print_close(&p);
	print_open_array(&p, "problems");
	for (size_t k = 0; k < pl->n_problems; k++)
		print_problem(&p, rows, dests, &pl->problems[k]);
	print_close(&p);
	if (exit_code != VFM_EXIT_OK)
		print_text(&p, PRINT_TEXT, "evacuate: the plan does not fit: nothing moved; ");
	else if (dry_run)
		print_text(&p, PRINT_TEXT, "evacuate: dry run: nothing moved; ");
	if (exit_code != VFM_EXIT_OK || dry_run || json) {
		print_int(&p, PRINT_ANY, "exit_code", "exit %lld", exit_code);
		print_string(&p, PRINT_ANY, "exit", " (%s)\n", vfm_exit_to_string(exit_code));
	}
	print_end(&p, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
}

static void fmt_secs(char *buf, size_t n, int64_t ms)
{
	if (ms < 0)
		snprintf(buf, n, "-");
	else
		snprintf(buf, n, "%.1f s", (double)ms / 1000.0);
}

static void progress_line(FILE *f, const struct evac_row *r, int64_t now)
{
	char t[32];

	fmt_secs(t, sizeof(t),
		 r->state == EVAC_RUNNING ? now - r->t_start
		 : r->state == EVAC_DONE  ? r->t_end - r->t_start
					  : -1);
	fprintf(f, "%-12s -> %-20.20s %-11s %-40.40s %s", r->guest, r->dest,
		r->state == EVAC_DONE ? r->outcome : state_names[r->state], r->now, t);
}

void evac_out_progress(FILE *f, bool tty, const struct evac_row *rows, size_t n, int64_t t0,
		       size_t *drawn)
{
	int64_t now = time_now_ms();

	(void)t0;
	if (!tty)
		return;
	if (*drawn)
		fprintf(f, "\033[%zuA", *drawn);
	for (size_t i = 0; i < n; i++) {
		fputs("\r\033[K", f);
		progress_line(f, &rows[i], now);
		fputc('\n', f);
	}
	*drawn = n;
	fflush(f);
}

void evac_out_event(FILE *f, const struct evac_row *row, int64_t t0, const char *what)
{
	fprintf(f, "[%7.3fs] %s: %s\n", (double)(time_now_ms() - t0) / 1000.0, row->guest, what);
	fflush(f);
}

void evac_out_summary(FILE *f, bool json, const struct evac_row *rows, size_t n, int64_t plan_ms,
		      int64_t total_ms, int exit_code)
{
	size_t counts[_EVAC_STATE_MAX] = {0}, migrated = 0;
	struct printer p;

	print_start(&p, json, f, stderr);
	print_string(&p, PRINT_JSON, "command", NULL, "evacuate");
	print_text(&p, PRINT_TEXT, "%-12s %-20s %-13s %10s %12s %9s\n", "GUEST", "DESTINATION",
		   "OUTCOME", "LOSS", "WITHOUT VF", "TIME");
	print_open_array(&p, "guests");
	for (size_t i = 0; i < n; i++) {
		const struct evac_row *r = &rows[i];
		char loss[32], wvf[32], t[32];

		counts[r->state]++;
		if (r->state == EVAC_DONE && r->exit_code == VFM_EXIT_OK)
			migrated++;
		if (r->loss_ms < 0)
			snprintf(loss, sizeof(loss), "-");
		else
			snprintf(loss, sizeof(loss), "%lld ms", (long long)r->loss_ms);
		fmt_secs(wvf, sizeof(wvf), r->without_vf_ms);
		fmt_secs(t, sizeof(t), r->state == EVAC_DONE ? r->t_end - r->t_start : -1);
		print_open_object(&p, NULL);
		print_string(&p, PRINT_ANY, "guest", "%-12s ", r->guest);
		print_string(&p, PRINT_ANY, "destination", "%-20s ", r->dest);
		print_string(&p, PRINT_ANY, "outcome", "%-13s ",
			     r->state == EVAC_DONE ? r->outcome : state_names[r->state]);
		print_text(&p, PRINT_TEXT, "%10s %12s %9s\n", loss, wvf, t);
		print_int(&p, PRINT_JSON, "exit_code", NULL, r->exit_code);
		print_int(&p, PRINT_JSON, "loss_window_ms", NULL, r->loss_ms);
		print_int(&p, PRINT_JSON, "without_vf_ms", NULL, r->without_vf_ms);
		print_int(&p, PRINT_JSON, "ms", NULL,
			  r->state == EVAC_DONE ? r->t_end - r->t_start : -1);
		/* Where the time went: the run's steps and its migration (-1: unknown). */
		print_open_object(&p, "steps_ms");
		for (int k = 0; k < _STEP_MAX; k++)
			print_int(&p, PRINT_JSON, step_to_string(k), NULL, r->step_ms[k]);
		print_close(&p);
		print_open_object(&p, "migration");
		print_int(&p, PRINT_JSON, "total_ms", NULL, r->mig_ms);
		print_int(&p, PRINT_JSON, "downtime_ms", NULL, r->mig_downtime_ms);
		print_int(&p, PRINT_JSON, "transferred_bytes", NULL, r->mig_bytes);
		print_close(&p);
		print_string(&p, PRINT_ANY, "error", "    error: %s\n",
			     r->error[0] ? r->error : NULL);
		if (r->state == EVAC_DONE && r->exit_code == VFM_EXIT_NEEDS_RECOVER)
			print_text(&p, PRINT_TEXT, "    run 'vfmigrate recover %s'\n", r->guest);
		print_close(&p);
	}
	print_close(&p);
	print_int(&p, PRINT_ANY, "migrated", "evacuate: %lld", (long long)migrated);
	print_int(&p, PRINT_ANY, "count", " of %lld guests migrated", (long long)n);
	print_int(&p, PRINT_ANY, "not_started", ", %lld not started",
		  (long long)counts[EVAC_NOT_STARTED]);
	print_int(&p, PRINT_ANY, "plan_ms", "; plan %lld ms", plan_ms);
	print_int(&p, PRINT_ANY, "total_ms", ", total %lld ms; ", total_ms);
	print_int(&p, PRINT_ANY, "exit_code", "exit %lld", exit_code);
	print_string(&p, PRINT_ANY, "exit", " (%s)\n", vfm_exit_to_string(exit_code));
	print_end(&p, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
}
