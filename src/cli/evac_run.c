// SPDX-License-Identifier: MIT
/*
 * evacuate's runs. Each guest migrates in a child process that is this same program running
 * `migrate --json --progress-fd 3 GUEST` (/proc/self/exe): the migration path, its journal,
 * its rollback and its interrupt handling are the ones `migrate` has, and a crash or a hang
 * of one guest's run cannot take the others (or this process) down. The child's progress
 * comes as JSON lines on a pipe (fd 3), its report on its stdout, its last stderr line is
 * kept; all three are read with limits and parsed strictly. Children run in their own process
 * group, so a terminal's ^C reaches this process only: the first SIGINT/SIGTERM stops
 * starting guests and lets the running ones end as they would (migrated, or rolled back on a
 * failure); the second passes SIGINT to the running ones (each rolls back, or finishes on the
 * destination after its switchover); after that a child's own second signal leaves it to
 * recover.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "evacuate.h"

#define REPORT_MAX   (1u << 20) /* a child's JSON report */
#define PROBE_MAX    (1u << 20) /* vfprobe's JSON report */
#define ARGV_MAX     128
#define PROBE_LINGER 1000 /* ms a probe goes on after its guest's run ended */
/* ms a reaped child's pipes are still read: something it started may hold them open */
#define CHILD_DRAIN_MS 2000

static volatile sig_atomic_t n_signals;
/* Where plain progress lines go: stdout, or stderr beside --json's one object. */
static FILE *events_out;

static void on_signal(int sig)
{
	(void)sig;
	n_signals++;
}

static void handlers(bool install)
{
	struct sigaction sa = {0};

	sa.sa_handler = install ? on_signal : SIG_DFL;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

static size_t argv_add(const char **argv, size_t n, const char *a, const char *b)
{
	if (a && n < ARGV_MAX - 1)
		argv[n++] = a;
	if (a && b && n < ARGV_MAX - 1)
		argv[n++] = b;
	return n;
}

/* The child's command line: the common options as given, this guest's config, migrate. */
static void child_argv(const struct cli_args *a, const struct evac_row *r, const char **argv)
{
	size_t n = argv_add(argv, 0, "vfmigrate", NULL);

	n = argv_add(argv, n, "--state-dir", cli_state_dir(a));
	n = argv_add(argv, n, r->config_path || a->config_path ? "--config" : NULL,
		     r->config_path ? r->config_path : a->config_path);
	for (size_t i = 0; i < a->n_overrides; i++)
		n = argv_add(argv, n, "--set", a->overrides[i]);
	n = argv_add(argv, n, a->backend ? "--backend" : NULL, a->backend);
	n = argv_add(argv, n, a->connect_uri ? "--connect" : NULL, a->connect_uri);
	n = argv_add(argv, n, a->migrate_uri ? "--migrate-uri" : NULL, a->migrate_uri);
	n = argv_add(argv, n, a->src_path_map ? "--src-path-map" : NULL, a->src_path_map);
	n = argv_add(argv, n, a->dst_path_map ? "--dst-path-map" : NULL, a->dst_path_map);
	n = argv_add(argv, n, a->create_bond ? "--create-bond" : NULL, NULL);
	n = argv_add(argv, n, a->fail_over_mac ? "--fail-over-mac" : NULL, a->fail_over_mac);
	n = argv_add(argv, n, a->unplug_timeout ? "--unplug-timeout" : NULL, a->unplug_timeout);
	n = argv_add(argv, n, a->max_bandwidth ? "--max-bandwidth" : NULL, a->max_bandwidth);
	n = argv_add(argv, n, a->downtime_limit ? "--downtime-limit" : NULL, a->downtime_limit);
	n = argv_add(argv, n, a->mode ? "--mode" : NULL, a->mode);
	n = argv_add(argv, n, "migrate", "--json");
	n = argv_add(argv, n, "--progress-fd", "3");
	/* The guest is never an option, whatever its name. */
	n = argv_add(argv, n, "--", r->guest);
	n = argv_add(argv, n, r->dest_arg[0] ? r->dest_arg : NULL, NULL);
	argv[n] = NULL;
}

/* In a child: fds[i] becomes descriptor i (fds[i] < 0: /dev/null); then exec. */
__attribute__((noreturn)) static void child_exec(const int fds[4], const char *path,
						 const char *const *argv, bool use_path)
{
	int high[4];

	setpgid(0, 0);
	for (int i = 0; i < 4; i++) {
		int fd = fds[i] >= 0 ? fds[i] : open("/dev/null", O_RDWR | O_CLOEXEC);

		/* Out of the way of 0-3 first, so no dup2 below clobbers another's source. */
		high[i] = fd >= 0 ? fcntl(fd, F_DUPFD_CLOEXEC, 10) : -1;
	}
	for (int i = 0; i < 4; i++)
		if (high[i] < 0 || dup2(high[i], i) < 0)
			_exit(127);
	if (use_path)
		execvp(path, (char *const *)argv);
	else
		execv(path, (char *const *)argv);
	_exit(127);
}

static int nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	return fl < 0 ? -errno : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

static int pipes(int p[][2], size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (pipe2(p[i], O_CLOEXEC) < 0) {
			int r = -errno;

			while (i--) {
				close(p[i][0]);
				close(p[i][1]);
			}
			return r;
		}
		nonblock(p[i][0]);
	}
	return 0;
}

