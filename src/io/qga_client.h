/* SPDX-License-Identifier: MIT */
/*
 * Client of a QEMU guest agent channel (QEMU chardev UNIX socket): works with vfmigrate-agent
 * and with the stock qemu-ga. Every wait has a deadline (absolute, monotonic ms as from
 * time_now_ms()). Single-threaded, one command in flight.
 *
 * The stream is resynchronised with guest-sync-delimited (0xFF sent first, a random id, input
 * dropped up to the 0xFF sentinel and the matching reply) on the first call and after any
 * timeout or malformed reply, so a late reply of an abandoned call is never taken for another's.
 *
 * Errors: -ETIMEDOUT (deadline hit; the next call resyncs), -EREMOTEIO (the agent answered with
 * an error: d holds "COMMAND: desc", sanitized; the class is in qga_client_last_error_class()),
 * -ECONNRESET (peer hung up; the client is dead), -EBADMSG / -EMSGSIZE (malformed or oversized
 * reply, over QGA_REPLY_MAX; the next call resyncs), other -errno from the socket.
 */
#ifndef VFM_QGA_CLIENT_H
#define VFM_QGA_CLIENT_H

#include <jansson.h>
#include <stdint.h>

#include "proto/qga.h"
#include "util/util.h"

struct qga_client;

/* Connects to a UNIX socket path and synchronises. */
int qga_client_connect(const char *path, int64_t deadline_ms, struct qga_client **ret,
		       struct diag *d);
/* Same over a connected stream fd; takes ownership of fd (closed on failure too). */
int qga_client_start(int fd, int64_t deadline_ms, struct qga_client **ret, struct diag *d);

/* Closes; accepts NULL; returns NULL. */
struct qga_client *qga_client_free(struct qga_client *c);
static inline void qga_client_freep(struct qga_client **c)
{
	qga_client_free(*c);
}
#define _cleanup_qga_client_ _cleanup_(qga_client_freep)

/* guest-sync-delimited with a fresh random id. */
int qga_client_sync(struct qga_client *c, int64_t deadline_ms, struct diag *d);

/*
 * Runs one command; arguments: NULL or a JSON object (borrowed). On success, when ret_return is
 * not NULL, stores a new reference to the "return" value.
 */
int qga_client_call(struct qga_client *c, const char *command, json_t *arguments,
		    int64_t deadline_ms, json_t **ret_return, struct diag *d);

/* Class of the last error reply ("" when none yet), e.g. "DeviceNotFound". */
const char *qga_client_last_error_class(struct qga_client *c);

/* Most output kept from a guest-exec'd command (each of stdout/stderr). */
#define QGA_EXEC_OUTPUT_MAX (1024 * 1024)

/*
 * Runs path with argv (NULL-terminated, without argv[0]) through guest-exec, capturing
 * output, and polls guest-exec-status until it exits or the deadline passes. *ret_exitcode
 * is its exit code (128+N when killed by signal N, -1 when the guest reported none in range);
 * *ret_out (may be NULL) its stdout, decoded, NUL-terminated, malloc'd: raw guest bytes (may
 * hold NULs and control characters), str_sanitize() before printing.
 */
int qga_client_exec(struct qga_client *c, const char *path, const char *const *argv,
		    int64_t deadline_ms, int *ret_exitcode, char **ret_out, struct diag *d);

/* Encodes s as standard base64 (padded): malloc'd, NULL when out of memory. */
char *qga_base64_encode(const char *s);

/* Decodes standard base64 into a malloc'd, NUL-terminated buffer. Returns 0 or -EINVAL. */
int qga_base64_decode(const char *in, size_t max_out, char **ret, size_t *ret_len);

#endif
