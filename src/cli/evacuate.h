/* SPDX-License-Identifier: MIT */
/*
 * vfmigrate evacuate: evacuate.c makes the plan (every guest's pre-flight, the free VFs of
 * every destination, core/evac's placement), evac_run.c runs the migrations (one child
 * `vfmigrate migrate` per guest, at most --parallel at once), evac_out.c prints the plan,
 * the progress and the summary.
 */
#ifndef VFM_CLI_EVACUATE_H
#define VFM_CLI_EVACUATE_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

#include "cli.h"
#include "core/evac.h"
#include "progress.h"

enum evac_state {
	EVAC_WAITING = 0, /* planned, not started yet */
	EVAC_RUNNING,
	EVAC_DONE,
	EVAC_NOT_STARTED, /* the evacuation stopped (SIGINT) before it started */
	_EVAC_STATE_MAX,
};

/* One guest of the evacuation: its plan, then its run. */
struct evac_row {
	char guest[VFM_ID_MAX];
	const char *config_path;    /* NULL: the default (or libvirt metadata) */
	char dest[VFM_URI_MAX];	    /* the planned destination's name */
	char dest_arg[VFM_URI_MAX]; /* DEST for its migrate ("" for qmp: the config's) */
	const char *probe_addr;	    /* --probe: vfprobe to this address while it runs */
	/* Pre-flight: failed before the checks (config, open) with this text, or the report. */
	bool setup_failed;
	char setup_error[256];
	struct plan_report check;
	/* The run. */
	enum evac_state state;
	pid_t pid;
	/* Reaped (its exit status in exit_status) at reaped_at, while a pipe may still be open:
	 * something it started may hold its stdout or stderr (drained for CHILD_DRAIN_MS). */
	bool reaped;
	int exit_status;
	int64_t reaped_at;
	int fd_progress, fd_report, fd_err;
	char *report; /* the child's JSON report, as read */
	size_t report_len;
	char linebuf[PROGRESS_LINE_MAX + 2];
	size_t line_len;
	char err_tail[256]; /* the last line the child wrote on stderr */
	size_t err_len;
	char now[64]; /* what it does now, for the progress line */
	int64_t t_start, t_end;
	pid_t probe_pid;
	bool probe_stopping; /* SIGINT sent (once: a second one ends vfprobe without a report) */
	int fd_probe;
	char *probe_out;
	size_t probe_len;
	/* The end. */
	int exit_code;
	char outcome[32];
	int64_t without_vf_ms; /* -1: unknown, the VF never left */
	int64_t loss_ms;       /* longest loss window; -1: not probed */
	char error[256];
	/* From its report, for where the time went: each step's run time (-1: unknown), the
	 * migration's total time and bytes sent (-1: none). */
	int64_t step_ms[_STEP_MAX];
	int64_t mig_ms, mig_downtime_ms, mig_bytes;
};

struct evac_opts {
	unsigned parallel;
	bool dry_run;
	bool all; /* libvirt: every running domain of the source with vfmigrate's metadata */
	const char *to[EVAC_DESTS_MAX];
	size_t n_to;
	const char *vfprobe;
	const char *probes[EVAC_GUESTS_MAX]; /* GUEST=ADDR */
	size_t n_probes;
};

/* The rank of an exit code: the worst per-guest one is the evacuation's. */
int evac_exit_worse(int a, int b);

/* evac_out.c */
void evac_out_plan(FILE *f, bool json, bool dry_run, const struct evac_row *rows, size_t n,
		   const struct evac_guest *guests, const struct evac_dest *dests, size_t nd,
		   const struct evac_plan *pl, int exit_code);
/* Text: one line per guest; on a terminal the block is redrawn in place (drawn: how many
 * lines the last call drew, 0 at first). */
void evac_out_progress(FILE *f, bool tty, const struct evac_row *rows, size_t n, int64_t t0,
		       size_t *drawn);
/* Plain (not a terminal): one line for one event of one guest. */
void evac_out_event(FILE *f, const struct evac_row *row, int64_t t0, const char *what);
/* plan_ms: the plan's time (every guest's pre-flight, before anything moved). */
void evac_out_summary(FILE *f, bool json, const struct evac_row *rows, size_t n, int64_t plan_ms,
		      int64_t total_ms, int exit_code);

/* evac_run.c: runs the placed guests; the worst exit code. */
int evac_run(const struct cli_args *a, const struct evac_opts *o, struct evac_row *rows, size_t n,
	     int64_t t0);

#endif
