// SPDX-License-Identifier: MIT
/*
 * evacuate's printing and its progress stream: the summary table in text and JSON (every
 * field once in each, peer text sanitized), the plan with a capacity problem, the worst exit
 * code, and migrate's progress lines through the reader (round trip, and lines it must
 * refuse).
 */
#include <errno.h>
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli/evacuate.h"

/* What f printed, as a string (caller frees). */
static char *slurp(FILE *f)
{
	long n;
	char *s;

	fflush(f);
	n = ftell(f);
	rewind(f);
	s = calloc(1, (size_t)n + 1);
	assert_non_null(s);
	assert_int_equal(fread(s, 1, (size_t)n, f), (size_t)n);
	return s;
}

static void rows3(struct evac_row r[3])
{
	memset(r, 0, 3 * sizeof(r[0]));
	for (int i = 0; i < 3; i++) {
		snprintf(r[i].guest, sizeof(r[i].guest), "g%d", i);
		snprintf(r[i].dest, sizeof(r[i].dest), "dst");
		r[i].state = EVAC_DONE;
		r[i].t_start = 1000;
		r[i].t_end = 13500;
		r[i].loss_ms = -1;
		r[i].without_vf_ms = 4200;
	}
	snprintf(r[0].outcome, sizeof(r[0].outcome), "migrated");
	r[0].step_ms[STEP_MIGRATE] = 800;
	r[0].mig_bytes = 300 << 20;
	r[0].loss_ms = 120;
	snprintf(r[1].outcome, sizeof(r[1].outcome), "rolled-back");
	r[1].exit_code = VFM_EXIT_ROLLED_BACK;
	/* Peer text with a control character and a bidi override. */
	snprintf(r[1].error, sizeof(r[1].error), "migrate: peer said \033[2J \u202e no");
	r[2].state = EVAC_NOT_STARTED;
	r[2].without_vf_ms = -1;
}

static void test_summary_text(void **state)
{
	struct evac_row r[3];
	FILE *f = tmpfile();
	char *s;

	(void)state;
	rows3(r);
	evac_out_summary(f, false, r, 3, 1500, 20000, VFM_EXIT_ROLLED_BACK);
	s = slurp(f);
	assert_non_null(strstr(s, "GUEST        DESTINATION"));
	assert_non_null(strstr(s, "g0           dst                  migrated"));
	assert_non_null(strstr(s, "120 ms"));
	assert_non_null(strstr(s, "4.2 s"));
	assert_non_null(strstr(s, "12.5 s"));
	assert_non_null(strstr(s, "g1           dst                  rolled-back"));
	assert_non_null(strstr(s, "g2           dst                  not-started"));
	assert_non_null(strstr(s, "    error: migrate: peer said"));
	assert_null(strchr(s, '\033'));
	assert_null(strstr(s, "\u202e"));
	assert_non_null(strstr(s, "evacuate: 1 of 3 guests migrated, 1 not started; plan 1500 ms, "
				  "total 20000 ms; exit 4 (rolled-back)\n"));
	free(s);
	fclose(f);
}

static void test_summary_json(void **state)
{
	struct evac_row r[3];
	FILE *f = tmpfile();
	json_t *o, *g;
	char *s;

	(void)state;
	rows3(r);
	evac_out_summary(f, true, r, 3, 1500, 20000, VFM_EXIT_ROLLED_BACK);
	s = slurp(f);
	o = json_loads(s, 0, NULL);
	assert_non_null(o);
	assert_string_equal(json_string_value(json_object_get(o, "command")), "evacuate");
	assert_int_equal(json_integer_value(json_object_get(o, "exit_code")), 4);
	assert_int_equal(json_integer_value(json_object_get(o, "migrated")), 1);
	assert_int_equal(json_integer_value(json_object_get(o, "not_started")), 1);
	assert_int_equal(json_integer_value(json_object_get(o, "plan_ms")), 1500);
	g = json_object_get(o, "guests");
	assert_int_equal(json_array_size(g), 3);
	assert_int_equal(
	    json_integer_value(json_object_get(json_array_get(g, 0), "loss_window_ms")), 120);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(g, 0), "ms")), 12500);
	assert_true(json_is_null(json_object_get(json_array_get(g, 0), "error")));
	/* Where the time went: each step's time and the migration's figures. */
	assert_int_equal(json_integer_value(json_object_get(
			     json_object_get(json_array_get(g, 0), "steps_ms"), "migrate")),
			 800);
	assert_int_equal(
	    json_integer_value(json_object_get(json_object_get(json_array_get(g, 0), "migration"),
					       "transferred_bytes")),
	    300 << 20);
	assert_string_equal(json_string_value(json_object_get(json_array_get(g, 2), "outcome")),
			    "not-started");
	/* The bidi override escaped, not raw, in the JSON text. */
	assert_null(strstr(s, "\u202e"));
	assert_null(strchr(s, '\033'));
	json_decref(o);
	free(s);
	fclose(f);
}

