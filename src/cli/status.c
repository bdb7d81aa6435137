// SPDX-License-Identifier: MIT
/* vfmigrate status: the journal's state and the live bond, read where the guest should be. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "io/journal_file.h"
#include "print.h"

/* One bond as read now (b NULL: not read, error says why), under key (JSON) or as a line. */
static void print_bond(struct printer *p, const char *key, const char *guest, const char *side,
		       const char *bond, const struct bond_status *b, const char *error)
{
	char m[18];

	if (!b) {
		print_string(p, PRINT_JSON, key, NULL, NULL);
		print_string(p, PRINT_JSON, "bond_error", NULL, error);
		if (bond[0])
			print_text(p, PRINT_TEXT, "%s: bond %s: unavailable (", guest, bond);
		print_string(p, PRINT_TEXT, NULL, "%s)\n", bond[0] ? error : NULL);
		return;
	}
	print_text(p, PRINT_TEXT, "%s: ", guest);
	print_open_object(p, key);
	print_string(p, PRINT_ANY, "name", "bond %s", bond);
	print_string(p, PRINT_ANY, "mode", " (%s", b->mode);
	print_string(p, PRINT_ANY, "fail_over_mac", ", fail_over_mac %s",
		     bond_fom_to_string(b->fail_over_mac));
	print_string(p, PRINT_JSON, "mac", NULL, b->has_mac ? format_mac(b->mac, m) : NULL);
	print_string(p, PRINT_TEXT, NULL, ", MAC %s",
		     b->has_mac ? format_mac(b->mac, m) : "unknown");
	print_string(p, PRINT_TEXT, NULL, ") on the %s", side);
	print_string(p, PRINT_JSON, "active", NULL,
		     b->has_active ? format_mac(b->active_mac, m) : NULL);
	print_string(p, PRINT_TEXT, NULL, ", active %s\n",
		     b->has_active ? format_mac(b->active_mac, m) : "none");
	print_open_array(p, "slaves");
	for (size_t i = 0; i < b->n_slaves; i++) {
		print_open_object(p, NULL);
		print_string(p, PRINT_ANY, "mac", "  slave %s", format_mac(b->slaves[i].mac, m));
		print_string(p, PRINT_ANY, "name", " %s", b->slaves[i].name);
		print_bool(p, PRINT_JSON, "link_up", NULL, b->slaves[i].link_up);
		print_string(p, PRINT_TEXT, NULL, " link %s\n",
			     b->slaves[i].link_up ? "up" : "down");
		print_close(p);
	}
	print_close(p);
	print_close(p);
}

/* The guest's bonds as read now: one per VF, or shared by several. */
struct status_bonds {
	size_t n;
	char name[VFM_VFS_MAX][VFM_IFNAME_MAX];
	bool have[VFM_VFS_MAX];
	struct bond_status b[VFM_VFS_MAX];
	char error[VFM_VFS_MAX][sizeof(((struct diag *)0)->msg)];
	/* A failover guest (its journal's mode, or VFs without a bond): its net_failover on each
	 * VF's MAC as read now (fo_have false: not read, fo_error says why). */
	bool fo_wanted;
	size_t fo_n;
	uint8_t fo_mac[VFM_VFS_MAX][6];
	bool fo_have[VFM_VFS_MAX];
	struct failover_status fo[VFM_VFS_MAX];
	char fo_error[VFM_VFS_MAX][sizeof(((struct diag *)0)->msg)];
};

/* One NIC of a failover master: KEY and KEY_link (JSON), its state in fmt (text). */
static void print_fo_nic(struct printer *p, const char *key, const char *fmt, bool has, bool link)
{
	char k[32];

	snprintf(k, sizeof(k), "%s_link", key);
	print_bool(p, PRINT_JSON, key, NULL, has);
	print_bool(p, PRINT_JSON, k, NULL, has && link);
	print_string(p, PRINT_TEXT, NULL, fmt, !has ? "absent" : link ? "link up" : "link down");
}

