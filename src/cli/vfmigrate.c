// SPDX-License-Identifier: MIT
/*
 * vfmigrate: live-migrates a guest whose NIC is a VF in an active-backup bond with a virtio
 * NIC, without dropping its network. Subcommands: migrate, check, status, recover, config.
 * See vfmigrate(8).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "core/plan.h"
#include "io/agent_vfm.h"
#include "io/hv_qmp.h"
#include "io/journal_file.h"
#include "io/vfpool_emul.h"
#include "proto/config.h"

#define CONFIG_DIR_DEFAULT "/etc/vfmigrate"

struct args {
	const char *command;
	const char *guest;
	const char *dest;
	const char *config_path;
	const char *state_dir;
	const char *backend;
	bool json;
	bool create_bond;
	const char *unplug_timeout;
	const char *max_bandwidth;
	const char *downtime_limit;
	const char *overrides[32];
	size_t n_overrides;
};

/* ------------------------------------------------------------------------------------------ */
/* Backends: each opens the ops of one host side from the config. libvirt slots in here.      */

struct side_res {
	struct hv_qmp *hvq;
	struct agent_vfm *agent;
	struct vfpool_emul *pool;
	struct hv_ops hv;
	struct agent_ops ag;
	struct vfpool_ops vp;
};

struct backend {
	const char *name;
	int (*open_side)(const struct config *c, bool dst, struct side_res *r, struct diag *d);
};

/* "tap" or "tap:rootport". */
static void split_pool_entry(const char *e, const char *default_bus, char tap[VFM_ID_MAX],
			     char bus[VFM_ID_MAX])
{
	const char *colon = strchr(e, ':');

	if (colon) {
		snprintf(tap, VFM_ID_MAX, "%.*s", (int)(colon - e), e);
		snprintf(bus, VFM_ID_MAX, "%s", colon + 1);
	} else {
		snprintf(tap, VFM_ID_MAX, "%s", e);
		snprintf(bus, VFM_ID_MAX, "%s", default_bus);
	}
}

static int qmp_open_side(const struct config *c, bool dst, struct side_res *r, struct diag *d)
{
	const struct config_side *s = dst ? &c->dst : &c->src;
	const char *bus = s->vf_bus[0] ? s->vf_bus : c->src.vf_bus;
	struct hv_qmp_options o = {0};
	int rc;

	snprintf(o.socket_path, sizeof(o.socket_path), "%s", s->qmp);
	o.incoming_deferred = dst && c->dst.incoming_defer;
	rc = hv_qmp_new(&o, &r->hvq, d);
	if (rc < 0)
		return rc;
	hv_qmp_ops(r->hvq, &r->hv);
	rc = agent_vfm_new(s->agent, &r->agent, d);
	if (rc < 0)
		return rc;
	agent_vfm_ops(r->agent, &r->ag);
	rc = vfpool_emul_new(s->vf_driver[0] ? s->vf_driver : c->src.vf_driver, &r->pool, d);
	if (rc < 0)
		return rc;
	if (!dst && s->vf_tap[0] && bus[0]) {
		/* The VF the guest has now: in use by its device until released. */
		rc = vfpool_emul_add(r->pool, c->physnet, s->vf_tap, bus, s->vf_device, d);
		if (rc < 0)
			return rc;
	}
	for (size_t i = 0; i < s->n_vf_pool; i++) {
		char tap[VFM_ID_MAX], b[VFM_ID_MAX];

		split_pool_entry(s->vf_pool[i], bus, tap, b);
		rc = vfpool_emul_add(r->pool, c->physnet, tap, b, NULL, d);
		if (rc < 0)
			return rc;
	}
	vfpool_emul_ops(r->pool, &r->vp);
	return 0;
}

static const struct backend backends[] = {
    {"qmp", qmp_open_side},
};

static void side_close(struct side_res *r)
{
	r->hvq = hv_qmp_free(r->hvq);
	r->agent = agent_vfm_free(r->agent);
	r->pool = vfpool_emul_free(r->pool);
}

