// SPDX-License-Identifier: MIT
/*
 * Fuzzes what the host-side client reads from a guest agent: the stream splitter (with and
 * without waiting for the 0xFF sentinel), the strict reply parser, and the parser of
 * vfmigrate-agent's guest-agent-timing reply on every return value. The codecs are included so
 * libFuzzer instruments them.
 */
#include "../../src/proto/agent_timing.c"
#include "../../src/proto/qga.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct qga_splitter sp;
	size_t off = 0;

	/* Small limit so oversize handling is reached too. */
	qga_splitter_init(&sp, 4096);
	if (size > 0 && data[0] & 1)
		qga_splitter_expect_sentinel(&sp);
	while (off < size) {
		size_t used = 0;
		int ev = qga_splitter_feed(&sp, data + off, size - off, &used);

		if (ev < 0 || used > size - off)
			abort();
		off += used;
		if (ev == QGA_SPLIT_MESSAGE) {
			struct qga_reply r;
			struct diag d;

			if (sp.len > 4096 || sp.buf[sp.len] != '\0')
				abort();
			if (qga_reply_parse(sp.buf, sp.len, &r, &d) == 0) {
				if (r.is_error == !!r.value)
					abort();
				if (strlen(r.error_class) >= sizeof(r.error_class))
					abort();
				if (r.value) {
					struct agent_timing_reply t;

					if (agent_timing_parse(r.value, &t, &d) == 0 &&
					    t.has_last &&
					    t.last.before_ns + t.last.kernel_ns + t.last.after_ns !=
						t.last.total_ns)
						abort();
				}
				qga_reply_done(&r);
			}
		} else if (ev == QGA_SPLIT_NEED_MORE && used != size - (off - used)) {
			abort();
		}
	}
	qga_splitter_done(&sp);
	return 0;
}
