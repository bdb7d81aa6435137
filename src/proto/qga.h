/* SPDX-License-Identifier: MIT */
/*
 * QEMU guest agent wire protocol codec (no I/O), used on both ends: by vfmigrate-agent to read
 * requests and write replies, and by the host-side client to write requests and read replies.
 *
 * Framing: a stream of JSON objects, optionally separated by whitespace (replies end with a
 * newline). A 0xFF byte, never valid in UTF-8, resets the reader: whatever partial message
 * was buffered is dropped. guest-sync-delimited replies are preceded by 0xFF so a client can
 * drop stale data up to it.
 */
#ifndef VFM_QGA_H
#define VFM_QGA_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../util/util.h"

/* Limits on what a peer may send. */
#define QGA_REQUEST_MAX	     (64 * 1024)       /* one request, in bytes */
#define QGA_REPLY_MAX	     (4 * 1024 * 1024) /* one reply (guest-exec output is base64) */
#define QGA_DEPTH_MAX	     32		       /* JSON nesting */
#define QGA_SENTINEL	     0xFF
#define QGA_ERROR_DESC_MAX   400
#define QGA_ERROR_CLASS_MAX  64
#define QGA_COMMAND_NAME_MAX 64

/* Error classes in {"error": {"class": ...}}. The first two are QEMU's; the others are ours. */
enum qga_error_class {
	QGA_ERROR_GENERIC,	     /* malformed or oversized request, missing 'execute', ... */
	QGA_ERROR_COMMAND_NOT_FOUND, /* unknown command */
	QGA_ERROR_INVALID_PARAMETER, /* missing, unknown or mistyped argument, bad value */
	QGA_ERROR_DEVICE_NOT_FOUND,  /* no NIC with that MAC, no such bond */
	QGA_ERROR_INVALID_STATE,     /* e.g. the NIC is not a slave of the bond, bond exists */
	QGA_ERROR_TIMEOUT,	     /* a deadline passed (NIC did not appear / no link) */
	QGA_ERROR_KERNEL,	     /* the kernel refused a netlink request */
	_QGA_ERROR_MAX,
};

const char *qga_error_class_to_string(enum qga_error_class c);
/* Returns the class for its name, or -EINVAL. */
int qga_error_class_from_string(const char *s);

/* Incremental splitter of a byte stream into JSON messages. */
enum qga_split_event {
	QGA_SPLIT_NEED_MORE, /* all input consumed, no complete message */
	QGA_SPLIT_MESSAGE,   /* a complete message is in buf[0..len) (valid until the next call) */
	QGA_SPLIT_OVERSIZE,  /* a message longer than max ended; its bytes were dropped */
	QGA_SPLIT_RESYNC,    /* 0xFF seen; a partial message (if any) was dropped */
};

struct qga_splitter {
	char *buf;
	size_t len, cap, max;
	size_t depth;
	size_t dropped; /* bytes of the oversized message dropped so far */
	bool in_str, esc, started, oversize;
	bool want_sentinel; /* drop everything until a 0xFF byte */
	bool emitted;	    /* buf holds the last emitted message; clear it on next feed */
};

/* max: longest message accepted. */
void qga_splitter_init(struct qga_splitter *s, size_t max);
void qga_splitter_done(struct qga_splitter *s);
/* Drops buffered state (e.g. after a hangup). */
void qga_splitter_reset(struct qga_splitter *s);
/* Client side: after sending guest-sync-delimited, drop all input up to the next 0xFF. */
void qga_splitter_expect_sentinel(struct qga_splitter *s);

/*
 * Consumes input from data[0..len) until an event happens; *ret_used is how many bytes were
 * consumed (call again with the rest). Returns the event (>= 0) or -ENOMEM.
 */
int qga_splitter_feed(struct qga_splitter *s, const void *data, size_t len, size_t *ret_used);

/* A parsed request. */
struct qga_request {
	char execute[QGA_COMMAND_NAME_MAX];
	json_t *arguments; /* object (owned), never NULL: {} when absent */
	json_t *id;	   /* owned, NULL when absent */
};

/*
 * Parses one request message. On failure fills *ret_class and d, and sets *ret_id to the
 * request's id if one could be read (owned by caller, else NULL), so the error reply can carry
 * it. Returns 0 or -EINVAL.
 */
int qga_request_parse(const char *buf, size_t len, struct qga_request *ret,
		      enum qga_error_class *ret_class, json_t **ret_id, struct diag *d);
void qga_request_done(struct qga_request *r);

/*
 * Encodes a request line "{...}\n" (malloc'd, NUL-terminated). arguments and id may be NULL
 * (borrowed). Returns NULL on allocation failure.
 */
char *qga_request_format(const char *execute, json_t *arguments, json_t *id);

/*
 * Encode replies (malloc'd, newline-terminated, NUL-terminated); value and id are borrowed
 * and may be NULL (value NULL means {}). With delimited, the reply starts with 0xFF.
 */
char *qga_reply_format_return(json_t *value, json_t *id, bool delimited);
char *qga_reply_format_error(enum qga_error_class c, const char *desc, json_t *id);

/* A parsed reply. Text fields are sanitized. */
struct qga_reply {
	bool is_error;
	json_t *value; /* "return" value (owned); NULL for errors */
	json_t *id;    /* owned, NULL when absent */
	char error_class[QGA_ERROR_CLASS_MAX];
	char error_desc[QGA_ERROR_DESC_MAX];
};

/* Parses one reply message, strictly (size, depth, shape). Returns 0 or -EBADMSG. */
int qga_reply_parse(const char *buf, size_t len, struct qga_reply *ret, struct diag *d);
void qga_reply_done(struct qga_reply *r);

#endif
