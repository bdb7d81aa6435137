/* SPDX-License-Identifier: MIT */
/*
 * Scripted fake QMP server for unit tests: runs a script of steps in a thread on one end of a
 * socketpair (or on an accepted UNIX socket) and records the first deviation from it.
 */
#ifndef VFM_TEST_FAKE_QMP_H
#define VFM_TEST_FAKE_QMP_H

#include <stddef.h>

enum fq_op {
	FQ_END = 0,
	FQ_SEND,       /* a: raw text sent as is (include the "\r\n") */
	FQ_EXPECT,     /* a: command name the client must send next; b: NULL or a JSON object
			* whose members must all be in the command's arguments */
	FQ_REPLY,      /* a: JSON return value, sent with the id of the last expected command */
	FQ_ERROR,      /* a: class, b: desc (JSON string contents), with the last id */
	FQ_REPLY_ID,   /* a: JSON return value, sent with id = last id + n (a stale/other id) */
	FQ_DELAY,      /* n: milliseconds */
	FQ_SEND_BIG,   /* n: bytes of one line ({"return": "aaa..."}) with its newline */
	FQ_CLOSE,      /* close the connection */
	FQ_WAIT_CLOSE, /* wait until the client closes */
};

struct fq_step {
	enum fq_op op;
	const char *a;
	const char *b;
	long n;
};

#define FQ_GREETING_LINE                                                                   \
	"{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 22, \"minor\": 2, \"major\": 7}, " \
	"\"package\": \"Debian 1:7.2+dfsg-7+deb12u18+b3\"}, \"capabilities\": [\"oob\"]}}\r\n"
/* Greeting and capabilities negotiation, as QEMU 7.2 does them. */
#define FQ_HANDSHAKE                                                                    \
	{FQ_SEND, FQ_GREETING_LINE, NULL, 0}, {FQ_EXPECT, "qmp_capabilities", NULL, 0}, \
	{                                                                               \
		FQ_REPLY, "{}", NULL, 0                                                 \
	}

struct fake_qmp;

/* Starts the script on a socketpair; *ret_fd is the client's end (caller owns it). */
struct fake_qmp *fake_qmp_start(const struct fq_step *steps, int *ret_fd);
/* Starts the script on a UNIX socket listening at path (accepts one connection). */
struct fake_qmp *fake_qmp_start_path(const struct fq_step *steps, const char *path);
/*
 * Waits for the script to end (each step has a 5 s cap) and frees f. Returns 0 when every step
 * ran as scripted, else -1 with the deviation in errbuf.
 */
int fake_qmp_finish(struct fake_qmp *f, char *errbuf, size_t n);

#endif
