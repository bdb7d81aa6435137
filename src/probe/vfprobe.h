/* SPDX-License-Identifier: MIT */
/* What vfprobe's files share (vfprobe.c, options.c, report.c). */
#ifndef VFM_PROBE_VFPROBE_H
#define VFM_PROBE_VFPROBE_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "lossacct.h"
#include "util/util.h"

#ifndef ICMP_FILTER
#define ICMP_FILTER 1 /* linux/icmp.h, SOL_RAW level: a bit mask of ICMP types to drop */
#endif
#ifndef SO_RCVBUFFORCE
#define SO_RCVBUFFORCE 33
#endif

#define EXIT_RUNTIME 1
#define EXIT_USAGE   2

#define DEFAULT_RATE	   1000
#define DEFAULT_TIMEOUT_MS 1000
#define DEFAULT_ECHO_PORT  9097
#define MAX_RATE	   100000
#define MAX_TIMEOUT_MS	   60000
#define MAX_DURATION_MS	   ((int64_t)31 * 24 * 3600 * 1000)
/* Behind schedule, at most SEND_BURST packets go out back to back, the rest of the backlog
 * at CATCHUP_FACTOR times the rate; slots more than MAX_BACKLOG_NS overdue are skipped. */
#define SEND_BURST     4
#define CATCHUP_FACTOR 4
#define MAX_BACKLOG_NS ((int64_t)100000000)

/* Payload of every probe packet (ICMP data or UDP datagram), integers big-endian. */
#define PAYLOAD_LEN	32
#define PAYLOAD_MIN	24
#define PAYLOAD_VERSION 1

struct options {
	int64_t rate;
	int64_t duration_ms; /* 0: until SIGINT/SIGTERM */
	int64_t timeout_ms;
	int64_t udp_port; /* 0: ICMP echo */
	int64_t echo_port;
	bool echo, json, quiet;
	const char *ready_file;
	const char *target;
};

struct probe {
	const struct options *o;
	int family;
	struct sockaddr_storage dst;
	socklen_t dst_len;
	char dst_text[INET6_ADDRSTRLEN];
	int sock;
	bool icmp;
	bool ip_header;	  /* received packets start with an IPv4 header (raw ICMPv4 socket) */
	bool ping_socket; /* SOCK_DGRAM ICMP: the kernel owns the identifier */
	uint16_t ident;
	uint64_t nonce;
	int64_t interval_ns;
	struct lossacct *acct;
	int64_t max_lateness_ns;
	uint64_t skipped;
	uint64_t send_errors;
	int last_send_errno;
	int64_t wall_minus_mono; /* CLOCK_REALTIME - CLOCK_MONOTONIC at start */
};

/* options.c: -1 when the options are fine, else the exit code. */
int parse_options(int argc, char **argv, struct options *o);

/* report.c */
void on_window(const struct lossacct_window *w, void *userdata);
int report_json(const struct probe *p, const struct lossacct_totals *t);
void report_text(const struct probe *p, const struct lossacct_totals *t);

#endif
