// SPDX-License-Identifier: MIT
/* The loss accounting of vfprobe on synthetic timelines (no sockets, no real time). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "probe/lossacct.h"

#define MS  ((int64_t)1000000)
#define SEC ((int64_t)1000000000)

static struct lossacct *acct_new(size_t inflight, size_t max_windows)
{
	struct lossacct_config cfg = {
	    .interval_ns = MS,
	    .timeout_ns = SEC,
	    .max_inflight = inflight,
	    .max_windows = max_windows,
	};
	struct lossacct *a = NULL;

	assert_int_equal(lossacct_new(&cfg, &a), 0);
	assert_non_null(a);
	return a;
}

/* Sends packets first..first+n-1 at 1 ms intervals from t = seq ms; each is answered
 * 100 us later unless lost(seq). */
static void run_timeline(struct lossacct *a, uint64_t first, uint64_t n, bool (*lost)(uint64_t seq))
{
	for (uint64_t s = first; s < first + n; s++) {
		int64_t t = (int64_t)s * MS;

		assert_int_equal(lossacct_record_sent(a, s, t), 0);
		if (!lost || !lost(s))
			assert_int_equal(lossacct_record_reply(a, s, t + MS / 10),
					 LOSSACCT_REPLY_OK);
	}
}

static void assert_window(const struct lossacct_window *w, int64_t start_ms, int64_t end_ms,
			  uint64_t first_seq, uint64_t packets)
{
	assert_int_equal(w->start_ns, start_ms * MS);
	assert_int_equal(w->end_ns, end_ms * MS);
	assert_int_equal(w->first_seq, first_seq);
	assert_int_equal(w->packets, packets);
}

static void assert_balanced(const struct lossacct_totals *t)
{
	assert_int_equal(t->sent, t->received + t->lost);
}

static void test_no_loss(void **state)
{
	struct lossacct *a = acct_new(4096, 100);
	struct lossacct_totals t;
	size_t n;

	(void)state;
	run_timeline(a, 0, 5000, NULL);
	assert_int_equal(lossacct_outstanding(a), 0);
	lossacct_finish(a, &t);
	assert_int_equal(t.sent, 5000);
	assert_int_equal(t.received, 5000);
	assert_int_equal(t.lost, 0);
	assert_int_equal(t.late + t.duplicates + t.unknown + t.evicted, 0);
	assert_int_equal(t.windows, 0);
	assert_int_equal(t.longest.packets, 0);
	assert_int_equal(t.first_send_ns, 0);
	assert_int_equal(t.last_send_ns, 4999 * MS);
	lossacct_windows(a, &n);
	assert_int_equal(n, 0);
	lossacct_free(a);
}

static bool lost_300_399(uint64_t s)
{
	return s >= 300 && s <= 399;
}

static void test_one_window(void **state)
{
	struct lossacct *a = acct_new(4096, 100);
	const struct lossacct_window *w;
	struct lossacct_totals t;
	size_t n;

	(void)state;
	run_timeline(a, 0, 2000, lost_300_399);
	lossacct_finish(a, &t);
	assert_balanced(&t);
	assert_int_equal(t.lost, 100);
	assert_int_equal(t.windows, 1);
	w = lossacct_windows(a, &n);
	assert_int_equal(n, 1);
	/* From the first lost send to the send of the next answered packet. */
	assert_window(&w[0], 300, 400, 300, 100);
	assert_window(&t.longest, 300, 400, 300, 100);
	lossacct_free(a);
}

static bool lost_several(uint64_t s)
{
	return (s >= 10 && s < 20) || (s >= 50 && s < 55) || (s >= 100 && s < 200) || s == 700;
}

