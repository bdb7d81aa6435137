// SPDX-License-Identifier: MIT
/*
 * QMP codec over peer bytes: the input is split into lines as the client reads them; each line
 * is parsed, and what parses is fed to the migration-stats and MIGRATION-event parsers and
 * re-encoded as a command argument.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/qmp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void one_line(const char *p, size_t n)
{
	struct qmp_msg m = {0};
	struct diag d = {{0}};

	if (qmp_parse_line(p, n, &m, &d) < 0) {
		/* Failure always says why and never leaves anything owned. */
		if (!d.msg[0] || m.ret || m.err_desc || m.event.data)
			abort();
		return;
	}
	if (m.type == QMP_MSG_RETURN) {
		struct qmp_migration_info mi;
		char *line = NULL;
		size_t len;

		if (qmp_parse_migration_info(m.ret, &mi, &d) == 0 &&
		    strlen(mi.error_desc) >= sizeof(mi.error_desc))
			abort();
		if (json_is_object(m.ret) &&
		    qmp_build_command("device_add", m.ret, m.id, &line, &len, &d) == 0) {
			if (line[len - 1] != '\n' || memchr(line, '\n', len - 1))
				abort();
			free(line);
		}
	} else if (m.type == QMP_MSG_EVENT) {
		enum qmp_migration_status st;

		if (!m.event.data || !m.event.name[0])
			abort();
		if (qmp_parse_migration_event(m.event.data, &st, &d) == 0)
			(void)qmp_migration_status_to_string(st);
	} else if (m.type == QMP_MSG_ERROR) {
		if (!m.err_desc || strlen(m.err_desc_print) >= sizeof(m.err_desc_print))
			abort();
	}
	qmp_msg_clear(&m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);

		one_line(p, n);
		p += n;
	}
	return 0;
}
