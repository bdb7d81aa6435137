// SPDX-License-Identifier: MIT
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char *const exit_names[_VFM_EXIT_MAX] = {
    [VFM_EXIT_OK] = "ok",
    [VFM_EXIT_ERROR] = "error",
    [VFM_EXIT_USAGE] = "usage",
    [VFM_EXIT_REFUSED] = "refused",
    [VFM_EXIT_ROLLED_BACK] = "rolled-back",
    [VFM_EXIT_DEGRADED] = "degraded",
    [VFM_EXIT_NEEDS_RECOVER] = "needs-recover",
};

const char *vfm_exit_to_string(enum vfm_exit e)
{
	return (unsigned)e < _VFM_EXIT_MAX ? exit_names[e] : "unknown";
}

static const char *const error_names[_VFM_ERR_MAX] = {
    [VFM_ERR_FAILED] = "failed",
    [VFM_ERR_USAGE] = "usage",
    [VFM_ERR_JOURNAL_UNFINISHED] = "journal-unfinished",
    [VFM_ERR_BUSY] = "busy",
    [VFM_ERR_JOURNAL] = "journal",
    [VFM_ERR_TIMEOUT] = "timeout",
    [VFM_ERR_PEER_GONE] = "peer-gone",
};

const char *vfm_error_to_string(enum vfm_error e)
{
	return (unsigned)e < _VFM_ERR_MAX ? error_names[e] : "unknown";
}

enum vfm_error vfm_error_from_errno(int rc)
{
	if (rc == -ETIMEDOUT)
		return VFM_ERR_TIMEOUT;
	if (errno_is_peer_gone(rc))
		return VFM_ERR_PEER_GONE;
	return VFM_ERR_FAILED;
}

enum vfm_exit vfm_exit_from_outcome(enum plan_outcome o)
{
	switch (o) {
	case OUTCOME_MIGRATED:
	case OUTCOME_NOTHING_TO_DO:
		return VFM_EXIT_OK;
	case OUTCOME_REFUSED:
		return VFM_EXIT_REFUSED;
	case OUTCOME_ROLLED_BACK:
		return VFM_EXIT_ROLLED_BACK;
	case OUTCOME_DEGRADED:
		return VFM_EXIT_DEGRADED;
	case OUTCOME_NEEDS_RECOVER:
	case _OUTCOME_MAX:
		break;
	}
	return VFM_EXIT_NEEDS_RECOVER;
}

void cli_json_print(FILE *f, const json_t *o, size_t flags)
{
	_cleanup_free_ char *s = o ? json_dumps(o, flags) : NULL;
	_cleanup_free_ char *e = s ? str_escape_format(s) : NULL;

	if (e)
		fprintf(f, "%s\n", e);
}

static double secs(struct cli_out *o)
{
	return (double)(time_now_ms() - o->t0) / 1000.0;
}

static void add_note(struct cli_out *o, const char *msg)
{
	if (o->n_notes < ARRAY_SIZE(o->notes))
		str_sanitize_keep_format(o->notes[o->n_notes++], sizeof(o->notes[0]), msg);
}

