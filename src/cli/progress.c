// SPDX-License-Identifier: MIT
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "progress.h"

static const char *const event_names[] = {
    [PLAN_EV_STEP_BEGIN] = "step-begin",
    [PLAN_EV_STEP_END] = "step-end",
    [PLAN_EV_UNDO_BEGIN] = "undo-begin",
    [PLAN_EV_UNDO_END] = "undo-end",
    [PLAN_EV_PROGRESS] = NULL,
    [PLAN_EV_NOTE] = "note",
    [PLAN_EV_PONR] = "ponr",
    [PLAN_EV_SWITCHED] = "switched",
};

int progress_line_format(const struct plan_event *ev, int64_t t_ms, char *buf, size_t n)
{
	const char *name =
	    (unsigned)ev->kind < ARRAY_SIZE(event_names) ? event_names[ev->kind] : NULL;
	char msg[256];
	json_t *o;
	char *s;
	int len;

	if (!name)
		return 0;
	str_sanitize_keep_format(msg, sizeof(msg), ev->msg ? ev->msg : "");
	o = json_pack("{s:I,s:s,s:s,s:i,s:I,s:s}", "t_ms", (json_int_t)t_ms, "event", name, "step",
		      step_to_string(ev->step), "rc", ev->rc, "ms", (json_int_t)ev->duration_ms,
		      "msg", msg);
	if (!o)
		return -ENOMEM;
	s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (!s)
		return -ENOMEM;
	len = snprintf(buf, n, "%s\n", s);
	free(s);
	return len < 0 || (size_t)len >= n ? -E2BIG : len;
}

static int copy_word(char *dst, size_t n, json_t *v)
{
	const char *s = json_string_value(v);

	if (!s || strlen(s) >= n)
		return -EINVAL;
	for (const char *c = s; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || *c == '-' || *c == '_'))
			return -EINVAL;
	snprintf(dst, n, "%s", s);
	return 0;
}

int progress_line_parse(const char *line, size_t len, struct progress_ev *ret)
{
	struct progress_ev ev = {0};
	json_t *o, *v;
	int r = -EINVAL;

	if (len == 0 || len > PROGRESS_LINE_MAX)
		return -EINVAL;
	o = json_loadb(line, len, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(o))
		goto out;
	if (copy_word(ev.event, sizeof(ev.event), json_object_get(o, "event")) < 0 ||
	    copy_word(ev.step, sizeof(ev.step), json_object_get(o, "step")) < 0)
		goto out;
	v = json_object_get(o, "rc");
	if (!json_is_integer(v) || json_integer_value(v) > 0 || json_integer_value(v) < -4095)
		goto out;
	ev.rc = (int)json_integer_value(v);
	v = json_object_get(o, "t_ms");
	if (!json_is_integer(v))
		goto out;
	ev.t_ms = json_integer_value(v);
	v = json_object_get(o, "ms");
	if (!json_is_integer(v))
		goto out;
	ev.ms = json_integer_value(v);
	v = json_object_get(o, "msg");
	if (!json_is_string(v))
		goto out;
	str_sanitize(ev.msg, sizeof(ev.msg), json_string_value(v));
	*ret = ev;
	r = 0;
out:
	json_decref(o);
	return r;
}
