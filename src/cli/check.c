// SPDX-License-Identifier: MIT
/* vfmigrate check: pre-flight only; changes nothing. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static int check_run(const struct cli_args *a, const struct config *c)
{
	struct world w = {0};
	struct plan_report r;
	struct plan p;
	struct diag d = {0};
	enum vfm_exit code;
	bool usage;
	bool need_dest;
	int rc;

	w.out = (struct cli_out){.json = a->json, .f = stdout, .t0 = time_now_ms()};
	/* Pre-flight needs the destination host (libvirt), not a migration URI (qmp). */
	need_dest = backend_dest_is_host(a, c);
	rc = world_prepare(a, c, &p, &w, need_dest, &usage, &d);
	if (rc < 0) {
		world_close(&w);
		return usage ? cli_fail_usage(a, &d)
			     : cli_fail_error(a, VFM_EXIT_ERROR, vfm_error_from_errno(rc), &d);
	}
	plan_check(&p, &w.env, &r);
	world_note_agents(&w);
	code = r.outcome == OUTCOME_MIGRATED ? VFM_EXIT_OK : VFM_EXIT_REFUSED;
	if (!a->json && r.has_error) {
		cli_out_problems(stderr, "check", &r);
		if (r.n_problems == 0) {
			char clean[600];

			str_sanitize(clean, sizeof(clean), r.error);
			fprintf(stderr, "vfmigrate: check: %s\n", clean);
		}
		printf("%s: pre-flight failed; exit %d (refused)\n", a->guest, code);
	} else if (a->json) {
		cli_out_report(&w.out, "check", a->guest, &r, code);
	} else {
		printf("%s: pre-flight passed: ready to migrate\n", a->guest);
		/* A guest with several VFs: which, each in which bond. */
		for (size_t i = 0; p.n_vfs > 1 && i < p.n_vfs; i++) {
			char name[VFM_ID_MAX], bond[VFM_IFNAME_MAX];

			str_sanitize(name, sizeof(name), r.vfs[i].name);
			str_sanitize(bond, sizeof(bond), p.vfs[i].bond);
			printf("%s%s (bond %s)%s", i ? ", " : "  VFs: ", name, bond,
			       i + 1 == p.n_vfs ? "\n" : "");
		}
		cli_out_agents(&w.out);
	}
	world_close(&w);
	return code;
}

const struct command cmd_check = {.name = "check", .takes_dest = true, .run = check_run};