void cli_out_event(void *userdata, const struct plan_event *ev)
{
	struct cli_out *o = userdata;
	const char *name = step_to_string(ev->step);
	char clean[600];

	if (ev->kind == PLAN_EV_NOTE)
		add_note(o, ev->msg ? ev->msg : "");
	if (o->json)
		return;
	switch (ev->kind) {
	case PLAN_EV_STEP_BEGIN:
		fprintf(o->f, "[%7.3fs] %-15s ...\n", secs(o), name);
		break;
	case PLAN_EV_STEP_END:
		if (ev->rc < 0) {
			str_sanitize(clean, sizeof(clean), ev->msg);
			fprintf(o->f, "[%7.3fs] %-15s FAILED after %lld ms: %s\n", secs(o), name,
				(long long)ev->duration_ms, clean);
		} else {
			fprintf(o->f, "[%7.3fs] %-15s ok (%lld ms)\n", secs(o), name,
				(long long)ev->duration_ms);
		}
		break;
	case PLAN_EV_UNDO_BEGIN:
		fprintf(o->f, "[%7.3fs] undo %-10s ...\n", secs(o), name);
		break;
	case PLAN_EV_UNDO_END:
		if (ev->rc < 0) {
			str_sanitize(clean, sizeof(clean), ev->msg);
			fprintf(o->f, "[%7.3fs] undo %-10s FAILED: %s\n", secs(o), name, clean);
		} else {
			fprintf(o->f, "[%7.3fs] undo %-10s ok (%lld ms)\n", secs(o), name,
				(long long)ev->duration_ms);
		}
		break;
	case PLAN_EV_PROGRESS:
		if (ev->mig && time_now_ms() - o->last_progress >= 1000) {
			const struct migrate_stats *m = ev->mig;

			o->last_progress = time_now_ms();
			fprintf(
			    o->f, "[%7.3fs]   migrate: %s, %llu of %llu MiB sent, %llu MiB left\n",
			    secs(o), m->status, (unsigned long long)(m->transferred_bytes >> 20),
			    (unsigned long long)(m->total_bytes >> 20),
			    (unsigned long long)(m->remaining_bytes >> 20));
		}
		break;
	case PLAN_EV_NOTE:
		str_sanitize(clean, sizeof(clean), ev->msg);
		fprintf(o->f, "[%7.3fs]   note (%s): %s\n", secs(o), name, clean);
		break;
	case PLAN_EV_SWITCHED:
		break; /* the point of no return follows, or the migrate step fails */
	case PLAN_EV_PONR:
		fprintf(o->f,
			"[%7.3fs] point of no return passed: the guest runs on the "
			"destination\n",
			secs(o));
		break;
	}
	fflush(o->f);
}

void cli_out_agents(struct cli_out *o)
{
	if (o->agent_src || o->agent_dst)
		fprintf(o->f, "  guest agent: source %s, destination %s\n",
			o->agent_src ? o->agent_src : "not used",
			o->agent_dst ? o->agent_dst : "not used");
}

static const char *outcome_sentence(enum plan_outcome o)
{
	switch (o) {
	case OUTCOME_MIGRATED:
		return "migrated: the guest runs on the destination with its VF";
	case OUTCOME_REFUSED:
		return "refused by pre-flight: nothing was changed";
	case OUTCOME_ROLLED_BACK:
		return "failed and rolled back: the guest runs on the source with its VF";
	case OUTCOME_DEGRADED:
		return "migrated but degraded: the guest runs on the destination without a VF, "
		       "networked through its backup NIC";
	case OUTCOME_NEEDS_RECOVER:
		return "the guest's state is not consistent: run 'vfmigrate recover' "
		       "(the journal says what was done)";
	case OUTCOME_NOTHING_TO_DO:
		return "the journal is finished: nothing to recover";
	case _OUTCOME_MAX:
		break;
	}
	return "unknown";
}

static json_t *json_error(bool has, enum step_id step, enum plan_error_code code, const char *msg)
{
	char clean[600];

	if (!has)
		return json_null();
	str_sanitize_keep_format(clean, sizeof(clean), msg);
	return json_pack("{s:s,s:s,s:s}", "step", step_to_string(step), "code",
			 plan_error_code_to_string(code), "message", clean);
}

static json_t *json_problems(const struct plan_report *r)
{
	json_t *a = json_array();
	char clean[600];

	for (size_t i = 0; i < r->n_problems; i++) {
		const struct plan_problem *pb = &r->problems[i];

		str_sanitize_keep_format(clean, sizeof(clean), pb->text);
		json_array_append_new(
		    a, json_pack("{s:s,s:s,s:s}", "code", plan_problem_code_to_string(pb->code),
				 "side", problem_side_to_string(pb->side), "text", clean));
	}
	return a;
}