static void test_plan_refused(void **state)
{
	struct evac_row r[3];
	struct evac_guest g[3] = {0};
	struct evac_dest d = {.name = "dst", .n_free = 1};
	struct evac_plan pl;
	FILE *f = tmpfile();
	char *s;
	json_t *o;

	(void)state;
	rows3(r);
	snprintf(d.free[0].physnet, sizeof(d.free[0].physnet), "net");
	d.free[0].count = 2;
	for (int i = 0; i < 3; i++) {
		snprintf(g[i].needs[0].physnet, sizeof(g[i].needs[0].physnet), "net");
		g[i].needs[0].count = 1;
		g[i].n_needs = 1;
		g[i].preflight_ok = true;
		g[i].n_cand = 1;
	}
	assert_int_equal(evac_plan_make(g, 3, &d, 1, &pl), -ENOSPC);
	evac_out_plan(f, true, false, r, 3, g, &d, 1, &pl, VFM_EXIT_REFUSED);
	s = slurp(f);
	o = json_loads(s, 0, NULL);
	assert_non_null(o);
	assert_int_equal(json_array_size(json_object_get(o, "problems")), 1);
	{
		json_t *p = json_array_get(json_object_get(o, "problems"), 0);

		assert_string_equal(json_string_value(json_object_get(p, "code")), "capacity");
		assert_string_equal(json_string_value(json_object_get(p, "guest")), "g2");
		assert_int_equal(json_integer_value(json_object_get(p, "left")), 0);
		assert_int_equal(json_integer_value(json_object_get(p, "need")), 1);
	}
	assert_true(json_is_null(
	    json_object_get(json_array_get(json_object_get(o, "plan"), 2), "destination")));
	assert_int_equal(json_integer_value(json_object_get(o, "exit_code")), 3);
	json_decref(o);
	free(s);
	fclose(f);
}

/* On a terminal: one line per guest, redrawn in place (cursor up by the lines drawn); a
 * guest's state and current step on its line. Elsewhere nothing (plain event lines instead). */
static void test_progress_block(void **state)
{
	struct evac_row r[3];
	FILE *f = tmpfile();
	size_t drawn = 0;
	char *s;

	(void)state;
	rows3(r);
	r[0].state = EVAC_RUNNING;
	r[0].t_start = time_now_ms();
	snprintf(r[0].now, sizeof(r[0].now), "migrate ...");
	evac_out_progress(f, false, r, 3, 0, &drawn);
	assert_int_equal(drawn, 0);
	assert_int_equal(ftell(f), 0);
	evac_out_progress(f, true, r, 3, 0, &drawn);
	assert_int_equal(drawn, 3);
	evac_out_progress(f, true, r, 3, 0, &drawn);
	s = slurp(f);
	/* The second drawing starts by going up over the first. */
	assert_non_null(strstr(s, "\033[3A"));
	assert_true(strstr(s, "\033[3A") > s);
	assert_non_null(strstr(s, "g0           -> dst"));
	assert_non_null(strstr(s, "running     migrate ..."));
	assert_non_null(strstr(s, "rolled-back"));
	assert_non_null(strstr(s, "not-started"));
	{
		size_t lines = 0;

		for (char *c = s; *c; c++)
			lines += *c == '\n';
		assert_int_equal(lines, 6);
	}
	free(s);
	fclose(f);
}

