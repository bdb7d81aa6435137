// SPDX-License-Identifier: MIT
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "print.h"

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

/* An undo that failed or was skipped: what recover still has to do. */
static bool left_undone(const struct step_report *sr)
{
	return sr->result == STEP_UNDO_FAILED || sr->result == STEP_UNDO_SKIPPED;
}

static const char *undo_side(int step)
{
	return step_undo_in_guest((enum step_id)step) ? "guest" : "host";
}

/* How the guest agent was reached on each side; text: one line, when on either. */
static void print_agents(struct printer *p, const struct cli_out *o)
{
	if (o->agent_src || o->agent_dst)
		print_text(p, PRINT_TEXT, "  guest agent: source %s, destination %s\n",
			   o->agent_src ? o->agent_src : "not used",
			   o->agent_dst ? o->agent_dst : "not used");
	print_open_object(p, "agent");
	print_string(p, PRINT_JSON, "source", NULL, o->agent_src);
	print_string(p, PRINT_JSON, "destination", NULL, o->agent_dst);
	print_close(p);
}

void cli_out_agents(struct cli_out *o)
{
	struct printer p;

	print_start(&p, false, o->f, stderr);
	print_agents(&p, o);
	print_end(&p, 0);
}

/* Pre-flight's problems: text, one line each on stderr, "vfmigrate: PREFIX: text"; peer text
 * cannot make two of one, nor one look like ours (sanitized: no line breaks). */
static void print_problems(struct printer *p, const char *prefix, const struct plan_report *r)
{
	print_open_array(p, "problems");
	for (size_t i = 0; i < r->n_problems; i++) {
		const struct plan_problem *pb = &r->problems[i];

		print_open_object(p, NULL);
		print_string(p, PRINT_JSON, "code", NULL, plan_problem_code_to_string(pb->code));
		print_string(p, PRINT_JSON, "side", NULL, problem_side_to_string(pb->side));
		print_text(p, PRINT_ERR, "vfmigrate: %s: ", prefix);
		print_string(p, PRINT_JSON | PRINT_ERR, "text", "%s\n", pb->text);
		print_close(p);
	}
	print_close(p);
	if (r->n_problems_dropped)
		print_text(p, PRINT_ERR, "vfmigrate: %s: and %zu more problems\n", prefix,
			   r->n_problems_dropped);
}

void cli_out_problems(FILE *f, const char *prefix, const struct plan_report *r)
{
	struct printer p;

	print_start(&p, false, stdout, f);
	print_problems(&p, prefix, r);
	print_end(&p, 0);
}

/* A report's error: JSON an object (null: none); text a line on stderr, when shown. */
static void print_error(struct printer *p, const char *key, bool has, enum step_id step,
			enum plan_error_code code, const char *msg, bool text)
{
	enum print_to err = text ? PRINT_ERR : 0;

	if (!has) {
		print_string(p, PRINT_JSON, key, NULL, NULL);
		return;
	}
	print_open_object(p, key);
	print_string(p, PRINT_JSON | err, "step", "vfmigrate: %s: ", step_to_string(step));
	print_string(p, PRINT_JSON, "code", NULL, plan_error_code_to_string(code));
	print_string(p, PRINT_JSON | err, "message", "%s\n", msg);
	print_close(p);
}

/* One undo that failed or was skipped (JSON: an element of not_undone; text: a line). */
static void print_not_undone(struct printer *p, enum print_to to, int i,
			     const struct step_report *sr)
{
	if (to & PRINT_JSON)
		print_open_object(p, NULL);
	if (sr->result == STEP_UNDO_FAILED)
		print_string(p, to, "step", "  undo failed: %s", step_to_string(i));
	else
		print_string(p, to, "step", "  not undone: %s", step_to_string(i));
	print_string(p, to, "side", " (%s)", undo_side(i));
	print_string(p, to & PRINT_JSON, "result", NULL, step_result_to_string(sr->result));
	if (sr->result == STEP_UNDO_FAILED)
		print_string(p, to, "message", ": %s\n", sr->undo_error);
	else
		print_string(p, to, "needs", ": needs %s undone first\n",
			     step_to_string(sr->undo_blocked_by));
	if (to & PRINT_JSON)
		print_close(p);
}

/* Every undo that failed or was skipped (text: last step first) and what of it waits for the
 * guest. */
static void print_not_undone_all(struct printer *p, const char *guest, const struct plan_report *r)
{
	char in_guest[256] = "";

	print_open_array(p, "not_undone");
	for (int i = 0; i < _STEP_MAX; i++)
		if (left_undone(&r->steps[i]))
			print_not_undone(p, PRINT_JSON, i, &r->steps[i]);
	print_close(p);
	for (int i = _STEP_MAX - 1; i >= 0; i--) {
		size_t l = strlen(in_guest);

		if (!left_undone(&r->steps[i]))
			continue;
		print_not_undone(p, PRINT_TEXT, i, &r->steps[i]);
		if (step_undo_in_guest((enum step_id)i))
			snprintf(in_guest + l, sizeof(in_guest) - l, "%s%s", l ? ", " : "",
				 step_to_string(i));
	}
	if (in_guest[0])
		print_text(p, PRINT_TEXT,
			   "  left to the guest: %s; run 'vfmigrate recover %s' once its agent "
			   "answers\n",
			   in_guest, guest);
}

