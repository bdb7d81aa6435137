/* SPDX-License-Identifier: MIT */
/*
 * The vfmigrate command, a composition root: main.c holds the subcommand table, each
 * subcommand its own file (migrate.c, check.c, status.c, recover.c, config.c, setup.c),
 * options.c the common options and the config, backend.c the backends (qmp, libvirt) that
 * open the ops of both sides, output.c the printing.
 */
#ifndef VFM_CLI_H
#define VFM_CLI_H

#include <getopt.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "core/plan.h"
#include "proto/config.h"

/* Documented in vfmigrate(8); scripts rely on them. */
enum vfm_exit {
	VFM_EXIT_OK = 0,	  /* migrated with its VF (or no VF configured); check passed */
	VFM_EXIT_ERROR = 1,	  /* could not run (I/O error, another vfmigrate holds the guest) */
	VFM_EXIT_USAGE = 2,	  /* usage or config error; nothing was done */
	VFM_EXIT_REFUSED = 3,	  /* refused by pre-flight; nothing changed */
	VFM_EXIT_ROLLED_BACK = 4, /* failed and rolled back: on the source with its VF */
	VFM_EXIT_DEGRADED = 5,	  /* migrated, networked through the backup, without a VF */
	VFM_EXIT_NEEDS_RECOVER = 6, /* state unknown or journal unfinished: run recover */
	_VFM_EXIT_MAX,
};

const char *vfm_exit_to_string(enum vfm_exit e);

/* Why a command could not run at all (--json "code" of an error without a report); stable,
 * documented in vfmigrate(8). A report's error carries the plan's code instead. */
enum vfm_error {
	VFM_ERR_FAILED = 0,	    /* anything else: the message says what */
	VFM_ERR_USAGE,		    /* usage or config error */
	VFM_ERR_JOURNAL_UNFINISHED, /* an unfinished journal: run recover */
	VFM_ERR_BUSY,		    /* another vfmigrate works on the guest */
	VFM_ERR_JOURNAL,	    /* the journal could not be read or written */
	VFM_ERR_TIMEOUT,	    /* a peer did not answer within its deadline */
	VFM_ERR_PEER_GONE,	    /* a peer hung up or is not there */
	_VFM_ERR_MAX,
};

/* Prints o (json_dumps flags) and a newline, invisible format and bidi characters escaped
 * (\\uXXXX): peer text in it went through str_sanitize_keep_format. */
void cli_json_print(FILE *f, const json_t *o, size_t flags);

const char *vfm_error_to_string(enum vfm_error e);
enum vfm_error vfm_error_from_errno(int rc);
enum vfm_exit vfm_exit_from_outcome(enum plan_outcome o);

/* Printing of events as they come and of the final report (text or JSON). */
struct cli_out {
	bool json;
	FILE *f;
	int64_t t0;
	int64_t last_progress;
	char notes[8][512];
	size_t n_notes;
	/* How the guest agent was reached on each side ("socket", "channel", "qemu-ga"; NULL:
	 * not used), for the report. */
	const char *agent_src, *agent_dst;
};

void cli_out_event(void *userdata, const struct plan_event *ev);
void cli_out_report(struct cli_out *o, const char *command, const char *guest,
		    const struct plan_report *r, enum vfm_exit code);
/* Text: pre-flight's problems, one line each, "vfmigrate: PREFIX: text". */
void cli_out_problems(FILE *f, const char *prefix, const struct plan_report *r);
/* Text: one line naming how the guest agent was reached on each side (nothing when on
 * neither). */
void cli_out_agents(struct cli_out *o);

/* ------------------------------------------------------------------------------------------ */
/* The command line (options.c).                                                              */

/* The options every subcommand takes: the config and its shorthands, the backend's. */
struct cli_args {
	const char *command;
	const char *guest;
	const char *dest;
	/* A command that takes a list (evacuate): its arguments after COMMAND. */
	const char *const *guests;
	size_t n_guests;
	const char *config_path;
	const char *connect_uri; /* libvirt: the source URI */
	const char *migrate_uri; /* libvirt: the migration (data) URI */
	const char *src_path_map, *dst_path_map;
	const char *state_dir;
	const char *backend;
	bool json;
	bool create_bond;
	const char *fail_over_mac;
	const char *mode; /* --mode: guest.mode */
	const char *unplug_timeout;
	const char *max_bandwidth;
	const char *downtime_limit;
	const char *overrides[32];
	size_t n_overrides;
};

/* One subcommand. Its own options (besides the common ones) have getopt values from
 * CLI_OPT_COMMAND on, distinct across the commands. */
struct command {
	const char *name;
	bool takes_dest;	      /* COMMAND GUEST [DEST] (else COMMAND GUEST) */
	bool takes_list;	      /* COMMAND ARG...: run gets them in guests, no config */
	const struct option *options; /* NULL-terminated; NULL: none */
	/* One of its options: 0; 1: not one of its own; -errno after saying why on stderr. */
	int (*option)(int opt, const char *arg);
	/* Returns the exit code. c is NULL for a command that takes a list. */
	int (*run)(const struct cli_args *a, const struct config *c);
};

extern const struct command cmd_migrate, cmd_check, cmd_status, cmd_recover, cmd_config, cmd_setup,
    cmd_evacuate;

