/* SPDX-License-Identifier: MIT */
/*
 * Loss accounting for a fixed-rate probe, with no I/O: the caller reports each packet sent
 * (sequence number, send time) and each reply (sequence number, arrival time); the module
 * decides what was received, lost, late or duplicated, and cuts the lost packets into loss
 * windows. All times are nanoseconds on one monotonic clock.
 *
 * Memory is bounded whatever the run length: a ring of max_inflight packet slots (a packet
 * is settled, received or lost, once its reply timeout has passed) and at most max_windows
 * stored windows (later windows are counted in windows_omitted; the longest is always kept).
 */
#ifndef VFM_LOSSACCT_H
#define VFM_LOSSACCT_H

#include <stddef.h>
#include <stdint.h>

/* Hard limits on the configuration, so a bad option cannot exhaust memory. */
#define LOSSACCT_MAX_INFLIGHT ((size_t)1 << 22) /* 4 Mi slots of 16 bytes: 64 MiB */
#define LOSSACCT_MAX_WINDOWS  ((size_t)100000)

/*
 * A loss window: a maximal run of consecutive lost sequence numbers. start_ns is the send
 * time of the first lost packet; end_ns the send time of the next packet that was answered,
 * or, when no later packet was answered, the send time of the last lost packet plus one
 * interval. Both are relative to the first send.
 */
struct lossacct_window {
	int64_t start_ns;
	int64_t end_ns;
	uint64_t first_seq;
	uint64_t packets;
};

struct lossacct_config {
	int64_t interval_ns; /* nominal send interval (> 0); closes a window open at the end */
	int64_t timeout_ns;  /* a reply later than this after its send counts as lost (> 0) */
	size_t max_inflight; /* ring slots: must cover every packet younger than timeout_ns */
	size_t max_windows;  /* windows kept for the report (0: none, only counts and longest) */
	/* Called as each window closes (optional), e.g. to print it while the probe runs. */
	void (*on_window)(const struct lossacct_window *w, void *userdata);
	void *userdata;
};

enum lossacct_reply {
	LOSSACCT_REPLY_OK,	  /* first reply, in time: the packet is received */
	LOSSACCT_REPLY_DUPLICATE, /* a packet already answered (or already counted late) */
	LOSSACCT_REPLY_LATE,	  /* after the timeout: the packet stays lost */
	LOSSACCT_REPLY_UNKNOWN,	  /* a sequence number never sent: ignored */
};

const char *lossacct_reply_to_string(enum lossacct_reply r);

struct lossacct_totals {
	uint64_t sent;
	uint64_t received;
	uint64_t lost;
	uint64_t late;	     /* replies that came after the timeout (their packets are lost) */
	uint64_t duplicates; /* extra replies to a packet, ignored */
	uint64_t unknown;    /* replies to sequence numbers never sent, ignored */
	uint64_t evicted;    /* packets settled before their timeout because the ring was full */
	uint64_t windows;    /* all windows, including omitted ones */
	uint64_t windows_omitted;
	struct lossacct_window longest; /* packets == 0 when there was no loss */
	int64_t first_send_ns;		/* absolute; 0 when nothing was sent */
	int64_t last_send_ns;
};

struct lossacct;

/* Returns 0 and a new accounting in *ret, -EINVAL on a bad config, -ENOMEM. */
int lossacct_new(const struct lossacct_config *cfg, struct lossacct **ret);
/* Accepts NULL; returns NULL. */
struct lossacct *lossacct_free(struct lossacct *a);

/* The sequence number the next record_sent must use (0, 1, 2, ...). */
uint64_t lossacct_next_seq(const struct lossacct *a);

/*
 * Records packet seq sent at t_ns. seq must be lossacct_next_seq() (else -EINVAL); t_ns must
 * not go backwards (else -EINVAL). Also settles every packet older than the timeout. Record a
 * packet whose send failed too: it is then lost like any other.
 */
int lossacct_record_sent(struct lossacct *a, uint64_t seq, int64_t t_ns);

/* Records a reply to seq that arrived at t_ns; returns its lossacct_reply (>= 0). */
int lossacct_record_reply(struct lossacct *a, uint64_t seq, int64_t t_ns);

/* Settles every packet whose timeout has passed at now_ns (they are settled lazily else). */
void lossacct_advance(struct lossacct *a, int64_t now_ns);

/* Packets sent and neither answered nor settled yet: the caller may stop waiting at 0. */
uint64_t lossacct_outstanding(const struct lossacct *a);

/*
 * Settles every packet (unanswered ones are lost, whatever their age: wait up to the timeout
 * after the last send before calling this) and fills *ret_totals. Afterwards no more packets
 * can be recorded (-EINVAL); later replies are still classified (and counted as late or
 * duplicates) but settle nothing.
 */
void lossacct_finish(struct lossacct *a, struct lossacct_totals *ret_totals);

/* Totals so far (lost counts only settled packets). */
void lossacct_get_totals(const struct lossacct *a, struct lossacct_totals *ret_totals);

/* The stored windows, in order; valid until the next call that records anything. */
const struct lossacct_window *lossacct_windows(const struct lossacct *a, size_t *ret_n);

#endif
