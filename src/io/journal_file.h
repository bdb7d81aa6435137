/* SPDX-License-Identifier: MIT */
/*
 * Journal files: <state_dir>/<guest>.journal, one JSON record per line (src/proto/journal.h).
 * Each append is written and fdatasync'ed before it returns; a new file is made durable by an
 * fsync of the directory. <state_dir>/<guest>.lock (flock) keeps two vfmigrate processes off
 * one guest. The previous, finished journal is kept as <guest>.journal.prev.
 */
#ifndef VFM_IO_JOURNAL_FILE_H
#define VFM_IO_JOURNAL_FILE_H

#include <stdbool.h>
#include <stddef.h>

#include "core/ops.h"
#include "proto/journal.h"

#define VFM_STATE_DIR_DEFAULT "/var/lib/vfmigrate"

struct journal_file;

/* Guest names become file names: [A-Za-z0-9_.-]{1,63}, not starting with '.'. */
bool journal_guest_name_valid(const char *guest);

/*
 * Reads and parses the guest's journal. -ENOENT when there is none. On success *ret_recs is
 * malloc'd (caller frees); *ret_torn says a torn last line was ignored.
 */
int journal_file_load(const char *state_dir, const char *guest, struct journal_record **ret_recs,
		      size_t *ret_n, bool *ret_torn, struct diag *d);

/*
 * Starts a new journal for a run. Refuses with -EEXIST while an unfinished journal exists (it
 * needs recover), -EBADMSG while an unreadable one does, -EBUSY while another process holds the
 * guest's lock. Creates state_dir (0700) when missing.
 */
int journal_file_create(const char *state_dir, const char *guest, struct journal_file **ret,
			struct diag *d);

/* Opens an existing journal to append to it (recover); cuts a torn last line first. */
int journal_file_open(const char *state_dir, const char *guest, struct journal_file **ret,
		      struct diag *d);

/* Accepts NULL; returns NULL. Releases the lock. */
struct journal_file *journal_file_close(struct journal_file *j);

int journal_file_append(struct journal_file *j, const struct journal_record *rec, struct diag *d);

void journal_file_ops(struct journal_file *j, struct journal_ops *ret_ops);

#endif
