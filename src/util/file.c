// SPDX-License-Identifier: MIT
#include "file.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *file_type_name(mode_t mode)
{
	if (S_ISDIR(mode))
		return "a directory";
	if (S_ISFIFO(mode))
		return "a FIFO";
	if (S_ISSOCK(mode))
		return "a socket";
	if (S_ISCHR(mode))
		return "a character device";
	if (S_ISBLK(mode))
		return "a block device";
	return "not a plain file";
}

/* 0 when fd is a regular file; else -EISDIR/-EINVAL and d says what it is instead. */
static int fd_check_regular(int fd, struct diag *d)
{
	struct stat st;

	if (fstat(fd, &st) < 0) {
		int r = -errno;

		diag_set(d, "fstat: %s", strerror(-r));
		return r;
	}
	if (S_ISREG(st.st_mode))
		return 0;
	diag_set(d, "%s, not a regular file", file_type_name(st.st_mode));
	return S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
}

/*
 * The one read loop. *buf holds *cap bytes; when grow, it is realloc'd (doubling) up to
 * max + 1 bytes. Reads until EOF; more than max bytes is -EFBIG.
 */
static int fd_read_bounded(int fd, char **buf, size_t *cap, bool grow, size_t max, size_t *ret_len,
			   struct diag *d)
{
	size_t len = 0;
	int r;

	r = fd_check_regular(fd, d);
	if (r < 0)
		return r;
	for (;;) {
		ssize_t k;

		if (len == *cap) {
			size_t ncap = *cap * 2 > max + 1 ? max + 1 : *cap * 2;
			char *nbuf;

			if (!grow || ncap <= *cap) {
				diag_set(d, "larger than %zu bytes", max);
				return -EFBIG;
			}
			nbuf = realloc(*buf, ncap);
			if (!nbuf) {
				diag_set(d, "out of memory");
				return -ENOMEM;
			}
			*buf = nbuf;
			*cap = ncap;
		}
		k = read(fd, *buf + len, *cap - len);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			r = -errno;
			diag_set(d, "%s", strerror(-r));
			return r;
		}
		if (k == 0)
			break;
		len += (size_t)k;
		if (len > max) {
			diag_set(d, "larger than %zu bytes", max);
			return -EFBIG;
		}
	}
	(*buf)[len] = '\0'; /* len <= max < *cap */
	*ret_len = len;
	return 0;
}

static int file_open(const char *path, unsigned flags, struct diag *d)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY |
				(flags & FILE_READ_NOFOLLOW ? O_NOFOLLOW : 0));

	if (fd < 0) {
		int r = -errno;

		if (r == -ELOOP && (flags & FILE_READ_NOFOLLOW))
			diag_set(d, "%s: a symbolic link, refused", path);
		else
			diag_set(d, "%s: %s", path, strerror(-r));
		return r;
	}
	return fd;
}

int file_read(const char *path, unsigned flags, char *buf, size_t size, size_t *ret_len,
	      struct diag *d)
{
	_cleanup_close_ int fd = -1;
	size_t cap = size;
	int r;

	if (size == 0)
		return -EINVAL;
	fd = file_open(path, flags, d);
	if (fd < 0)
		return fd;
	r = fd_read_bounded(fd, &buf, &cap, false, size - 1, ret_len, d);
	if (r < 0)
		diag_prefix(d, "%s", path);
	return r;
}

int file_read_fd_alloc(int fd, size_t max, char **ret, size_t *ret_len, struct diag *d)
{
	size_t cap = max < 4096 ? max + 1 : 4096, len;
	char *buf = malloc(cap);
	int r;

	if (!buf) {
		diag_set(d, "out of memory");
		return -ENOMEM;
	}
	r = fd_read_bounded(fd, &buf, &cap, true, max, &len, d);
	if (r < 0) {
		free(buf);
		return r;
	}
	*ret = buf;
	*ret_len = len;
	return 0;
}

int file_read_alloc(const char *path, unsigned flags, size_t max, char **ret, size_t *ret_len,
		    struct diag *d)
{
	_cleanup_close_ int fd = -1;
	int r;

	fd = file_open(path, flags, d);
	if (fd < 0)
		return fd;
	r = file_read_fd_alloc(fd, max, ret, ret_len, d);
	if (r < 0)
		diag_prefix(d, "%s", path);
	return r;
}

int file_create_excl(const char *path, const void *data, size_t len, struct diag *d)
{
	int fd, r;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		r = -errno;
		if (r != -EEXIST)
			diag_set(d, "creating %s: %s", path, strerror(-r));
		return r;
	}
	r = write_all(fd, data, len);
	if (r >= 0 && fsync(fd) < 0)
		r = -errno;
	close(fd);
	if (r < 0) {
		diag_set(d, "writing %s: %s", path, strerror(-r));
		(void)unlink(path);
		return r;
	}
	return 0;
}
