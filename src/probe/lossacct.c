// SPDX-License-Identifier: MIT
#include "lossacct.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

enum slot_state {
	SLOT_PENDING,	/* sent, no reply yet, not settled */
	SLOT_RECEIVED,	/* answered in time */
	SLOT_LATE,	/* answered after the timeout, not settled yet */
	SLOT_LOST,	/* settled without a reply */
	SLOT_LOST_LATE, /* settled lost, and its late reply came afterwards */
};

struct slot {
	int64_t t_send;
	uint8_t state;
};

struct lossacct {
	struct lossacct_config cfg;
	struct slot *ring; /* packet seq lives at ring[seq % cfg.max_inflight] */
	uint64_t next_seq; /* next sequence number to send */
	uint64_t base;	   /* oldest packet not settled yet */
	uint64_t outstanding;
	int64_t now_ns; /* latest time seen */
	bool finished;

	/* The run of lost packets being built (a window not closed yet). */
	bool in_run;
	struct lossacct_window run;
	int64_t run_last_send; /* relative send time of the last lost packet in the run */

	struct lossacct_window *windows;
	size_t n_windows, windows_alloc;

	struct lossacct_totals t;
};

static const char *const reply_names[] = {
    [LOSSACCT_REPLY_OK] = "ok",
    [LOSSACCT_REPLY_DUPLICATE] = "duplicate",
    [LOSSACCT_REPLY_LATE] = "late",
    [LOSSACCT_REPLY_UNKNOWN] = "unknown",
};

const char *lossacct_reply_to_string(enum lossacct_reply r)
{
	if ((size_t)r >= sizeof(reply_names) / sizeof(reply_names[0]) || !reply_names[r])
		return "invalid";
	return reply_names[r];
}

int lossacct_new(const struct lossacct_config *cfg, struct lossacct **ret)
{
	struct lossacct *a;

	if (!cfg || cfg->interval_ns <= 0 || cfg->timeout_ns <= 0 || cfg->max_inflight == 0 ||
	    cfg->max_inflight > LOSSACCT_MAX_INFLIGHT || cfg->max_windows > LOSSACCT_MAX_WINDOWS)
		return -EINVAL;
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->ring = calloc(cfg->max_inflight, sizeof(*a->ring));
	if (!a->ring) {
		free(a);
		return -ENOMEM;
	}
	a->cfg = *cfg;
	*ret = a;
	return 0;
}

struct lossacct *lossacct_free(struct lossacct *a)
{
	if (!a)
		return NULL;
	free(a->ring);
	free(a->windows);
	free(a);
	return NULL;
}

uint64_t lossacct_next_seq(const struct lossacct *a)
{
	return a->next_seq;
}

static struct slot *slot_of(const struct lossacct *a, uint64_t seq)
{
	return &a->ring[seq % a->cfg.max_inflight];
}

static void window_close(struct lossacct *a, int64_t end_ns)
{
	struct lossacct_window *w = &a->run;

	w->end_ns = end_ns;
	a->in_run = false;
	a->t.windows++;
	if (a->t.longest.packets == 0 ||
	    w->end_ns - w->start_ns > a->t.longest.end_ns - a->t.longest.start_ns)
		a->t.longest = *w;
	if (a->n_windows < a->cfg.max_windows) {
		if (a->n_windows == a->windows_alloc) {
			size_t n = a->windows_alloc ? a->windows_alloc * 2 : 16;
			struct lossacct_window *p;

			if (n > a->cfg.max_windows)
				n = a->cfg.max_windows;
			p = realloc(a->windows, n * sizeof(*p));
			if (!p) {
				/* Keep going with what we have: the counts and the longest stay
				 * right. */
				a->t.windows_omitted++;
				goto notify;
			}
			a->windows = p;
			a->windows_alloc = n;
		}
		a->windows[a->n_windows++] = *w;
	} else {
		a->t.windows_omitted++;
	}
notify:
	if (a->cfg.on_window)
		a->cfg.on_window(w, a->cfg.userdata);
}