static void print_migration(struct printer *p, const struct plan_report *r)
{
	const struct migrate_stats *m = &r->migration;

	if (!r->has_migration) {
		print_string(p, PRINT_JSON, "migration", NULL, NULL);
		return;
	}
	print_open_object(p, "migration");
	print_string(p, PRINT_JSON, "status", NULL, m->status);
	print_int(p, PRINT_ANY, "total_ms", "  migration: %lld ms total", m->total_ms);
	print_int(p, PRINT_ANY, "downtime_ms", ", %lld ms downtime", m->downtime_ms);
	print_int(p, PRINT_JSON, "setup_ms", NULL, m->setup_ms);
	print_int(p, PRINT_JSON, "transferred_bytes", NULL, (long long)m->transferred_bytes);
	print_text(p, PRINT_TEXT, ", %llu MiB sent\n",
		   (unsigned long long)(m->transferred_bytes >> 20));
	print_int(p, PRINT_JSON, "total_bytes", NULL, (long long)m->total_bytes);
	print_int(p, PRINT_JSON, "dirty_sync_count", NULL, (long long)m->dirty_sync_count);
	print_close(p);
}

/* What became of each VF. Text only for a guest with several: one alone is the report. */
static void print_vfs(struct printer *p, const struct plan_report *r)
{
	enum print_to to = r->n_vfs > 1 ? PRINT_ANY : PRINT_JSON;

	print_open_array(p, "vfs");
	for (size_t i = 0; i < r->n_vfs && i < VFM_VFS_MAX; i++) {
		const struct plan_vf_report *v = &r->vfs[i];
		const char *failed = v->has_failed ? step_to_string(v->failed_step) : NULL;

		print_open_object(p, NULL);
		print_string(p, to, "name", i ? ", %s" : "  VFs: %s", v->name);
		print_bool(p, PRINT_JSON, "degraded", NULL, v->degraded);
		print_string(p, to, "failed_step",
			     v->degraded ? " (degraded: %s failed, on its backup NIC)"
					 : " (failed in %s)",
			     failed);
		print_close(p);
	}
	print_close(p);
	if (r->n_vfs > 1)
		print_text(p, PRINT_TEXT, "\n");
}

void cli_out_report(struct cli_out *o, const char *command, const char *guest,
		    const struct plan_report *r, enum vfm_exit code)
{
	struct printer p;

	print_start(&p, o->json, o->f, stderr);
	print_string(&p, PRINT_JSON, "command", NULL, command);
	/* What went wrong first, on stderr: pre-flight's problems, else the error. */
	print_problems(&p, step_to_string(STEP_PREFLIGHT), r);
	print_error(&p, "error", r->has_error, r->error_step, r->error_code, r->error,
		    r->n_problems == 0);
	print_error(&p, "error2", r->has_error2, r->error2_step, r->error2_code, r->error2, true);
	print_string(&p, PRINT_ANY, "guest", "%s: ", guest);
	print_string(&p, PRINT_JSON, "outcome", NULL, plan_outcome_to_string(r->outcome));
	print_text(&p, PRINT_TEXT, "%s\n", outcome_sentence(r->outcome));
	/* bond or failover: how the VF left the guest's way (null: never decided). */
	print_string(&p, PRINT_ANY, "mode", "  mode: %s\n",
		     r->mode != PLAN_MODE_AUTO ? plan_mode_to_string(r->mode) : NULL);
	print_not_undone_all(&p, guest, r);
	print_string(&p, PRINT_ANY, "interrupted", "  interrupted by %s",
		     r->interrupted[0] ? r->interrupted : NULL);
	print_bool(&p, PRINT_JSON, "interrupt_ignored", NULL, r->interrupt_ignored);
	if (r->interrupted[0])
		print_text(&p, PRINT_TEXT, "%s\n",
			   r->interrupt_ignored
			       ? ": ignored, the guest already ran on the destination"
			       : "");
	print_migration(&p, r);
	print_int(&p, PRINT_JSON, "without_vf_ms", NULL, r->without_vf_ms);
	print_bool(&p, PRINT_JSON, "vf_restored", NULL, r->vf_restored);
	if (r->without_vf_ms >= 0)
		print_text(&p, PRINT_TEXT, "  without VF: %lld ms%s\n", (long long)r->without_vf_ms,
			   r->vf_restored ? "" : " (and still without)");
	print_vfs(&p, r);
	print_agents(&p, o);
	if (r->has_error)
		print_text(&p, PRINT_TEXT, "  error: %s (in %s)\n",
			   plan_error_code_to_string(r->error_code), step_to_string(r->error_step));
	print_bool(&p, PRINT_JSON, "passed_point_of_no_return", NULL, r->passed_ponr);
	print_open_array(&p, "steps");
	for (int i = 0; i < _STEP_MAX; i++) {
		print_open_object(&p, NULL);
		print_string(&p, PRINT_JSON, "name", NULL, step_to_string(i));
		print_string(&p, PRINT_JSON, "result", NULL,
			     step_result_to_string(r->steps[i].result));
		print_int(&p, PRINT_JSON, "ms", NULL, r->steps[i].duration_ms);
		print_int(&p, PRINT_JSON, "undo_ms", NULL, r->steps[i].undo_ms);
		print_close(&p);
	}
	print_close(&p);
	print_open_array(&p, "notes");
	for (size_t i = 0; i < o->n_notes; i++)
		print_string(&p, PRINT_JSON, NULL, NULL, o->notes[i]);
	print_close(&p);
	print_int(&p, PRINT_ANY, "total_ms", "  total: %lld ms; ", r->total_ms);
	print_int(&p, PRINT_ANY, "exit_code", "exit %lld", (int)code);
	print_string(&p, PRINT_ANY, "exit", " (%s)\n", vfm_exit_to_string(code));
	print_end(&p, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
}