/* ------------------------------------------------------------------------------------------ */

static int64_t real_now(void *ud)
{
	(void)ud;
	return time_now_ms();
}

static int64_t real_wall(void *ud)
{
	(void)ud;
	return time_wall_ns() / 1000000;
}

static const struct clock_ops real_clock = {.now_ms = real_now, .wall_ms = real_wall};

static void usage(FILE *f)
{
	fputs("usage: vfmigrate [OPTIONS] COMMAND GUEST [DEST]\n"
	      "\n"
	      "commands:\n"
	      "  migrate GUEST [DEST]  live-migrate GUEST (DEST: destination migration URI)\n"
	      "  check GUEST           pre-flight only; changes nothing\n"
	      "  status GUEST          journal state and live bond status\n"
	      "  recover GUEST         finish or undo an interrupted run from its journal\n"
	      "  config GUEST          print the effective configuration\n"
	      "\n"
	      "options:\n"
	      "  -c, --config FILE         guest config (default /etc/vfmigrate/GUEST.conf)\n"
	      "  -o, --set SEC.KEY=VALUE   override one config key (repeatable)\n"
	      "  -s, --state-dir DIR       journal directory (default /var/lib/vfmigrate)\n"
	      "  -b, --backend NAME        hypervisor backend (qmp)\n"
	      "  -j, --json                print one JSON report instead of progress text\n"
	      "      --create-bond         create the guest's bond when it does not exist\n"
	      "      --unplug-timeout DUR  VF removal deadline (default 10s)\n"
	      "      --max-bandwidth BPS   migration bandwidth limit, bytes per second\n"
	      "      --downtime-limit DUR  migration downtime limit (e.g. 50ms)\n"
	      "  -h, --help                this text\n"
	      "  -V, --version             print the version\n"
	      "\n"
	      "exit codes: 0 migrated/ok, 1 error, 2 usage or config error, 3 refused by\n"
	      "pre-flight, 4 rolled back, 5 migrated degraded (no VF), 6 needs recover\n",
	      f);
}

static int parse_args(int argc, char **argv, struct args *a)
{
	enum {
		OPT_CREATE_BOND = 256,
		OPT_UNPLUG_TIMEOUT,
		OPT_MAX_BANDWIDTH,
		OPT_DOWNTIME_LIMIT
	};
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"set", required_argument, NULL, 'o'},
	    {"state-dir", required_argument, NULL, 's'},
	    {"backend", required_argument, NULL, 'b'},
	    {"json", no_argument, NULL, 'j'},
	    {"create-bond", no_argument, NULL, OPT_CREATE_BOND},
	    {"unplug-timeout", required_argument, NULL, OPT_UNPLUG_TIMEOUT},
	    {"max-bandwidth", required_argument, NULL, OPT_MAX_BANDWIDTH},
	    {"downtime-limit", required_argument, NULL, OPT_DOWNTIME_LIMIT},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	int c;

	while ((c = getopt_long(argc, argv, "c:o:s:b:jhV", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			a->config_path = optarg;
			break;
		case 'o':
			if (a->n_overrides == ARRAY_SIZE(a->overrides)) {
				fprintf(stderr, "vfmigrate: too many --set options\n");
				return -EINVAL;
			}
			a->overrides[a->n_overrides++] = optarg;
			break;
		case 's':
			a->state_dir = optarg;
			break;
		case 'b':
			a->backend = optarg;
			break;
		case 'j':
			a->json = true;
			break;
		case OPT_CREATE_BOND:
			a->create_bond = true;
			break;
		case OPT_UNPLUG_TIMEOUT:
			a->unplug_timeout = optarg;
			break;
		case OPT_MAX_BANDWIDTH:
			a->max_bandwidth = optarg;
			break;
		case OPT_DOWNTIME_LIMIT:
			a->downtime_limit = optarg;
			break;
		case 'h':
			usage(stdout);
			exit(VFM_EXIT_OK);
		case 'V':
			printf("vfmigrate %s\n", VFM_VERSION);
			exit(VFM_EXIT_OK);
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	if (optind + 2 > argc) {
		usage(stderr);
		return -EINVAL;
	}
	a->command = argv[optind];
	a->guest = argv[optind + 1];
	if (optind + 3 == argc)
		a->dest = argv[optind + 2];
	else if (optind + 3 < argc) {
		usage(stderr);
		return -EINVAL;
	}
	if (a->dest && strcmp(a->command, "migrate") != 0) {
		fprintf(stderr, "vfmigrate: DEST is only for migrate\n");
		return -EINVAL;
	}
	return 0;
}

static int read_file(const char *path, char **ret, size_t *ret_len, struct diag *d)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	char *buf;
	size_t len = 0;

	if (fd < 0) {
		diag_set(d, "%s: %s", path, strerror(errno));
		return -errno;
	}
	buf = malloc(CONFIG_FILE_MAX + 1);
	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t k = read(fd, buf + len, CONFIG_FILE_MAX + 1 - len);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			int e = -errno;

			diag_set(d, "%s: %s", path, strerror(errno));
			free(buf);
			return e;
		}
		if (k == 0)
			break;
		len += (size_t)k;
		if (len > CONFIG_FILE_MAX) {
			diag_set(d, "%s: larger than %d bytes", path, CONFIG_FILE_MAX);
			free(buf);
			return -EFBIG;
		}
	}
	*ret = buf;
	*ret_len = len;
	return 0;
}

