// SPDX-License-Identifier: MIT
/* Journal files on disk: refusal while unfinished, lock, torn tail, previous journal kept. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "io/journal_file.h"

static char dir[64];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/vfm-jf-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void append(struct journal_file *j, uint32_t seq, enum journal_kind k, const char *what)
{
	struct journal_record r = {.seq = seq, .kind = k};
	struct diag d = {0};

	if (k == JOURNAL_BEGIN) {
		snprintf(r.guest, sizeof(r.guest), "g1");
		snprintf(r.bond, sizeof(r.bond), "bond0");
	} else if (k == JOURNAL_END) {
		snprintf(r.outcome, sizeof(r.outcome), "%s", what);
	} else if (k != JOURNAL_PONR) {
		snprintf(r.step, sizeof(r.step), "%s", what);
	}
	assert_int_equal(journal_file_append(j, &r, &d), 0);
}

static void test_lifecycle(void **state)
{
	struct journal_file *j = NULL, *j2 = NULL;
	struct journal_record *recs;
	struct diag d = {0};
	char path[128];
	struct stat st;
	size_t n;
	bool torn;
	FILE *f;

	(void)state;
	assert_int_equal(journal_file_load(dir, "g1", &recs, &n, &torn, &d), -ENOENT);
	assert_int_equal(journal_file_create(dir, "g1", &j, &d), 0);
	append(j, 1, JOURNAL_BEGIN, NULL);
	append(j, 2, JOURNAL_INTENT, "unplug");
	/* Held by this process: a second one is told so. */
	assert_int_equal(journal_file_open(dir, "g1", &j2, &d), -EBUSY);
	assert_non_null(strstr(d.msg, "another vfmigrate"));
	j = journal_file_close(j);

	/* Unfinished: a new run refuses and names recover. */
	assert_int_equal(journal_file_create(dir, "g1", &j, &d), -EEXIST);
	assert_non_null(strstr(d.msg, "vfmigrate recover g1"));

	/* A crash tore the last line: load ignores it, open cuts it before appending. */
	snprintf(path, sizeof(path), "%s/g1.journal", dir);
	f = fopen(path, "a");
	assert_non_null(f);
	fputs("{\"seq\":3,\"t\":0,\"re", f);
	fclose(f);
	assert_int_equal(journal_file_load(dir, "g1", &recs, &n, &torn, &d), 0);
	assert_int_equal(n, 2);
	assert_true(torn);
	free(recs);
	assert_int_equal(journal_file_open(dir, "g1", &j, &d), 0);
	append(j, 3, JOURNAL_UNDO, "unplug");
	append(j, 4, JOURNAL_END, "rolled-back");
	j = journal_file_close(j);
	assert_int_equal(journal_file_load(dir, "g1", &recs, &n, &torn, &d), 0);
	assert_int_equal(n, 4);
	assert_false(torn);
	assert_int_equal(recs[3].kind, JOURNAL_END);
	free(recs);

	/* Finished: a new run starts a new journal and keeps the old one. */
	assert_int_equal(journal_file_create(dir, "g1", &j, &d), 0);
	j = journal_file_close(j);
	snprintf(path, sizeof(path), "%s/g1.journal.prev", dir);
	assert_int_equal(stat(path, &st), 0);
	snprintf(path, sizeof(path), "%s/g1.journal", dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
}

static void test_bad_names(void **state)
{
	struct journal_file *j = NULL;
	struct diag d = {0};

	(void)state;
	assert_int_equal(journal_file_create(dir, "../etc/passwd", &j, &d), -EINVAL);
	assert_int_equal(journal_file_create(dir, ".hidden", &j, &d), -EINVAL);
	assert_int_equal(journal_file_create(dir, "", &j, &d), -EINVAL);
	assert_int_equal(journal_file_create(dir, "a b", &j, &d), -EINVAL);
	assert_true(journal_guest_name_valid("web-01.example_2"));
	/* A name that would read as an option (evacuate passes names to its children). */
	assert_false(journal_guest_name_valid("-h"));
	assert_false(journal_guest_name_valid("--help"));
	assert_true(journal_guest_name_valid("h-"));
}

/* A record cut short by a full disk does not corrupt the records appended after it. */
static void test_short_write(void **state)
{
	struct journal_record r = {.seq = 2, .kind = JOURNAL_INTENT, .step = "reserve"};
	struct journal_file *j = NULL;
	struct journal_record *recs;
	struct rlimit old, lim;
	struct diag d = {0};
	char path[128];
	struct stat st;
	size_t n;
	bool torn;

	(void)state;
	assert_int_equal(journal_file_create(dir, "g3", &j, &d), 0);
	append(j, 1, JOURNAL_BEGIN, NULL);
	snprintf(path, sizeof(path), "%s/g3.journal", dir);
	assert_int_equal(stat(path, &st), 0);
	/* The file may grow by 10 bytes only: the next write is short, then fails (EFBIG). */
	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = (rlim_t)st.st_size + 10;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	assert_true(journal_file_append(j, &r, &d) < 0);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	/* The disk has room again: the run records what it does next. */
	append(j, 2, JOURNAL_INTENT, "reserve");
	append(j, 3, JOURNAL_FAIL, "reserve");
	j = journal_file_close(j);
	assert_int_equal(journal_file_load(dir, "g3", &recs, &n, &torn, &d), 0);
	assert_int_equal(n, 3);
	assert_false(torn);
	assert_int_equal(recs[2].kind, JOURNAL_FAIL);
	free(recs);
}

static void on_alarm(int sig)
{
	static const char msg[] = "test_journal_file: a journal read blocked (alarm)\n";

	(void)sig;
	(void)!write(2, msg, sizeof(msg) - 1);
	_exit(1);
}

/* A FIFO where the journal should be is refused, naming it, by load and by create (which
 * reads the previous journal first); neither waits for a writer. */
static void test_fifo_journal(void **state)
{
	struct journal_record *recs = NULL;
	struct journal_file *j = NULL;
	struct diag d = {0};
	char path[128];
	size_t n;
	bool torn;

	(void)state;
	signal(SIGALRM, on_alarm);
	alarm(10);
	snprintf(path, sizeof(path), "%s/g4.journal", dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(journal_file_load(dir, "g4", &recs, &n, &torn, &d), -EINVAL);
	assert_non_null(strstr(d.msg, path));
	assert_non_null(strstr(d.msg, "a FIFO, not a regular file"));
	assert_true(journal_file_create(dir, "g4", &j, &d) < 0);
	assert_null(j);
	assert_non_null(strstr(d.msg, "a FIFO, not a regular file"));
	alarm(0);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_lifecycle),
	    cmocka_unit_test(test_bad_names),
	    cmocka_unit_test(test_short_write),
	    cmocka_unit_test(test_fifo_journal),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