void cli_out_problems(FILE *f, const char *prefix, const struct plan_report *r)
{
	char clean[600];

	/* One line each: peer text cannot make two of one, nor one look like ours (sanitized:
	 * no line breaks). */
	for (size_t i = 0; i < r->n_problems; i++) {
		str_sanitize(clean, sizeof(clean), r->problems[i].text);
		fprintf(f, "vfmigrate: %s: %s\n", prefix, clean);
	}
	if (r->n_problems_dropped)
		fprintf(f, "vfmigrate: %s: and %zu more problems\n", prefix, r->n_problems_dropped);
}

/* An undo that failed or was skipped: what recover still has to do. */
static bool left_undone(const struct step_report *sr)
{
	return sr->result == STEP_UNDO_FAILED || sr->result == STEP_UNDO_SKIPPED;
}

static const char *undo_side(int step)
{
	return step_undo_in_guest((enum step_id)step) ? "guest" : "host";
}

static json_t *json_not_undone(const struct plan_report *r)
{
	json_t *a = json_array();
	char clean[600];

	for (int i = 0; i < _STEP_MAX; i++) {
		const struct step_report *sr = &r->steps[i];
		json_t *e;

		if (!left_undone(sr))
			continue;
		e = json_pack("{s:s,s:s,s:s}", "step", step_to_string(i), "side", undo_side(i),
			      "result", step_result_to_string(sr->result));
		if (sr->result == STEP_UNDO_FAILED) {
			str_sanitize_keep_format(clean, sizeof(clean), sr->undo_error);
			json_object_set_new(e, "message", json_string(clean));
		} else {
			json_object_set_new(e, "needs",
					    json_string(step_to_string(sr->undo_blocked_by)));
		}
		json_array_append_new(a, e);
	}
	return a;
}

/* Text: every undo that failed or was skipped, and what of it waits for the guest. */
static void text_not_undone(struct cli_out *o, const char *guest, const struct plan_report *r)
{
	char clean[600], in_guest[256] = "";

	for (int i = _STEP_MAX - 1; i >= 0; i--) {
		const struct step_report *sr = &r->steps[i];

		if (!left_undone(sr))
			continue;
		if (sr->result == STEP_UNDO_FAILED) {
			str_sanitize(clean, sizeof(clean), sr->undo_error);
			fprintf(o->f, "  undo failed: %s (%s): %s\n", step_to_string(i),
				undo_side(i), clean);
		} else {
			fprintf(o->f, "  not undone: %s (%s): needs %s undone first\n",
				step_to_string(i), undo_side(i),
				step_to_string(sr->undo_blocked_by));
		}
		if (step_undo_in_guest((enum step_id)i)) {
			size_t l = strlen(in_guest);

			snprintf(in_guest + l, sizeof(in_guest) - l, "%s%s", l ? ", " : "",
				 step_to_string(i));
		}
	}
	if (in_guest[0])
		fprintf(o->f,
			"  left to the guest: %s; run 'vfmigrate recover %s' once its agent "
			"answers\n",
			in_guest, guest);
}