/* VF i's net_failover as read now, as a line or under "failover" (JSON). */
static void print_failover(struct printer *p, const char *guest, const char *side,
			   const struct status_bonds *sb, size_t i)
{
	const struct failover_status *f = &sb->fo[i];
	char m[18];

	format_mac(sb->fo_mac[i], m);
	if (!sb->fo_have[i]) {
		print_string(p, PRINT_JSON, "failover", NULL, NULL);
		print_string(p, PRINT_JSON, "failover_error", NULL, sb->fo_error[i]);
		print_text(p, PRINT_TEXT, "%s: failover on MAC %s: unavailable (", guest, m);
		print_string(p, PRINT_TEXT, NULL, "%s)\n", sb->fo_error[i]);
		return;
	}
	print_text(p, PRINT_TEXT, "%s: ", guest);
	print_open_object(p, "failover");
	print_string(p, PRINT_ANY, "master", "failover master %s", f->master);
	print_string(p, PRINT_ANY, "mac", " (MAC %s)", m);
	print_string(p, PRINT_TEXT, NULL, " on the %s, sending on the ", side);
	print_string(p, PRINT_JSON, "sends_on", NULL, f->primary_active ? "primary" : "standby");
	print_string(p, PRINT_TEXT, NULL, "%s",
		     f->primary_active ? "primary (VF)" : "standby (virtio)");
	print_fo_nic(p, "primary", "; primary %s", f->has_primary, f->primary_link);
	print_fo_nic(p, "standby", ", standby %s\n", f->has_standby, f->standby_link);
	print_close(p);
}

/*
 * The journal (js: what it says, when there is one), and the bonds as read now. JSON: "bond"
 * is the first one (what single-VF consumers read), "more_bonds" the others, same shape.
 */
