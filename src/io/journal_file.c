// SPDX-License-Identifier: MIT
#include "journal_file.h"

#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "util/file.h"

struct journal_file {
	int fd;
	int lock_fd;
};

bool journal_guest_name_valid(const char *guest)
{
	size_t n = strnlen(guest, 64);

	/* Not "." or "..", no hidden file; and never read as an option. */
	if (n == 0 || n >= 64 || guest[0] == '.' || guest[0] == '-')
		return false;
	for (; *guest; guest++)
		if (!((*guest >= 'a' && *guest <= 'z') || (*guest >= 'A' && *guest <= 'Z') ||
		      (*guest >= '0' && *guest <= '9') || *guest == '_' || *guest == '.' ||
		      *guest == '-'))
			return false;
	return true;
}

static int make_path(const char *state_dir, const char *guest, const char *suffix, char *buf,
		     size_t n, struct diag *d)
{
	if (!journal_guest_name_valid(guest)) {
		diag_set(
		    d, "invalid guest name (letters, digits, '_', '.', '-', not first '.' or '-')");
		return -EINVAL;
	}
	if ((size_t)snprintf(buf, n, "%s/%s%s", state_dir, guest, suffix) >= n) {
		diag_set(d, "state directory path too long");
		return -ENAMETOOLONG;
	}
	return 0;
}

static int load_fd(int fd, struct journal_record **ret_recs, size_t *ret_n, bool *ret_torn,
		   size_t *ret_valid_len, struct diag *d)
{
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	int r;

	r = file_read_fd_alloc(fd, JOURNAL_FILE_MAX, &buf, &len, d);
	if (r < 0)
		return r;
	r = journal_parse(buf, len, ret_recs, ret_n, ret_torn, d);
	if (r < 0)
		return r;
	if (ret_valid_len) {
		/* Everything up to the last newline is whole records. */
		const char *nl = memrchr(buf, '\n', len);

		*ret_valid_len = nl ? (size_t)(nl - buf) + 1 : 0;
	}
	return 0;
}

int journal_file_load(const char *state_dir, const char *guest, struct journal_record **ret_recs,
		      size_t *ret_n, bool *ret_torn, struct diag *d)
{
	char path[PATH_MAX];
	_cleanup_close_ int fd = -1;
	int r;

	r = make_path(state_dir, guest, ".journal", path, sizeof(path), d);
	if (r < 0)
		return r;
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		r = -errno;
		if (r != -ENOENT)
			diag_set(d, "%s: %s", path, strerror(-r));
		return r;
	}
	r = load_fd(fd, ret_recs, ret_n, ret_torn, NULL, d);
	/* An empty journal is a run refused before its first record: as good as none. */
	if (r == -ENODATA)
		return -ENOENT;
	if (r < 0)
		diag_prefix(d, "%s", path);
	return r;
}

static int fsync_dir(const char *dir)
{
	_cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		return -errno;
	return 0;
}

static int take_lock(const char *state_dir, const char *guest, int *ret_fd, struct diag *d)
{
	char path[PATH_MAX];
	int fd, r;

	r = make_path(state_dir, guest, ".lock", path, sizeof(path), d);
	if (r < 0)
		return r;
	if (mkdir(state_dir, 0700) < 0 && errno != EEXIST) {
		r = -errno;
		diag_set(d, "cannot create state directory %s: %s", state_dir, strerror(-r));
		return r;
	}
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		r = -errno;
		diag_set(d, "%s: %s", path, strerror(-r));
		return r;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		r = -errno;
		close(fd);
		if (r == -EWOULDBLOCK) {
			diag_set(d, "another vfmigrate is working on guest %s", guest);
			return -EBUSY;
		}
		diag_set(d, "%s: %s", path, strerror(-r));
		return r;
	}
	*ret_fd = fd;
	return 0;
}

/* Takes both fds, also on failure (closed then). */
static int journal_file_new(int fd, int lock_fd, struct journal_file **ret)
{
	struct journal_file *j = calloc(1, sizeof(*j));

	if (!j) {
		close(fd);
		close(lock_fd);
		return -ENOMEM;
	}
	j->fd = fd;
	j->lock_fd = lock_fd;
	*ret = j;
	return 0;
}

/* What create and open start with: the journal's path, and the guest's lock taken. */
static int journal_begin(const char *state_dir, const char *guest, char path[static PATH_MAX],
			 int *ret_lock_fd, struct diag *d)
{
	int r = make_path(state_dir, guest, ".journal", path, PATH_MAX, d);

	if (r < 0)
		return r;
	return take_lock(state_dir, guest, ret_lock_fd, d);
}

/* An existing journal that create may set aside (as .prev): finished, or empty. Else
 * -EEXIST (unfinished: recover first) or -EBADMSG (unreadable), said in d. */
