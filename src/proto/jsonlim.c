// SPDX-License-Identifier: MIT
#include "jsonlim.h"

#include <string.h>

unsigned json_text_depth(const char *buf, size_t len)
{
	unsigned depth = 0, max = 0;
	int in_str = 0, esc = 0;
	size_t i;

	for (i = 0; i < len; i++) {
		char c = buf[i];

		if (in_str) {
			if (esc)
				esc = 0;
			else if (c == '\\')
				esc = 1;
			else if (c == '"')
				in_str = 0;
			continue;
		}
		if (c == '"') {
			in_str = 1;
		} else if (c == '{' || c == '[') {
			if (++depth > max)
				max = depth;
		} else if ((c == '}' || c == ']') && depth > 0) {
			depth--;
		}
	}
	return max;
}

json_t *json_decode_strict(const char *buf, size_t len, size_t max_len, unsigned max_depth,
			   struct diag *d)
{
	json_error_t err;
	json_t *v;

	if (len > max_len) {
		diag_set(d, "message of %zu bytes exceeds the limit of %zu", len, max_len);
		return NULL;
	}
	if (memchr(buf, '\0', len)) {
		diag_set(d, "message contains a NUL byte");
		return NULL;
	}
	if (json_text_depth(buf, len) > max_depth) {
		diag_set(d, "message nests deeper than %u levels", max_depth);
		return NULL;
	}
	v = json_loadb(buf, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &err);
	if (!v) {
		char clean[160];

		str_sanitize(clean, sizeof(clean), err.text);
		diag_set(d, "malformed JSON at byte %d: %s", err.position, clean);
		return NULL;
	}
	return v;
}