static void test_exit_worse(void **state)
{
	(void)state;
	assert_int_equal(evac_exit_worse(VFM_EXIT_OK, VFM_EXIT_DEGRADED), VFM_EXIT_DEGRADED);
	assert_int_equal(evac_exit_worse(VFM_EXIT_ROLLED_BACK, VFM_EXIT_DEGRADED),
			 VFM_EXIT_ROLLED_BACK);
	assert_int_equal(evac_exit_worse(VFM_EXIT_REFUSED, VFM_EXIT_OK), VFM_EXIT_REFUSED);
	assert_int_equal(evac_exit_worse(VFM_EXIT_ERROR, VFM_EXIT_NEEDS_RECOVER),
			 VFM_EXIT_NEEDS_RECOVER);
	assert_int_equal(evac_exit_worse(VFM_EXIT_NEEDS_RECOVER, VFM_EXIT_ROLLED_BACK),
			 VFM_EXIT_NEEDS_RECOVER);
}

static void test_progress_lines(void **state)
{
	struct plan_event ev = {.kind = PLAN_EV_STEP_END,
				.step = STEP_UNPLUG,
				.rc = -ETIMEDOUT,
				.duration_ms = 1234,
				.msg = "the guest said \033[31mno\n"};
	struct progress_ev p;
	char line[PROGRESS_LINE_MAX + 2];
	int n;

	(void)state;
	n = progress_line_format(&ev, 5000, line, sizeof(line));
	assert_true(n > 0);
	assert_int_equal(line[n - 1], '\n');
	assert_null(memchr(line, '\n', (size_t)n - 1)); /* one line, whatever the peer said */
	assert_int_equal(progress_line_parse(line, (size_t)n - 1, &p), 0);
	assert_string_equal(p.event, "step-end");
	assert_string_equal(p.step, "unplug");
	assert_int_equal(p.rc, -ETIMEDOUT);
	assert_int_equal(p.ms, 1234);
	assert_int_equal(p.t_ms, 5000);
	assert_null(strchr(p.msg, '\033'));
	/* Migration progress has no line. */
	ev.kind = PLAN_EV_PROGRESS;
	assert_int_equal(progress_line_format(&ev, 0, line, sizeof(line)), 0);
	/* What the reader refuses. */
	const char *bad[] = {
	    "",
	    "not json",
	    "[]",
	    "{\"t_ms\":1,\"event\":\"step-end\",\"step\":\"unplug\",\"rc\":5,\"ms\":1,\"msg\":"
	    "\"\"}",
	    "{\"t_ms\":1,\"event\":\"Step;rm\",\"step\":\"unplug\",\"rc\":0,\"ms\":1,\"msg\":\"\"}",
	    "{\"t_ms\":1,\"event\":\"step-end\",\"step\":\"unplug\",\"rc\":0,\"ms\":\"1\",\"msg\":"
	    "\"\"}",
	    "{\"t_ms\":1,\"event\":\"step-end\",\"step\":\"unplug\",\"rc\":0,\"ms\":1}",
	    "{\"t_ms\":1,\"t_ms\":2,\"event\":\"step-end\",\"step\":\"unplug\",\"rc\":0,\"ms\":1,"
	    "\"msg\":\"\"}",
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		assert_int_equal(progress_line_parse(bad[i], strlen(bad[i]), &p), -EINVAL);
	{
		char big[PROGRESS_LINE_MAX + 10];

		memset(big, ' ', sizeof(big));
		assert_int_equal(progress_line_parse(big, sizeof(big), &p), -EINVAL);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_summary_text),   cmocka_unit_test(test_summary_json),
	    cmocka_unit_test(test_plan_refused),   cmocka_unit_test(test_exit_worse),
	    cmocka_unit_test(test_progress_lines), cmocka_unit_test(test_progress_block),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
