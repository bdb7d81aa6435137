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
	for (int i = 0; i < _STEP_MAX; i++) {
		s.step_state[i] = -1;
		for (int v = 0; v < VFM_VFS_MAX; v++)
			s.vf_step_state[v][i] = -1;
	}
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
			if (r->vf >= VFM_VFS_MAX || r->vf > s.begin.n_more_vfs) {
				diag_set(d, "journal names a VF its begin record does not have");
				return -EBADMSG;
			}
			s.step_state[st] = r->kind;
			s.vf_step_state[r->vf][st] = r->kind;
			s.last_step = st;
			s.last_vf = r->vf;
			if (st == STEP_RESERVE && r->kind == JOURNAL_DONE && r->has_spec) {
				s.vf_has_dst_spec[r->vf] = true;
				s.vf_dst_spec[r->vf] = r->spec;
			}
			if (st == STEP_RESERVE && r->kind == JOURNAL_UNDONE)
				s.vf_has_dst_spec[r->vf] = false;
			if (st == STEP_MIGRATE && r->kind == JOURNAL_INTENT && r->has_tuning) {
				s.has_tuning = true;
				s.tuning = r->tuning;
			}
			break;
		}
	}
	s.has_dst_spec = s.vf_has_dst_spec[0];
	s.dst_spec = s.vf_dst_spec[0];
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
	p.n_vfs = js.begin.has_vf ? 1 + js.begin.n_more_vfs : 0;
	c.seq = js.last_seq;
	c.recovering = true;
	/* The mode the run took (journals without one were bond mode's). */
	ret->mode = strcmp(js.begin.mode, "failover") == 0 ? PLAN_MODE_FAILOVER : PLAN_MODE_BOND;
	c.has_prev_tuning = js.has_tuning;
	c.prev_tuning = js.tuning;
	ret->n_vfs = p.n_vfs;
	for (size_t i = 0; i < p.n_vfs; i++) {
		const struct journal_vf *m = i ? &js.begin.more_vfs[i - 1] : NULL;
		struct plan_vf *v = &p.vfs[i];
		struct vf_state *vs = &c.vs[i];

		snprintf(v->name, sizeof(v->name), "%s", m ? m->name : js.begin.vf_name);
		snprintf(v->bond, sizeof(v->bond), "%s", m ? m->bond : js.begin.bond);
		memcpy(v->vf_mac, m ? m->vf_mac : js.begin.vf_mac, 6);
		memcpy(v->backup_mac, m ? m->backup_mac : js.begin.backup_mac, 6);
		if (m)
			v->src_vf = m->spec;
		else if (js.begin.has_spec)
			v->src_vf = js.begin.spec;
		/* Failover mode: each VF's spec carries its pair. */
		snprintf(vs->failover_pair, sizeof(vs->failover_pair), "%s",
			 v->src_vf.failover_pair_id);
		plan_vf_label(&p, i, ret->vfs[i].name);
		vs->has_dst_spec = js.vf_has_dst_spec[i];
		vs->dst_spec = js.vf_dst_spec[i];
		/* Journals older than the MAC model gave the destination VF vf-mac. */
		vs->has_dst_mac = true;
		if (m ? m->has_dst_mac : js.begin.has_dst_mac)
			memcpy(vs->dst_mac, m ? m->dst_mac : js.begin.dst_mac, 6);
		else
			memcpy(vs->dst_mac, v->vf_mac, 6);
	}

	/* Mark what the journal says ran, so the runner knows what to undo or skip: per VF, and
	 * per step the most advanced state any VF (or the step itself) reached. */
	for (s = STEP_BOND; s < _STEP_MAX; s++) {
		int k = js.step_state[s];

		for (size_t i = 0; i < VFM_VFS_MAX; i++) {
			int kv = js.vf_step_state[i][s];

			if (kv < 0)
				continue;
			c.vs[i].touched |= STEP_BIT(s);
			if (kv == JOURNAL_UNDONE)
				c.vs[i].undone |= STEP_BIT(s);
			else if (kv == JOURNAL_DONE)
				c.vs[i].done |= STEP_BIT(s);
			if (kv == JOURNAL_INTENT)
				c.vs[i].in_flight |= STEP_BIT(s);
			if (kv != JOURNAL_UNDONE && kv != JOURNAL_DONE)
				k = JOURNAL_FAIL; /* some VF maybe half done */
			else if (kv == JOURNAL_DONE && k == JOURNAL_UNDONE)
				k = JOURNAL_DONE;
		}
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
	/* Roll forward from the first step after the point of no return not done yet for every
	 * VF; the runner skips the VFs the journal says it is done for. */
	for (s = STEP_PLUG; s < _STEP_MAX; s++) {
		bool all = true;

		for (size_t i = 0; i < p.n_vfs; i++)
			all &= (c.vs[i].done & STEP_BIT(s)) != 0;
		if (!all)
			break;
	}
	if (!p.n_vfs) {
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