static void test_several_windows(void **state)
{
	struct lossacct *a = acct_new(4096, 100);
	const struct lossacct_window *w;
	struct lossacct_totals t;
	size_t n;

	(void)state;
	run_timeline(a, 0, 1000, lost_several);
	lossacct_finish(a, &t);
	assert_balanced(&t);
	assert_int_equal(t.lost, 10 + 5 + 100 + 1);
	w = lossacct_windows(a, &n);
	assert_int_equal(n, 4);
	assert_int_equal(t.windows, 4);
	assert_window(&w[0], 10, 20, 10, 10);
	assert_window(&w[1], 50, 55, 50, 5);
	assert_window(&w[2], 100, 200, 100, 100);
	assert_window(&w[3], 700, 701, 700, 1);
	assert_window(&t.longest, 100, 200, 100, 100);
	lossacct_free(a);
}

static bool lost_first_50(uint64_t s)
{
	return s < 50;
}

static void test_loss_at_start(void **state)
{
	struct lossacct *a = acct_new(4096, 100);
	const struct lossacct_window *w;
	struct lossacct_totals t;
	size_t n;

	(void)state;
	run_timeline(a, 0, 1000, lost_first_50);
	lossacct_finish(a, &t);
	w = lossacct_windows(a, &n);
	assert_int_equal(n, 1);
	assert_window(&w[0], 0, 50, 0, 50);
	lossacct_free(a);
}

static bool lost_from_950(uint64_t s)
{
	return s >= 950;
}

static void test_loss_at_end(void **state)
{
	struct lossacct *a = acct_new(4096, 100);
	const struct lossacct_window *w;
	struct lossacct_totals t;
	size_t n;

	(void)state;
	run_timeline(a, 0, 1000, lost_from_950);
	/* Still in flight: nothing is lost until the timeout has passed or the run ends. */
	assert_int_equal(lossacct_outstanding(a), 50);
	lossacct_get_totals(a, &t);
	assert_int_equal(t.lost, 0);
	lossacct_advance(a, 999 * MS + SEC + 1);
	assert_int_equal(lossacct_outstanding(a), 0);
	lossacct_finish(a, &t);
	assert_balanced(&t);
	assert_int_equal(t.lost, 50);
	w = lossacct_windows(a, &n);
	assert_int_equal(n, 1);
	/* No later packet was answered: the window ends one interval after the last lost send. */
	assert_window(&w[0], 950, 1000, 950, 50);
	lossacct_free(a);
}

static void test_unsettled_at_finish_are_lost(void **state)
{
	struct lossacct *a = acct_new(4096, 100);
	struct lossacct_totals t;

	(void)state;
	run_timeline(a, 0, 10, NULL);
	assert_int_equal(lossacct_record_sent(a, 10, 10 * MS), 0);
	assert_int_equal(lossacct_record_sent(a, 11, 11 * MS), 0);
	lossacct_finish(a, &t);
	assert_int_equal(t.lost, 2);
	assert_window(&t.longest, 10, 12, 10, 2);
	/* A reply after the finish is classified but settles nothing. */
	assert_int_equal(lossacct_record_reply(a, 11, 12 * MS), LOSSACCT_REPLY_LATE);
	assert_int_equal(lossacct_record_sent(a, 12, 12 * MS), -EINVAL);
	lossacct_free(a);
}

static void test_reordering(void **state)
{
	struct lossacct *a = acct_new(4096, 100);
	struct lossacct_totals t;

	(void)state;
	/* Replies come back in reverse order within each group of 10, up to 15 ms late. */
	for (uint64_t g = 0; g < 100; g++) {
		for (uint64_t i = 0; i < 10; i++)
			assert_int_equal(
			    lossacct_record_sent(a, g * 10 + i, (int64_t)(g * 10 + i) * MS), 0);
		for (uint64_t i = 10; i-- > 0;)
			assert_int_equal(lossacct_record_reply(a, g * 10 + i,
							       (int64_t)(g * 10 + 9) * MS +
								   (int64_t)(10 - i) * MS / 2),
					 LOSSACCT_REPLY_OK);
	}
	lossacct_finish(a, &t);
	assert_int_equal(t.received, 1000);
	assert_int_equal(t.lost, 0);
	assert_int_equal(t.windows, 0);
	lossacct_free(a);
}

