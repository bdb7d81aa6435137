// SPDX-License-Identifier: MIT
#include "qmp.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "jsonlim.h"

static const char *const msg_type_names[] = {
    [QMP_MSG_GREETING] = "greeting",
    [QMP_MSG_RETURN] = "return",
    [QMP_MSG_ERROR] = "error",
    [QMP_MSG_EVENT] = "event",
};

const char *qmp_msg_type_to_string(enum qmp_msg_type t)
{
	if ((size_t)t >= ARRAY_SIZE(msg_type_names))
		return "unknown";
	return msg_type_names[t];
}

void qmp_event_clear(struct qmp_event *e)
{
	if (!e)
		return;
	json_decref(e->data);
	memset(e, 0, sizeof(*e));
	e->timestamp_us = -1;
}

void qmp_msg_clear(struct qmp_msg *m)
{
	if (!m)
		return;
	json_decref(m->ret);
	free(m->err_desc);
	qmp_event_clear(&m->event);
	memset(m, 0, sizeof(*m));
	m->event.timestamp_us = -1;
}

void qmp_msg_take_event(struct qmp_msg *m, struct qmp_event *ret)
{
	*ret = m->event;
	memset(&m->event, 0, sizeof(m->event));
	m->event.timestamp_us = -1;
}

static bool event_name_valid(const char *s)
{
	size_t n = strlen(s), i;

	if (n == 0 || n >= QMP_NAME_MAX)
		return false;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return false;
	return true;
}

bool qmp_command_name_valid(const char *s)
{
	size_t n, i;

	if (!s)
		return false;
	n = strlen(s);
	if (n == 0 || n >= QMP_NAME_MAX)
		return false;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-'))
			return false;
	return true;
}

/* Reads an optional non-negative integer member; -EBADMSG when present with another type. */
static int get_opt_int(json_t *obj, const char *key, int64_t *ret)
{
	json_t *v = json_object_get(obj, key);

	if (!v)
		return 0;
	if (!json_is_integer(v))
		return -EBADMSG;
	*ret = json_integer_value(v);
	return 0;
}

/* A statistic: like get_opt_int, but a negative value from the peer counts as absent (-1). */
static int get_opt_count(json_t *obj, const char *key, int64_t *ret)
{
	int64_t v = -1;
	int r = get_opt_int(obj, key, &v);

	if (r < 0)
		return r;
	if (json_object_get(obj, key))
		*ret = v >= 0 ? v : -1;
	return 0;
}

static int parse_greeting(json_t *root, struct qmp_msg *m, struct diag *d)
{
	json_t *qmp = json_object_get(root, "QMP"), *ver, *q, *caps;
	int64_t major = -1, minor = -1, micro = -1;

	if (!json_is_object(qmp)) {
		diag_set(d, "QMP greeting: \"QMP\" is not an object");
		return -EBADMSG;
	}
	caps = json_object_get(qmp, "capabilities");
	if (caps && !json_is_array(caps)) {
		diag_set(d, "QMP greeting: capabilities is not an array");
		return -EBADMSG;
	}
	ver = json_object_get(qmp, "version");
	q = json_is_object(ver) ? json_object_get(ver, "qemu") : NULL;
	if (!json_is_object(q) || get_opt_int(q, "major", &major) < 0 ||
	    get_opt_int(q, "minor", &minor) < 0 || get_opt_int(q, "micro", &micro) < 0 ||
	    major < 0 || minor < 0 || micro < 0 || major > 1000 || minor > 1000 || micro > 1000) {
		diag_set(d, "QMP greeting: missing or malformed version");
		return -EBADMSG;
	}
	m->type = QMP_MSG_GREETING;
	m->version_major = (int)major;
	m->version_minor = (int)minor;
	m->version_micro = (int)micro;
	return 0;
}

static int parse_error(json_t *root, struct qmp_msg *m, struct diag *d)
{
	json_t *err = json_object_get(root, "error"), *cls, *desc;

	if (!json_is_object(err)) {
		diag_set(d, "QMP error reply: \"error\" is not an object");
		return -EBADMSG;
	}
	cls = json_object_get(err, "class");
	desc = json_object_get(err, "desc");
	if (!json_is_string(cls) || !json_is_string(desc)) {
		diag_set(d, "QMP error reply without class or desc");
		return -EBADMSG;
	}
	m->err_desc = strdup(json_string_value(desc));
	if (!m->err_desc) {
		diag_set(d, "out of memory");
		return -ENOMEM;
	}
	m->type = QMP_MSG_ERROR;
	str_sanitize(m->err_class, sizeof(m->err_class), json_string_value(cls));
	str_sanitize(m->err_desc_print, sizeof(m->err_desc_print), m->err_desc);
	return 0;
}

