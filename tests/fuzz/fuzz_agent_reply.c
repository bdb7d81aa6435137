// SPDX-License-Identifier: MIT
/*
 * Fuzzes the host's strict reading of what vfmigrate-agent returns beyond the QGA framing
 * (fuzz_qga_reply covers that): guest-failover-status's return value. Whatever the guest
 * sends, the parser returns 0 with a consistent status or -EPROTO, and never reports a primary
 * active without one.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "io/agent_vfm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct failover_status st;
	struct diag d = {{0}};
	json_t *j;

	if (size > 65536)
		return 0;
	j = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
	if (!j)
		return 0;
	memset(&st, 0xa5, sizeof(st));
	if (agent_vfm_parse_failover(j, &st, &d) == 0) {
		if (st.primary_active && !st.has_primary)
			abort();
		if (strnlen(st.master, sizeof(st.master)) >= sizeof(st.master))
			abort();
	}
	json_decref(j);
	return 0;
}
