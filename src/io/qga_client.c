// SPDX-License-Identifier: MIT
#include "qga_client.h"

/* How long one guest-sync-delimited may go unanswered before it is sent again. */
#define QGA_SYNC_RESEND_MS 1000

#include <errno.h>
#include <stdint.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "util/fdio.h"

#define EXEC_POLL_MS 2

struct qga_client {
	int fd;
	bool synced;
	bool dead;
	int dead_err;
	uint64_t next_id;
	struct qga_splitter sp;
	char rbuf[16384];
	size_t rlen, roff;
	char last_class[QGA_ERROR_CLASS_MAX];
};

struct qga_client *qga_client_free(struct qga_client *c)
{
	if (!c)
		return NULL;
	if (c->fd >= 0)
		close(c->fd);
	qga_splitter_done(&c->sp);
	free(c);
	return NULL;
}

const char *qga_client_last_error_class(struct qga_client *c)
{
	return c->last_class;
}

static int64_t random_id(void)
{
	uint64_t v = 0;

	if (getrandom(&v, sizeof(v), GRND_NONBLOCK) != sizeof(v))
		v = (uint64_t)time_now_ns() * 6364136223846793005ULL;
	/* Positive and exactly representable as a JSON number in any peer. */
	return (int64_t)(v & ((1ULL << 52) - 1)) + 1;
}

static int send_all(struct qga_client *c, const char *buf, size_t len, int64_t deadline,
		    struct diag *d)
{
	int r = fdio_send_all(c->fd, buf, len, deadline);

	if (r == -ETIMEDOUT) {
		diag_set(d, "guest agent did not take the request in time");
		c->synced = false;
		return r;
	}
	if (r < 0) {
		diag_set(d, "send to guest agent: %s", strerror(-r));
		c->dead = true;
		c->dead_err = r == -EPIPE ? -ECONNRESET : r;
		return c->dead_err;
	}
	return 0;
}

/*
 * True when the deadline passed and no input is buffered: a caller skipping unwanted messages
 * gives up then, even while the peer keeps sending (buffered input is still drained first, so
 * a deadline in the past does not lose what already arrived).
 */
static bool deadline_passed_idle(struct qga_client *c, int64_t deadline)
{
	return c->roff >= c->rlen && deadline_left_ms(deadline) <= 0;
}

/*
 * Returns the next complete message (in c->sp.buf, c->sp.len) or an error. -EMSGSIZE: a reply
 * over the limit was dropped.
 */
static int read_message(struct qga_client *c, int64_t deadline, struct diag *d)
{
	for (;;) {
		while (c->roff < c->rlen) {
			size_t used = 0;
			int ev =
			    qga_splitter_feed(&c->sp, c->rbuf + c->roff, c->rlen - c->roff, &used);

			c->roff += used;
			if (ev == QGA_SPLIT_MESSAGE)
				return 0;
			if (ev == QGA_SPLIT_OVERSIZE) {
				diag_set(d, "guest agent reply exceeds %d bytes", QGA_REPLY_MAX);
				return -EMSGSIZE;
			}
			if (ev < 0) {
				diag_set(d, "out of memory");
				return ev;
			}
		}
		/* Input that never completes a message (no end, 0xFF after 0xFF) must not
		 * outlast the deadline: poll() alone only sees it when the peer pauses. */
		if (c->rlen > 0 && deadline_left_ms(deadline) <= 0) {
			c->roff = c->rlen = 0;
			diag_set(d, "no complete reply from the guest agent in time");
			return -ETIMEDOUT;
		}
		c->roff = c->rlen = 0;

		ssize_t n = fdio_recv(c->fd, c->rbuf, sizeof(c->rbuf), deadline);

		if (n > 0) {
			c->rlen = (size_t)n;
			continue;
		}
		if (n == 0) {
			diag_set(d, "guest agent channel closed");
			c->dead = true;
			c->dead_err = -ECONNRESET;
			return -ECONNRESET;
		}
		if (n == -ETIMEDOUT) {
			diag_set(d, "no reply from the guest agent in time");
			return -ETIMEDOUT;
		}
		diag_set(d, "receive from guest agent: %s", strerror((int)-n));
		c->dead = true;
		c->dead_err = (int)n;
		return (int)n;
	}
}

/*
 * Sends 0xFF and guest-sync-delimited with a fresh id. 0xFF first: it flushes a partial request
 * the agent may hold. Everything we had buffered, and everything before the agent's sentinel,
 * is dropped.
 */
static int send_sync(struct qga_client *c, int64_t id, int64_t deadline_ms, struct diag *d)
{
	json_t *args = json_pack("{s:I}", "id", (json_int_t)id);
	char *req = args ? qga_request_format("guest-sync-delimited", args, NULL) : NULL;
	int r;

	json_decref(args);
	if (!req)
		return -ENOMEM;
	r = send_all(c, "\xff", 1, deadline_ms, d);
	if (r >= 0)
		r = send_all(c, req, strlen(req), deadline_ms, d);
	free(req);
	if (r < 0)
		return r;
	c->roff = c->rlen = 0;
	qga_splitter_expect_sentinel(&c->sp);
	return 0;
}