/* Config file, then overrides, then the dedicated options. */
static int load_config(const struct args *a, struct config *c, struct diag *d)
{
	char path[4096];
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	int r;

	config_init(c);
	if (a->config_path)
		snprintf(path, sizeof(path), "%s", a->config_path);
	else
		snprintf(path, sizeof(path), "%s/%s.conf", CONFIG_DIR_DEFAULT, a->guest);
	r = read_file(path, &buf, &len, d);
	if (r == -ENOENT && !a->config_path && a->n_overrides > 0)
		r = 0; /* everything from --set */
	else if (r < 0)
		return r;
	if (len > 0) {
		r = config_parse(c, buf, len, d);
		if (r < 0) {
			diag_prefix(d, "%s", path);
			return r;
		}
	}
	for (size_t i = 0; i < a->n_overrides; i++) {
		r = config_set(c, a->overrides[i], d);
		if (r < 0) {
			diag_prefix(d, "--set");
			return r;
		}
	}
	if (a->create_bond)
		c->create_bond = true;
	if (a->backend) {
		char s[128];

		snprintf(s, sizeof(s), "guest.backend=%s", a->backend);
		if ((r = config_set(c, s, d)) < 0) {
			diag_prefix(d, "--backend");
			return r;
		}
	}
	if (a->unplug_timeout) {
		char s[128];

		snprintf(s, sizeof(s), "timeouts.unplug=%s", a->unplug_timeout);
		if ((r = config_set(c, s, d)) < 0) {
			diag_prefix(d, "--unplug-timeout");
			return r;
		}
	}
	if (a->downtime_limit) {
		char s[128];

		snprintf(s, sizeof(s), "migration.downtime-limit=%s", a->downtime_limit);
		if ((r = config_set(c, s, d)) < 0) {
			diag_prefix(d, "--downtime-limit");
			return r;
		}
	}
	if (a->max_bandwidth) {
		char s[128];

		snprintf(s, sizeof(s), "migration.max-bandwidth=%s", a->max_bandwidth);
		if ((r = config_set(c, s, d)) < 0) {
			diag_prefix(d, "--max-bandwidth");
			return r;
		}
	}
	if (a->dest) {
		if (strlen(a->dest) >= sizeof(c->dst.migrate_uri)) {
			diag_set(d, "DEST is too long");
			return -EINVAL;
		}
		snprintf(c->dst.migrate_uri, sizeof(c->dst.migrate_uri), "%s", a->dest);
	}
	return 0;
}

