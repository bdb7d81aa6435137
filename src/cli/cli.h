/* SPDX-License-Identifier: MIT */
/* The vfmigrate command: exit codes and report output shared by the subcommands. */
#ifndef VFM_CLI_H
#define VFM_CLI_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "core/plan.h"

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

#endif