static int start_child(const struct cli_args *a, struct evac_row *r)
{
	const char *argv[ARGV_MAX];
	int p[3][2], r2;
	pid_t pid;

	child_argv(a, r, argv);
	r2 = pipes(p, 3);
	if (r2 < 0)
		return r2;
	pid = fork();
	if (pid == 0) {
		int fds[4] = {-1, p[1][1], p[2][1], p[0][1]};

		child_exec(fds, "/proc/self/exe", argv, false);
	}
	for (int i = 0; i < 3; i++)
		close(p[i][1]);
	if (pid < 0) {
		r2 = -errno;
		for (int i = 0; i < 3; i++)
			close(p[i][0]);
		return r2;
	}
	r->pid = pid;
	r->fd_progress = p[0][0];
	r->fd_report = p[1][0];
	r->fd_err = p[2][0];
	r->state = EVAC_RUNNING;
	r->t_start = time_now_ms();
	snprintf(r->now, sizeof(r->now), "started");
	return 0;
}

/* vfprobe --json ADDR from here, until PROBE_LINGER after the guest's run. */
static void start_probe(const struct evac_opts *o, struct evac_row *r, const char *dir)
{
	char ready[256];
	const char *argv[] = {"vfprobe", "--json",	"--quiet", "--ready-file",
			      ready,	 r->probe_addr, NULL};
	int p[1][2];
	pid_t pid;

	if (!r->probe_addr ||
	    snprintf(ready, sizeof(ready), "%s/%s.ready", dir, r->guest) >= (int)sizeof(ready))
		return;
	if (pipes(p, 1) < 0)
		return;
	pid = fork();
	if (pid == 0) {
		int fds[4] = {-1, p[0][1], -1, -1};

		child_exec(fds, o->vfprobe ? o->vfprobe : "vfprobe", argv, true);
	}
	close(p[0][1]);
	if (pid < 0) {
		close(p[0][0]);
		return;
	}
	r->probe_pid = pid;
	r->fd_probe = p[0][0];
	/* Measure from the first packet on: wait for it (bounded). */
	for (int i = 0; i < 50 && access(ready, F_OK) < 0; i++)
		usleep(100 * 1000);
	unlink(ready);
}

/* Appends what fd has to *buf (up to max); 0 at EOF, 1 while open, <0 on error. */
static int read_into(int fd, char **buf, size_t *len, size_t max)
{
	char tmp[4096];
	ssize_t n = read(fd, tmp, sizeof(tmp));

	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 1 : -errno;
	if (n == 0)
		return 0;
	if (*len + (size_t)n <= max) {
		char *nb = realloc(*buf, *len + (size_t)n + 1);

		if (!nb)
			return -ENOMEM;
		memcpy(nb + *len, tmp, (size_t)n);
		*len += (size_t)n;
		nb[*len] = '\0';
		*buf = nb;
	}
	return 1;
}