static void test_reordering_across_a_window(void **state)
{
	struct lossacct *a = acct_new(4096, 100);
	const struct lossacct_window *w;
	struct lossacct_totals t;
	size_t n;

	(void)state;
	/* 0..9 sent; 5 and 6 never answered; the others answered in a scrambled order. */
	for (uint64_t s = 0; s < 10; s++)
		assert_int_equal(lossacct_record_sent(a, s, (int64_t)s * MS), 0);
	static const uint64_t order[] = {9, 0, 7, 2, 1, 8, 4, 3};
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		assert_int_equal(lossacct_record_reply(a, order[i], 10 * MS + (int64_t)i),
				 LOSSACCT_REPLY_OK);
	lossacct_finish(a, &t);
	assert_int_equal(t.lost, 2);
	w = lossacct_windows(a, &n);
	assert_int_equal(n, 1);
	assert_window(&w[0], 5, 7, 5, 2);
	lossacct_free(a);
}

static void test_duplicates(void **state)
{
	struct lossacct *a = acct_new(4096, 100);
	struct lossacct_totals t;

	(void)state;
	for (uint64_t s = 0; s < 100; s++) {
		int64_t ts = (int64_t)s * MS;

		assert_int_equal(lossacct_record_sent(a, s, ts), 0);
		assert_int_equal(lossacct_record_reply(a, s, ts + 10), LOSSACCT_REPLY_OK);
		assert_int_equal(lossacct_record_reply(a, s, ts + 20), LOSSACCT_REPLY_DUPLICATE);
	}
	/* A duplicate of packet 0 long after it was settled is still a duplicate. */
	lossacct_advance(a, 5 * SEC);
	assert_int_equal(lossacct_record_reply(a, 0, 5 * SEC), LOSSACCT_REPLY_DUPLICATE);
	lossacct_finish(a, &t);
	assert_int_equal(t.received, 100);
	assert_int_equal(t.duplicates, 101);
	assert_int_equal(t.lost, 0);
	assert_int_equal(t.windows, 0);
	lossacct_free(a);
}

static void test_late_replies(void **state)
{
	struct lossacct *a = acct_new(4096, 100);
	const struct lossacct_window *w;
	struct lossacct_totals t;
	size_t n;

	(void)state;
	for (uint64_t s = 0; s < 3000; s++) {
		int64_t ts = (int64_t)s * MS;

		assert_int_equal(lossacct_record_sent(a, s, ts), 0);
		/* 501 answered just over 1 s late, before the accounting settled it; then again. */
		if (s == 1501) {
			assert_int_equal(lossacct_outstanding(a), 2);
			assert_int_equal(lossacct_record_reply(a, 501, ts + 5),
					 LOSSACCT_REPLY_LATE);
			assert_int_equal(lossacct_outstanding(a), 1);
		}
		if (s != 500 && s != 501)
			assert_int_equal(lossacct_record_reply(a, s, ts + 10), LOSSACCT_REPLY_OK);
		if (s == 1600)
			assert_int_equal(lossacct_record_reply(a, 501, ts),
					 LOSSACCT_REPLY_DUPLICATE);
		/* 500 answered 1.5 s late, after it was settled as lost. */
		if (s == 2000)
			assert_int_equal(lossacct_record_reply(a, 500, ts), LOSSACCT_REPLY_LATE);
		if (s == 2001)
			assert_int_equal(lossacct_record_reply(a, 500, ts),
					 LOSSACCT_REPLY_DUPLICATE);
	}
	/* Exactly at the timeout is in time. */
	assert_int_equal(lossacct_record_sent(a, 3000, 3000 * MS), 0);
	assert_int_equal(lossacct_record_reply(a, 3000, 3000 * MS + SEC), LOSSACCT_REPLY_OK);
	lossacct_finish(a, &t);
	assert_balanced(&t);
	assert_int_equal(t.late, 2);
	assert_int_equal(t.duplicates, 2);
	assert_int_equal(t.lost, 2);
	w = lossacct_windows(a, &n);
	assert_int_equal(n, 1);
	assert_window(&w[0], 500, 502, 500, 2);
	lossacct_free(a);
}

