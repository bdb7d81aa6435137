// SPDX-License-Identifier: MIT
#include "agent_timing.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static const char *const rec_keys[] = {"command",   "total_ns",	       "before_kernel_ns",
				       "kernel_ns", "after_kernel_ns", "kernel_calls"};

json_t *agent_timing_to_json(const struct agent_timing_reply *r)
{
	const struct agent_timing_rec *l = &r->last;
	json_t *last;

	if (!r->has_last)
		return json_pack("{s:I,s:n}", "requests", (json_int_t)r->requests, "last");
	last = json_pack("{s:s,s:I,s:I,s:I,s:I,s:I}", rec_keys[0], l->command, rec_keys[1],
			 (json_int_t)l->total_ns, rec_keys[2], (json_int_t)l->before_ns,
			 rec_keys[3], (json_int_t)l->kernel_ns, rec_keys[4],
			 (json_int_t)l->after_ns, rec_keys[5], (json_int_t)l->kernel_calls);
	if (!last)
		return NULL;
	return json_pack("{s:I,s:o}", "requests", (json_int_t)r->requests, "last", last);
}

static int bad(struct diag *d, const char *what)
{
	diag_set(d, "%s reply: %s", AGENT_TIMING_COMMAND, what);
	return -EBADMSG;
}

/* Exactly the members in keys[0..n). */
static bool only_keys(json_t *o, const char *const *keys, size_t n)
{
	const char *k;
	json_t *v;

	if (!json_is_object(o) || json_object_size(o) != n)
		return false;
	json_object_foreach (o, k, v) {
		size_t i;

		for (i = 0; i < n; i++)
			if (strcmp(k, keys[i]) == 0)
				break;
		if (i == n)
			return false;
	}
	return true;
}

static int get_int(json_t *o, const char *key, int64_t max, int64_t *ret)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > max)
		return -EBADMSG;
	*ret = json_integer_value(v);
	return 0;
}

static bool command_name_valid(json_t *v)
{
	const char *s = json_string_value(v);
	size_t n = json_string_length(v);

	if (!s || n == 0 || n >= QGA_COMMAND_NAME_MAX || strlen(s) != n)
		return false;
	for (; *s; s++)
		if (*s <= ' ' || *s >= 0x7f)
			return false;
	return true;
}

int agent_timing_parse(json_t *v, struct agent_timing_reply *ret, struct diag *d)
{
	static const char *const top_keys[] = {"requests", "last"};
	struct agent_timing_reply r = {0};
	struct agent_timing_rec *l = &r.last;
	json_t *last;

	if (!only_keys(v, top_keys, ARRAY_SIZE(top_keys)))
		return bad(d, "not an object of requests and last");
	if (get_int(v, "requests", INT64_MAX, &r.requests) < 0)
		return bad(d, "requests is not a count");
	last = json_object_get(v, "last");
	if (json_is_null(last)) {
		*ret = r;
		return 0;
	}
	if (!only_keys(last, rec_keys, ARRAY_SIZE(rec_keys)))
		return bad(d, "last has other members than expected");
	if (!command_name_valid(json_object_get(last, "command")))
		return bad(d, "last.command is not a command name");
	snprintf(l->command, sizeof(l->command), "%s",
		 json_string_value(json_object_get(last, "command")));
	if (get_int(last, "total_ns", AGENT_TIMING_NS_MAX, &l->total_ns) < 0 ||
	    get_int(last, "before_kernel_ns", AGENT_TIMING_NS_MAX, &l->before_ns) < 0 ||
	    get_int(last, "kernel_ns", AGENT_TIMING_NS_MAX, &l->kernel_ns) < 0 ||
	    get_int(last, "after_kernel_ns", AGENT_TIMING_NS_MAX, &l->after_ns) < 0 ||
	    get_int(last, "kernel_calls", AGENT_TIMING_CALLS_MAX, &l->kernel_calls) < 0)
		return bad(d, "a time or count of last is not a non-negative integer in range");
	if (l->before_ns + l->kernel_ns + l->after_ns != l->total_ns)
		return bad(d, "last's parts do not add up to its total");
	if (l->kernel_calls == 0 && (l->kernel_ns || l->after_ns))
		return bad(d, "last has kernel time without kernel calls");
	if (r.requests < 1)
		return bad(d, "a last request but no requests");
	r.has_last = true;
	*ret = r;
	return 0;
}
