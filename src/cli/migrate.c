// SPDX-License-Identifier: MIT
/* vfmigrate migrate: the run, with its journal and the operator's interrupt. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "cli.h"
#include "io/journal_file.h"
#include "progress.h"

enum {
	OPT_PROGRESS_FD = CLI_OPT_COMMAND + 32,
};

static const struct option migrate_options[] = {
    {"progress-fd", required_argument, NULL, OPT_PROGRESS_FD},
    {NULL, 0, NULL, 0},
};

/* --progress-fd: the plan's events as JSON lines (progress.h) for a program that runs us. */
static int progress_fd = -1;
static int64_t progress_t0;

static int migrate_option(int opt, const char *arg)
{
	char *end;
	long v;

	if (opt != OPT_PROGRESS_FD)
		return 1;
	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno || *end || end == arg || v < 0 || v > 1023) {
		fprintf(stderr, "vfmigrate: --progress-fd: not a descriptor number\n");
		return -EINVAL;
	}
	progress_fd = (int)v;
	return 0;
}

static void progress_write(const struct plan_event *ev)
{
	char line[PROGRESS_LINE_MAX + 2];
	int n = progress_line_format(ev, time_now_ms() - progress_t0, line, sizeof(line));

	/* A reader that went away costs us nothing: EPIPE is ignored (SIGPIPE too). */
	if (n > 0 && write(progress_fd, line, (size_t)n) < 0)
		progress_fd = -1;
}

/*
 * SIGINT/SIGTERM during `migrate`. The first one sets a flag the core polls (through
 * env.interrupted): before the switchover it rolls back, after it the run finishes on the
 * destination. The handler says at once which of the two will happen. A second one exits at
 * once with "needs recover": every step is journaled before its effect, so `recover` can
 * finish from wherever this stops. Installed without SA_RESTART; the clients' polls restart
 * anyway, so a wait notices the flag within its slice.
 */
static volatile sig_atomic_t sig_first;	 /* the first signal's number, 0: none */
static volatile sig_atomic_t sig_on_dst; /* the guest runs on the destination now */
static char sig_again_msg[200];
static size_t sig_again_len;

static void sig_write(const char *s, size_t n)
{
	ssize_t r = write(STDERR_FILENO, s, n);

	(void)r;
}

#define SIG_WRITE(lit) sig_write(lit, sizeof(lit) - 1)

static void on_interrupt(int sig)
{
	int saved = errno;

	if (sig_first) {
		sig_write(sig_again_msg, sig_again_len);
		_exit(VFM_EXIT_NEEDS_RECOVER);
	}
	sig_first = sig;
	SIG_WRITE("\nvfmigrate: interrupted by ");
	if (sig == SIGTERM)
		SIG_WRITE("SIGTERM");
	else
		SIG_WRITE("SIGINT");
	if (sig_on_dst)
		SIG_WRITE(": the guest already runs on the destination; finishing on the "
			  "destination...\n");
	else
		SIG_WRITE(": rolling back... (again: exit at once, leaving the rest to "
			  "'vfmigrate recover')\n");
	errno = saved;
}

static const char *migrate_interrupted(void *ud)
{
	(void)ud;
	switch (sig_first) {
	case 0:
		return NULL;
	case SIGTERM:
		return "SIGTERM";
	default:
		return "SIGINT";
	}
}

/* Tracks where the guest runs, for the handler's message; then prints as usual. */
static void migrate_event(void *ud, const struct plan_event *ev)
{
	if (ev->kind == PLAN_EV_SWITCHED || ev->kind == PLAN_EV_PONR)
		sig_on_dst = 1;
	else if (ev->kind == PLAN_EV_STEP_END && ev->step == STEP_MIGRATE && ev->rc < 0)
		sig_on_dst = 0; /* arrived dead: the source resumed */
	if (progress_fd >= 0)
		progress_write(ev);
	cli_out_event(ud, ev);
}

static void interrupt_handlers(const char *guest, bool install)
{
	struct sigaction sa = {0};

	if (install) {
		int n = snprintf(sig_again_msg, sizeof(sig_again_msg),
				 "vfmigrate: interrupted again: exiting now; run 'vfmigrate "
				 "recover %s'\n",
				 guest);

		sig_again_len = n > 0 && (size_t)n < sizeof(sig_again_msg) ? (size_t)n : 0;
		sig_first = 0;
		sig_on_dst = 0;
		sa.sa_handler = on_interrupt;
		sigemptyset(&sa.sa_mask);
		sigaddset(&sa.sa_mask, SIGINT);
		sigaddset(&sa.sa_mask, SIGTERM);
		sa.sa_flags = 0; /* no SA_RESTART */
	} else {
		sa.sa_handler = SIG_DFL;
		sigemptyset(&sa.sa_mask);
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

static int migrate_run(const struct cli_args *a, const struct config *c)
{
	struct journal_file *jf = NULL;
	struct journal_ops jops;
	struct world w = {0};
	struct plan_report r;
	struct plan p;
	struct diag d = {0};
	enum vfm_exit code;
	bool usage;
	int rc;

	w.out = (struct cli_out){.json = a->json, .f = stdout, .t0 = time_now_ms()};
	progress_t0 = w.out.t0;
	rc = world_prepare(a, c, &p, &w, true, &usage, &d);
	if (rc < 0) {
		world_close(&w);
		return usage ? cli_fail_usage(a, &d)
			     : cli_fail_error(a, VFM_EXIT_ERROR, vfm_error_from_errno(rc), &d);
	}
	rc = journal_file_create(cli_state_dir(a), a->guest, &jf, &d);
	if (rc < 0) {
		world_close(&w);
		return cli_fail_journal(a, rc, &d);
	}
	journal_file_ops(jf, &jops);
	w.env.journal = &jops;
	if (!a->json)
		printf("migrating %s to %s%s\n", a->guest, p.dest,
		       p.n_vfs ? "" : " (no VF configured: plain live migration)");
	w.env.interrupted = migrate_interrupted;
	w.env.event = migrate_event;
	interrupt_handlers(a->guest, true);
	plan_run(&p, &w.env, &r);
	/* The journal is finished or left for recover: a signal from here just ends us. */
	interrupt_handlers(a->guest, false);
	code = vfm_exit_from_outcome(r.outcome);
	world_note_agents(&w);
	cli_out_report(&w.out, "migrate", a->guest, &r, code);
	journal_file_close(jf);
	world_close(&w);
	return code;
}

const struct command cmd_migrate = {.name = "migrate",
				    .takes_dest = true,
				    .options = migrate_options,
				    .option = migrate_option,
				    .run = migrate_run};
