// SPDX-License-Identifier: MIT
/* vfmigrate status: the journal's state and the live bond, read where the guest should be. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "io/journal_file.h"

static int status_run(const struct cli_args *a, const struct config *c)
{
	struct journal_record *recs = NULL;
	struct journal_summary js = {0};
	struct world w = {0};
	struct bond_status b;
	struct diag d = {0}, bd = {0};
	bool torn = false, on_dst = false, have_bond = false;
	size_t n = 0;
	int rc, brc = -ENOENT;
	enum vfm_exit code = VFM_EXIT_OK;
	const char *state, *dest;
	char bond[VFM_IFNAME_MAX] = "";
	bool opened = false;
	json_t *o;

	rc = journal_file_load(cli_state_dir(a), a->guest, &recs, &n, &torn, &d);
	if (rc < 0 && rc != -ENOENT)
		return cli_fail_error(a, VFM_EXIT_NEEDS_RECOVER, VFM_ERR_JOURNAL, &d);
	if (rc >= 0 && journal_summarize(recs, n, &js, &d) < 0) {
		free(recs);
		return cli_fail_error(a, VFM_EXIT_NEEDS_RECOVER, VFM_ERR_JOURNAL, &d);
	}
	free(recs);
	if (rc == -ENOENT)
		state = "none";
	else if (js.finished)
		state = "finished";
	else {
		state = "unfinished";
		code = VFM_EXIT_NEEDS_RECOVER;
	}
	/* Where the guest should be: on the destination once the point of no return passed. */
	on_dst = rc >= 0 && js.passed_ponr;
	dest = rc >= 0 && js.begin.dest[0] ? js.begin.dest : NULL;
	w.be = backend_find(a, c, &d);
	if (w.be) {
		struct cli_args sa = *a;

		/* Without DEST, the destination of the journal's run is where to look. */
		if (w.be->dest_is_host && !sa.dest && dest && journal_uri_safe(dest))
			sa.dest = dest;
		opened = w.be->open_status(&sa, c, &w, bond, &d) >= 0;
	} else {
		snprintf(bond, sizeof(bond), "%s", c->bond);
	}
	if (opened && bond[0]) {
		struct side *s = on_dst ? &w.dst : &w.src;

		brc = s->ag.bond_status(s->ag.userdata, bond, time_now_ms() + 3000, &b, &bd);
		have_bond = brc >= 0;
	}
	if (a->json) {
		json_t *slaves = json_array();
		char m[18], clean[600];

		for (size_t i = 0; have_bond && i < b.n_slaves; i++) {
			str_sanitize_keep_format(clean, sizeof(clean), b.slaves[i].name);
			json_array_append_new(slaves,
					      json_pack("{s:s,s:s,s:b}", "mac",
							format_mac(b.slaves[i].mac, m), "name",
							clean, "link_up", b.slaves[i].link_up));
		}
		o = json_pack(
		    "{s:s,s:s,s:s,s:o,s:b,s:s,s:s,s:i,s:s}", "command", "status", "guest", a->guest,
		    "journal", state, "destination", dest ? json_string(dest) : json_null(),
		    "passed_point_of_no_return", js.passed_ponr, "journal_outcome",
		    js.finished ? js.outcome : "", "last_step",
		    rc >= 0 && js.last_kind != JOURNAL_BEGIN ? step_to_string(js.last_step) : "",
		    "exit_code", (int)code, "side", on_dst ? "destination" : "source");
		if (have_bond) {
			str_sanitize_keep_format(clean, sizeof(clean), b.mode);
			json_object_set_new(
			    o, "bond",
			    json_pack("{s:s,s:s,s:s,s:o,s:o,s:o}", "name", bond, "mode", clean,
				      "fail_over_mac", bond_fom_to_string(b.fail_over_mac), "mac",
				      b.has_mac ? json_string(format_mac(b.mac, m)) : json_null(),
				      "active",
				      b.has_active ? json_string(format_mac(b.active_mac, m))
						   : json_null(),
				      "slaves", slaves));
		} else {
			str_sanitize_keep_format(clean, sizeof(clean), bd.msg[0] ? bd.msg : d.msg);
			json_decref(slaves);
			json_object_set_new(o, "bond", json_null());
			json_object_set_new(o, "bond_error", json_string(clean));
		}
		cli_json_print(stdout, o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		json_decref(o);
	} else {
		char m[18], clean[600];

		printf("%s: journal %s", a->guest, state);
		if (dest)
			printf(", destination %s", dest);
		if (js.finished)
			printf(" (outcome %s)", js.outcome);
		else if (rc >= 0)
			printf(" (last: %s %s; point of no return %s) - run 'vfmigrate recover %s'",
			       journal_kind_to_string(js.last_kind),
			       js.last_kind == JOURNAL_BEGIN ? "" : step_to_string(js.last_step),
			       js.passed_ponr ? "passed" : "not passed", a->guest);
		if (torn)
			printf(" [torn last record ignored]");
		printf("\n");
		if (have_bond) {
			char bm[18];

			str_sanitize(clean, sizeof(clean), b.mode);
			printf("%s: bond %s (%s, fail_over_mac %s, MAC %s) on the %s, active %s\n",
			       a->guest, bond, clean, bond_fom_to_string(b.fail_over_mac),
			       b.has_mac ? format_mac(b.mac, bm) : "unknown",
			       on_dst ? "destination" : "source",
			       b.has_active ? format_mac(b.active_mac, m) : "none");
			for (size_t i = 0; i < b.n_slaves; i++) {
				str_sanitize(clean, sizeof(clean), b.slaves[i].name);
				printf("  slave %s %s link %s\n", format_mac(b.slaves[i].mac, m),
				       clean, b.slaves[i].link_up ? "up" : "down");
			}
		} else if (bond[0]) {
			str_sanitize(clean, sizeof(clean), bd.msg[0] ? bd.msg : d.msg);
			printf("%s: bond %s: unavailable (%s)\n", a->guest, bond, clean);
		}
	}
	world_close(&w);
	return code;
}

const struct command cmd_status = {.name = "status", .takes_dest = true, .run = status_run};
