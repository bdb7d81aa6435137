// SPDX-License-Identifier: MIT
#include "qga.h"

#include <errno.h>
#include <string.h>

#include "jsonlim.h"

static const char *const error_class_names[_QGA_ERROR_MAX] = {
    [QGA_ERROR_GENERIC] = "GenericError",
    [QGA_ERROR_COMMAND_NOT_FOUND] = "CommandNotFound",
    [QGA_ERROR_INVALID_PARAMETER] = "InvalidParameter",
    [QGA_ERROR_DEVICE_NOT_FOUND] = "DeviceNotFound",
    [QGA_ERROR_INVALID_STATE] = "InvalidState",
    [QGA_ERROR_TIMEOUT] = "Timeout",
    [QGA_ERROR_KERNEL] = "KernelError",
};

const char *qga_error_class_to_string(enum qga_error_class c)
{
	if ((unsigned)c >= _QGA_ERROR_MAX)
		return "GenericError";
	return error_class_names[c];
}

int qga_error_class_from_string(const char *s)
{
	for (unsigned i = 0; i < _QGA_ERROR_MAX; i++)
		if (strcmp(s, error_class_names[i]) == 0)
			return (int)i;
	return -EINVAL;
}

void qga_splitter_init(struct qga_splitter *s, size_t max)
{
	memset(s, 0, sizeof(*s));
	s->max = max;
}

void qga_splitter_done(struct qga_splitter *s)
{
	free(s->buf);
	s->buf = NULL;
	s->cap = s->len = 0;
}

static void splitter_clear(struct qga_splitter *s)
{
	s->len = 0;
	s->depth = 0;
	s->dropped = 0;
	s->in_str = s->esc = s->started = s->oversize = false;
	s->emitted = false;
}

void qga_splitter_reset(struct qga_splitter *s)
{
	splitter_clear(s);
	s->want_sentinel = false;
}

void qga_splitter_expect_sentinel(struct qga_splitter *s)
{
	splitter_clear(s);
	s->want_sentinel = true;
}

static int splitter_append(struct qga_splitter *s, char c)
{
	if (s->oversize) {
		s->dropped++;
		return 0;
	}
	if (s->len >= s->max) {
		s->oversize = true;
		s->dropped = s->len + 1;
		s->len = 0;
		return 0;
	}
	if (s->len + 1 >= s->cap) {
		size_t ncap = s->cap ? s->cap * 2 : 512;
		char *n;

		if (ncap > s->max + 1)
			ncap = s->max + 1;
		n = realloc(s->buf, ncap);
		if (!n)
			return -ENOMEM;
		s->buf = n;
		s->cap = ncap;
	}
	s->buf[s->len++] = c;
	return 0;
}

static int splitter_finish(struct qga_splitter *s)
{
	bool oversize = s->oversize;

	s->started = s->in_str = s->esc = s->oversize = false;
	s->depth = 0;
	if (oversize) {
		s->len = 0;
		return QGA_SPLIT_OVERSIZE;
	}
	s->buf[s->len] = '\0';
	s->emitted = true;
	return QGA_SPLIT_MESSAGE;
}

int qga_splitter_feed(struct qga_splitter *s, const void *data, size_t len, size_t *ret_used)
{
	const unsigned char *p = data;
	size_t i;
	int r;

	if (s->emitted) {
		s->emitted = false;
		s->len = 0;
		s->dropped = 0;
	}
	for (i = 0; i < len; i++) {
		unsigned char c = p[i];

		if (c == QGA_SENTINEL) {
			splitter_clear(s);
			s->want_sentinel = false;
			*ret_used = i + 1;
			return QGA_SPLIT_RESYNC;
		}
		if (s->want_sentinel)
			continue;
		if (!s->started) {
			if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
				continue;
			s->started = true;
		}
		/* A newline outside any object ends junk or a bare scalar. */
		if (c == '\n' && s->depth == 0) {
			*ret_used = i + 1;
			return splitter_finish(s);
		}
		r = splitter_append(s, (char)c);
		if (r < 0) {
			*ret_used = i;
			return r;
		}
		if (s->in_str) {
			if (s->esc)
				s->esc = false;
			else if (c == '\\')
				s->esc = true;
			else if (c == '"')
				s->in_str = false;
			continue;
		}
		if (c == '"') {
			s->in_str = true;
		} else if (c == '{' || c == '[') {
			s->depth++;
		} else if ((c == '}' || c == ']') && s->depth > 0) {
			if (--s->depth == 0) {
				*ret_used = i + 1;
				return splitter_finish(s);
			}
		}
	}
	*ret_used = len;
	return QGA_SPLIT_NEED_MORE;
}

void qga_request_done(struct qga_request *r)
{
	json_decref(r->arguments);
	json_decref(r->id);
	r->arguments = r->id = NULL;
}

int qga_request_parse(const char *buf, size_t len, struct qga_request *ret,
		      enum qga_error_class *ret_class, json_t **ret_id, struct diag *d)
{
	json_t *root, *v, *id = NULL, *args = NULL;
	const char *key, *name = NULL;
	struct diag jd;
	char clean[80];

