/* SPDX-License-Identifier: MIT */
/*
 * QMP codec (QEMU Machine Protocol), no I/O: builds command lines and parses the lines a QEMU
 * monitor sends (greeting, return, error, event), with size and depth limits. Everything parsed
 * here comes from a peer and is untrusted.
 */
#ifndef VFM_QMP_H
#define VFM_QMP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../util/util.h"

/* Longest line accepted from QEMU (query-pci on a large machine stays well below it). */
#define QMP_LINE_MAX  (256 * 1024)
#define QMP_DEPTH_MAX 32
/* Longest command name and event name accepted. */
#define QMP_NAME_MAX 64

enum qmp_msg_type {
	QMP_MSG_GREETING,
	QMP_MSG_RETURN,
	QMP_MSG_ERROR,
	QMP_MSG_EVENT,
};

const char *qmp_msg_type_to_string(enum qmp_msg_type t);

struct qmp_event {
	char name[QMP_NAME_MAX]; /* validated: [A-Z0-9_] only */
	json_t *data;		 /* owned; an empty object when the event has no data */
	int64_t timestamp_us;	 /* QEMU's wall-clock timestamp; -1 when absent */
};

struct qmp_msg {
	enum qmp_msg_type type;
	/* Reply id: has_id is set when the reply carries a non-negative integer id. */
	bool has_id;
	uint64_t id;
	/* QMP_MSG_GREETING */
	int version_major, version_minor, version_micro;
	/* QMP_MSG_RETURN: the return value (owned; any JSON type). */
	json_t *ret;
	/* QMP_MSG_ERROR: class (sanitized, short) and desc (verbatim, owned) plus a printable copy.
	 */
	char err_class[QMP_NAME_MAX];
	char *err_desc;
	char err_desc_print[256];
	/* QMP_MSG_EVENT */
	struct qmp_event event;
};

/*
 * Parses one line from the peer (without or with its trailing "\r\n"). On success fills *ret
 * (release with qmp_msg_clear()) and returns 0; returns -EMSGSIZE for a line longer than
 * QMP_LINE_MAX, -EBADMSG for anything that is not a well-formed QMP message, with d filled.
 */
int qmp_parse_line(const char *line, size_t len, struct qmp_msg *ret, struct diag *d);

/* Releases what a parsed message owns; accepts a zeroed or cleared message. */
void qmp_msg_clear(struct qmp_msg *m);

void qmp_event_clear(struct qmp_event *e);
/* Moves the event out of m (m no longer owns it). */
void qmp_msg_take_event(struct qmp_msg *m, struct qmp_event *ret);

/* True when name is a plausible QMP command name: [a-zA-Z0-9_-], 1..QMP_NAME_MAX-1 chars. */
bool qmp_command_name_valid(const char *name);

/*
 * Builds one command line, "{"execute": ..., "arguments": ..., "id": N}\n". args may be NULL
 * (no arguments) or a JSON object (borrowed). *ret_line is NUL-terminated, malloc'd, and
 * *ret_len excludes the NUL. Returns 0, -EINVAL (bad name or args) or -ENOMEM.
 */
int qmp_build_command(const char *execute, json_t *args, uint64_t id, char **ret_line,
		      size_t *ret_len, struct diag *d);

/* MigrationStatus values of QEMU 7.2. */
enum qmp_migration_status {
	QMP_MIG_NONE,
	QMP_MIG_SETUP,
	QMP_MIG_CANCELLING,
	QMP_MIG_CANCELLED,
	QMP_MIG_ACTIVE,
	QMP_MIG_POSTCOPY_ACTIVE,
	QMP_MIG_POSTCOPY_PAUSED,
	QMP_MIG_POSTCOPY_RECOVER,
	QMP_MIG_COMPLETED,
	QMP_MIG_FAILED,
	QMP_MIG_COLO,
	QMP_MIG_PRE_SWITCHOVER,
	QMP_MIG_DEVICE,
	QMP_MIG_WAIT_UNPLUG,
	QMP_MIG_UNKNOWN,
};

const char *qmp_migration_status_to_string(enum qmp_migration_status s);
/* Unknown names map to QMP_MIG_UNKNOWN. */
enum qmp_migration_status qmp_migration_status_from_string(const char *s);
/* True for completed, failed and cancelled. */
bool qmp_migration_status_is_final(enum qmp_migration_status s);

/* What query-migrate returns; fields QEMU leaves out stay -1. */
struct qmp_migration_info {
	enum qmp_migration_status status;
	int64_t total_time_ms;
	int64_t downtime_ms;
	int64_t expected_downtime_ms;
	int64_t setup_time_ms;
	int64_t ram_transferred;
	int64_t ram_remaining;
	int64_t ram_total;
	int64_t ram_dirty_sync_count;
	int64_t ram_dirty_pages_rate;
	double ram_mbps;      /* -1 when absent */
	char error_desc[256]; /* sanitized "error-desc" when failed, else empty */
};

/*
 * Parses the return value of query-migrate. An empty object (no migration yet) gives status
 * QMP_MIG_NONE. Returns 0 or -EBADMSG (not an object, or a field of the wrong type).
 */
int qmp_parse_migration_info(json_t *ret, struct qmp_migration_info *ret_info, struct diag *d);

/* Status from a MIGRATION event's data; -EBADMSG when it has none. */
int qmp_parse_migration_event(json_t *data, enum qmp_migration_status *ret_status, struct diag *d);

#endif
