// SPDX-License-Identifier: MIT
/* The config parser on arbitrary bytes: no crash, and what it accepts formats to a text that
 * parses back to the same effective config (format is a fixed point). The same bytes as one
 * command-line override (-o SECTION.KEY=VALUE) hold to the same. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The code under test is compiled into the harness, so libFuzzer instruments it. */
#include "../../src/proto/config.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
static void check_fixed_point(const struct config *c);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config c;
	struct diag d = {0};

	config_init(&c);
	if (size < CONFIG_LINE_MAX && !memchr(data, '\0', size)) {
		char set[CONFIG_LINE_MAX];

		memcpy(set, data, size);
		set[size] = '\0';
		if (config_set(&c, set, &d) >= 0)
			check_fixed_point(&c);
	}
	config_init(&c);
	if (config_parse(&c, (const char *)data, size, &d) < 0)
		return 0;
	check_fixed_point(&c);
	return 0;
}

static void check_fixed_point(const struct config *c)
{
	static char a[CONFIG_FILE_MAX], b[CONFIG_FILE_MAX];
	struct config c2;
	struct diag d = {0};
	int na, nb;

	na = config_format(c, a, sizeof(a));
	if (na < 0)
		abort();
	config_init(&c2);
	if (config_parse(&c2, a, (size_t)na, &d) < 0)
		abort();
	nb = config_format(&c2, b, sizeof(b));
	if (nb != na || memcmp(a, b, (size_t)na) != 0)
		abort();
}