	*ret_id = NULL;
	*ret_class = QGA_ERROR_GENERIC;
	root = json_decode_strict(buf, len, QGA_REQUEST_MAX, QGA_DEPTH_MAX, &jd);
	if (!root) {
		diag_set(d, "invalid request: %s", jd.msg);
		return -EINVAL;
	}
	if (!json_is_object(root)) {
		diag_set(d, "invalid request: not a JSON object");
		goto fail;
	}
	id = json_object_get(root, "id");
	json_object_foreach (root, key, v) {
		if (strcmp(key, "execute") == 0 || strcmp(key, "arguments") == 0 ||
		    strcmp(key, "id") == 0)
			continue;
		str_sanitize(clean, sizeof(clean), key);
		if (strcmp(key, "exec-oob") == 0)
			diag_set(d, "invalid request: 'exec-oob' is not supported");
		else
			diag_set(d, "invalid request: unexpected member '%s'", clean);
		goto fail;
	}
	v = json_object_get(root, "execute");
	if (!v) {
		diag_set(d, "invalid request: no 'execute' member");
		goto fail;
	}
	if (!json_is_string(v)) {
		diag_set(d, "invalid request: 'execute' must be a string");
		goto fail;
	}
	name = json_string_value(v);
	if (json_string_length(v) >= QGA_COMMAND_NAME_MAX ||
	    strlen(name) != json_string_length(v)) {
		str_sanitize(clean, sizeof(clean), name);
		*ret_class = QGA_ERROR_COMMAND_NOT_FOUND;
		diag_set(d, "command '%s' not found", clean);
		goto fail;
	}
	args = json_object_get(root, "arguments");
	if (args && !json_is_object(args)) {
		diag_set(d, "invalid request: 'arguments' must be an object");
		goto fail;
	}
	strcpy(ret->execute, name);
	ret->arguments = args ? json_incref(args) : json_object();
	ret->id = json_incref(id);
	json_decref(root);
	if (!ret->arguments) {
		qga_request_done(ret);
		diag_set(d, "out of memory");
		return -ENOMEM;
	}
	return 0;
fail:
	*ret_id = json_incref(id);
	json_decref(root);
	return -EINVAL;
}

static char *dump_line(json_t *msg, bool delimited)
{
	char *s, *out;
	size_t n, off = delimited ? 1 : 0;

	if (!msg)
		return NULL;
	s = json_dumps(msg, JSON_COMPACT | JSON_ENCODE_ANY);
	json_decref(msg);
	if (!s)
		return NULL;
	n = strlen(s);
	out = malloc(n + off + 2);
	if (out) {
		if (delimited)
			out[0] = (char)QGA_SENTINEL;
		memcpy(out + off, s, n);
		out[off + n] = '\n';
		out[off + n + 1] = '\0';
	}
	free(s);
	return out;
}

char *qga_request_format(const char *execute, json_t *arguments, json_t *id)
{
	json_t *msg = json_pack("{s:s}", "execute", execute);

	if (!msg)
		return NULL;
	if (arguments && json_object_set(msg, "arguments", arguments) < 0)
		goto fail;
	if (id && json_object_set(msg, "id", id) < 0)
		goto fail;
	return dump_line(msg, false);
fail:
	json_decref(msg);
	return NULL;
}

char *qga_reply_format_return(json_t *value, json_t *id, bool delimited)
{
	json_t *msg = json_object();

	if (!msg)
		return NULL;
	if (json_object_set_new(msg, "return", value ? json_incref(value) : json_object()) < 0)
		goto fail;
	if (id && json_object_set(msg, "id", id) < 0)
		goto fail;
	return dump_line(msg, delimited);
fail:
	json_decref(msg);
	return NULL;
}

char *qga_reply_format_error(enum qga_error_class c, const char *desc, json_t *id)
{
	json_t *msg = json_pack("{s:{s:s,s:s}}", "error", "class", qga_error_class_to_string(c),
				"desc", desc ? desc : "");

	if (!msg)
		return NULL;
	if (id && json_object_set(msg, "id", id) < 0) {
		json_decref(msg);
		return NULL;
	}
	return dump_line(msg, false);
}

void qga_reply_done(struct qga_reply *r)
{
	json_decref(r->value);
	json_decref(r->id);
	r->value = r->id = NULL;
}

int qga_reply_parse(const char *buf, size_t len, struct qga_reply *ret, struct diag *d)
{
	json_t *root, *v, *err = NULL, *cls, *desc;
	struct qga_reply r = {0};
	const char *key;
	struct diag jd;
	char clean[80];

	root = json_decode_strict(buf, len, QGA_REPLY_MAX, QGA_DEPTH_MAX, &jd);
	if (!root) {
		diag_set(d, "invalid reply: %s", jd.msg);
		return -EBADMSG;
	}
	if (!json_is_object(root)) {
		diag_set(d, "invalid reply: not a JSON object");
		goto fail;
	}
	json_object_foreach (root, key, v) {
		if (strcmp(key, "return") == 0 || strcmp(key, "error") == 0 ||
		    strcmp(key, "id") == 0)
			continue;
		str_sanitize(clean, sizeof(clean), key);
		diag_set(d, "invalid reply: unexpected member '%s'", clean);
		goto fail;
	}
	v = json_object_get(root, "return");
	err = json_object_get(root, "error");
	if (!!v == !!err) {
		diag_set(d, "invalid reply: needs exactly one of 'return' and 'error'");
		goto fail;
	}
	if (err) {
		if (!json_is_object(err)) {
			diag_set(d, "invalid reply: 'error' is not an object");
			goto fail;
		}
		cls = json_object_get(err, "class");
		desc = json_object_get(err, "desc");
		if (!json_is_string(cls) || !json_is_string(desc)) {
			diag_set(d, "invalid reply: 'error' needs string 'class' and 'desc'");
			goto fail;
		}
		r.is_error = true;
		str_sanitize(r.error_class, sizeof(r.error_class), json_string_value(cls));
		str_sanitize(r.error_desc, sizeof(r.error_desc), json_string_value(desc));
	} else {
		r.value = json_incref(v);
	}
	r.id = json_incref(json_object_get(root, "id"));
	json_decref(root);
	*ret = r;
	return 0;
fail:
	json_decref(root);
	return -EBADMSG;
}
