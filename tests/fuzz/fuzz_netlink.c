// SPDX-License-Identifier: MIT
/* Fuzzes the agent's rtnetlink parsing: link dumps (RTM_NEWLINK with bond data) and acks. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../guest/nl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct agent_link *links = NULL;
	struct diag d;
	size_t n = 0;
	void *buf;

	/* Netlink messages are 4-byte aligned in a real receive buffer. */
	buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	if (nl_link_dump_parse(buf, size, 1, &links, &n, 64, &d) >= 0) {
		for (size_t i = 0; i < n; i++) {
			const uint8_t *mac = agent_link_mac(&links[i]);

			/* Every parsed name is NUL-terminated within its buffer. */
			if (strlen(links[i].name) >= sizeof(links[i].name) || !mac)
				abort();
		}
	}
	free(links);
	nl_ack_parse(buf, size, 1, &d);
	if (strlen(d.msg) >= sizeof(d.msg))
		abort();
	free(buf);
	return 0;
}
