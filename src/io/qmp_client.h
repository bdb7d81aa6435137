/* SPDX-License-Identifier: MIT */
/*
 * QMP client over a stream socket: greeting, capabilities negotiation, commands with ids, and
 * a bounded queue of the events that arrive while waiting. Every wait has a deadline (absolute,
 * monotonic milliseconds as from time_now_ms()); a deadline in the past means "do not block".
 * Single-threaded: one command in flight at a time.
 *
 * Errors: -ETIMEDOUT (deadline hit; the client stays usable, a late reply is discarded by id),
 * -EREMOTEIO (QEMU answered with an error: d holds "COMMAND: desc", the class is kept in
 * qmp_client_last_error_class()), -ECONNRESET (peer hung up), -EBADMSG (malformed message),
 * -EMSGSIZE (line over QMP_LINE_MAX). The last three break the connection for good: every later
 * call returns the same error.
 */
#ifndef VFM_QMP_CLIENT_H
#define VFM_QMP_CLIENT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "proto/qmp.h"
#include "util/util.h"

/* Events kept while nobody waits for them; the oldest is dropped when it is full. */
#define QMP_CLIENT_EVENT_QUEUE 256

struct qmp_client;

/* Connects to a UNIX socket path, reads the greeting and negotiates capabilities. */
int qmp_client_connect(const char *path, int64_t deadline_ms, struct qmp_client **ret,
		       struct diag *d);

/* Same over an already connected stream fd; takes ownership of fd (closed on failure too). */
int qmp_client_start(int fd, int64_t deadline_ms, struct qmp_client **ret, struct diag *d);

/* Closes the connection, drops queued events; accepts NULL; returns NULL. */
struct qmp_client *qmp_client_free(struct qmp_client *c);

static inline void qmp_client_freep(struct qmp_client **c)
{
	qmp_client_free(*c);
}
#define _cleanup_qmp_client_ _cleanup_(qmp_client_freep)

/* QEMU's version from the greeting. */
void qmp_client_version(struct qmp_client *c, int *ret_major, int *ret_minor, int *ret_micro);

/*
 * Runs one command. args: NULL or a JSON object (borrowed). On success, when ret_return is not
 * NULL, stores a new reference to the return value.
 */
int qmp_client_execute(struct qmp_client *c, const char *command, json_t *args, int64_t deadline_ms,
		       json_t **ret_return, struct diag *d);

/* Class of the last QMP error reply ("" when none yet), e.g. "DeviceNotFound". */
const char *qmp_client_last_error_class(struct qmp_client *c);

typedef bool (*qmp_event_match_fn)(const struct qmp_event *ev, void *userdata);

/*
 * Waits for the first event (queued or new) whose name equals name (NULL: any) and for which
 * match returns true (NULL: any). The matching event is removed from the queue and moved to
 * *ret_event when that is not NULL (release with qmp_event_clear()); the others stay queued.
 */
int qmp_client_wait_event(struct qmp_client *c, const char *name, qmp_event_match_fn match,
			  void *userdata, int64_t deadline_ms, struct qmp_event *ret_event,
			  struct diag *d);

/* Drops queued events with that name (NULL: all); returns how many. */
unsigned qmp_client_flush_events(struct qmp_client *c, const char *name);

/* Number of events dropped because the queue was full. */
uint64_t qmp_client_dropped_events(struct qmp_client *c);

/* True once a hangup or malformed message broke the connection (reconnect to go on). */
bool qmp_client_is_broken(struct qmp_client *c);

/* The socket, for a caller's own poll (readable means a message may be pending). */
int qmp_client_fd(struct qmp_client *c);

#endif
