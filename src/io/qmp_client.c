// SPDX-License-Identifier: MIT
#include "qmp_client.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "util/fdio.h"

/* Read buffer: one full line plus its "\r\n". */
#define QMP_BUF_SIZE (QMP_LINE_MAX + 2)

struct qmp_client {
	int fd;
	uint64_t next_id;
	int broken; /* 0 or the -errno that broke the connection */
	char broken_msg[256];
	char *buf;
	size_t off;	/* start of the unconsumed input in buf */
	size_t len;	/* end of the input in buf */
	size_t scanned; /* bytes after off known to hold no newline */
	int version_major, version_minor, version_micro;
	char last_error_class[QMP_NAME_MAX];
	struct qmp_event queue[QMP_CLIENT_EVENT_QUEUE];
	unsigned q_head, q_count;
	uint64_t dropped;
};

static int poll_ms(int64_t deadline_ms)
{
	int64_t left = deadline_left_ms(deadline_ms);

	return left > 1000000 ? 1000000 : (int)left;
}

static int client_break(struct qmp_client *c, int err, struct diag *d)
{
	c->broken = err;
	snprintf(c->broken_msg, sizeof(c->broken_msg), "%s", d ? d->msg : "");
	return err;
}

static int client_check(struct qmp_client *c, struct diag *d)
{
	if (!c->broken)
		return 0;
	diag_set(d, "QMP connection unusable: %s", c->broken_msg[0] ? c->broken_msg : "broken");
	return c->broken;
}

static int send_all(struct qmp_client *c, const char *p, size_t len, int64_t deadline_ms,
		    struct diag *d)
{
	int r = fdio_send_all(c->fd, p, len, deadline_ms);

	if (r == -ETIMEDOUT) {
		diag_set(d, "timed out sending to QMP");
		return r;
	}
	if (r < 0 && errno_is_peer_gone(-r)) {
		struct diag tmp;

		diag_set(&tmp, "QMP peer closed the connection");
		diag_set(d, "%s", tmp.msg);
		return client_break(c, -ECONNRESET, &tmp);
	}
	if (r < 0)
		diag_set(d, "sending to QMP: %s", strerror(-r));
	return r;
}

/* True when a whole line is buffered (read_msg returns it without reading the socket). */
static bool line_pending(struct qmp_client *c)
{
	return memchr(c->buf + c->off, '\n', c->len - c->off) != NULL;
}

/* True when a caller skipping unwanted messages must give up: the deadline passed and nothing
 * is buffered, so a peer that keeps sending (events, stale replies) cannot hold it forever. */
static bool deadline_passed_idle(struct qmp_client *c, int64_t deadline_ms)
{
	return deadline_left_ms(deadline_ms) <= 0 && !line_pending(c);
}

/*
 * Reads the next message. -ETIMEDOUT leaves the connection usable; any other error breaks it.
 * Each input byte is scanned once and moved at most once per recv(), whatever the peer sends.
 */
static int read_msg(struct qmp_client *c, int64_t deadline_ms, struct qmp_msg *ret, struct diag *d)
{
	struct diag tmp = {{0}};
	bool received = false;
	int r;

	r = client_check(c, d);
	if (r < 0)
		return r;
	for (;;) {
		char *line = c->buf + c->off;
		char *nl = memchr(line + c->scanned, '\n', c->len - c->off - c->scanned);

		if (nl) {
			size_t linelen = (size_t)(nl - line) + 1;
			size_t content = linelen;

			c->off += linelen;
			c->scanned = 0;
			while (content > 0 &&
			       (line[content - 1] == '\n' || line[content - 1] == '\r'))
				content--;
			if (content == 0)
				continue; /* blank line: nothing to parse */
			r = qmp_parse_line(line, linelen, ret, &tmp);
			if (r < 0) {
				diag_set(d, "%s", tmp.msg);
				return client_break(c, r, &tmp);
			}
			return 0;
		}
		c->scanned = c->len - c->off;
		if (c->off > 0) {
			memmove(c->buf, c->buf + c->off, c->len - c->off);
			c->len -= c->off;
			c->off = 0;
		}
		if (c->len >= QMP_BUF_SIZE) {
			diag_set(&tmp, "QMP line exceeds the limit of %d bytes", QMP_LINE_MAX);
			diag_set(d, "%s", tmp.msg);
			return client_break(c, -EMSGSIZE, &tmp);
		}
		/* A peer that trickles or floods a line without its end: poll() alone would only
		 * notice the deadline when the peer pauses. */
		if (received && deadline_left_ms(deadline_ms) <= 0) {
			diag_set(d, "timed out waiting for the end of a QMP line");
			return -ETIMEDOUT;
		}
		ssize_t n = fdio_recv(c->fd, c->buf + c->len, QMP_BUF_SIZE - c->len, deadline_ms);

		if (n > 0) {
			c->len += (size_t)n;
			received = true;
			continue;
		}
		if (n == 0) {
			diag_set(&tmp, "QMP peer closed the connection");
			diag_set(d, "%s", tmp.msg);
			return client_break(c, -ECONNRESET, &tmp);
		}
		if (n == -ETIMEDOUT) {
			diag_set(d, "timed out waiting for QMP");
			return -ETIMEDOUT;
		}
		r = (int)n;
		diag_set(&tmp, "reading from QMP: %s", strerror(-r));
		diag_set(d, "%s", tmp.msg);
		return client_break(c, r, &tmp);
	}
}

