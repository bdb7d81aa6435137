// SPDX-License-Identifier: MIT
/*
 * vfmigrate evacuate: drains a host. First the plan, before anything moves: every guest's
 * pre-flight and the VFs it needs, the VFs free on every destination per physical network,
 * each guest placed (core/evac.c). A plan that does not fit is refused (exit 3), one problem
 * per reason; --dry-run prints it and stops. Then evac_run.c migrates.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "evacuate.h"
#include "io/journal_file.h"

enum {
	OPT_PARALLEL = CLI_OPT_COMMAND + 40,
	OPT_DRY_RUN,
	OPT_TO,
	OPT_PROBE,
	OPT_VFPROBE,
	OPT_ALL,
};

static const struct option evacuate_options[] = {
    {"parallel", required_argument, NULL, OPT_PARALLEL},
    {"dry-run", no_argument, NULL, OPT_DRY_RUN},
    {"to", required_argument, NULL, OPT_TO},
    {"probe", required_argument, NULL, OPT_PROBE},
    {"vfprobe", required_argument, NULL, OPT_VFPROBE},
    {"all", no_argument, NULL, OPT_ALL},
    {NULL, 0, NULL, 0},
};

#define PARALLEL_MAX 32

static struct evac_opts opts = {.parallel = 1};

/* Nova's max_concurrent_live_migrations is 1 by default: so is --parallel. */
static int evacuate_option(int opt, const char *arg)
{
	char *end;
	long v;

	switch (opt) {
	case OPT_PARALLEL:
		errno = 0;
		v = strtol(arg, &end, 10);
		if (errno || *end || end == arg || v < 1 || v > PARALLEL_MAX) {
			fprintf(stderr, "vfmigrate: --parallel: a number from 1 to %d\n",
				PARALLEL_MAX);
			return -EINVAL;
		}
		opts.parallel = (unsigned)v;
		return 0;
	case OPT_DRY_RUN:
		opts.dry_run = true;
		return 0;
	case OPT_TO:
		if (opts.n_to == EVAC_DESTS_MAX || !journal_dest_valid(arg)) {
			fprintf(stderr, "vfmigrate: --to: at most %d printable destinations\n",
				EVAC_DESTS_MAX);
			return -EINVAL;
		}
		opts.to[opts.n_to++] = arg;
		return 0;
	case OPT_PROBE:
		if (opts.n_probes == EVAC_GUESTS_MAX || !strchr(arg, '=')) {
			fprintf(stderr, "vfmigrate: --probe GUEST=ADDRESS\n");
			return -EINVAL;
		}
		opts.probes[opts.n_probes++] = arg;
		return 0;
	case OPT_VFPROBE:
		opts.vfprobe = arg;
		return 0;
	case OPT_ALL:
		opts.all = true;
		return 0;
	default:
		return 1;
	}
}

/* "NAME" or "NAME=CONFIG". */
static int row_parse(const char *arg, struct evac_row *r, struct diag *d)
{
	const char *eq = strchr(arg, '=');
	size_t len = eq ? (size_t)(eq - arg) : strlen(arg);

	memset(r, 0, sizeof(*r));
	if (len >= sizeof(r->guest)) {
		diag_set(d, "guest name too long");
		return -EINVAL;
	}
	memcpy(r->guest, arg, len);
	if (!journal_guest_name_valid(r->guest)) {
		diag_set(
		    d, "invalid guest name (letters, digits, '_', '.', '-', not first '.' or '-')");
		return -EINVAL;
	}
	r->config_path = eq ? eq + 1 : NULL;
	r->fd_progress = r->fd_report = r->fd_err = r->fd_probe = -1;
	r->without_vf_ms = r->loss_ms = -1;
	r->mig_ms = r->mig_downtime_ms = r->mig_bytes = -1;
	for (size_t i = 0; i < _STEP_MAX; i++)
		r->step_ms[i] = -1;
	for (size_t i = 0; i < opts.n_probes; i++) {
		const char *e = strchr(opts.probes[i], '=');

		if ((size_t)(e - opts.probes[i]) == len && !strncmp(opts.probes[i], r->guest, len))
			r->probe_addr = e + 1;
	}
	return 0;
}

