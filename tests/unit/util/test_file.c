// SPDX-License-Identifier: MIT
/*
 * The bounded file read: what it reads, where it stops, and that nothing but a regular file
 * is read at all. An alarm turns a read that would block (a FIFO without a writer) into a
 * failed test instead of a hung one.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/file.h"

static char dir[64];

static void on_alarm(int sig)
{
	static const char msg[] = "test_file: a read blocked (alarm)\n";

	(void)sig;
	(void)!write(2, msg, sizeof(msg) - 1);
	_exit(1);
}

static const char *at(const char *name)
{
	static char path[128];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return path;
}

static void put(const char *name, const char *content, size_t len)
{
	FILE *f = fopen(at(name), "w");

	assert_non_null(f);
	assert_int_equal(fwrite(content, 1, len, f), len);
	fclose(f);
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/vfm-file-XXXXXX");
	assert_non_null(mkdtemp(dir));
	signal(SIGALRM, on_alarm);
	alarm(10);
	return 0;
}

static int rm_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int teardown(void **state)
{
	(void)state;
	alarm(0);
	nftw(dir, rm_cb, 8, FTW_DEPTH | FTW_PHYS);
	return 0;
}

/* Content up to the cap, NUL-terminated; one byte more is -EFBIG, named. */
static void test_reads_up_to_the_cap(void **state)
{
	struct diag d = {{0}};
	char buf[8];
	size_t len = 99;

	(void)state;
	put("seven", "1234567", 7);
	assert_int_equal(file_read(at("seven"), 0, buf, sizeof(buf), &len, &d), 0);
	assert_int_equal(len, 7);
	assert_string_equal(buf, "1234567");
	put("eight", "12345678", 8);
	assert_int_equal(file_read(at("eight"), 0, buf, sizeof(buf), &len, &d), -EFBIG);
	assert_non_null(strstr(d.msg, at("eight")));
	assert_non_null(strstr(d.msg, "larger than 7 bytes"));
	put("empty", "", 0);
	assert_int_equal(file_read(at("empty"), 0, buf, sizeof(buf), &len, &d), 0);
	assert_int_equal(len, 0);
	assert_string_equal(buf, "");
}

/* The allocating read grows past its first buffer up to max, not one byte further. */
static void test_alloc_grows_to_max(void **state)
{
	static char big[10001];
	struct diag d = {{0}};
	char *buf = NULL;
	size_t len = 0;

	(void)state;
	memset(big, 'x', sizeof(big));
	put("big", big, 10000);
	assert_int_equal(file_read_alloc(at("big"), 0, 10000, &buf, &len, &d), 0);
	assert_int_equal(len, 10000);
	assert_int_equal(buf[10000], '\0');
	free(buf);
	buf = NULL;
	put("big", big, 10001);
	assert_int_equal(file_read_alloc(at("big"), 0, 10000, &buf, &len, &d), -EFBIG);
	assert_null(buf);
	assert_non_null(strstr(d.msg, "larger than 10000 bytes"));
}

/* A FIFO without a writer would block a plain open() and read() forever. */
static void test_fifo_refused_at_once(void **state)
{
	struct diag d = {{0}};
	char buf[16], *p = NULL;
	size_t len;

	(void)state;
	assert_int_equal(mkfifo(at("fifo"), 0600), 0);
	assert_int_equal(file_read(at("fifo"), 0, buf, sizeof(buf), &len, &d), -EINVAL);
	assert_non_null(strstr(d.msg, at("fifo")));
	assert_non_null(strstr(d.msg, "a FIFO, not a regular file"));
	assert_int_equal(file_read_alloc(at("fifo"), 0, 100, &p, &len, &d), -EINVAL);
	assert_null(p);
}

/* An fd of a pipe (what a FIFO opens as) is refused by the fd variant too. */
static void test_fd_pipe_refused(void **state)
{
	struct diag d = {{0}};
	char *p = NULL;
	size_t len;
	int fds[2];

	(void)state;
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(file_read_fd_alloc(fds[0], 100, &p, &len, &d), -EINVAL);
	assert_string_equal(d.msg, "a FIFO, not a regular file");
	close(fds[0]);
	close(fds[1]);
}

static void test_other_kinds(void **state)
{
	struct diag d = {{0}};
	char buf[16];
	size_t len;

	(void)state;
	assert_int_equal(mkdir(at("sub"), 0700), 0);
	assert_int_equal(file_read(at("sub"), 0, buf, sizeof(buf), &len, &d), -EISDIR);
	assert_non_null(strstr(d.msg, "a directory, not a regular file"));
	assert_int_equal(file_read("/dev/null", 0, buf, sizeof(buf), &len, &d), -EINVAL);
	assert_string_equal(d.msg, "/dev/null: a character device, not a regular file");
	assert_int_equal(file_read(at("nope"), 0, buf, sizeof(buf), &len, &d), -ENOENT);
	assert_non_null(strstr(d.msg, at("nope")));
}

/* A symbolic link is followed unless the caller asks not to. */
static void test_nofollow(void **state)
{
	struct diag d = {{0}};
	char buf[16];
	size_t len;

	(void)state;
	put("target", "t\n", 2);
	assert_int_equal(symlink("target", at("link")), 0);
	assert_int_equal(file_read(at("link"), 0, buf, sizeof(buf), &len, &d), 0);
	assert_string_equal(buf, "t\n");
	assert_int_equal(file_read(at("link"), FILE_READ_NOFOLLOW, buf, sizeof(buf), &len, &d),
			 -ELOOP);
	assert_non_null(strstr(d.msg, "a symbolic link"));
}

/* A claim: created whole with mode 0600; a second is -EEXIST with d untouched; never through
 * a symbolic link; a failure names the path. */
static void test_create_excl(void **state)
{
	struct diag d = {{0}};
	struct stat st;
	char buf[16];
	size_t len;

	(void)state;
	assert_int_equal(file_create_excl(at("claim"), "mac=1\n", 6, &d), 0);
	assert_int_equal(file_read(at("claim"), 0, buf, sizeof(buf), &len, &d), 0);
	assert_string_equal(buf, "mac=1\n");
	assert_int_equal(stat(at("claim"), &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(file_create_excl(at("claim"), "mac=2\n", 6, &d), -EEXIST);
	assert_string_equal(d.msg, "");
	assert_int_equal(file_read(at("claim"), 0, buf, sizeof(buf), &len, &d), 0);
	assert_string_equal(buf, "mac=1\n");
	/* A dangling link where the claim goes: not followed, not created behind it. */
	assert_int_equal(symlink("elsewhere", at("link")), 0);
	assert_int_equal(file_create_excl(at("link"), "x", 1, &d), -EEXIST);
	assert_int_equal(access(at("elsewhere"), F_OK), -1);
	assert_int_equal(file_create_excl(at("nodir/claim"), "x", 1, &d), -ENOENT);
	assert_non_null(strstr(d.msg, "nodir/claim"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_reads_up_to_the_cap, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_alloc_grows_to_max, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_fifo_refused_at_once, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_fd_pipe_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_other_kinds, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_nofollow, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_create_excl, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