static void queue_push(struct qmp_client *c, struct qmp_event *ev)
{
	if (c->q_count == QMP_CLIENT_EVENT_QUEUE) {
		qmp_event_clear(&c->queue[c->q_head]);
		c->q_head = (c->q_head + 1) % QMP_CLIENT_EVENT_QUEUE;
		c->q_count--;
		c->dropped++;
	}
	c->queue[(c->q_head + c->q_count) % QMP_CLIENT_EVENT_QUEUE] = *ev;
	c->q_count++;
}

/* Removes the i-th queued event (0 = oldest) into *ret (or drops it when ret is NULL). */
static void queue_remove(struct qmp_client *c, unsigned i, struct qmp_event *ret)
{
	unsigned k;

	if (ret)
		*ret = c->queue[(c->q_head + i) % QMP_CLIENT_EVENT_QUEUE];
	else
		qmp_event_clear(&c->queue[(c->q_head + i) % QMP_CLIENT_EVENT_QUEUE]);
	for (k = i; k + 1 < c->q_count; k++)
		c->queue[(c->q_head + k) % QMP_CLIENT_EVENT_QUEUE] =
		    c->queue[(c->q_head + k + 1) % QMP_CLIENT_EVENT_QUEUE];
	c->q_count--;
}

static int client_new(int fd, struct qmp_client **ret)
{
	struct qmp_client *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	c->buf = malloc(QMP_BUF_SIZE);
	if (!c->buf) {
		free(c);
		return -ENOMEM;
	}
	c->fd = fd;
	c->next_id = 1;
	*ret = c;
	return 0;
}

struct qmp_client *qmp_client_free(struct qmp_client *c)
{
	if (!c)
		return NULL;
	while (c->q_count > 0)
		queue_remove(c, 0, NULL);
	if (c->fd >= 0)
		close(c->fd);
	free(c->buf);
	free(c);
	return NULL;
}

int qmp_client_start(int fd, int64_t deadline_ms, struct qmp_client **ret, struct diag *d)
{
	struct qmp_client *c = NULL;
	struct qmp_msg m = {0};
	int r, fl;

	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
		r = -errno;
		close(fd);
		diag_set(d, "QMP socket: %s", strerror(-r));
		return r;
	}
	r = client_new(fd, &c);
	if (r < 0) {
		close(fd);
		diag_set(d, "out of memory");
		return r;
	}
	r = read_msg(c, deadline_ms, &m, d);
	if (r == -ETIMEDOUT)
		diag_set(d,
			 "no QMP greeting in time (is another client connected to the monitor?)");
	if (r < 0)
		goto fail;
	if (m.type != QMP_MSG_GREETING) {
		diag_set(d, "QMP peer sent a %s instead of the greeting",
			 qmp_msg_type_to_string(m.type));
		r = -EBADMSG;
		goto fail;
	}
	c->version_major = m.version_major;
	c->version_minor = m.version_minor;
	c->version_micro = m.version_micro;
	qmp_msg_clear(&m);
	r = qmp_client_execute(c, "qmp_capabilities", NULL, deadline_ms, NULL, d);
	if (r < 0)
		goto fail;
	*ret = c;
	return 0;
fail:
	qmp_msg_clear(&m);
	qmp_client_free(c);
	return r;
}

int qmp_client_connect(const char *path, int64_t deadline_ms, struct qmp_client **ret,
		       struct diag *d)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd, r;

	if (!path || strlen(path) >= sizeof(sa.sun_path) || !path[0]) {
		diag_set(d, "QMP socket path is empty or too long");
		return -EINVAL;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		r = -errno;
		diag_set(d, "socket: %s", strerror(errno));
		return r;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		if (errno == EINPROGRESS) {
			struct pollfd pfd = {.fd = fd, .events = POLLOUT};
			int err = 0;
			socklen_t elen = sizeof(err);

			r = poll(&pfd, 1, poll_ms(deadline_ms));
			if (r == 0) {
				close(fd);
				diag_set(d, "timed out connecting to QMP socket");
				return -ETIMEDOUT;
			}
			if (r < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0)
				err = errno;
			if (err) {
				close(fd);
				diag_set(d, "connecting to QMP socket: %s", strerror(err));
				return -err;
			}
		} else {
			r = -errno;
			close(fd);
			diag_set(d, "connecting to QMP socket: %s", strerror(-r));
			return r;
		}
	}
	return qmp_client_start(fd, deadline_ms, ret, d);
}

void qmp_client_version(struct qmp_client *c, int *ret_major, int *ret_minor, int *ret_micro)
{
	if (ret_major)
		*ret_major = c->version_major;
	if (ret_minor)
		*ret_minor = c->version_minor;
	if (ret_micro)
		*ret_micro = c->version_micro;
}