static int journal_check_finished(const char *path, const char *guest, struct diag *d)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);
	struct journal_record *recs = NULL;
	struct diag pd = {0};
	bool finished = false;
	size_t n = 0;
	int r;

	if (fd < 0) {
		r = -errno;
		if (r != -ENOENT)
			diag_set(d, "%s: %s", path, strerror(-r));
		return r;
	}
	r = load_fd(fd, &recs, &n, NULL, NULL, &pd);
	if ((r >= 0 && n > 0 && recs[n - 1].kind == JOURNAL_END) || r == -ENODATA)
		finished = true;
	free(recs);
	if (finished)
		return 0;
	if (r < 0) {
		diag_set(d, "journal %s is unreadable (%s); inspect it, then remove it", path,
			 pd.msg);
		return -EBADMSG;
	}
	diag_set(d,
		 "an unfinished journal exists for guest %s (%s); run 'vfmigrate recover %s' first",
		 guest, path, guest);
	return -EEXIST;
}

int journal_file_create(const char *state_dir, const char *guest, struct journal_file **ret,
			struct diag *d)
{
	char path[PATH_MAX], prev[PATH_MAX];
	_cleanup_close_ int lock_fd = -1, fd = -1;
	int r;

	r = make_path(state_dir, guest, ".journal.prev", prev, sizeof(prev), d);
	if (r < 0)
		return r;
	r = journal_begin(state_dir, guest, path, &lock_fd, d);
	if (r < 0)
		return r;
	r = journal_check_finished(path, guest, d);
	if (r == 0 && rename(path, prev) < 0) {
		r = -errno;
		diag_set(d, "rename %s: %s", path, strerror(-r));
		return r;
	}
	if (r < 0 && r != -ENOENT)
		return r;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		r = -errno;
		diag_set(d, "create %s: %s", path, strerror(-r));
		return r;
	}
	/* The new name must survive a crash before its first record counts. */
	r = fsync_dir(state_dir);
	if (r < 0) {
		diag_set(d, "fsync %s: %s", state_dir, strerror(-r));
		return r;
	}
	return journal_file_new(fd_take(&fd), fd_take(&lock_fd), ret);
}

int journal_file_open(const char *state_dir, const char *guest, struct journal_file **ret,
		      struct diag *d)
{
	char path[PATH_MAX];
	struct journal_record *recs = NULL;
	size_t n = 0, valid = 0;
	bool torn = false;
	_cleanup_close_ int lock_fd = -1, fd = -1;
	int r;

	r = journal_begin(state_dir, guest, path, &lock_fd, d);
	if (r < 0)
		return r;
	fd = open(path, O_RDWR | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		r = -errno;
		if (r != -ENOENT)
			diag_set(d, "%s: %s", path, strerror(-r));
		else
			diag_set(d, "no journal for guest %s", guest);
		return r;
	}
	r = load_fd(fd, &recs, &n, &torn, &valid, d);
	free(recs);
	if (r >= 0 && torn) {
		/* A record torn by a crash never counted; the next one must start a line. */
		if (ftruncate(fd, (off_t)valid) < 0 || fdatasync(fd) < 0)
			r = -errno;
	}
	if (r < 0) {
		diag_prefix(d, "%s", path);
		return r;
	}
	return journal_file_new(fd_take(&fd), fd_take(&lock_fd), ret);
}

struct journal_file *journal_file_close(struct journal_file *j)
{
	if (!j)
		return NULL;
	if (j->fd >= 0)
		close(j->fd);
	if (j->lock_fd >= 0)
		close(j->lock_fd);
	free(j);
	return NULL;
}

int journal_file_append(struct journal_file *j, const struct journal_record *rec, struct diag *d)
{
	char line[JOURNAL_LINE_MAX + 1];
	off_t end;
	int n, r;

	n = journal_record_encode(rec, line, sizeof(line));
	if (n < 0) {
		diag_set(d, "cannot encode a journal record: %s", strerror(-n));
		return n;
	}
	end = lseek(j->fd, 0, SEEK_END);
	if (end < 0) {
		r = -errno;
		diag_set(d, "seek: %s", strerror(-r));
		return r;
	}
	r = write_all(j->fd, line, (size_t)n);
	if (r >= 0 && fdatasync(j->fd) < 0)
		r = -errno;
	if (r < 0) {
		/* A short write (disk full, quota) leaves part of a line; the next record would
		 * be glued to it and the journal unreadable for recover. Cut it off again. */
		if (ftruncate(j->fd, end) == 0)
			(void)fdatasync(j->fd);
		diag_set(d, "write: %s", strerror(-r));
		return r;
	}
	return 0;
}

static int ops_append(void *ud, const struct journal_record *rec, struct diag *d)
{
	return journal_file_append(ud, rec, d);
}

void journal_file_ops(struct journal_file *j, struct journal_ops *ret_ops)
{
	*ret_ops = (struct journal_ops){.userdata = j, .append = ops_append};
}
