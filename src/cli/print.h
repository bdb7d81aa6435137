/* SPDX-License-Identifier: MIT */
/*
 * One printer for text and JSON, after iproute2's json_print: each field is written by one
 * call that says where it goes (text, JSON or both), its JSON key and its text format, so a
 * report is written once for both. JSON goes into a tree printed at print_end; text goes out
 * as it comes.
 */
#ifndef VFM_CLI_PRINT_H
#define VFM_CLI_PRINT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "util/util.h"

enum print_to {
	PRINT_TEXT = 1, /* text, on the printer's stream */
	PRINT_JSON = 2,
	PRINT_ANY = PRINT_TEXT | PRINT_JSON,
	PRINT_ERR = 4, /* text, on its error stream (diagnostics beside a report) */
};

#define PRINT_DEPTH_MAX 6

struct printer {
	bool json;
	FILE *f, *err;
	json_t *open[PRINT_DEPTH_MAX]; /* JSON: the open object or array, root first */
	size_t depth;
};

/* json: the fields build one JSON object (the root); else text goes to f (and err). */
void print_start(struct printer *p, bool json, FILE *f, FILE *err);
/* JSON: prints the root (json_dumps flags) and frees it. Text: flushes. */
void print_end(struct printer *p, size_t json_flags);

/* JSON only: an object or array as the value of key (in an array: NULL), until print_close. */
void print_open_object(struct printer *p, const char *key);
void print_open_array(struct printer *p, const char *key);
void print_close(struct printer *p);

/*
 * Text: fmt with the value (fmt NULL: nothing); JSON: the value under key (in an array: key
 * NULL). A string is peer text: sanitized for the terminal, or for JSON with its format
 * characters escaped. A NULL string is JSON null and no text.
 */
void print_string(struct printer *p, enum print_to to, const char *key, const char *fmt,
		  const char *value);
void print_int(struct printer *p, enum print_to to, const char *key, const char *fmt,
	       long long value);
void print_bool(struct printer *p, enum print_to to, const char *key, const char *fmt, bool value);
/* Text only, printf-like, to f (PRINT_TEXT) or err (PRINT_ERR); nothing in JSON. */
void print_text(struct printer *p, enum print_to to, const char *fmt, ...) _printf_(3, 4);

#endif