/* The args one guest's config is read with (and its migrate gets). */
static void row_args(const struct cli_args *a, const struct evac_row *r, const char *dest,
		     struct cli_args *ret)
{
	*ret = *a;
	ret->command = "migrate";
	ret->guest = r->guest;
	ret->guests = NULL;
	ret->n_guests = 0;
	if (r->config_path)
		ret->config_path = r->config_path;
	ret->dest = dest;
}

/* An unfinished journal: the guest's migrate would refuse; say so in pre-flight. */
static bool journal_unfinished(const char *state_dir, const char *guest)
{
	struct journal_record *recs = NULL;
	struct journal_summary s;
	struct diag d = {{0}};
	bool torn, unfinished = false;
	size_t n;

	if (journal_file_load(state_dir, guest, &recs, &n, &torn, &d) < 0)
		return false;
	if (journal_summarize(recs, n, &s, &d) == 0 && !s.finished)
		unfinished = true;
	free(recs);
	return unfinished;
}

static int dest_index(struct evac_dest *dests, size_t *nd, const char *name)
{
	for (size_t i = 0; i < *nd; i++)
		if (!strcmp(dests[i].name, name))
			return (int)i;
	if (*nd == EVAC_DESTS_MAX)
		return -E2BIG;
	memset(&dests[*nd], 0, sizeof(dests[*nd]));
	snprintf(dests[*nd].name, sizeof(dests[*nd].name), "%s", name);
	return (int)(*nd)++;
}

/* The destination's free count on physnet, lowered to what this guest's view of its pool
 * says (guests that share a destination may list different VFs of it: the least counts). */
static void dest_note_free(struct evac_dest *d, const char *physnet, unsigned n)
{
	for (size_t k = 0; k < d->n_free; k++)
		if (!strcmp(d->free[k].physnet, physnet)) {
			if (n < d->free[k].count)
				d->free[k].count = n;
			return;
		}
	if (d->n_free == EVAC_NEEDS_MAX)
		return;
	snprintf(d->free[d->n_free].physnet, sizeof(d->free[0].physnet), "%s", physnet);
	d->free[d->n_free++].count = n;
}

/*
 * The destination a guest's pool reservations are shared on: qmp, the pool's pool-host (or
 * the local sysfs pool); libvirt, the destination URI. Guests with one name count against
 * one set of free VFs.
 */
static void dest_name(const struct config *c, const char *to, char *buf, size_t n)
{
	if (to)
		snprintf(buf, n, "%s", to);
	else if (c->dst.pool_host[0])
		snprintf(buf, n, "%s", c->dst.pool_host);
	else if (config_pool_is_sysfs(&c->dst))
		snprintf(buf, n, "local sysfs%s%s", c->dst.sysfs_root[0] ? " " : "",
			 c->dst.sysfs_root);
	else
		snprintf(buf, n, "%s", c->dst.qmp);
}

/*
 * One guest against one destination (to: libvirt's URI; NULL: the qmp config's): opens both
 * sides, runs the pre-flight, counts the destination's free VFs on the networks the guest
 * needs. Fills g's needs; returns the destination's index, or <0 with r's setup_error.
 */
static int preflight_one(const struct cli_args *a, struct evac_row *r, const char *to,
			 struct evac_guest *g, struct evac_dest *dests, size_t *nd, bool *ret_ok)
{
	struct cli_args ga;
	struct world w = {0};
	struct config c;
	struct plan p;
	struct diag d = {{0}};
	char name[VFM_URI_MAX];
	bool usage;
	int rc, di, nn;

