/* SPDX-License-Identifier: MIT */
/*
 * Whole reads of small files (a config file, a sysfs attribute, a marker, a journal), bounded
 * in size and in time: the file is opened with O_NONBLOCK so that neither the open nor a read
 * waits on a FIFO, then fstat()ed, and anything that is not a regular file is refused before
 * a byte is read. Sizes are counted as read, not taken from st_size (a sysfs attribute says
 * 4096 whatever it holds).
 *
 * Errors: -EISDIR (a directory), -EINVAL (a FIFO, socket or device: not a regular file),
 * -ELOOP (a symbolic link, with FILE_READ_NOFOLLOW), -EFBIG (over the cap), -ENOMEM, or the
 * -errno of open/fstat/read. On failure d (may be NULL) says why, naming the path; the fd
 * variant cannot name it: its caller prefixes d.
 */
#ifndef VFM_UTIL_FILE_H
#define VFM_UTIL_FILE_H

#include <stddef.h>

#include "util.h"

enum {
	FILE_READ_NOFOLLOW = 1 << 0, /* refuse a symbolic link as the last component */
};

/* Reads path into buf (size bytes: at most size - 1 of content, then a NUL); *ret_len is the
 * content's length. buf may be written on failure too. */
int file_read(const char *path, unsigned flags, char *buf, size_t size, size_t *ret_len,
	      struct diag *d);

/* Reads path into a malloc'd, NUL-terminated buffer of at most max bytes of content. */
int file_read_alloc(const char *path, unsigned flags, size_t max, char **ret, size_t *ret_len,
		    struct diag *d);

/* The same on an fd the caller opened (and keeps: not closed, its offset moves). */
int file_read_fd_alloc(int fd, size_t max, char **ret, size_t *ret_len, struct diag *d);

/*
 * Creates path (O_EXCL, not through a symbolic link, mode 0600) holding exactly data, written
 * and fsync()ed: a claim that exists whole or not at all (a VF's reservation marker). A file
 * already there: -EEXIST, d untouched (someone else's claim, not an error to report). Any
 * other failure removes what was created and says why in d, naming the path.
 */
int file_create_excl(const char *path, const void *data, size_t len, struct diag *d);

#endif
