// SPDX-License-Identifier: MIT
/* qmp-call (the lab scripts' QMP tool): output and exit codes against the fake QMP server. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fake_qmp.h"

static const char *qmp_call;
static char sock[64];

struct result {
	int exit;
	char out[4096];
	char err[4096];
};

static void read_all(int fd, char *buf, size_t n)
{
	size_t len = 0;
	ssize_t r;

	while (len + 1 < n && (r = read(fd, buf + len, n - 1 - len)) > 0)
		len += (size_t)r;
	buf[len] = '\0';
}

/* Runs qmp-call with argv (NULL-terminated, without argv[0]). */
static void run(const char *const *args, struct result *res)
{
	int out[2], err[2], st;
	pid_t pid;

	assert_int_equal(pipe(out), 0);
	assert_int_equal(pipe(err), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		const char *argv[16] = {qmp_call};
		int i;

		for (i = 0; args[i] && i < 14; i++)
			argv[i + 1] = args[i];
		dup2(out[1], 1);
		dup2(err[1], 2);
		execv(qmp_call, (char **)argv);
		_exit(127);
	}
	close(out[1]);
	close(err[1]);
	read_all(out[0], res->out, sizeof(res->out));
	read_all(err[0], res->err, sizeof(res->err));
	close(out[0]);
	close(err[0]);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	res->exit = WEXITSTATUS(st);
}

static void finish(struct fake_qmp *f)
{
	char e[512];

	if (fake_qmp_finish(f, e, sizeof(e)) < 0)
		fail_msg("fake QMP server: %s", e);
}

static void test_return(void **state)
{
	static const struct fq_step steps[] = {
	    FQ_HANDSHAKE,
	    {FQ_EXPECT, "device_add", "{\"driver\": \"e1000e\", \"id\": \"vf0\"}", 0},
	    {FQ_REPLY, "{\"a\": [1, \"x\"]}", NULL, 0},
	    {FQ_WAIT_CLOSE, NULL, NULL, 0},
	    {0},
	};
	const char *args[] = {sock, "device_add", "{\"driver\":\"e1000e\",\"id\":\"vf0\"}", NULL};
	struct fake_qmp *f = fake_qmp_start_path(steps, sock);
	struct result r;

	(void)state;
	run(args, &r);
	finish(f);
	assert_int_equal(r.exit, 0);
	assert_string_equal(r.out, "{\"a\":[1,\"x\"]}\n");
}

static void test_qmp_error(void **state)
{
	static const struct fq_step steps[] = {
	    FQ_HANDSHAKE,
	    {FQ_EXPECT, "device_del", NULL, 0},
	    {FQ_ERROR, "DeviceNotFound", "Device 'vf0' not found\\u001b[2J", 0},
	    {FQ_WAIT_CLOSE, NULL, NULL, 0},
	    {0},
	};
	const char *args[] = {"--timeout", "2000", sock, "device_del", "{\"id\":\"vf0\"}", NULL};
	struct fake_qmp *f = fake_qmp_start_path(steps, sock);
	struct result r;

	(void)state;
	run(args, &r);
	finish(f);
	assert_int_equal(r.exit, 3);
	assert_string_equal(r.out, "");
	/* The desc reaches stderr, without the escape sequence. */
	assert_non_null(strstr(r.err, "Device 'vf0' not found?[2J"));
	assert_null(strchr(r.err, '\x1b'));
}

static void test_timeout_and_connect(void **state)
{
	static const struct fq_step silent[] = {
	    {FQ_DELAY, NULL, NULL, 400},
	    {0},
	};
	const char *args[] = {"--timeout", "100", sock, "query-status", NULL};
	const char *missing[] = {"/nonexistent/vfm-qmp.sock", "query-status", NULL};
	struct fake_qmp *f = fake_qmp_start_path(silent, sock);
	struct result r;

	(void)state;
	run(args, &r);
	assert_int_equal(r.exit, 4);
	finish(f);
	run(missing, &r);
	assert_int_equal(r.exit, 4);
	assert_non_null(strstr(r.err, "No such file"));
}

static void test_usage(void **state)
{
	const char *none[] = {NULL};
	const char *bad_json[] = {sock, "device_del", "{\"id\":", NULL};
	const char *not_object[] = {sock, "device_del", "[1]", NULL};
	const char *bad_cmd[] = {sock, "dev ice", NULL};
	const char *bad_timeout[] = {"--timeout", "soon", sock, "cont", NULL};
	const char *wait_extra[] = {"--wait-event", "STOP", sock, "cont", NULL};
	const char *const *cases[] = {none, bad_json, not_object, bad_cmd, bad_timeout, wait_extra};
	struct result r;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		run(cases[i], &r);
		if (r.exit != 2)
			fail_msg("case %zu: exit %d, want 2 (%s)", i, r.exit, r.err);
	}
}

static void test_wait_event(void **state)
{
	static const struct fq_step steps[] = {
	    FQ_HANDSHAKE,
	    {FQ_SEND,
	     "{\"timestamp\": {\"seconds\": 1, \"microseconds\": 2}, \"event\": \"STOP\"}\r\n",
	     NULL, 0},
	    {FQ_DELAY, NULL, NULL, 50},
	    {FQ_SEND,
	     "{\"timestamp\": {\"seconds\": 1795653910, \"microseconds\": 120514}, \"event\": "
	     "\"DEVICE_DELETED\", \"data\": {\"device\": \"vf0\", \"path\": "
	     "\"/machine/peripheral/vf0\"}}\r\n",
	     NULL, 0},
	    {FQ_WAIT_CLOSE, NULL, NULL, 0},
	    {0},
	};
	const char *args[] = {"--wait-event", "DEVICE_DELETED", "--timeout", "3000", sock, NULL};
	struct fake_qmp *f = fake_qmp_start_path(steps, sock);
	struct result r;

	(void)state;
	run(args, &r);
	finish(f);
	assert_int_equal(r.exit, 0);
	assert_string_equal(r.out,
			    "{\"event\":\"DEVICE_DELETED\",\"data\":{\"device\":\"vf0\",\"path\":"
			    "\"/machine/peripheral/vf0\"},\"timestamp\":{\"seconds\":"
			    "1795653910,\"microseconds\":120514}}\n");
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_return),
	    cmocka_unit_test(test_qmp_error),
	    cmocka_unit_test(test_timeout_and_connect),
	    cmocka_unit_test(test_usage),
	    cmocka_unit_test(test_wait_event),
	};

	if (argc != 2) {
		fprintf(stderr, "usage: test_qmp_call PATH-TO-qmp-call\n");
		return 2;
	}
	qmp_call = argv[1];
	snprintf(sock, sizeof(sock), "/tmp/vfm-test-qmpcall-%d.sock", (int)getpid());
	return cmocka_run_group_tests(tests, NULL, NULL);
}