int qga_client_sync(struct qga_client *c, int64_t deadline_ms, struct diag *d)
{
	int64_t id, step;
	int r;

	if (c->dead) {
		diag_set(d, "guest agent channel is closed");
		return c->dead_err;
	}
	c->synced = false;
resend:
	/*
	 * A request that reaches the agent while it reopens its port after the previous
	 * client hung up can be lost: if no answer comes within QGA_SYNC_RESEND_MS, sync
	 * again with a new id. Only the newest id counts; replies to older ones (the agent
	 * answers in order) are skipped like any stale message.
	 */
	id = random_id();
	r = send_sync(c, id, deadline_ms, d);
	if (r < 0)
		return r;
	step = time_now_ms() + QGA_SYNC_RESEND_MS;
	if (step > deadline_ms)
		step = deadline_ms;
	for (;;) {
		struct qga_reply rep;
		bool match;

		r = read_message(c, step, d);
		if (r == -EMSGSIZE && !deadline_passed_idle(c, step))
			continue;
		if (r == -ETIMEDOUT && deadline_left_ms(deadline_ms) > 0)
			goto resend;
		if (r < 0) {
			diag_prefix(d, "guest-sync-delimited");
			return r;
		}
		/* Stale or unrelated messages (and junk) before our reply are skipped. */
		match = false;
		if (qga_reply_parse(c->sp.buf, c->sp.len, &rep, NULL) >= 0) {
			match = !rep.is_error && json_is_integer(rep.value) &&
				json_integer_value(rep.value) == id;
			qga_reply_done(&rep);
		}
		if (match)
			break;
		/* A peer that keeps talking without ever answering: */
		if (deadline_passed_idle(c, step)) {
			if (deadline_left_ms(deadline_ms) > 0)
				goto resend;
			diag_set(d, "guest-sync-delimited: no matching reply in time");
			return -ETIMEDOUT;
		}
	}
	c->synced = true;
	return 0;
}

int qga_client_start(int fd, int64_t deadline_ms, struct qga_client **ret, struct diag *d)
{
	struct qga_client *c = calloc(1, sizeof(*c));
	int r;

	if (!c) {
		close(fd);
		return -ENOMEM;
	}
	c->fd = fd;
	c->next_id = 1;
	qga_splitter_init(&c->sp, QGA_REPLY_MAX);
	r = qga_client_sync(c, deadline_ms, d);
	if (r < 0) {
		qga_client_free(c);
		return r;
	}
	*ret = c;
	return 0;
}

int qga_client_connect(const char *path, int64_t deadline_ms, struct qga_client **ret,
		       struct diag *d)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd, r;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		diag_set(d, "socket path too long");
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		if (errno != EINPROGRESS && errno != EAGAIN) {
			r = -errno;
			diag_set(d, "connect to %s: %s", path, strerror(-r));
			close(fd);
			return r;
		}
		struct pollfd p = {.fd = fd, .events = POLLOUT};
		socklen_t len = sizeof(r);

		if (poll(&p, 1, (int)deadline_left_ms(deadline_ms)) <= 0) {
			diag_set(d, "connect to %s: timed out", path);
			close(fd);
			return -ETIMEDOUT;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &r, &len) < 0 || r != 0) {
			r = r ? -r : -errno;
			diag_set(d, "connect to %s: %s", path, strerror(-r));
			close(fd);
			return r;
		}
	}
	r = qga_client_start(fd, deadline_ms, ret, d);
	if (r < 0)
		diag_prefix(d, "%s", path);
	return r;
}

int qga_client_call(struct qga_client *c, const char *command, json_t *arguments,
		    int64_t deadline_ms, json_t **ret_return, struct diag *d)
{
	struct qga_reply rep;
	json_t *id;
	char *req;
	int r;

	if (c->dead) {
		diag_set(d, "guest agent channel is closed");
		return c->dead_err;
	}
	if (!c->synced) {
		r = qga_client_sync(c, deadline_ms, d);
		if (r < 0)
			return r;
	}
	id = json_integer((json_int_t)c->next_id++);
	req = qga_request_format(command, arguments, id);
	if (!req) {
		json_decref(id);
		return -ENOMEM;
	}
	r = send_all(c, req, strlen(req), deadline_ms, d);
	free(req);
	if (r < 0)
		goto out;
	for (;;) {
		struct diag pd;

		r = read_message(c, deadline_ms, d);
		if (r < 0) {
			c->synced = false;
			goto out;
		}
		r = qga_reply_parse(c->sp.buf, c->sp.len, &rep, &pd);
		if (r < 0) {
			diag_set(d, "%s: %s", command, pd.msg);
			c->synced = false;
			goto out;
		}
		/* qemu-ga and our agent echo the id; a reply for another id is a stale one. */
		if (!rep.id || json_equal(rep.id, id))
			break;
		qga_reply_done(&rep);
		if (deadline_passed_idle(c, deadline_ms)) {
			diag_set(d, "%s: only replies to other requests until the deadline",
				 command);
			c->synced = false;
			r = -ETIMEDOUT;
			goto out;
		}
	}
	if (rep.is_error) {
		char cmd[QGA_COMMAND_NAME_MAX];

		snprintf(c->last_class, sizeof(c->last_class), "%s", rep.error_class);
		str_sanitize(cmd, sizeof(cmd), command);
		diag_set(d, "%s: %s", cmd, rep.error_desc);
		r = -EREMOTEIO;
	} else {
		if (ret_return)
			*ret_return = json_incref(rep.value);
		r = 0;
	}
	qga_reply_done(&rep);
out:
	json_decref(id);
	return r;
}