static int config_to_plan(const struct args *a, const struct config *c, struct plan *p,
			  bool need_uri, struct diag *d)
{
	const char *missing = NULL;

	plan_init(p);
	snprintf(p->guest, sizeof(p->guest), "%s", a->guest);
	p->has_vf = c->has_vf_mac;
	if (!c->src.qmp[0])
		missing = "source.qmp";
	else if (!c->dst.qmp[0])
		missing = "destination.qmp";
	else if (!c->src.agent[0])
		missing = "source.agent";
	else if (!c->dst.agent[0])
		missing = "destination.agent";
	else if (need_uri && !c->dst.migrate_uri[0])
		missing = "destination.migrate-uri (or DEST)";
	else if (p->has_vf && !c->bond[0])
		missing = "guest.bond";
	else if (p->has_vf && !c->has_backup_mac)
		missing = "guest.backup-mac";
	else if (p->has_vf && !c->src.vf_device[0])
		missing = "source.vf-device";
	else if (p->has_vf && !c->src.vf_bus[0])
		missing = "source.vf-bus";
	else if (p->has_vf && !c->src.vf_tap[0])
		missing = "source.vf-tap";
	if (missing) {
		diag_set(d, "config lacks %s", missing);
		return -EINVAL;
	}
	snprintf(p->bond, sizeof(p->bond), "%s", c->bond);
	memcpy(p->vf_mac, c->vf_mac, 6);
	memcpy(p->backup_mac, c->backup_mac, 6);
	p->create_bond = c->create_bond;
	snprintf(p->src_vf.device_id, VFM_ID_MAX, "%s", c->src.vf_device);
	snprintf(p->src_vf.driver, VFM_ID_MAX, "%s",
		 c->src.vf_driver[0] ? c->src.vf_driver : "e1000e");
	snprintf(p->src_vf.bus, VFM_ID_MAX, "%s", c->src.vf_bus);
	snprintf(p->src_vf.backend, VFM_ID_MAX, "%s", c->src.vf_tap);
	snprintf(p->src_vf.netdev_id, VFM_ID_MAX, "%s", c->src.vf_netdev);
	p->src_vf.backend_kind = PLUG_BACKEND_TAP;
	memcpy(p->src_vf.mac, c->vf_mac, 6);
	p->src_vf.has_mac = true;
	p->src_vf.vlan = c->vlan;
	snprintf(p->physnet, sizeof(p->physnet), "%s", c->physnet);
	p->vlan = c->vlan;
	/* The pool says which root port each destination VF sits on. */
	snprintf(p->dst_device_id, sizeof(p->dst_device_id), "%s",
		 c->dst.vf_device[0] ? c->dst.vf_device : c->src.vf_device);
	snprintf(p->migrate.uri, sizeof(p->migrate.uri), "%s", c->dst.migrate_uri);
	snprintf(p->migrate.incoming_uri, sizeof(p->migrate.incoming_uri), "%s",
		 c->dst.incoming_uri);
	p->migrate.max_bandwidth = c->max_bandwidth;
	p->migrate.downtime_limit_ms = c->downtime_limit_ms;
	if (c->t_command)
		p->timeouts.command_ms = c->t_command;
	if (c->t_unplug)
		p->timeouts.unplug_ms = c->t_unplug;
	if (c->t_unplug_settle)
		p->timeouts.unplug_settle_ms = c->t_unplug_settle;
	if (c->t_migrate)
		p->timeouts.migrate_ms = c->t_migrate;
	if (c->t_alive)
		p->timeouts.alive_ms = c->t_alive;
	if (c->t_link)
		p->timeouts.link_ms = c->t_link;
	if (p->has_vf && c->dst.n_vf_pool == 0) {
		diag_set(d, "config lacks destination.vf-pool (the VFs the destination may use)");
		return -EINVAL;
	}
	return 0;
}

struct world {
	struct side_res src, dst;
	struct plan_env env;
	struct cli_out out;
};