#define CLI_SHORT_OPTIONS "c:f:o:s:b:jhV"
#define CLI_OPT_COMMAND	  512
extern const struct option cli_common_options[]; /* NULL-terminated */
/* One common option into a: 0; 1: not a common one; -errno after saying why on stderr.
 * --help and --version print and exit. */
int cli_common_option(struct cli_args *a, int opt, const char *arg);
void cli_usage(FILE *f);
const char *cli_state_dir(const struct cli_args *a);
/* The config file, then --set, then the options that are shorthands for config keys. */
int cli_load_config(const struct cli_args *a, struct config *c, struct diag *d);

/* A failure before any report, on stderr and (--json) as a JSON error; return the exit code. */
int cli_fail_usage(const struct cli_args *a, const struct diag *d);
int cli_fail_error(const struct cli_args *a, enum vfm_exit exit, enum vfm_error code,
		   const struct diag *d);
/* A journal that could not be created or opened, by its errno. */
int cli_fail_journal(const struct cli_args *a, int rc, const struct diag *d);

/* ------------------------------------------------------------------------------------------ */
/* The backends (backend.c and one file each).                                                */

/* The ops of one host side; res is the backend's, for its close_side. */
struct side {
	struct hv_ops hv;
	struct agent_ops ag;
	struct vfpool_ops vp;
	void *res;
};

struct backend;

/* Everything one run works with. */
struct world {
	const struct backend *be; /* NULL until opened */
	struct side src, dst;
	struct plan_env env;
	struct cli_out out;
};

/* One VF's options: --vf-alias starts the next VF, the options after it are its own. */
struct setup_vf_args {
	const char *bond, *vf_alias, *vf_mac, *backup_mac, *vlan, *physnet;
	const char *vf_sources[8];
	size_t n_vf_sources;
};

struct setup_args {
	size_t n;
	struct setup_vf_args vfs[VFM_VFS_MAX];
};

struct backend {
	const char *name;
	/* DEST names the destination host, and a journal records it (recover, status). */
	bool dest_is_host;
	/* The plan and both sides (w->src, w->dst, w->env.src/dst). need_dest: DEST must be
	 * given. */
	int (*prepare)(const struct cli_args *a, const struct config *c, struct plan *p,
		       struct world *w, bool need_dest, struct diag *d);
	/* Whether a failure of prepare is a usage or config error. */
	bool (*usage_error)(int rc);
	/* status: both sides, and the guest's bonds, one per VF or shared (*ret_n 0: none known);
	 * ret_vf_macs the VFs' MACs (*ret_n_macs 0: no VF, or their MACs unknown), what a
	 * failover guest's net_failover is read by. */
	int (*open_status)(const struct cli_args *a, const struct config *c, struct world *w,
			   char ret_bonds[VFM_VFS_MAX][VFM_IFNAME_MAX], size_t *ret_n,
			   uint8_t ret_vf_macs[VFM_VFS_MAX][6], size_t *ret_n_macs, struct diag *d);
	void (*close_side)(struct side *s);
	/* How the side's guest agent was reached; NULL: not used (yet). */
	const char *(*agent_transport)(const struct side *s);
	/* setup: writes vfmigrate's metadata into the domain; *ret_xml what was written. NULL:
	 * the backend has no setup. */
	int (*setup)(const struct cli_args *a, const struct setup_args *s, char **ret_xml,
		     struct diag *d);
	/* evacuate: the running guests of the source (-c URI) that carry vfmigrate's metadata.
	 * NULL: the backend cannot list them. */
	int (*list_guests)(const struct cli_args *a, char (*ret)[VFM_ID_MAX], size_t max,
			   size_t *ret_n, struct diag *d);
};

extern const struct backend backend_qmp;
extern const struct backend backend_libvirt;

/* The backend a and c ask for (-c: libvirt, else guest.backend); NULL and d when there is no
 * such backend (or it is not built in). */
const struct backend *backend_find(const struct cli_args *a, const struct config *c,
				   struct diag *d);
/* Whether DEST names the destination host (libvirt), which a journal records, rather than a
 * migration URI (qmp). */
bool backend_dest_is_host(const struct cli_args *a, const struct config *c);
/* The backend by its name; NULL when not built in. */
const struct backend *backend_named(const char *name);
/* The plan and the two sides, for the backend asked for. *ret_usage: a failure is a usage
 * error. */
int world_prepare(const struct cli_args *a, const struct config *c, struct plan *p, struct world *w,
		  bool need_dest, bool *ret_usage, struct diag *d);
/* The clock and the printer's events into w->env, and both sides' ops. */
void world_env(struct world *w);
/* The agent transports used, into the report. */
void world_note_agents(struct world *w);
void world_close(struct world *w);
/* Whether a libvirt URI read from a journal may be opened without the operator naming it. */
bool journal_uri_safe(const char *uri);
/* Migration parameters and timeouts from the config (0 = built-in default). */
void plan_apply_limits(const struct config *c, struct plan *p);
/* guest.mode (--mode) into p->mode; -EINVAL with d for another word. */
int plan_apply_mode(const struct config *c, struct plan *p, struct diag *d);

#endif
