/* SPDX-License-Identifier: MIT */
/* Strict JSON decoding of peer data: size and nesting limits checked before jansson parses. */
#ifndef VFM_JSONLIM_H
#define VFM_JSONLIM_H

#include <jansson.h>
#include <stddef.h>

#include "../util/util.h"

/*
 * Decodes one JSON value from buf[0..len). Rejects input longer than max_len, nested deeper
 * than max_depth, containing NUL bytes, duplicate object keys, or anything after the value.
 * Returns a new reference or NULL with d filled.
 */
json_t *json_decode_strict(const char *buf, size_t len, size_t max_len, unsigned max_depth,
			   struct diag *d);

/* Nesting depth of the JSON text (strings are skipped); never reads past len. */
unsigned json_text_depth(const char *buf, size_t len);

#endif