static void on_progress_line(struct evac_row *r, const char *line, size_t len, bool tty, int64_t t0)
{
	struct progress_ev ev;
	char what[sizeof(r->now) + 300];

	if (progress_line_parse(line, len, &ev) < 0)
		return;
	if (!strcmp(ev.event, "step-begin"))
		snprintf(r->now, sizeof(r->now), "%s ...", ev.step);
	else if (!strcmp(ev.event, "step-end"))
		snprintf(r->now, sizeof(r->now), "%s %s", ev.step, ev.rc < 0 ? "FAILED" : "ok");
	else if (!strcmp(ev.event, "undo-begin"))
		snprintf(r->now, sizeof(r->now), "undo %s ...", ev.step);
	else if (!strcmp(ev.event, "undo-end"))
		snprintf(r->now, sizeof(r->now), "undo %s %s", ev.step,
			 ev.rc < 0 ? "FAILED" : "ok");
	else if (!strcmp(ev.event, "switched"))
		snprintf(r->now, sizeof(r->now), "runs on the destination");
	else if (!strcmp(ev.event, "ponr"))
		snprintf(r->now, sizeof(r->now), "past the point of no return");
	else
		return;
	if (tty)
		return;
	if (!strcmp(ev.event, "step-end") || !strcmp(ev.event, "undo-end"))
		snprintf(what, sizeof(what), "%s (%lld ms)%s%s", r->now, (long long)ev.ms,
			 ev.rc < 0 ? ": " : "", ev.rc < 0 ? ev.msg : "");
	else
		snprintf(what, sizeof(what), "%s", r->now);
	evac_out_event(events_out, r, t0, what);
}

static int read_progress(struct evac_row *r, bool tty, int64_t t0)
{
	char tmp[2048];
	ssize_t n = read(r->fd_progress, tmp, sizeof(tmp));

	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 1 : -errno;
	for (ssize_t i = 0; i < n; i++) {
		if (tmp[i] == '\n') {
			on_progress_line(r, r->linebuf, r->line_len, tty, t0);
			r->line_len = 0;
		} else if (r->line_len < sizeof(r->linebuf) - 1) {
			r->linebuf[r->line_len++] = tmp[i];
		} else {
			r->line_len = sizeof(r->linebuf); /* too long: dropped at its newline */
		}
		if (r->line_len == sizeof(r->linebuf))
			r->line_len = sizeof(r->linebuf) - 1;
	}
	return n == 0 ? 0 : 1;
}

/* The last non-empty stderr line, kept for the summary of a run without a report. */
static int read_err(struct evac_row *r)
{
	char tmp[1024];
	ssize_t n = read(r->fd_err, tmp, sizeof(tmp) - 1);
	char *last, *end;

	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 1 : -errno;
	if (n == 0)
		return 0;
	tmp[n] = '\0';
	end = tmp + n;
	while (end > tmp && end[-1] == '\n')
		*--end = '\0';
	last = strrchr(tmp, '\n');
	last = last ? last + 1 : tmp;
	if (*last)
		str_sanitize(r->err_tail, sizeof(r->err_tail), last);
	return 1;
}

static int64_t json_int_or(json_t *o, const char *key, int64_t dflt)
{
	json_t *v = json_object_get(o, key);

	return json_is_integer(v) ? json_integer_value(v) : dflt;
}

/* Step times and migration figures from a child's report. */
static void report_times(struct evac_row *r, json_t *o)
{
	json_t *steps = json_object_get(o, "steps"), *m = json_object_get(o, "migration"), *s;
	size_t i;

	json_array_foreach (steps, i, s) {
		const char *name = json_string_value(json_object_get(s, "name"));
		enum step_id id;

		if (name && step_from_string(name, &id) == 0)
			r->step_ms[id] = json_int_or(s, "ms", -1);
	}
	if (json_is_object(m)) {
		r->mig_ms = json_int_or(m, "total_ms", -1);
		r->mig_downtime_ms = json_int_or(m, "downtime_ms", -1);
		r->mig_bytes = json_int_or(m, "transferred_bytes", -1);
	}
}

