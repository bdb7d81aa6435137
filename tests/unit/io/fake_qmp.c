// SPDX-License-Identifier: MIT
#include "fake_qmp.h"

#include <errno.h>
#include <jansson.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define STEP_TIMEOUT_MS 5000

struct fake_qmp {
	pthread_t thread;
	const struct fq_step *steps;
	int fd;
	int listen_fd;
	char path[108];
	char buf[65536];
	size_t len;
	long last_id;
	char err[512];
};

static void fq_fail(struct fake_qmp *f, const char *fmt, ...)
{
	va_list ap;

	if (f->err[0])
		return;
	va_start(ap, fmt);
	vsnprintf(f->err, sizeof(f->err), fmt, ap);
	va_end(ap);
}

static int fq_send(struct fake_qmp *f, const char *s, size_t n)
{
	while (n > 0) {
		ssize_t w = send(f->fd, s, n, MSG_NOSIGNAL);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

/* The fake's own buffer is too small for what the client sent: a test bug, said loudly (as
 * "got nothing" or a close it would mislead). */
static void fq_full(const char *what, size_t cap)
{
	fprintf(stderr, "fake_qmp: a line longer than the %s (%zu bytes); make it larger\n", what,
		cap);
	abort();
}

/* Reads one line into line (NUL-terminated, without "\n"); -1 on EOF, timeout or error. */
static int fq_read_line(struct fake_qmp *f, char *line, size_t cap)
{
	for (;;) {
		char *nl = memchr(f->buf, '\n', f->len);
		struct pollfd pfd = {.fd = f->fd, .events = POLLIN};
		ssize_t r;

		if (nl) {
			size_t n = (size_t)(nl - f->buf);

			if (n >= cap)
				fq_full("caller's line buffer", cap);
			memcpy(line, f->buf, n);
			line[n] = '\0';
			memmove(f->buf, nl + 1, f->len - n - 1);
			f->len -= n + 1;
			return 0;
		}
		if (f->len == sizeof(f->buf))
			fq_full("receive buffer", sizeof(f->buf));
		if (poll(&pfd, 1, STEP_TIMEOUT_MS) <= 0)
			return -1;
		r = recv(f->fd, f->buf + f->len, sizeof(f->buf) - f->len, 0);
		if (r <= 0)
			return -1;
		f->len += (size_t)r;
	}
}

static void fq_expect(struct fake_qmp *f, const struct fq_step *s)
{
	static char line[65536];
	json_t *cmd, *exec, *id, *args, *want;
	const char *key;
	json_t *val;

	if (fq_read_line(f, line, sizeof(line)) < 0) {
		fq_fail(f, "expected command %s, got nothing", s->a);
		return;
	}
	cmd = json_loads(line, 0, NULL);
	exec = json_object_get(cmd, "execute");
	if (!json_is_string(exec) || strcmp(json_string_value(exec), s->a) != 0) {
		fq_fail(f, "expected command %s, got: %.200s", s->a, line);
		json_decref(cmd);
		return;
	}
	id = json_object_get(cmd, "id");
	if (!json_is_integer(id)) {
		fq_fail(f, "command %s without an integer id", s->a);
		json_decref(cmd);
		return;
	}
	f->last_id = (long)json_integer_value(id);
	if (s->b) {
		want = json_loads(s->b, 0, NULL);
		args = json_object_get(cmd, "arguments");
		json_object_foreach (want, key, val) {
			if (!json_equal(json_object_get(args, key), val))
				fq_fail(f, "command %s: argument %s differs: %.200s", s->a, key,
					line);
		}
		json_decref(want);
	}
	json_decref(cmd);
}

static void fq_sendf(struct fake_qmp *f, const char *fmt, ...)
{
	char *s = NULL;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0 || fq_send(f, s, (size_t)n) < 0)
		fq_fail(f, "send failed");
	free(s);
}

static void fq_delay(long ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void *fq_run(void *arg)
{
	struct fake_qmp *f = arg;
	const struct fq_step *s;

	if (f->listen_fd >= 0) {
		struct pollfd pfd = {.fd = f->listen_fd, .events = POLLIN};

		if (poll(&pfd, 1, STEP_TIMEOUT_MS) <= 0 ||
		    (f->fd = accept(f->listen_fd, NULL, NULL)) < 0) {
			fq_fail(f, "no client connected");
			return NULL;
		}
	}
	for (s = f->steps; s->op != FQ_END && !f->err[0]; s++) {
		switch (s->op) {
		case FQ_SEND:
			if (fq_send(f, s->a, strlen(s->a)) < 0)
				fq_fail(f, "send failed");
			break;
		case FQ_EXPECT:
			fq_expect(f, s);
			break;
		case FQ_REPLY:
			fq_sendf(f, "{\"return\": %s, \"id\": %ld}\r\n", s->a, f->last_id);
			break;
		case FQ_REPLY_ID:
			fq_sendf(f, "{\"return\": %s, \"id\": %ld}\r\n", s->a, f->last_id + s->n);
			break;
		case FQ_ERROR:
			fq_sendf(
			    f,
			    "{\"id\": %ld, \"error\": {\"class\": \"%s\", \"desc\": \"%s\"}}\r\n",
			    f->last_id, s->a, s->b);
			break;
		case FQ_DELAY:
			fq_delay(s->n);
			break;
		case FQ_SEND_BIG: {
			char *big = malloc((size_t)s->n + 1);
			long i;

			memcpy(big, "{\"return\": \"", 12);
			for (i = 12; i < s->n - 3; i++)
				big[i] = 'a';
			memcpy(big + s->n - 3, "\"}\n", 3);
			/* The client may stop reading (and close) before it all went out. */
			(void)fq_send(f, big, (size_t)s->n);
			free(big);
			break;
		}
		case FQ_CLOSE:
			close(f->fd);
			f->fd = -1;
			break;
		case FQ_WAIT_CLOSE: {
			char line[1024];

			while (fq_read_line(f, line, sizeof(line)) == 0)
				;
			break;
		}
		case FQ_END:
			break;
		}
	}
	return NULL;
}

static struct fake_qmp *fq_new(const struct fq_step *steps)
{
	struct fake_qmp *f = calloc(1, sizeof(*f));

	f->steps = steps;
	f->fd = -1;
	f->listen_fd = -1;
	return f;
}

struct fake_qmp *fake_qmp_start(const struct fq_step *steps, int *ret_fd)
{
	struct fake_qmp *f = fq_new(steps);
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		abort();
	f->fd = sv[0];
	*ret_fd = sv[1];
	if (pthread_create(&f->thread, NULL, fq_run, f) != 0)
		abort();
	return f;
}

struct fake_qmp *fake_qmp_start_path(const struct fq_step *steps, const char *path)
{
	struct fake_qmp *f = fq_new(steps);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	snprintf(f->path, sizeof(f->path), "%s", path);
	unlink(path);
	f->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (f->listen_fd < 0 || bind(f->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(f->listen_fd, 1) < 0)
		abort();
	if (pthread_create(&f->thread, NULL, fq_run, f) != 0)
		abort();
	return f;
}

int fake_qmp_finish(struct fake_qmp *f, char *errbuf, size_t n)
{
	int r;

	pthread_join(f->thread, NULL);
	if (f->fd >= 0)
		close(f->fd);
	if (f->listen_fd >= 0) {
		close(f->listen_fd);
		unlink(f->path);
	}
	r = f->err[0] ? -1 : 0;
	if (errbuf && n)
		snprintf(errbuf, n, "%s", f->err);
	free(f);
	return r;
}