static bool lost_around_wrap(uint64_t s)
{
	return s >= 65530 && s <= 65545;
}

static void test_wrap(void **state)
{
	/* More than 2^16 packets, as with a 16-bit ICMP sequence number, in a small ring. */
	struct lossacct *a = acct_new(2048, 100);
	const struct lossacct_window *w;
	struct lossacct_totals t;
	size_t n;

	(void)state;
	run_timeline(a, 0, 140000, lost_around_wrap);
	assert_int_equal(lossacct_record_reply(a, 140000, 140000 * MS), LOSSACCT_REPLY_UNKNOWN);
	/* Same low 16 bits as a packet in flight, but a settled one: no confusion. */
	assert_int_equal(lossacct_record_reply(a, 139999 - 65536, 140000 * MS),
			 LOSSACCT_REPLY_LATE);
	lossacct_finish(a, &t);
	assert_int_equal(t.sent, 140000);
	assert_int_equal(t.lost, 16);
	assert_int_equal(t.unknown, 1);
	assert_int_equal(t.evicted, 0);
	w = lossacct_windows(a, &n);
	assert_int_equal(n, 1);
	assert_window(&w[0], 65530, 65546, 65530, 16);
	lossacct_free(a);
}

static bool lost_every_1000th_growing(uint64_t s)
{
	/* Windows of 1, 2, 3, 4, 5 packets at 1000, 2000, ... */
	uint64_t k = s / 1000, off = s % 1000;

	return k >= 1 && k <= 5 && off < k;
}

struct seen {
	size_t n;
	struct lossacct_window last;
};

static void record_window(const struct lossacct_window *w, void *userdata)
{
	struct seen *s = userdata;

	s->n++;
	s->last = *w;
}

static void test_limits(void **state)
{
	struct lossacct_config cfg = {.interval_ns = MS, .timeout_ns = SEC, .max_inflight = 16};
	struct lossacct *a = NULL;
	const struct lossacct_window *w;
	struct lossacct_totals t;
	struct seen seen = {0};
	size_t n;

	(void)state;
	cfg.interval_ns = 0;
	assert_int_equal(lossacct_new(&cfg, &a), -EINVAL);
	cfg.interval_ns = MS;
	cfg.timeout_ns = 0;
	assert_int_equal(lossacct_new(&cfg, &a), -EINVAL);
	cfg.timeout_ns = SEC;
	cfg.max_inflight = 0;
	assert_int_equal(lossacct_new(&cfg, &a), -EINVAL);
	cfg.max_inflight = LOSSACCT_MAX_INFLIGHT + 1;
	assert_int_equal(lossacct_new(&cfg, &a), -EINVAL);
	cfg.max_inflight = 16;
	cfg.max_windows = LOSSACCT_MAX_WINDOWS + 1;
	assert_int_equal(lossacct_new(&cfg, &a), -EINVAL);
	assert_null(a);

	/* Only two windows kept; the rest counted; the longest is the fifth. */
	cfg = (struct lossacct_config){.interval_ns = MS,
				       .timeout_ns = SEC,
				       .max_inflight = 2048,
				       .max_windows = 2,
				       .on_window = record_window,
				       .userdata = &seen};
	assert_int_equal(lossacct_new(&cfg, &a), 0);
	run_timeline(a, 0, 7000, lost_every_1000th_growing);
	lossacct_finish(a, &t);
	assert_int_equal(t.windows, 5);
	assert_int_equal(t.windows_omitted, 3);
	assert_int_equal(seen.n, 5);
	assert_window(&seen.last, 5000, 5005, 5000, 5);
	w = lossacct_windows(a, &n);
	assert_int_equal(n, 2);
	assert_window(&w[0], 1000, 1001, 1000, 1);
	assert_window(&w[1], 2000, 2002, 2000, 2);
	assert_window(&t.longest, 5000, 5005, 5000, 5);
	lossacct_free(a);

	/* A ring too small for the traffic settles the oldest early and says so. */
	cfg = (struct lossacct_config){
	    .interval_ns = MS, .timeout_ns = SEC, .max_inflight = 10, .max_windows = 10};
	assert_int_equal(lossacct_new(&cfg, &a), 0);
	for (uint64_t s = 0; s < 20; s++)
		assert_int_equal(lossacct_record_sent(a, s, (int64_t)s * MS), 0);
	lossacct_finish(a, &t);
	assert_int_equal(t.evicted, 10);
	assert_int_equal(t.lost, 20);
	assert_int_equal(t.windows, 1);
	lossacct_free(a);
	assert_null(lossacct_free(NULL));
}