static int world_open(const struct config *c, struct world *w, struct diag *d)
{
	const struct backend *be = NULL;
	int r;

	for (size_t i = 0; i < ARRAY_SIZE(backends); i++)
		if (!strcmp(backends[i].name, c->backend))
			be = &backends[i];
	if (!be) {
		char clean[64];

		str_sanitize(clean, sizeof(clean), c->backend);
		diag_set(d, "unknown backend \"%s\" (available: qmp)", clean);
		return -EINVAL;
	}
	r = be->open_side(c, false, &w->src, d);
	if (r < 0) {
		diag_prefix(d, "source");
		return r;
	}
	r = be->open_side(c, true, &w->dst, d);
	if (r < 0) {
		diag_prefix(d, "destination");
		return r;
	}
	w->env.src = (struct plan_side){&w->src.hv, &w->src.ag, &w->src.vp};
	w->env.dst = (struct plan_side){&w->dst.hv, &w->dst.ag, &w->dst.vp};
	w->env.clock = &real_clock;
	w->env.event = cli_out_event;
	w->env.event_userdata = &w->out;
	return 0;
}

static void world_close(struct world *w)
{
	side_close(&w->src);
	side_close(&w->dst);
}

static int fail_usage(const struct args *a, const struct diag *d)
{
	char clean[600];

	str_sanitize(clean, sizeof(clean), d->msg);
	if (a->json)
		printf("{\"command\": \"%s\", \"outcome\": \"usage\", \"exit_code\": %d}\n",
		       a->command, VFM_EXIT_USAGE);
	fprintf(stderr, "vfmigrate: %s\n", clean);
	return VFM_EXIT_USAGE;
}

static int fail_error(const struct args *a, enum vfm_exit code, const struct diag *d)
{
	char clean[600];
	json_t *o;

	str_sanitize(clean, sizeof(clean), d->msg);
	if (a->json) {
		o = json_pack("{s:s,s:s,s:i,s:s,s:s}", "command", a->command, "guest", a->guest,
			      "exit_code", (int)code, "exit", vfm_exit_to_string(code), "message",
			      clean);
		if (o) {
			char *s = json_dumps(o, JSON_INDENT(2));

			if (s)
				printf("%s\n", s);
			free(s);
			json_decref(o);
		}
	}
	fprintf(stderr, "vfmigrate: %s\n", clean);
	return code;
}

static int cmd_config(const struct args *a, const struct config *c)
{
	static char buf[CONFIG_FILE_MAX];
	int n = config_format(c, buf, sizeof(buf));

	if (n < 0)
		return VFM_EXIT_ERROR;
	fwrite(buf, 1, (size_t)n, stdout);
	(void)a;
	return VFM_EXIT_OK;
}

static int cmd_check(const struct args *a, const struct config *c)
{
	struct world w = {0};
	struct plan_report r;
	struct plan p;
	struct diag d = {0};
	enum vfm_exit code;

	if (config_to_plan(a, c, &p, false, &d) < 0)
		return fail_usage(a, &d);
	w.out = (struct cli_out){.json = a->json, .f = stdout, .t0 = time_now_ms()};
	if (world_open(c, &w, &d) < 0) {
		world_close(&w);
		return fail_usage(a, &d);
	}
	plan_check(&p, &w.env, &r);
	code = r.outcome == OUTCOME_MIGRATED ? VFM_EXIT_OK : VFM_EXIT_REFUSED;
	if (!a->json && r.has_error) {
		/* One problem per line. */
		char clean[600], *s, *save = NULL;

		str_sanitize(clean, sizeof(clean), r.error);
		for (s = strtok_r(clean, ";", &save); s; s = strtok_r(NULL, ";", &save))
			fprintf(stderr, "vfmigrate: check: %s\n", s + (*s == ' '));
		printf("%s: pre-flight failed; exit %d (refused)\n", a->guest, code);
	} else if (a->json) {
		cli_out_report(&w.out, "check", a->guest, &r, code);
	} else {
		printf("%s: pre-flight passed: ready to migrate\n", a->guest);
	}
	world_close(&w);
	return code;
}