static void json_str(json_t *o, const char *key, char *dst, size_t n)
{
	const char *s = json_string_value(json_object_get(o, key));

	if (s)
		str_sanitize(dst, n, s);
}

/* The child ended: its exit status and report into the row. */
static void child_done(struct evac_row *r, int status)
{
	json_t *o = r->report ? json_loadb(r->report, r->report_len, 0, NULL) : NULL;
	json_t *v;

	r->state = EVAC_DONE;
	r->t_end = time_now_ms();
	if (WIFEXITED(status) && WEXITSTATUS(status) < _VFM_EXIT_MAX)
		r->exit_code = WEXITSTATUS(status);
	else {
		r->exit_code = VFM_EXIT_NEEDS_RECOVER;
		snprintf(r->error, sizeof(r->error), "its run %s %d: run 'vfmigrate status %s'",
			 WIFSIGNALED(status) ? "was killed by signal" : "exited with",
			 WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status), r->guest);
	}
	/* Success is what the report says, not an exit status alone. */
	if (r->exit_code == VFM_EXIT_OK && !json_is_object(o)) {
		r->exit_code = VFM_EXIT_NEEDS_RECOVER;
		snprintf(r->error, sizeof(r->error),
			 "its run exited 0 without a report: run 'vfmigrate status %s'", r->guest);
	}
	snprintf(r->outcome, sizeof(r->outcome), "%s", vfm_exit_to_string(r->exit_code));
	if (json_is_object(o)) {
		json_str(o, "outcome", r->outcome, sizeof(r->outcome));
		r->without_vf_ms = json_int_or(o, "without_vf_ms", -1);
		report_times(r, o);
		if (!r->error[0]) {
			v = json_object_get(o, "error");
			json_str(json_is_object(v) ? v : o, "message", r->error, sizeof(r->error));
		}
	}
	if (!r->error[0] && r->exit_code != VFM_EXIT_OK)
		snprintf(r->error, sizeof(r->error), "%s", r->err_tail);
	json_decref(o);
}

static void probe_done(struct evac_row *r)
{
	json_t *o = r->probe_out ? json_loadb(r->probe_out, r->probe_len, 0, NULL) : NULL;
	json_t *v = json_object_get(o, "longest_window_ms");

	if (json_is_number(v))
		r->loss_ms = (int64_t)json_number_value(v);
	json_decref(o);
	waitpid(r->probe_pid, NULL, 0);
	r->probe_pid = 0;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Reads what is there; reaps what ended. Returns whether the row is still busy. */
static bool row_service(struct evac_row *r, bool tty, int64_t t0)
{
	if (r->fd_progress >= 0 && read_progress(r, tty, t0) <= 0)
		close_fd(&r->fd_progress);
	if (r->fd_report >= 0 &&
	    read_into(r->fd_report, &r->report, &r->report_len, REPORT_MAX) <= 0)
		close_fd(&r->fd_report);
	if (r->fd_err >= 0 && read_err(r) <= 0)
		close_fd(&r->fd_err);
	if (r->state == EVAC_RUNNING && !r->reaped &&
	    waitpid(r->pid, &r->exit_status, WNOHANG) == r->pid) {
		r->reaped = true;
		r->reaped_at = time_now_ms();
	}
	if (r->state == EVAC_RUNNING && r->reaped &&
	    ((r->fd_progress < 0 && r->fd_report < 0 && r->fd_err < 0) ||
	     time_now_ms() >= r->reaped_at + CHILD_DRAIN_MS)) {
		close_fd(&r->fd_progress);
		close_fd(&r->fd_report);
		close_fd(&r->fd_err);
		child_done(r, r->exit_status);
		if (!tty) {
			char what[400];

			snprintf(what, sizeof(what), "%s, exit %d", r->outcome, r->exit_code);
			evac_out_event(events_out, r, t0, what);
		}
	}
	if (r->probe_pid > 0 && !r->probe_stopping && r->state == EVAC_DONE &&
	    time_now_ms() >= r->t_end + PROBE_LINGER) {
		kill(r->probe_pid, SIGINT);
		r->probe_stopping = true;
	}
	if (r->fd_probe >= 0 &&
	    read_into(r->fd_probe, &r->probe_out, &r->probe_len, PROBE_MAX) <= 0) {
		close_fd(&r->fd_probe);
		probe_done(r);
	}
	return r->state == EVAC_RUNNING || r->fd_probe >= 0;
}

static size_t poll_set(struct evac_row *rows, size_t n, struct pollfd *pfd, size_t max)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		const int fds[] = {rows[i].fd_progress, rows[i].fd_report, rows[i].fd_err,
				   rows[i].fd_probe};

		for (size_t j = 0; j < ARRAY_SIZE(fds); j++)
			if (fds[j] >= 0 && k < max)
				pfd[k++] = (struct pollfd){.fd = fds[j], .events = POLLIN};
	}
	return k;
}