static void status_print(const struct cli_args *a, const struct journal_summary *js, bool journal,
			 bool torn, const char *dest, enum vfm_exit code,
			 const struct status_bonds *sb)
{
	const char *side = journal && js->passed_ponr ? "destination" : "source";
	const char *state = !journal ? "none" : js->finished ? "finished" : "unfinished";
	const char *vf = NULL, *mode;
	char vf_label[VFM_ID_MAX + 16] = "";
	struct printer p;

	print_start(&p, a->json, stdout, stderr);
	print_string(&p, PRINT_JSON, "command", NULL, "status");
	print_string(&p, PRINT_ANY, "guest", "%s: ", a->guest);
	print_string(&p, PRINT_ANY, "journal", "journal %s", state);
	print_string(&p, PRINT_ANY, "destination", ", destination %s", dest);
	print_bool(&p, PRINT_JSON, "passed_point_of_no_return", NULL, journal && js->passed_ponr);
	print_string(&p, PRINT_JSON, "journal_outcome", NULL, js->finished ? js->outcome : "");
	print_string(&p, PRINT_TEXT, NULL, " (outcome %s)", js->finished ? js->outcome : NULL);
	print_string(&p, PRINT_JSON, "last_step", NULL,
		     journal && js->last_kind != JOURNAL_BEGIN ? step_to_string(js->last_step)
							       : "");
	/* A guest with several VFs: which one the last record is of (null: no VF or one). */
	if (journal && js->begin.n_more_vfs && js->last_kind != JOURNAL_BEGIN) {
		const struct journal_record *b = &js->begin;

		char clean[VFM_ID_MAX];

		vf = js->last_vf ? b->more_vfs[js->last_vf - 1].name : b->vf_name;
		str_sanitize(clean, sizeof(clean), vf[0] ? vf : "vf0");
		snprintf(vf_label, sizeof(vf_label), " of VF %s", clean);
	}
	print_string(&p, PRINT_JSON, "last_vf", NULL, vf);
	if (journal && !js->finished)
		print_text(&p, PRINT_TEXT,
			   " (last: %s %s%s; point of no return %s) - run 'vfmigrate recover %s'",
			   journal_kind_to_string(js->last_kind),
			   js->last_kind == JOURNAL_BEGIN ? "" : step_to_string(js->last_step),
			   vf_label, js->passed_ponr ? "passed" : "not passed", a->guest);
	/* The mode the run took (a journal without one: bond mode; null without a journal). The
	 * text names only failover mode, so that a bond-mode line reads as it always has. */
	mode = !journal ? NULL : js->begin.mode[0] ? js->begin.mode : "bond";
	print_string(&p, PRINT_JSON, "mode", NULL, mode);
	if (mode && strcmp(mode, "bond") != 0)
		print_string(&p, PRINT_TEXT, NULL, ", %s mode", mode);
	if (torn)
		print_text(&p, PRINT_TEXT, " [torn last record ignored]");
	print_text(&p, PRINT_TEXT, "\n");
	print_int(&p, PRINT_JSON, "exit_code", NULL, (int)code);
	print_string(&p, PRINT_JSON, "side", NULL, side);
	/* A failover guest without a bond: its net_failover is the line to read. */
	if (sb->fo_wanted && !sb->n) {
		print_string(&p, PRINT_JSON, "bond", NULL, NULL);
		print_string(&p, PRINT_JSON, "bond_error", NULL, "no bond: failover mode");
	} else {
		print_bond(&p, "bond", a->guest, side, sb->n ? sb->name[0] : "",
			   sb->have[0] ? &sb->b[0] : NULL, sb->error[0]);
	}
	print_open_array(&p, "more_bonds");
	for (size_t i = 1; i < sb->n; i++) {
		print_open_object(&p, NULL);
		print_bond(&p, "bond", a->guest, side, sb->name[i], sb->have[i] ? &sb->b[i] : NULL,
			   sb->error[i]);
		print_close(&p);
	}
	print_close(&p);
	/* A failover guest's first VF under "failover", the others' in "more_failover". */
	if (sb->fo_wanted && sb->fo_n)
		print_failover(&p, a->guest, side, sb, 0);
	else
		print_string(&p, PRINT_JSON, "failover", NULL, NULL);
	print_open_array(&p, "more_failover");
	for (size_t i = 1; sb->fo_wanted && i < sb->fo_n; i++) {
		print_open_object(&p, NULL);
		print_failover(&p, a->guest, side, sb, i);
		print_close(&p);
	}
	print_close(&p);
	print_end(&p, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
}

static int status_run(const struct cli_args *a, const struct config *c)
{
	struct journal_record *recs = NULL;
	struct journal_summary js = {0};
	struct status_bonds sb = {0};
	struct world w = {0};
	struct diag d = {0};
	bool torn = false, on_dst = false;
	size_t n = 0;
	int rc;
	enum vfm_exit code = VFM_EXIT_OK;
	const char *dest;
	bool opened = false;

	rc = journal_file_load(cli_state_dir(a), a->guest, &recs, &n, &torn, &d);
	if (rc < 0 && rc != -ENOENT)
		return cli_fail_error(a, VFM_EXIT_NEEDS_RECOVER, VFM_ERR_JOURNAL, &d);
	if (rc >= 0 && journal_summarize(recs, n, &js, &d) < 0) {
		free(recs);
		return cli_fail_error(a, VFM_EXIT_NEEDS_RECOVER, VFM_ERR_JOURNAL, &d);
	}
	free(recs);
	if (rc >= 0 && !js.finished)
		code = VFM_EXIT_NEEDS_RECOVER;
	/* Where the guest should be: on the destination once the point of no return passed. */
	on_dst = rc >= 0 && js.passed_ponr;
	dest = rc >= 0 && js.begin.dest[0] ? js.begin.dest : NULL;
	w.be = backend_find(a, c, &d);
	if (w.be) {
		struct cli_args sa = *a;

		/* Without DEST, the destination of the journal's run is where to look. */
		if (w.be->dest_is_host && !sa.dest && dest && journal_uri_safe(dest))
			sa.dest = dest;
		opened =
		    w.be->open_status(&sa, c, &w, sb.name, &sb.n, sb.fo_mac, &sb.fo_n, &d) >= 0;
	} else {
		snprintf(sb.name[0], sizeof(sb.name[0]), "%s", c->bond);
		sb.n = c->bond[0] ? 1 : 0;
	}
	for (size_t i = 0; i < sb.n || i == 0; i++) {
		struct side *s = on_dst ? &w.dst : &w.src;
		struct diag bd = {0};

		if (opened && sb.name[i][0]) {
			sb.have[i] = s->ag.bond_status(s->ag.userdata, sb.name[i],
						       time_now_ms() + 3000, &sb.b[i], &bd) >= 0;
			/* As the plan names an agent's failure: its side, once. */
			if (!sb.have[i])
				diag_prefix(&bd, "%s guest agent",
					    on_dst ? "destination" : "source");
		}
		snprintf(sb.error[i], sizeof(sb.error[i]), "%s", bd.msg[0] ? bd.msg : d.msg);
	}
	/* The VFs' MACs known: a guest whose run took failover mode, or whose VFs have no bond. */
	sb.fo_wanted = sb.fo_n && ((rc >= 0 && !strcmp(js.begin.mode, "failover")) || !sb.n);
	for (size_t i = 0; sb.fo_wanted && i < sb.fo_n; i++) {
		struct side *s = on_dst ? &w.dst : &w.src;
		struct diag fd = {0};

		if (!opened)
			fd = d;
		else if (!s->ag.failover_status)
			diag_set(&fd, "the guest agent cannot report the guest's net_failover");
		else if (s->ag.failover_status(s->ag.userdata, sb.fo_mac[i], 0,
					       time_now_ms() + 3000, &sb.fo[i], &fd) >= 0)
			sb.fo_have[i] = true;
		else
			diag_prefix(&fd, "%s guest agent", on_dst ? "destination" : "source");
		snprintf(sb.fo_error[i], sizeof(sb.fo_error[i]), "%s", fd.msg);
	}
	status_print(a, &js, rc >= 0, torn, dest, code, &sb);
	world_close(&w);
	return code;
}

const struct command cmd_status = {.name = "status", .takes_dest = true, .run = status_run};
