// SPDX-License-Identifier: MIT
/* The config parser on arbitrary bytes: no crash, and what it accepts formats to a text that
 * parses back to the same effective config (format is a fixed point). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The code under test is compiled into the harness, so libFuzzer instruments it. */
#include "../../src/proto/config.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char a[CONFIG_FILE_MAX], b[CONFIG_FILE_MAX];
	struct config c, c2;
	struct diag d = {0};
	int na, nb;

	config_init(&c);
	if (config_parse(&c, (const char *)data, size, &d) < 0)
		return 0;
	na = config_format(&c, a, sizeof(a));
	if (na < 0)
		abort();
	config_init(&c2);
	if (config_parse(&c2, a, (size_t)na, &d) < 0)
		abort();
	nb = config_format(&c2, b, sizeof(b));
	if (nb != na || memcmp(a, b, (size_t)na) != 0)
		abort();
	return 0;
}