static const char *state_dir(const struct args *a)
{
	return a->state_dir ? a->state_dir : VFM_STATE_DIR_DEFAULT;
}

static int cmd_migrate(const struct args *a, const struct config *c)
{
	struct journal_file *jf = NULL;
	struct journal_ops jops;
	struct world w = {0};
	struct plan_report r;
	struct plan p;
	struct diag d = {0};
	enum vfm_exit code;
	int rc;

	if (config_to_plan(a, c, &p, true, &d) < 0)
		return fail_usage(a, &d);
	w.out = (struct cli_out){.json = a->json, .f = stdout, .t0 = time_now_ms()};
	if (world_open(c, &w, &d) < 0) {
		world_close(&w);
		return fail_usage(a, &d);
	}
	rc = journal_file_create(state_dir(a), a->guest, &jf, &d);
	if (rc < 0) {
		world_close(&w);
		return fail_error(a,
				  rc == -EBUSY && strstr(d.msg, "recover") ? VFM_EXIT_NEEDS_RECOVER
									   : VFM_EXIT_ERROR,
				  &d);
	}
	journal_file_ops(jf, &jops);
	w.env.journal = &jops;
	if (!a->json)
		printf("migrating %s to %s%s\n", a->guest, p.migrate.uri,
		       p.has_vf ? "" : " (no VF configured: plain live migration)");
	plan_run(&p, &w.env, &r);
	code = vfm_exit_from_outcome(r.outcome);
	cli_out_report(&w.out, "migrate", a->guest, &r, code);
	journal_file_close(jf);
	world_close(&w);
	return code;
}

static int cmd_recover(const struct args *a, const struct config *c)
{
	struct journal_record *recs = NULL;
	struct journal_file *jf = NULL;
	struct journal_ops jops;
	struct world w = {0};
	struct plan_report r;
	struct plan p;
	struct diag d = {0};
	enum vfm_exit code;
	size_t n;
	int rc;

	if (config_to_plan(a, c, &p, false, &d) < 0)
		return fail_usage(a, &d);
	w.out = (struct cli_out){.json = a->json, .f = stdout, .t0 = time_now_ms()};
	if (world_open(c, &w, &d) < 0) {
		world_close(&w);
		return fail_usage(a, &d);
	}
	/* Open first: it takes the lock and cuts a torn tail; then read what it holds. */
	rc = journal_file_open(state_dir(a), a->guest, &jf, &d);
	if (rc >= 0)
		rc = journal_file_load(state_dir(a), a->guest, &recs, &n, NULL, &d);
	if (rc < 0) {
		journal_file_close(jf);
		world_close(&w);
		return fail_error(a, VFM_EXIT_ERROR, &d);
	}
	journal_file_ops(jf, &jops);
	w.env.journal = &jops;
	plan_recover(&p, &w.env, recs, n, &r);
	code = vfm_exit_from_outcome(r.outcome);
	cli_out_report(&w.out, "recover", a->guest, &r, code);
	free(recs);
	journal_file_close(jf);
	world_close(&w);
	return code;
}