static int parse_event(json_t *root, struct qmp_msg *m, struct diag *d)
{
	json_t *name = json_object_get(root, "event"), *data = json_object_get(root, "data");
	json_t *ts = json_object_get(root, "timestamp");
	int64_t sec = -1, usec = -1;

	if (!json_is_string(name) || !event_name_valid(json_string_value(name))) {
		diag_set(d, "QMP event with a missing or malformed name");
		return -EBADMSG;
	}
	if (data && !json_is_object(data)) {
		diag_set(d, "QMP event %s: data is not an object", json_string_value(name));
		return -EBADMSG;
	}
	if (ts) {
		if (!json_is_object(ts) || get_opt_int(ts, "seconds", &sec) < 0 ||
		    get_opt_int(ts, "microseconds", &usec) < 0 || sec < -1 ||
		    sec > INT64_MAX / 1000000 - 1 || usec < -1 || usec >= 1000000) {
			diag_set(d, "QMP event %s: malformed timestamp", json_string_value(name));
			return -EBADMSG;
		}
	}
	m->type = QMP_MSG_EVENT;
	snprintf(m->event.name, sizeof(m->event.name), "%s", json_string_value(name));
	m->event.data = data ? json_incref(data) : json_object();
	if (!m->event.data) {
		diag_set(d, "out of memory");
		return -ENOMEM;
	}
	/* QEMU sends seconds -1 when its clock failed; keep "absent" then. */
	m->event.timestamp_us = (sec >= 0 && usec >= 0) ? sec * 1000000 + usec : -1;
	return 0;
}

int qmp_parse_line(const char *line, size_t len, struct qmp_msg *ret, struct diag *d)
{
	static const char *const kinds[] = {"QMP", "return", "error", "event"};
	json_t *root, *id;
	struct qmp_msg m = {.event.timestamp_us = -1};
	unsigned nkinds = 0, i;
	int r;

	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		len--;
	if (len > QMP_LINE_MAX) {
		diag_set(d, "QMP line of %zu bytes exceeds the limit of %d", len, QMP_LINE_MAX);
		return -EMSGSIZE;
	}
	if (len == 0) {
		diag_set(d, "empty QMP line");
		return -EBADMSG;
	}
	root = json_decode_strict(line, len, QMP_LINE_MAX, QMP_DEPTH_MAX, d);
	if (!root) {
		diag_prefix(d, "QMP");
		return -EBADMSG;
	}
	if (!json_is_object(root)) {
		json_decref(root);
		diag_set(d, "QMP message is not a JSON object");
		return -EBADMSG;
	}
	for (i = 0; i < ARRAY_SIZE(kinds); i++)
		if (json_object_get(root, kinds[i]))
			nkinds++;
	if (nkinds != 1) {
		json_decref(root);
		diag_set(d, "QMP message is not exactly one of greeting, return, error, event");
		return -EBADMSG;
	}
	id = json_object_get(root, "id");
	if (json_is_integer(id) && json_integer_value(id) >= 0) {
		m.has_id = true;
		m.id = (uint64_t)json_integer_value(id);
	}
	if (json_object_get(root, "QMP")) {
		r = parse_greeting(root, &m, d);
	} else if (json_object_get(root, "error")) {
		r = parse_error(root, &m, d);
	} else if (json_object_get(root, "event")) {
		r = parse_event(root, &m, d);
	} else {
		m.type = QMP_MSG_RETURN;
		m.ret = json_incref(json_object_get(root, "return"));
		r = 0;
	}
	json_decref(root);
	if (r < 0) {
		qmp_msg_clear(&m);
		return r;
	}
	*ret = m;
	return 0;
}