	row_args(a, r, to, &ga);
	*ret_ok = false;
	rc = cli_load_config(&ga, &c, &d);
	if (rc < 0)
		goto fail;
	if (!to && backend_dest_is_host(&ga, &c)) {
		diag_set(&d, "libvirt: name the destinations with --to URI");
		rc = -EINVAL;
		goto fail;
	}
	if (to && !backend_dest_is_host(&ga, &c)) {
		diag_set(&d, "qmp: a guest's destination is its config's, not --to");
		rc = -EINVAL;
		goto fail;
	}
	if (!to && opts.parallel > 1 && c.dst.n_vf_pool && !config_pool_is_sysfs(&c.dst) &&
	    !c.dst.pool_host[0]) {
		diag_set(&d, "destination.pool-host is needed to migrate guests at once into an "
			     "emulated pool (its reservations are shared through it)");
		rc = -EINVAL;
		goto fail;
	}
	w.out = (struct cli_out){.json = true, .f = stdout, .t0 = time_now_ms()};
	rc = world_prepare(&ga, &c, &p, &w, true, &usage, &d);
	if (rc < 0)
		goto fail;
	w.env.event = NULL;
	nn = evac_plan_needs(&p, g->needs, EVAC_NEEDS_MAX);
	if (nn < 0) {
		diag_set(&d, "too many VF networks");
		rc = nn;
		goto fail;
	}
	g->n_needs = (size_t)nn;
	dest_name(&c, to, name, sizeof(name));
	di = dest_index(dests, nd, name);
	if (di < 0) {
		diag_set(&d, "more than %d destinations", EVAC_DESTS_MAX);
		rc = di;
		goto fail;
	}
	plan_check(&p, &w.env, &r->check);
	*ret_ok = r->check.outcome == OUTCOME_MIGRATED;
	for (size_t k = 0; k < g->n_needs; k++) {
		unsigned nfree = 0;
		struct diag pd = {{0}};

		if (evac_count_free(&w.dst.vp, g->needs[k].physnet,
				    time_now_ms() + p.timeouts.command_ms, &nfree, &pd) < 0)
			nfree = 0; /* pre-flight said why (vf-pool) */
		dest_note_free(&dests[di], g->needs[k].physnet, nfree);
	}
	world_close(&w);
	return di;
fail:
	world_close(&w);
	r->setup_failed = true;
	str_sanitize(r->setup_error, sizeof(r->setup_error), d.msg);
	return rc;
}

static void rows_free(struct evac_row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(rows[i].report);
		free(rows[i].probe_out);
	}
	free(rows);
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* The guests: the arguments, or (--all, in name order) every running domain of the source with
 * vfmigrate's metadata. *ret_names holds the listed names (caller frees). */
static int guest_args(const struct cli_args *a, const char **ret, size_t *ret_n,
		      char (**ret_names)[VFM_ID_MAX], struct diag *d)
{
	const struct backend *be = backend_named("libvirt");
	char(*names)[VFM_ID_MAX];
	size_t n = 0;
	int r;

	*ret_names = NULL;
	if (!opts.all) {
		if (a->n_guests == 0 || a->n_guests > EVAC_GUESTS_MAX) {
			diag_set(d, "evacuate: from 1 to %d guests (or --all)", EVAC_GUESTS_MAX);
			return -EINVAL;
		}
		for (size_t i = 0; i < a->n_guests; i++)
			ret[i] = a->guests[i];
		*ret_n = a->n_guests;
		return 0;
	}
	if (a->n_guests || !a->connect_uri || !be || !be->list_guests) {
		diag_set(d, "evacuate --all: libvirt only (-c URI), without guest names");
		return -EINVAL;
	}
	names = calloc(EVAC_GUESTS_MAX, sizeof(*names));
	if (!names)
		return -ENOMEM;
	r = be->list_guests(a, names, EVAC_GUESTS_MAX, &n, d);
	if (r >= 0 && n == 0) {
		diag_set(d, "evacuate --all: no running domain with vfmigrate metadata");
		r = -ENOENT;
	}
	if (r < 0) {
		free(names);
		return r;
	}
	qsort(names, n, sizeof(names[0]), name_cmp);
	for (size_t i = 0; i < n; i++)
		ret[i] = names[i];
	*ret_n = n;
	*ret_names = names;
	return 0;
}