static int cmd_status(const struct args *a, const struct config *c)
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
	const char *state;
	json_t *o;

	rc = journal_file_load(state_dir(a), a->guest, &recs, &n, &torn, &d);
	if (rc < 0 && rc != -ENOENT)
		return fail_error(a, VFM_EXIT_NEEDS_RECOVER, &d);
	if (rc >= 0 && journal_summarize(recs, n, &js, &d) < 0) {
		free(recs);
		return fail_error(a, VFM_EXIT_NEEDS_RECOVER, &d);
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
	if (world_open(c, &w, &d) >= 0 && c->bond[0]) {
		struct side_res *s = on_dst ? &w.dst : &w.src;

		brc = s->ag.bond_status(s->ag.userdata, c->bond, time_now_ms() + 3000, &b, &bd);
		have_bond = brc >= 0;
	}
	if (a->json) {
		json_t *slaves = json_array();
		char m[18], clean[600];

		for (size_t i = 0; have_bond && i < b.n_slaves; i++) {
			str_sanitize(clean, sizeof(clean), b.slaves[i].name);
			json_array_append_new(slaves,
					      json_pack("{s:s,s:s,s:b}", "mac",
							format_mac(b.slaves[i].mac, m), "name",
							clean, "link_up", b.slaves[i].link_up));
		}
		o = json_pack(
		    "{s:s,s:s,s:s,s:b,s:s,s:s,s:i,s:s}", "command", "status", "guest", a->guest,
		    "journal", state, "passed_point_of_no_return", js.passed_ponr,
		    "journal_outcome", js.finished ? js.outcome : "", "last_step",
		    rc >= 0 && js.last_kind != JOURNAL_BEGIN ? step_to_string(js.last_step) : "",
		    "exit_code", (int)code, "side", on_dst ? "destination" : "source");
		if (have_bond) {
			str_sanitize(clean, sizeof(clean), b.mode);
			json_object_set_new(
			    o, "bond",
			    json_pack("{s:s,s:s,s:o,s:o}", "name", c->bond, "mode", clean, "active",
				      b.has_active ? json_string(format_mac(b.active_mac, m))
						   : json_null(),
				      "slaves", slaves));
		} else {
			str_sanitize(clean, sizeof(clean), bd.msg[0] ? bd.msg : d.msg);
			json_decref(slaves);
			json_object_set_new(o, "bond", json_null());
			json_object_set_new(o, "bond_error", json_string(clean));
		}
		char *s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

		if (s)
			printf("%s\n", s);
		free(s);
		json_decref(o);
	} else {
		char m[18], clean[600];

		printf("%s: journal %s", a->guest, state);
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
			str_sanitize(clean, sizeof(clean), b.mode);
			printf("%s: bond %s (%s) on the %s, active %s\n", a->guest, c->bond, clean,
			       on_dst ? "destination" : "source",
			       b.has_active ? format_mac(b.active_mac, m) : "none");
			for (size_t i = 0; i < b.n_slaves; i++) {
				str_sanitize(clean, sizeof(clean), b.slaves[i].name);
				printf("  slave %s %s link %s\n", format_mac(b.slaves[i].mac, m),
				       clean, b.slaves[i].link_up ? "up" : "down");
			}
		} else if (c->bond[0]) {
			str_sanitize(clean, sizeof(clean), bd.msg[0] ? bd.msg : d.msg);
			printf("%s: bond %s: unavailable (%s)\n", a->guest, c->bond, clean);
		}
	}
	world_close(&w);
	return code;
}

struct command {
	const char *name;
	int (*fn)(const struct args *a, const struct config *c);
};

static const struct command commands[] = {
    {"migrate", cmd_migrate}, {"check", cmd_check},   {"status", cmd_status},
    {"recover", cmd_recover}, {"config", cmd_config},
};

int main(int argc, char **argv)
{
	struct args a = {0};
	struct config c;
	struct diag d = {0};
	const struct command *cmd = NULL;

	signal(SIGPIPE, SIG_IGN);
	if (parse_args(argc, argv, &a) < 0)
		return VFM_EXIT_USAGE;
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (!strcmp(commands[i].name, a.command))
			cmd = &commands[i];
	if (!cmd) {
		char clean[64];

		str_sanitize(clean, sizeof(clean), a.command);
		fprintf(stderr, "vfmigrate: unknown command \"%s\"\n", clean);
		usage(stderr);
		return VFM_EXIT_USAGE;
	}
	if (!journal_guest_name_valid(a.guest)) {
		diag_set(&d, "invalid guest name (allowed: letters, digits, '_', '.', '-')");
		return fail_usage(&a, &d);
	}
	if (load_config(&a, &c, &d) < 0)
		return fail_usage(&a, &d);
	return cmd->fn(&a, &c);
}
