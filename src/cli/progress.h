/* SPDX-License-Identifier: MIT */
/*
 * A run's progress as JSON lines on a descriptor (`migrate --progress-fd FD`), one per plan
 * event: {"t_ms":N,"event":"step-end","step":"unplug","rc":0,"ms":N,"msg":"..."}. evacuate
 * reads its children's runs through it. The reader treats the lines as untrusted: a length
 * limit, strict types, peer text sanitized before it is shown.
 */
#ifndef VFM_CLI_PROGRESS_H
#define VFM_CLI_PROGRESS_H

#include <stddef.h>
#include <stdint.h>

#include "core/plan.h"

#define PROGRESS_LINE_MAX 1024

struct progress_ev {
	char event[16]; /* step-begin, step-end, undo-begin, undo-end, note, ponr, switched */
	char step[32];
	int rc;
	int64_t t_ms, ms;
	char msg[256]; /* sanitized */
};

/* The line of ev (with its newline) into buf; its length, or -E2BIG, or 0 for an event that
 * has no line (migration progress). */
int progress_line_format(const struct plan_event *ev, int64_t t_ms, char *buf, size_t n);

/* One line (without its newline); -EINVAL when it is not a progress line. */
int progress_line_parse(const char *line, size_t len, struct progress_ev *ret);

#endif
