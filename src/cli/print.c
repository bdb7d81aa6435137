// SPDX-License-Identifier: MIT
#include "print.h"

#include <stdarg.h>

#include "cli.h"

void print_start(struct printer *p, bool json, FILE *f, FILE *err)
{
	*p = (struct printer){.json = json, .f = f, .err = err};
	if (json)
		p->open[p->depth++] = json_object();
}

void print_end(struct printer *p, size_t json_flags)
{
	if (p->json && p->depth > 0) {
		cli_json_print(p->f, p->open[0], json_flags);
		json_decref(p->open[0]);
		p->depth = 0;
	}
	fflush(p->f);
}

/* Puts v (a new reference) into the open container, under key in an object. */
static void json_put(struct printer *p, const char *key, json_t *v)
{
	json_t *top = p->depth ? p->open[p->depth - 1] : NULL;

	if (!top || !v || (json_is_object(top) && !key))
		json_decref(v);
	else if (json_is_array(top))
		json_array_append_new(top, v);
	else
		json_object_set_new(top, key, v);
}

static void open_container(struct printer *p, const char *key, json_t *c)
{
	json_t *top = p->depth ? p->open[p->depth - 1] : NULL;

	/* Past the depth, or without a key in an object: a caller's bug, kept harmless. */
	if (!p->json || p->depth == PRINT_DEPTH_MAX || !top || (json_is_object(top) && !key)) {
		json_decref(c);
		return;
	}
	json_put(p, key, json_incref(c));
	p->open[p->depth++] = c;
	json_decref(c);
}

void print_open_object(struct printer *p, const char *key)
{
	if (p->json)
		open_container(p, key, json_object());
}

void print_open_array(struct printer *p, const char *key)
{
	if (p->json)
		open_container(p, key, json_array());
}

void print_close(struct printer *p)
{
	if (p->json && p->depth > 1)
		p->depth--;
}

static FILE *text_stream(const struct printer *p, enum print_to to)
{
	if (p->json)
		return NULL;
	if (to & PRINT_ERR)
		return p->err;
	return to & PRINT_TEXT ? p->f : NULL;
}

void print_string(struct printer *p, enum print_to to, const char *key, const char *fmt,
		  const char *value)
{
	char clean[600];
	FILE *f = text_stream(p, to);

	if (p->json && (to & PRINT_JSON)) {
		if (!value) {
			json_put(p, key, json_null());
			return;
		}
		str_sanitize_keep_format(clean, sizeof(clean), value);
		json_put(p, key, json_string(clean));
	} else if (f && fmt && value) {
		str_sanitize(clean, sizeof(clean), value);
		fprintf(f, fmt, clean);
	}
}

void print_int(struct printer *p, enum print_to to, const char *key, const char *fmt,
	       long long value)
{
	FILE *f = text_stream(p, to);

	if (p->json && (to & PRINT_JSON))
		json_put(p, key, json_integer(value));
	else if (f && fmt)
		fprintf(f, fmt, value);
}

void print_bool(struct printer *p, enum print_to to, const char *key, const char *fmt, bool value)
{
	FILE *f = text_stream(p, to);

	if (p->json && (to & PRINT_JSON))
		json_put(p, key, json_boolean(value));
	else if (f && fmt)
		fprintf(f, fmt, value ? "true" : "false");
}

void print_text(struct printer *p, enum print_to to, const char *fmt, ...)
{
	FILE *f = text_stream(p, to);
	va_list ap;

	if (!f)
		return;
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
}