int qmp_build_command(const char *execute, json_t *args, uint64_t id, char **ret_line,
		      size_t *ret_len, struct diag *d)
{
	json_t *cmd;
	char *text, *line;
	size_t n;

	if (!qmp_command_name_valid(execute)) {
		diag_set(d, "invalid QMP command name");
		return -EINVAL;
	}
	if (args && !json_is_object(args)) {
		diag_set(d, "QMP arguments of %s must be a JSON object", execute);
		return -EINVAL;
	}
	if (id > (uint64_t)INT64_MAX) {
		diag_set(d, "QMP command id out of range");
		return -EINVAL;
	}
	cmd = json_object();
	if (!cmd || json_object_set_new(cmd, "execute", json_string(execute)) < 0 ||
	    (args && json_object_set(cmd, "arguments", args) < 0) ||
	    json_object_set_new(cmd, "id", json_integer((json_int_t)id)) < 0) {
		json_decref(cmd);
		diag_set(d, "out of memory");
		return -ENOMEM;
	}
	text = json_dumps(cmd, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(cmd);
	if (!text) {
		diag_set(d, "cannot encode QMP command %s", execute);
		return -ENOMEM;
	}
	n = strlen(text);
	line = realloc(text, n + 2);
	if (!line) {
		free(text);
		diag_set(d, "out of memory");
		return -ENOMEM;
	}
	line[n] = '\n';
	line[n + 1] = '\0';
	*ret_line = line;
	*ret_len = n + 1;
	return 0;
}

static const char *const mig_status_names[] = {
    [QMP_MIG_NONE] = "none",
    [QMP_MIG_SETUP] = "setup",
    [QMP_MIG_CANCELLING] = "cancelling",
    [QMP_MIG_CANCELLED] = "cancelled",
    [QMP_MIG_ACTIVE] = "active",
    [QMP_MIG_POSTCOPY_ACTIVE] = "postcopy-active",
    [QMP_MIG_POSTCOPY_PAUSED] = "postcopy-paused",
    [QMP_MIG_POSTCOPY_RECOVER] = "postcopy-recover",
    [QMP_MIG_COMPLETED] = "completed",
    [QMP_MIG_FAILED] = "failed",
    [QMP_MIG_COLO] = "colo",
    [QMP_MIG_PRE_SWITCHOVER] = "pre-switchover",
    [QMP_MIG_DEVICE] = "device",
    [QMP_MIG_WAIT_UNPLUG] = "wait-unplug",
    [QMP_MIG_UNKNOWN] = "unknown",
};

const char *qmp_migration_status_to_string(enum qmp_migration_status s)
{
	if ((size_t)s >= ARRAY_SIZE(mig_status_names))
		return "unknown";
	return mig_status_names[s];
}

enum qmp_migration_status qmp_migration_status_from_string(const char *s)
{
	size_t i;

	for (i = 0; s && i < QMP_MIG_UNKNOWN; i++)
		if (strcmp(s, mig_status_names[i]) == 0)
			return (enum qmp_migration_status)i;
	return QMP_MIG_UNKNOWN;
}

bool qmp_migration_status_is_final(enum qmp_migration_status s)
{
	return s == QMP_MIG_COMPLETED || s == QMP_MIG_FAILED || s == QMP_MIG_CANCELLED;
}

int qmp_parse_migration_info(json_t *ret, struct qmp_migration_info *ret_info, struct diag *d)
{
	struct qmp_migration_info info = {
	    .status = QMP_MIG_NONE,
	    .total_time_ms = -1,
	    .downtime_ms = -1,
	    .expected_downtime_ms = -1,
	    .setup_time_ms = -1,
	    .ram_transferred = -1,
	    .ram_remaining = -1,
	    .ram_total = -1,
	    .ram_dirty_sync_count = -1,
	    .ram_dirty_pages_rate = -1,
	    .ram_mbps = -1,
	};
	json_t *status, *ram, *mbps, *err;

	if (!json_is_object(ret)) {
		diag_set(d, "query-migrate did not return an object");
		return -EBADMSG;
	}
	status = json_object_get(ret, "status");
	if (status) {
		if (!json_is_string(status)) {
			diag_set(d, "query-migrate: status is not a string");
			return -EBADMSG;
		}
		info.status = qmp_migration_status_from_string(json_string_value(status));
	}
	if (get_opt_count(ret, "total-time", &info.total_time_ms) < 0 ||
	    get_opt_count(ret, "downtime", &info.downtime_ms) < 0 ||
	    get_opt_count(ret, "expected-downtime", &info.expected_downtime_ms) < 0 ||
	    get_opt_count(ret, "setup-time", &info.setup_time_ms) < 0) {
		diag_set(d, "query-migrate: a time field is not an integer");
		return -EBADMSG;
	}
	ram = json_object_get(ret, "ram");
	if (ram) {
		if (!json_is_object(ram) ||
		    get_opt_count(ram, "transferred", &info.ram_transferred) < 0 ||
		    get_opt_count(ram, "remaining", &info.ram_remaining) < 0 ||
		    get_opt_count(ram, "total", &info.ram_total) < 0 ||
		    get_opt_count(ram, "dirty-sync-count", &info.ram_dirty_sync_count) < 0 ||
		    get_opt_count(ram, "dirty-pages-rate", &info.ram_dirty_pages_rate) < 0) {
			diag_set(d, "query-migrate: malformed ram statistics");
			return -EBADMSG;
		}
		mbps = json_object_get(ram, "mbps");
		if (mbps) {
			if (!json_is_number(mbps)) {
				diag_set(d, "query-migrate: ram mbps is not a number");
				return -EBADMSG;
			}
			info.ram_mbps = json_number_value(mbps);
		}
	}
	err = json_object_get(ret, "error-desc");
	if (err) {
		if (!json_is_string(err)) {
			diag_set(d, "query-migrate: error-desc is not a string");
			return -EBADMSG;
		}
		str_sanitize(info.error_desc, sizeof(info.error_desc), json_string_value(err));
	}
	*ret_info = info;
	return 0;
}

int qmp_parse_migration_event(json_t *data, enum qmp_migration_status *ret_status, struct diag *d)
{
	json_t *status = json_is_object(data) ? json_object_get(data, "status") : NULL;

	if (!json_is_string(status)) {
		diag_set(d, "MIGRATION event without a status");
		return -EBADMSG;
	}
	*ret_status = qmp_migration_status_from_string(json_string_value(status));
	return 0;
}