/* Settles the oldest unsettled packet: it is received, or lost and part of a window. */
static void settle_one(struct lossacct *a)
{
	struct slot *s = slot_of(a, a->base);
	int64_t rel = s->t_send - a->t.first_send_ns;

	if (s->state == SLOT_RECEIVED) {
		if (a->in_run)
			window_close(a, rel);
	} else {
		if (s->state == SLOT_PENDING)
			a->outstanding--;
		s->state = s->state == SLOT_LATE ? SLOT_LOST_LATE : SLOT_LOST;
		a->t.lost++;
		if (!a->in_run) {
			a->in_run = true;
			a->run = (struct lossacct_window){.start_ns = rel, .first_seq = a->base};
		}
		a->run.packets++;
		a->run_last_send = rel;
	}
	a->base++;
}

void lossacct_advance(struct lossacct *a, int64_t now_ns)
{
	if (now_ns > a->now_ns)
		a->now_ns = now_ns;
	while (a->base < a->next_seq && a->now_ns - slot_of(a, a->base)->t_send > a->cfg.timeout_ns)
		settle_one(a);
}

int lossacct_record_sent(struct lossacct *a, uint64_t seq, int64_t t_ns)
{
	struct slot *s;

	if (a->finished || seq != a->next_seq || (a->next_seq > 0 && t_ns < a->t.last_send_ns))
		return -EINVAL;
	lossacct_advance(a, t_ns);
	/* The ring is sized to hold every packet younger than the timeout; if the caller sent
	 * faster than that, settle the oldest early rather than lose track of it. */
	if (a->next_seq - a->base >= a->cfg.max_inflight) {
		a->t.evicted++;
		settle_one(a);
	}
	if (a->next_seq == 0)
		a->t.first_send_ns = t_ns;
	a->t.last_send_ns = t_ns;
	s = slot_of(a, seq);
	*s = (struct slot){.t_send = t_ns, .state = SLOT_PENDING};
	a->next_seq++;
	a->t.sent++;
	a->outstanding++;
	return 0;
}

int lossacct_record_reply(struct lossacct *a, uint64_t seq, int64_t t_ns)
{
	struct slot *s;
	int r;

	if (seq >= a->next_seq) {
		a->t.unknown++;
		return LOSSACCT_REPLY_UNKNOWN;
	}
	if (seq < a->base && a->next_seq - seq > a->cfg.max_inflight) {
		/* Settled so long ago that its slot was reused: it cannot be on time. */
		a->t.late++;
		return LOSSACCT_REPLY_LATE;
	}
	s = slot_of(a, seq);
	switch (s->state) {
	case SLOT_PENDING:
		if (t_ns - s->t_send > a->cfg.timeout_ns) {
			s->state = SLOT_LATE;
			a->outstanding--;
			a->t.late++;
			r = LOSSACCT_REPLY_LATE;
		} else {
			s->state = SLOT_RECEIVED;
			a->outstanding--;
			a->t.received++;
			r = LOSSACCT_REPLY_OK;
		}
		break;
	case SLOT_LOST:
		/* Settled as lost (its timeout passed, or the run finished) before this came. */
		s->state = SLOT_LOST_LATE;
		a->t.late++;
		r = LOSSACCT_REPLY_LATE;
		break;
	default:
		a->t.duplicates++;
		r = LOSSACCT_REPLY_DUPLICATE;
		break;
	}
	if (!a->finished)
		lossacct_advance(a, t_ns);
	return r;
}

uint64_t lossacct_outstanding(const struct lossacct *a)
{
	return a->outstanding;
}

void lossacct_get_totals(const struct lossacct *a, struct lossacct_totals *ret_totals)
{
	*ret_totals = a->t;
}

void lossacct_finish(struct lossacct *a, struct lossacct_totals *ret_totals)
{
	if (!a->finished) {
		while (a->base < a->next_seq)
			settle_one(a);
		if (a->in_run)
			window_close(a, a->run_last_send + a->cfg.interval_ns);
		a->finished = true;
	}
	*ret_totals = a->t;
}

const struct lossacct_window *lossacct_windows(const struct lossacct *a, size_t *ret_n)
{
	*ret_n = a->n_windows;
	return a->windows;
}