static int evacuate_run(const struct cli_args *a, const struct config *unused)
{
	int64_t t0 = time_now_ms(), plan_ms;
	struct evac_guest *guests = NULL;
	struct evac_dest dests[EVAC_DESTS_MAX];
	struct evac_plan *pl = NULL;
	struct evac_row *rows = NULL;
	const char *args[EVAC_GUESTS_MAX];
	char(*listed)[VFM_ID_MAX] = NULL;
	struct diag d = {{0}};
	size_t n = 0, nd = 0;
	int code = VFM_EXIT_OK, r;

	(void)unused;
	r = guest_args(a, args, &n, &listed, &d);
	if (r < 0)
		return r == -EINVAL
			   ? cli_fail_usage(a, &d)
			   : cli_fail_error(a, VFM_EXIT_ERROR, vfm_error_from_errno(r), &d);
	if (a->config_path && n > 1) {
		free(listed);
		diag_set(&d, "evacuate: one config per guest, as GUEST=CONFIG (not --config)");
		return cli_fail_usage(a, &d);
	}
	guests = calloc(n, sizeof(*guests));
	rows = calloc(n, sizeof(*rows));
	pl = calloc(1, sizeof(*pl));
	if (!guests || !rows || !pl) {
		free(guests);
		free(rows);
		free(pl);
		free(listed);
		return VFM_EXIT_ERROR;
	}
	for (size_t i = 0; i < n; i++) {
		if (row_parse(args[i], &rows[i], &d) < 0) {
			code = cli_fail_usage(a, &d);
			goto out;
		}
		for (size_t j = 0; j < i; j++)
			if (!strcmp(rows[j].guest, rows[i].guest)) {
				diag_set(&d, "evacuate: %s named twice", rows[i].guest);
				code = cli_fail_usage(a, &d);
				goto out;
			}
	}
	if (!a->json)
		printf("evacuate: pre-flight of %zu guest%s...\n", n, n == 1 ? "" : "s");
	for (size_t i = 0; i < n; i++) {
		struct evac_guest *g = &guests[i];
		size_t nto = opts.n_to ? opts.n_to : 1;

		snprintf(g->name, sizeof(g->name), "%s", rows[i].guest);
		if (journal_unfinished(cli_state_dir(a), rows[i].guest)) {
			rows[i].setup_failed = true;
			snprintf(rows[i].setup_error, sizeof(rows[i].setup_error),
				 "an unfinished journal: run 'vfmigrate recover %s'",
				 rows[i].guest);
			continue;
		}
		for (size_t t = 0; t < nto; t++) {
			bool ok;
			int di = preflight_one(a, &rows[i], opts.n_to ? opts.to[t] : NULL, g, dests,
					       &nd, &ok);

			/* A destination that cannot be opened or fails the check is not a
			 * candidate; another may be. */
			if (di >= 0 && ok)
				g->cand[g->n_cand++] = (size_t)di;
		}
		g->preflight_ok = g->n_cand > 0;
		if (g->preflight_ok)
			rows[i].setup_failed = false;
	}
	if (evac_plan_make(guests, n, dests, nd, pl) < 0)
		code = VFM_EXIT_REFUSED;
	for (size_t i = 0; i < n; i++) {
		if (!pl->placed[i])
			continue;
		snprintf(rows[i].dest, sizeof(rows[i].dest), "%s", dests[pl->dest_of[i]].name);
		if (opts.n_to)
			snprintf(rows[i].dest_arg, sizeof(rows[i].dest_arg), "%s",
				 dests[pl->dest_of[i]].name);
	}
	if (code != VFM_EXIT_OK || opts.dry_run || !a->json)
		evac_out_plan(stdout, a->json, opts.dry_run, rows, n, guests, dests, nd, pl, code);
	if (code != VFM_EXIT_OK || opts.dry_run)
		goto out;
	fflush(stdout);
	plan_ms = time_now_ms() - t0;
	code = evac_run(a, &opts, rows, n, t0);
	evac_out_summary(stdout, a->json, rows, n, plan_ms, time_now_ms() - t0, code);
out:
	free(guests);
	free(pl);
	rows_free(rows, n);
	free(listed);
	return code;
}

const struct command cmd_evacuate = {.name = "evacuate",
				     .takes_list = true,
				     .options = evacuate_options,
				     .option = evacuate_option,
				     .run = evacuate_run};