const char *qmp_client_last_error_class(struct qmp_client *c)
{
	return c->last_error_class;
}

bool qmp_client_is_broken(struct qmp_client *c)
{
	return c->broken != 0;
}

int qmp_client_fd(struct qmp_client *c)
{
	return c->fd;
}

uint64_t qmp_client_dropped_events(struct qmp_client *c)
{
	return c->dropped;
}

int qmp_client_execute(struct qmp_client *c, const char *command, json_t *args, int64_t deadline_ms,
		       json_t **ret_return, struct diag *d)
{
	_cleanup_free_ char *line = NULL;
	size_t len;
	uint64_t id;
	int r;

	r = client_check(c, d);
	if (r < 0)
		return r;
	id = c->next_id++;
	r = qmp_build_command(command, args, id, &line, &len, d);
	if (r < 0)
		return r;
	r = send_all(c, line, len, deadline_ms, d);
	if (r < 0)
		return r;
	for (;;) {
		struct qmp_msg m = {0};

		r = read_msg(c, deadline_ms, &m, d);
		if (r == -ETIMEDOUT)
			diag_set(d, "%s: no reply from QMP in time", command);
		if (r < 0)
			return r;
		switch (m.type) {
		case QMP_MSG_EVENT: {
			struct qmp_event ev;

			qmp_msg_take_event(&m, &ev);
			queue_push(c, &ev);
			break;
		}
		case QMP_MSG_GREETING:
			qmp_msg_clear(&m);
			diag_set(d, "%s: unexpected QMP greeting in the middle of a session",
				 command);
			return client_break(c, -EBADMSG, d);
		case QMP_MSG_RETURN:
		case QMP_MSG_ERROR:
			/* A reply without id can only answer a command QEMU could not parse,
			 * which then is ours; replies with another id are late answers to
			 * commands that timed out before. */
			if (m.has_id ? m.id != id : m.type == QMP_MSG_RETURN) {
				qmp_msg_clear(&m);
				break;
			}
			if (m.type == QMP_MSG_ERROR) {
				snprintf(c->last_error_class, sizeof(c->last_error_class), "%s",
					 m.err_class);
				/* The printable copy: the peer's text goes to a terminal. */
				diag_set(d, "%s: %s", command, m.err_desc_print);
				qmp_msg_clear(&m);
				return -EREMOTEIO;
			}
			if (ret_return) {
				*ret_return = m.ret;
				m.ret = NULL;
			}
			qmp_msg_clear(&m);
			return 0;
		}
		if (deadline_passed_idle(c, deadline_ms)) {
			diag_set(d, "%s: no reply from QMP in time (only other messages)", command);
			return -ETIMEDOUT;
		}
	}
}

int qmp_client_wait_event(struct qmp_client *c, const char *name, qmp_event_match_fn match,
			  void *userdata, int64_t deadline_ms, struct qmp_event *ret_event,
			  struct diag *d)
{
	unsigned i;
	int r;

	for (i = 0; i < c->q_count; i++) {
		struct qmp_event *ev = &c->queue[(c->q_head + i) % QMP_CLIENT_EVENT_QUEUE];

		if ((!name || strcmp(ev->name, name) == 0) && (!match || match(ev, userdata))) {
			queue_remove(c, i, ret_event);
			return 0;
		}
	}
	for (;;) {
		struct qmp_msg m = {0};
		struct qmp_event ev;

		r = read_msg(c, deadline_ms, &m, d);
		if (r == -ETIMEDOUT)
			diag_set(d, "timed out waiting for QMP event %s", name ? name : "(any)");
		if (r < 0)
			return r;
		if (m.type == QMP_MSG_GREETING) {
			qmp_msg_clear(&m);
			diag_set(d, "unexpected QMP greeting in the middle of a session");
			return client_break(c, -EBADMSG, d);
		}
		if (m.type != QMP_MSG_EVENT) {
			/* Late reply to a command that timed out. */
			qmp_msg_clear(&m);
		} else {
			qmp_msg_take_event(&m, &ev);
			if ((!name || strcmp(ev.name, name) == 0) &&
			    (!match || match(&ev, userdata))) {
				if (ret_event)
					*ret_event = ev;
				else
					qmp_event_clear(&ev);
				return 0;
			}
			queue_push(c, &ev);
		}
		if (deadline_passed_idle(c, deadline_ms)) {
			diag_set(d, "timed out waiting for QMP event %s (only other messages)",
				 name ? name : "(any)");
			return -ETIMEDOUT;
		}
	}
}

unsigned qmp_client_flush_events(struct qmp_client *c, const char *name)
{
	unsigned i = 0, n = 0;

	while (i < c->q_count) {
		struct qmp_event *ev = &c->queue[(c->q_head + i) % QMP_CLIENT_EVENT_QUEUE];

		if (!name || strcmp(ev->name, name) == 0) {
			queue_remove(c, i, NULL);
			n++;
		} else {
			i++;
		}
	}
	return n;
}