static int b64_value(unsigned char ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9')
		return ch - '0' + 52;
	if (ch == '+')
		return 62;
	if (ch == '/')
		return 63;
	return -1;
}

char *qga_base64_encode(const char *s)
{
	static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t n = strlen(s), o = 0;
	char *out = malloc(4 * ((n + 2) / 3) + 1);

	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)(unsigned char)s[i] << 16;

		if (i + 1 < n)
			v |= (uint32_t)(unsigned char)s[i + 1] << 8;
		if (i + 2 < n)
			v |= (unsigned char)s[i + 2];
		out[o++] = t[(v >> 18) & 63];
		out[o++] = t[(v >> 12) & 63];
		out[o++] = i + 1 < n ? t[(v >> 6) & 63] : '=';
		out[o++] = i + 2 < n ? t[v & 63] : '=';
	}
	out[o] = '\0';
	return out;
}

int qga_base64_decode(const char *in, size_t max_out, char **ret, size_t *ret_len)
{
	size_t n = strlen(in), o = 0, pad = 0;
	uint32_t acc = 0;
	int bits = 0;
	char *out;

	if (n % 4 != 0 || n / 4 * 3 > max_out)
		return -EINVAL;
	out = malloc(n / 4 * 3 + 1);
	if (!out)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		int v;

		if (in[i] == '=') {
			/* Only at the end, at most two. */
			if (i < n - 2 || (i == n - 2 && in[n - 1] != '=')) {
				free(out);
				return -EINVAL;
			}
			pad++;
			continue;
		}
		v = b64_value((unsigned char)in[i]);
		if (v < 0) {
			free(out);
			return -EINVAL;
		}
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (char)((acc >> bits) & 0xff);
		}
	}
	(void)pad;
	out[o] = '\0';
	*ret = out;
	*ret_len = o;
	return 0;
}

int qga_client_exec(struct qga_client *c, const char *path, const char *const *argv,
		    int64_t deadline_ms, int *ret_exitcode, char **ret_out, struct diag *d)
{
	json_t *args, *arr, *v = NULL, *st = NULL;
	json_int_t pid;
	int r;

	arr = json_array();
	for (size_t i = 0; argv && argv[i]; i++)
		json_array_append_new(arr, json_string(argv[i]));
	args = json_pack("{s:s,s:o,s:b}", "path", path, "arg", arr, "capture-output", 1);
	if (!args)
		return -ENOMEM;
	r = qga_client_call(c, "guest-exec", args, deadline_ms, &v, d);
	json_decref(args);
	if (r < 0)
		return r;
	if (!json_is_integer(json_object_get(v, "pid"))) {
		json_decref(v);
		diag_set(d, "guest-exec: reply has no pid");
		return -EBADMSG;
	}
	pid = json_integer_value(json_object_get(v, "pid"));
	json_decref(v);
	for (;;) {
		json_t *a = json_pack("{s:I}", "pid", pid);

		r = qga_client_call(c, "guest-exec-status", a, deadline_ms, &st, d);
		json_decref(a);
		if (r < 0)
			return r;
		if (json_is_true(json_object_get(st, "exited")))
			break;
		json_decref(st);
		st = NULL;
		if (deadline_left_ms(deadline_ms) <= 0) {
			diag_set(d, "guest-exec of %s did not finish in time", path);
			return -ETIMEDOUT;
		}
		poll(NULL, 0, EXEC_POLL_MS);
	}
	/* The guest picks these numbers: keep them in range (no int overflow on 128 + N). */
	json_t *ec = json_object_get(st, "exitcode"), *sig = json_object_get(st, "signal");
	int code = -1;

	if (json_is_integer(ec) && json_integer_value(ec) >= 0 && json_integer_value(ec) <= 255)
		code = (int)json_integer_value(ec);
	else if (json_is_integer(sig) && json_integer_value(sig) > 0 &&
		 json_integer_value(sig) < 128)
		code = 128 + (int)json_integer_value(sig);
	if (ret_out) {
		const char *b64 = json_string_value(json_object_get(st, "out-data"));
		size_t len;

		r = qga_base64_decode(b64 ? b64 : "", QGA_EXEC_OUTPUT_MAX, ret_out, &len);
		if (r < 0) {
			json_decref(st);
			diag_set(d, "guest-exec-status: bad out-data");
			return -EBADMSG;
		}
	}
	*ret_exitcode = code;
	json_decref(st);
	return 0;
}
