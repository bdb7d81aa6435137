// SPDX-License-Identifier: MIT
/* The journal parser on arbitrary bytes: no crash, no leak, and whatever it accepts encodes
 * back to records that decode to the same thing. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The code under test is compiled into the harness, so libFuzzer instruments it. */
#include "../../src/proto/journal.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct journal_record *recs = NULL, again;
	char line[JOURNAL_LINE_MAX + 1];
	struct diag d = {0};
	size_t n = 0;
	bool torn;

	if (journal_parse((const char *)data, size, &recs, &n, &torn, &d) < 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		int k = journal_record_encode(&recs[i], line, sizeof(line));

		if (k <= 0)
			abort(); /* accepted but not encodable */
		if (journal_record_decode(line, (size_t)k - 1, &again, &d) < 0)
			abort();
		if (again.kind != recs[i].kind || again.seq != recs[i].seq ||
		    strcmp(again.step, recs[i].step) != 0 ||
		    strcmp(again.dest, recs[i].dest) != 0 || again.has_spec != recs[i].has_spec ||
		    (again.has_spec && memcmp(&again.spec, &recs[i].spec, sizeof(again.spec))) ||
		    again.vf != recs[i].vf || strcmp(again.vf_name, recs[i].vf_name) != 0 ||
		    again.n_more_vfs != recs[i].n_more_vfs ||
		    memcmp(again.more_vfs, recs[i].more_vfs,
			   recs[i].n_more_vfs * sizeof(again.more_vfs[0])) != 0 ||
		    again.has_tuning != recs[i].has_tuning ||
		    (again.has_tuning &&
		     (again.tuning.max_bandwidth != recs[i].tuning.max_bandwidth ||
		      again.tuning.downtime_limit_ms != recs[i].tuning.downtime_limit_ms)))
			abort();
	}
	free(recs);
	return 0;
}