void cli_out_report(struct cli_out *o, const char *command, const char *guest,
		    const struct plan_report *r, enum vfm_exit code)
{
	char clean[600];

	if (o->json) {
		json_t *steps = json_array(), *root, *notes = json_array();

		for (int i = 0; i < _STEP_MAX; i++) {
			const struct step_report *sr = &r->steps[i];

			json_array_append_new(steps, json_pack("{s:s,s:s,s:I,s:I}", "name",
							       step_to_string(i), "result",
							       step_result_to_string(sr->result),
							       "ms", (json_int_t)sr->duration_ms,
							       "undo_ms", (json_int_t)sr->undo_ms));
		}
		for (size_t i = 0; i < o->n_notes; i++)
			json_array_append_new(notes, json_string(o->notes[i]));
		root = json_pack(
		    "{s:s,s:s,s:s,s:i,s:s,s:o,s:I,s:b,s:I,s:b,s:o,s:o,s:o}", "command", command,
		    "guest", guest, "outcome", plan_outcome_to_string(r->outcome), "exit_code",
		    (int)code, "exit", vfm_exit_to_string(code), "steps", steps, "total_ms",
		    (json_int_t)r->total_ms, "passed_point_of_no_return", r->passed_ponr,
		    "without_vf_ms", (json_int_t)r->without_vf_ms, "vf_restored", r->vf_restored,
		    "error", json_error(r->has_error, r->error_step, r->error_code, r->error),
		    "error2", json_error(r->has_error2, r->error2_step, r->error2_code, r->error2),
		    "notes", notes);
		if (r->has_migration) {
			const struct migrate_stats *m = &r->migration;

			str_sanitize_keep_format(clean, sizeof(clean), m->status);
			json_object_set_new(
			    root, "migration",
			    json_pack("{s:s,s:I,s:I,s:I,s:I,s:I,s:I}", "status", clean, "total_ms",
				      (json_int_t)m->total_ms, "downtime_ms",
				      (json_int_t)m->downtime_ms, "setup_ms",
				      (json_int_t)m->setup_ms, "transferred_bytes",
				      (json_int_t)m->transferred_bytes, "total_bytes",
				      (json_int_t)m->total_bytes, "dirty_sync_count",
				      (json_int_t)m->dirty_sync_count));
		} else {
			json_object_set_new(root, "migration", json_null());
		}
		json_object_set_new(root, "problems", json_problems(r));
		json_object_set_new(root, "not_undone", json_not_undone(r));
		json_object_set_new(root, "interrupted",
				    r->interrupted[0] ? json_string(r->interrupted) : json_null());
		json_object_set_new(root, "interrupt_ignored", json_boolean(r->interrupt_ignored));
		json_object_set_new(
		    root, "agent",
		    json_pack("{s:o,s:o}", "source",
			      o->agent_src ? json_string(o->agent_src) : json_null(), "destination",
			      o->agent_dst ? json_string(o->agent_dst) : json_null()));
		cli_json_print(o->f, root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		json_decref(root);
		fflush(o->f);
		return;
	}

	if (r->n_problems > 0) {
		cli_out_problems(stderr, step_to_string(STEP_PREFLIGHT), r);
	} else if (r->has_error) {
		str_sanitize(clean, sizeof(clean), r->error);
		fprintf(stderr, "vfmigrate: %s: %s\n", step_to_string(r->error_step), clean);
	}
	if (r->has_error2) {
		str_sanitize(clean, sizeof(clean), r->error2);
		fprintf(stderr, "vfmigrate: %s: %s\n", step_to_string(r->error2_step), clean);
	}
	fprintf(o->f, "%s: %s\n", guest, outcome_sentence(r->outcome));
	text_not_undone(o, guest, r);
	if (r->interrupted[0])
		fprintf(o->f, "  interrupted by %s%s\n", r->interrupted,
			r->interrupt_ignored ? ": ignored, the guest already ran on the destination"
					     : "");
	if (r->has_migration)
		fprintf(o->f, "  migration: %lld ms total, %lld ms downtime, %llu MiB sent\n",
			(long long)r->migration.total_ms, (long long)r->migration.downtime_ms,
			(unsigned long long)(r->migration.transferred_bytes >> 20));
	if (r->without_vf_ms >= 0)
		fprintf(o->f, "  without VF: %lld ms%s\n", (long long)r->without_vf_ms,
			r->vf_restored ? "" : " (and still without)");
	cli_out_agents(o);
	if (r->has_error)
		fprintf(o->f, "  error: %s (in %s)\n", plan_error_code_to_string(r->error_code),
			step_to_string(r->error_step));
	fprintf(o->f, "  total: %lld ms; exit %d (%s)\n", (long long)r->total_ms, (int)code,
		vfm_exit_to_string(code));
	fflush(o->f);
}