static void test_bad_sends(void **state)
{
	struct lossacct *a = acct_new(64, 10);

	(void)state;
	assert_int_equal(lossacct_next_seq(a), 0);
	assert_int_equal(lossacct_record_sent(a, 1, 0), -EINVAL); /* not the next seq */
	assert_int_equal(lossacct_record_sent(a, 0, 5 * MS), 0);
	assert_int_equal(lossacct_record_sent(a, 1, 4 * MS), -EINVAL); /* time went back */
	assert_int_equal(lossacct_record_sent(a, 1, 5 * MS), 0);
	assert_int_equal(lossacct_next_seq(a), 2);
	lossacct_free(a);
}

static void test_windows_close_when_settled(void **state)
{
	struct seen seen = {0};
	struct lossacct_config cfg = {.interval_ns = MS,
				      .timeout_ns = SEC,
				      .max_inflight = 4096,
				      .max_windows = 10,
				      .on_window = record_window,
				      .userdata = &seen};
	struct lossacct *a = NULL;
	struct lossacct_totals t;

	(void)state;
	assert_int_equal(lossacct_new(&cfg, &a), 0);
	run_timeline(a, 0, 1000, lost_300_399);
	/* Packet 400 (answered) is settled once its own timeout has passed. */
	lossacct_advance(a, 400 * MS + SEC);
	assert_int_equal(seen.n, 0);
	lossacct_advance(a, 400 * MS + SEC + 1);
	assert_int_equal(seen.n, 1);
	assert_window(&seen.last, 300, 400, 300, 100);
	lossacct_finish(a, &t);
	assert_int_equal(seen.n, 1);
	lossacct_free(a);
}

static void test_long_run_bounded(void **state)
{
	/* Two million packets (33 min at 1000/s) through a 2048-slot ring. */
	struct lossacct *a = acct_new(2048, 100);
	struct lossacct_totals t;

	(void)state;
	run_timeline(a, 0, 2000000, lost_300_399);
	lossacct_finish(a, &t);
	assert_int_equal(t.sent, 2000000);
	assert_int_equal(t.lost, 100);
	assert_int_equal(t.evicted, 0);
	lossacct_free(a);
}

static void test_reply_names(void **state)
{
	(void)state;
	assert_string_equal(lossacct_reply_to_string(LOSSACCT_REPLY_OK), "ok");
	assert_string_equal(lossacct_reply_to_string(LOSSACCT_REPLY_LATE), "late");
	assert_string_equal(lossacct_reply_to_string((enum lossacct_reply)99), "invalid");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_no_loss),
	    cmocka_unit_test(test_one_window),
	    cmocka_unit_test(test_several_windows),
	    cmocka_unit_test(test_loss_at_start),
	    cmocka_unit_test(test_loss_at_end),
	    cmocka_unit_test(test_unsettled_at_finish_are_lost),
	    cmocka_unit_test(test_reordering),
	    cmocka_unit_test(test_reordering_across_a_window),
	    cmocka_unit_test(test_duplicates),
	    cmocka_unit_test(test_late_replies),
	    cmocka_unit_test(test_wrap),
	    cmocka_unit_test(test_limits),
	    cmocka_unit_test(test_bad_sends),
	    cmocka_unit_test(test_windows_close_when_settled),
	    cmocka_unit_test(test_long_run_bounded),
	    cmocka_unit_test(test_reply_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