int evac_run(const struct cli_args *a, const struct evac_opts *o, struct evac_row *rows, size_t n,
	     int64_t t0)
{
	bool tty = !a->json && isatty(STDOUT_FILENO);
	char dir[] = "/tmp/vfm-evacuate.XXXXXX";
	struct pollfd pfd[EVAC_GUESTS_MAX * 4];
	size_t next = 0, busy = 0, drawn = 0;
	int seen = 0, worst = VFM_EXIT_OK;

	events_out = a->json ? stderr : stdout;
	if (!mkdtemp(dir))
		dir[0] = '\0';
	n_signals = 0;
	handlers(true);
	for (;;) {
		if (n_signals && seen == 0) {
			seen = 1;
			fprintf(stderr, "\nvfmigrate: evacuate interrupted: starting no more "
					"guests; the running ones finish or roll back (again: they "
					"are interrupted too)\n");
		}
		if (n_signals > 1 && seen == 1) {
			seen = 2;
			for (size_t i = 0; i < n; i++)
				if (rows[i].state == EVAC_RUNNING)
					kill(rows[i].pid, SIGINT);
		}
		while (!n_signals && next < n && busy < o->parallel) {
			struct evac_row *r = &rows[next++];
			int rc;

			if (!r->dest[0])
				continue; /* not placed (not here: the plan fits) */
			if (dir[0])
				start_probe(o, r, dir);
			rc = start_child(a, r);
			if (rc < 0) {
				r->state = EVAC_DONE;
				r->exit_code = VFM_EXIT_ERROR;
				snprintf(r->outcome, sizeof(r->outcome), "error");
				snprintf(r->error, sizeof(r->error), "could not start its run: %s",
					 strerror(-rc));
				continue;
			}
			busy++;
			if (!tty)
				evac_out_event(events_out, r, t0, "started");
		}
		if (n_signals)
			for (; next < n; next++)
				rows[next].state = EVAC_NOT_STARTED;
		busy = 0;
		for (size_t i = 0; i < n; i++)
			if (row_service(&rows[i], tty, t0) && rows[i].state == EVAC_RUNNING)
				busy++;
		evac_out_progress(stdout, tty, rows, n, t0, &drawn);
		{
			bool any = false;

			for (size_t i = 0; i < n; i++)
				any |= rows[i].state == EVAC_RUNNING || rows[i].fd_probe >= 0;
			if (!any && next >= n)
				break;
		}
		poll(pfd, poll_set(rows, n, pfd, ARRAY_SIZE(pfd)), 250);
	}
	handlers(false);
	if (dir[0])
		rmdir(dir);
	for (size_t i = 0; i < n; i++)
		worst =
		    evac_exit_worse(worst, rows[i].state == EVAC_NOT_STARTED ? VFM_EXIT_REFUSED
									     : rows[i].exit_code);
	return worst;
}
