// SPDX-License-Identifier: MIT
/* vfprobe's final report and its loss windows, as text or JSON. */
#include "vfprobe.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>

static double round_to(double v, double unit)
{
	return round(v / unit) * unit;
}

void on_window(const struct lossacct_window *w, void *userdata)
{
	const struct probe *p = userdata;

	if (p->o->quiet)
		return;
	fprintf(stderr, "vfprobe: loss window at %.3f s: %" PRIu64 " packets, %.3f ms\n",
		w->start_ns / 1e9, w->packets, (w->end_ns - w->start_ns) / 1e6);
}

int report_json(const struct probe *p, const struct lossacct_totals *t)
{
	const struct lossacct_window *w;
	json_t *o, *arr;
	size_t n;
	double dur =
	    t->sent ? (double)(t->last_send_ns - t->first_send_ns + p->interval_ns) / 1e9 : 0;
	int r;

	arr = json_array();
	w = lossacct_windows(p->acct, &n);
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr,
				      json_pack("{s:f, s:f, s:I, s:f, s:I}", "start_s",
						round_to(w[i].start_ns / 1e9, 1e-6), "end_s",
						round_to(w[i].end_ns / 1e9, 1e-6), "packets",
						(json_int_t)w[i].packets, "duration_ms",
						round_to((w[i].end_ns - w[i].start_ns) / 1e6, 1e-3),
						"first_seq", (json_int_t)w[i].first_seq));
	o = json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:f, s:f, s:o, s:f, s:I}", "target",
		      p->dst_text, "mode", p->icmp ? "icmp" : "udp", "rate", (json_int_t)p->o->rate,
		      "sent", (json_int_t)t->sent, "received", (json_int_t)t->received, "lost",
		      (json_int_t)t->lost, "late", (json_int_t)t->late, "duplicates",
		      (json_int_t)t->duplicates, "duration_s", round_to(dur, 1e-6),
		      "max_send_lateness_ms", round_to(p->max_lateness_ns / 1e6, 1e-3), "windows",
		      arr, "longest_window_ms",
		      round_to((t->longest.end_ns - t->longest.start_ns) / 1e6, 1e-3),
		      "longest_window_packets", (json_int_t)t->longest.packets);
	if (!o)
		return -ENOMEM;
	if (!p->icmp)
		json_object_set_new(o, "port", json_integer(p->o->udp_port));
	json_object_set_new(o, "timeout_ms", json_integer(p->o->timeout_ms));
	json_object_set_new(
	    o, "start_unix_s",
	    json_real(t->sent ? round_to((t->first_send_ns + p->wall_minus_mono) / 1e9, 1e-6) : 0));
	json_object_set_new(o, "windows_total", json_integer((json_int_t)t->windows));
	json_object_set_new(o, "windows_omitted", json_integer((json_int_t)t->windows_omitted));
	json_object_set_new(o, "skipped_sends", json_integer((json_int_t)p->skipped));
	json_object_set_new(o, "send_errors", json_integer((json_int_t)p->send_errors));
	json_object_set_new(o, "evicted", json_integer((json_int_t)t->evicted));
	r = json_dumpf(o, stdout, JSON_REAL_PRECISION(15) | JSON_COMPACT);
	json_decref(o);
	if (r < 0)
		return -EIO;
	fputc('\n', stdout);
	return 0;
}

void report_text(const struct probe *p, const struct lossacct_totals *t)
{
	const struct lossacct_window *w;
	size_t n;
	double dur =
	    t->sent ? (double)(t->last_send_ns - t->first_send_ns + p->interval_ns) / 1e9 : 0;
	char mode[32];

	if (p->icmp)
		snprintf(mode, sizeof(mode), "icmp");
	else
		snprintf(mode, sizeof(mode), "udp port %" PRId64, p->o->udp_port);
	printf("vfprobe %s (%s, %" PRId64 "/s): sent %" PRIu64 ", received %" PRIu64
	       ", lost %" PRIu64 " (%.3f%%), late %" PRIu64 ", duplicates %" PRIu64 "\n",
	       p->dst_text, mode, p->o->rate, t->sent, t->received, t->lost,
	       t->sent ? 100.0 * (double)t->lost / (double)t->sent : 0.0, t->late, t->duplicates);
	printf("  duration %.3f s, max send lateness %.3f ms, skipped sends %" PRIu64
	       ", send errors %" PRIu64 "\n",
	       dur, p->max_lateness_ns / 1e6, p->skipped, p->send_errors);
	if (t->windows == 0) {
		printf("  no loss window\n");
		return;
	}
	printf("  %" PRIu64 " loss window%s, longest %.3f ms (%" PRIu64 " packets)\n", t->windows,
	       t->windows == 1 ? "" : "s", (t->longest.end_ns - t->longest.start_ns) / 1e6,
	       t->longest.packets);
	w = lossacct_windows(p->acct, &n);
	for (size_t i = 0; i < n; i++)
		printf("  window %zu: %.3f s - %.3f s, %" PRIu64 " packets, %.3f ms\n", i + 1,
		       w[i].start_ns / 1e9, w[i].end_ns / 1e9, w[i].packets,
		       (w[i].end_ns - w[i].start_ns) / 1e6);
	if (t->windows_omitted)
		printf("  (%" PRIu64 " more windows not listed)\n", t->windows_omitted);
}
