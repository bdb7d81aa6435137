// SPDX-License-Identifier: MIT
/* vfmigrate recover: finish or undo an interrupted run from its journal. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "io/journal_file.h"

/*
 * libvirt: the destination recover works with is the one the run recorded in its journal
 * (begin: its BEGIN record, NULL without a journal). DEST may repeat it; a different one is
 * refused (-EINVAL), since finishing or undoing against another host would act on the wrong
 * side. An older journal records none: then DEST is required, as without a journal.
 * *ret is DEST, else the journal's (pointing into begin).
 */
static int recover_dest(const struct cli_args *a, const struct config *c,
			const struct journal_record *begin, const char **ret, struct diag *d)
{
	const char *recorded = begin && begin->dest[0] ? begin->dest : NULL;

	*ret = a->dest;
	if (!backend_dest_is_host(a, c))
		return 0; /* qmp: the config names the destination's sockets; DEST is unused */
	if (a->dest && recorded && strcmp(a->dest, recorded) != 0) {
		diag_set(d,
			 "DEST %s differs from the destination %s recorded in the journal of "
			 "guest %s: give that one or none; nothing was done",
			 a->dest, recorded, a->guest);
		return -EINVAL;
	}
	if (!a->dest && !recorded) {
		diag_set(d, "DEST (the destination libvirt URI) is required with libvirt%s",
			 begin ? " (the journal does not record it)" : "");
		return -EINVAL;
	}
	if (!a->dest && !journal_uri_safe(recorded)) {
		diag_set(d,
			 "the destination %s recorded in the journal would run a program: give it "
			 "as DEST if it is really yours; nothing was done",
			 recorded);
		return -EINVAL;
	}
	if (!a->dest)
		*ret = recorded;
	return 0;
}

static int recover_run(const struct cli_args *a, const struct config *c)
{
	struct journal_record *recs = NULL;
	struct journal_file *jf = NULL;
	struct journal_ops jops;
	struct world w = {0};
	struct plan_report r;
	struct plan p;
	struct diag d = {0};
	enum vfm_exit code;
	struct cli_args ra = *a; /* with DEST from the journal */
	size_t n;
	bool usage;
	int rc;

	w.out = (struct cli_out){.json = a->json, .f = stdout, .t0 = time_now_ms()};
	/* Open first: it takes the lock and cuts a torn tail; then read what it holds. Both
	 * before the hypervisors: the journal may name the destination. */
	rc = journal_file_open(cli_state_dir(a), a->guest, &jf, &d);
	if (rc >= 0)
		rc = journal_file_load(cli_state_dir(a), a->guest, &recs, &n, NULL, &d);
	if (rc == -ENOENT && !a->dest && backend_dest_is_host(a, c)) {
		/* Neither a journal nor DEST: DEST is what is missing, as it always was. */
		journal_file_close(jf);
		recover_dest(a, c, NULL, &ra.dest, &d);
		return cli_fail_usage(a, &d);
	}
	if (rc < 0) {
		journal_file_close(jf);
		return cli_fail_journal(a, rc, &d);
	}
	if (recover_dest(a, c, &recs[0], &ra.dest, &d) < 0) {
		free(recs);
		journal_file_close(jf);
		return cli_fail_usage(a, &d);
	}
	rc = world_prepare(&ra, c, &p, &w, backend_dest_is_host(a, c), &usage, &d);
	if (rc < 0) {
		free(recs);
		journal_file_close(jf);
		world_close(&w);
		return usage ? cli_fail_usage(a, &d)
			     : cli_fail_error(a, VFM_EXIT_ERROR, vfm_error_from_errno(rc), &d);
	}
	journal_file_ops(jf, &jops);
	w.env.journal = &jops;
	plan_recover(&p, &w.env, recs, n, &r);
	code = vfm_exit_from_outcome(r.outcome);
	world_note_agents(&w);
	cli_out_report(&w.out, "recover", a->guest, &r, code);
	free(recs);
	journal_file_close(jf);
	world_close(&w);
	return code;
}

const struct command cmd_recover = {.name = "recover", .takes_dest = true, .run = recover_run};
