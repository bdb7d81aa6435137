// SPDX-License-Identifier: MIT
/* Recover: an interrupted run taken up from its journal. */
#include "plan_impl.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* ------------------------------------------------------------------------------------------ */
/* Recover.                                                                                    */

int journal_summarize(const struct journal_record *recs, size_t n, struct journal_summary *ret,
		      struct diag *d)
{
	struct journal_summary s;

	memset(&s, 0, sizeof(s));
	for (int i = 0; i < _STEP_MAX; i++)
		s.step_state[i] = -1;
	if (n == 0 || recs[0].kind != JOURNAL_BEGIN) {
		diag_set(d, "journal does not start with a begin record");
		return -EBADMSG;
	}
	s.begin = recs[0];
	for (size_t i = 0; i < n; i++) {
		const struct journal_record *r = &recs[i];
		enum step_id st;

		s.last_seq = r->seq;
		s.last_kind = r->kind;
		if (s.finished) {
			diag_set(d, "journal has records after its end");
			return -EBADMSG;
		}
		switch (r->kind) {
		case JOURNAL_BEGIN:
			if (i != 0) {
				diag_set(d, "journal has a second begin record");
				return -EBADMSG;
			}
			break;
		case JOURNAL_PONR:
			s.passed_ponr = true;
			break;
		case JOURNAL_END:
			s.finished = true;
			snprintf(s.outcome, sizeof(s.outcome), "%s", r->outcome);
			break;
		default:
			if (step_from_string(r->step, &st) < 0) {
				diag_set(d, "journal names an unknown step");
				return -EBADMSG;
			}
			s.step_state[st] = r->kind;
			s.last_step = st;
			if (st == STEP_RESERVE && r->kind == JOURNAL_DONE && r->has_spec) {
				s.has_dst_spec = true;
				s.dst_spec = r->spec;
			}
			if (st == STEP_RESERVE && r->kind == JOURNAL_UNDONE)
				s.has_dst_spec = false;
			if (st == STEP_MIGRATE && r->kind == JOURNAL_INTENT && r->has_tuning) {
				s.has_tuning = true;
				s.tuning = r->tuning;
			}
			break;
		}
	}
	s.valid = true;
	*ret = s;
	return 0;
}

int plan_recover(const struct plan *p_in, const struct plan_env *env,
		 const struct journal_record *recs, size_t n, struct plan_report *ret)
{
	struct journal_summary js;
	struct diag d = {0};
	struct plan p = *p_in;
	struct ctx c;
	int s;

	report_init(&c, &p, env, ret);
	if (journal_summarize(recs, n, &js, &d) < 0) {
		set_error_code(&c, STEP_PREFLIGHT, -EBADMSG, PLAN_ERR_JOURNAL, &d);
		ret->outcome = OUTCOME_NEEDS_RECOVER;
		return 0;
	}
	if (js.finished) {
		ret->outcome = OUTCOME_NOTHING_TO_DO;
		return 0;
	}
	/* What the journal recorded is what was changed: it wins over today's config. */
	snprintf(p.guest, sizeof(p.guest), "%s", js.begin.guest);
	snprintf(p.bond, sizeof(p.bond), "%s", js.begin.bond);
	p.has_vf = js.begin.has_vf;
	memcpy(p.vf_mac, js.begin.vf_mac, 6);
	memcpy(p.backup_mac, js.begin.backup_mac, 6);
	if (js.begin.has_spec)
		p.src_vf = js.begin.spec;
	c.seq = js.last_seq;
	c.recovering = true;
	c.has_dst_spec = js.has_dst_spec;
	c.dst_spec = js.dst_spec;
	/* Journals older than the MAC model gave the destination VF vf-mac. */
	c.has_dst_mac = true;
	memcpy(c.dst_mac, js.begin.has_dst_mac ? js.begin.dst_mac : js.begin.vf_mac, 6);
	/* The mode the run took (journals without one were bond mode's). */
	ret->mode = strcmp(js.begin.mode, "failover") == 0 ? PLAN_MODE_FAILOVER : PLAN_MODE_BOND;
	if (js.begin.has_spec)
		snprintf(c.failover_pair, sizeof(c.failover_pair), "%s",
			 js.begin.spec.failover_pair_id);
	c.has_prev_tuning = js.has_tuning;
	c.prev_tuning = js.tuning;

	/* Mark what the journal says ran, so the runner knows what to undo or skip. */
	for (s = STEP_BOND; s < _STEP_MAX; s++) {
		int k = js.step_state[s];

		if (k < 0)
			continue;
		if (k == JOURNAL_UNDONE)
			ret->steps[s].result = STEP_UNDONE;
		else if (k == JOURNAL_DONE)
			ret->steps[s].result = STEP_OK;
		else
			ret->steps[s].result = STEP_FAILED; /* intent, fail or undo: maybe half */
	}
	if (!js.passed_ponr) {
		/* Undo every step that may have had an effect and is not undone yet. Each undo
		 * checks the live state first, so undoing what never happened is harmless. */
		finish(&c, rollback(&c, STEP_MIGRATE));
		return 0;
	}
	ret->passed_ponr = true;
	/* Roll forward from the first step after the point of no return not done yet. */
	for (s = STEP_PLUG; s < _STEP_MAX; s++)
		if (js.step_state[s] != JOURNAL_DONE)
			break;
	if (!p.has_vf) {
		finish(&c, OUTCOME_MIGRATED);
		return 0;
	}
	if (s == _STEP_MAX) {
		finish(&c, OUTCOME_MIGRATED);
		return 0;
	}
	finish(&c, roll_forward(&c, (enum step_id)s));
	return 0;
}
