// SPDX-License-Identifier: MIT
/* The options every subcommand takes, the config they make, and the failures before a run. */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "io/journal_file.h"
#include "util/file.h"

#define CONFIG_DIR_DEFAULT "/etc/vfmigrate"

enum {
	OPT_CREATE_BOND = 256,
	OPT_FAIL_OVER_MAC,
	OPT_UNPLUG_TIMEOUT,
	OPT_MAX_BANDWIDTH,
	OPT_DOWNTIME_LIMIT,
	OPT_MIGRATE_URI,
	OPT_SRC_MAP,
	OPT_DST_MAP,
	OPT_MODE,
};

const struct option cli_common_options[] = {
    {"connect", required_argument, NULL, 'c'},
    {"config", required_argument, NULL, 'f'},
    {"migrate-uri", required_argument, NULL, OPT_MIGRATE_URI},
    {"src-path-map", required_argument, NULL, OPT_SRC_MAP},
    {"dst-path-map", required_argument, NULL, OPT_DST_MAP},
    {"set", required_argument, NULL, 'o'},
    {"state-dir", required_argument, NULL, 's'},
    {"backend", required_argument, NULL, 'b'},
    {"json", no_argument, NULL, 'j'},
    {"create-bond", no_argument, NULL, OPT_CREATE_BOND},
    {"fail-over-mac", required_argument, NULL, OPT_FAIL_OVER_MAC},
    {"mode", required_argument, NULL, OPT_MODE},
    {"unplug-timeout", required_argument, NULL, OPT_UNPLUG_TIMEOUT},
    {"max-bandwidth", required_argument, NULL, OPT_MAX_BANDWIDTH},
    {"downtime-limit", required_argument, NULL, OPT_DOWNTIME_LIMIT},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

const char *cli_state_dir(const struct cli_args *a)
{
	return a->state_dir ? a->state_dir : VFM_STATE_DIR_DEFAULT;
}

void cli_usage(FILE *f)
{
	fputs("usage: vfmigrate [OPTIONS] COMMAND GUEST [DEST]\n"
	      "\n"
	      "commands:\n"
	      "  migrate GUEST [DEST]  live-migrate GUEST (DEST: qmp: destination migration URI;\n"
	      "                        libvirt: destination libvirt URI)\n"
	      "  check GUEST [DEST]    pre-flight only; changes nothing\n"
	      "  status GUEST [DEST]   journal state (with its destination) and live bond status\n"
	      "  recover GUEST [DEST]  finish or undo an interrupted run from its journal\n"
	      "                        (libvirt: DEST defaults to the one the journal records)\n"
	      "  config GUEST          print the effective configuration\n"
	      "  setup DOMAIN          libvirt: write vfmigrate's metadata into the domain\n"
	      "\n"
	      "options:\n"
	      "  -c, --connect URI         source libvirt URI (selects the libvirt backend)\n"
	      "  -f, --config FILE         guest config (default /etc/vfmigrate/GUEST.conf;\n"
	      "                            optional with libvirt)\n"
	      "  -o, --set SEC.KEY=VALUE   override one config key (repeatable)\n"
	      "  -s, --state-dir DIR       journal directory (default /var/lib/vfmigrate)\n"
	      "  -b, --backend NAME        hypervisor backend (qmp, libvirt)\n"
	      "      --migrate-uri URI     libvirt: migration data URI (e.g. tcp://10.0.0.2)\n"
	      "      --src-path-map /FROM=/TO, --dst-path-map /FROM=/TO\n"
	      "                            libvirt: the daemon's path FROM is visible here as TO\n"
	      "setup options: --bond NAME --vf-alias ALIAS [--vf-mac MAC] [--backup-mac MAC]\n"
	      "               [--vf-source SOURCE]... [--vlan ID] [--physnet NAME]\n"
	      "  -j, --json                print one JSON report instead of progress text\n"
	      "      --create-bond         create the guest's bond when it does not exist\n"
	      "      --fail-over-mac MODE  the bond --create-bond builds: active (default),\n"
	      "                            none or follow\n"
	      "      --mode MODE           auto (default: what pre-flight finds), bond or\n"
	      "                            failover (QEMU failover=on / failover_pair_id)\n"
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

int cli_common_option(struct cli_args *a, int opt, const char *arg)
{
	switch (opt) {
	case 'c':
		a->connect_uri = arg;
		break;
	case 'f':
		a->config_path = arg;
		break;
	case OPT_MIGRATE_URI:
		a->migrate_uri = arg;
		break;
	case OPT_SRC_MAP:
		a->src_path_map = arg;
		break;
	case OPT_DST_MAP:
		a->dst_path_map = arg;
		break;
	case 'o':
		if (a->n_overrides == ARRAY_SIZE(a->overrides)) {
			fprintf(stderr, "vfmigrate: too many --set options\n");
			return -EINVAL;
		}
		a->overrides[a->n_overrides++] = arg;
		break;
	case 's':
		a->state_dir = arg;
		break;
	case 'b':
		a->backend = arg;
		break;
	case 'j':
		a->json = true;
		break;
	case OPT_CREATE_BOND:
		a->create_bond = true;
		break;
	case OPT_FAIL_OVER_MAC:
		a->fail_over_mac = arg;
		break;
	case OPT_MODE:
		a->mode = arg;
		break;
	case OPT_UNPLUG_TIMEOUT:
		a->unplug_timeout = arg;
		break;
	case OPT_MAX_BANDWIDTH:
		a->max_bandwidth = arg;
		break;
	case OPT_DOWNTIME_LIMIT:
		a->downtime_limit = arg;
		break;
	case 'h':
		cli_usage(stdout);
		exit(VFM_EXIT_OK);
	case 'V':
		printf("vfmigrate %s\n", VFM_VERSION);
		exit(VFM_EXIT_OK);
	default:
		return 1;
	}
	return 0;
}

int cli_load_config(const struct cli_args *a, struct config *c, struct diag *d)
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
	r = file_read_alloc(path, 0, CONFIG_FILE_MAX, &buf, &len, d);
	if (r == -ENOENT && !a->config_path &&
	    (a->n_overrides > 0 || a->connect_uri ||
	     (a->backend && strcmp(a->backend, "libvirt") == 0)))
		r = 0; /* everything from --set, or libvirt (the domain's metadata) */
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
	/* Options that are shorthands for config keys. */
	const struct {
		const char *value, *key, *option;
	} shorthands[] = {
	    {a->backend, "guest.backend", "--backend"},
	    {a->fail_over_mac, "guest.fail-over-mac", "--fail-over-mac"},
	    {a->mode, "guest.mode", "--mode"},
	    {a->unplug_timeout, "timeouts.unplug", "--unplug-timeout"},
	    {a->downtime_limit, "migration.downtime-limit", "--downtime-limit"},
	    {a->max_bandwidth, "migration.max-bandwidth", "--max-bandwidth"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(shorthands); i++) {
		char s[CONFIG_LINE_MAX];

		if (!shorthands[i].value)
			continue;
		if ((size_t)snprintf(s, sizeof(s), "%s=%s", shorthands[i].key,
				     shorthands[i].value) >= sizeof(s)) {
			diag_set(d, "%s: value too long", shorthands[i].option);
			return -EINVAL;
		}
		if ((r = config_set(c, s, d)) < 0) {
			diag_prefix(d, "%s", shorthands[i].option);
			return r;
		}
	}
	if (a->dest && strcmp(c->backend, "libvirt") != 0 && !a->connect_uri) {
		if (strlen(a->dest) >= sizeof(c->dst.migrate_uri)) {
			diag_set(d, "DEST is too long");
			return -EINVAL;
		}
		snprintf(c->dst.migrate_uri, sizeof(c->dst.migrate_uri), "%s", a->dest);
	}
	return 0;
}

static void print_json_error(const struct cli_args *a, enum vfm_exit exit, const char *code,
			     const char *msg)
{
	json_t *o = json_pack("{s:s,s:s,s:i,s:s,s:s,s:s}", "command", a->command, "guest",
			      a->guest ? a->guest : "", "exit_code", (int)exit, "exit",
			      vfm_exit_to_string(exit), "code", code, "message", msg);

	/* A usage error has always said so as its outcome too. */
	if (o && exit == VFM_EXIT_USAGE)
		json_object_set_new(o, "outcome", json_string("usage"));
	cli_json_print(stdout, o, JSON_INDENT(2));
	json_decref(o);
}

int cli_fail_usage(const struct cli_args *a, const struct diag *d)
{
	char clean[600];

	if (a->json) {
		str_sanitize_keep_format(clean, sizeof(clean), d->msg);
		print_json_error(a, VFM_EXIT_USAGE, vfm_error_to_string(VFM_ERR_USAGE), clean);
	}
	str_sanitize(clean, sizeof(clean), d->msg);
	fprintf(stderr, "vfmigrate: %s\n", clean);
	return VFM_EXIT_USAGE;
}

int cli_fail_error(const struct cli_args *a, enum vfm_exit exit, enum vfm_error code,
		   const struct diag *d)
{
	char clean[600];

	if (a->json) {
		str_sanitize_keep_format(clean, sizeof(clean), d->msg);
		print_json_error(a, exit, vfm_error_to_string(code), clean);
	}
	str_sanitize(clean, sizeof(clean), d->msg);
	fprintf(stderr, "vfmigrate: %s\n", clean);
	return exit;
}

int cli_fail_journal(const struct cli_args *a, int rc, const struct diag *d)
{
	switch (rc) {
	case -EEXIST:
		return cli_fail_error(a, VFM_EXIT_NEEDS_RECOVER, VFM_ERR_JOURNAL_UNFINISHED, d);
	case -EBUSY:
		return cli_fail_error(a, VFM_EXIT_ERROR, VFM_ERR_BUSY, d);
	default:
		return cli_fail_error(a, VFM_EXIT_ERROR, VFM_ERR_JOURNAL, d);
	}
}
