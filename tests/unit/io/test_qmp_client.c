// SPDX-License-Identifier: MIT
/* QMP client against the scripted fake QMP server. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fake_qmp.h"
#include "io/qmp_client.h"

#define EV(name, data)                                                                            \
	"{\"timestamp\": {\"seconds\": 1795653902, \"microseconds\": 321576}, \"event\": \"" name \
	"\", \"data\": " data "}\r\n"

static int64_t in_ms(int64_t ms)
{
	return time_now_ms() + ms;
}

static void finish(struct fake_qmp *f)
{
	char err[512];

	if (fake_qmp_finish(f, err, sizeof(err)) < 0)
		fail_msg("fake QMP server: %s", err);
}

static struct qmp_client *start(const struct fq_step *steps, struct fake_qmp **ret_f)
{
	struct qmp_client *c = NULL;
	struct diag d = {{0}};
	int fd;

	*ret_f = fake_qmp_start(steps, &fd);
	if (qmp_client_start(fd, in_ms(2000), &c, &d) < 0)
		fail_msg("handshake: %s", d.msg);
	return c;
}

static void test_handshake_and_execute(void **state)
{
	static const struct fq_step steps[] = {
	    FQ_HANDSHAKE,
	    {FQ_EXPECT, "query-status", NULL, 0},
	    {FQ_REPLY, "{\"status\": \"prelaunch\", \"singlestep\": false, \"running\": false}",
	     NULL, 0},
	    {FQ_EXPECT, "device_del", "{\"id\": \"vf0\"}", 0},
	    {FQ_REPLY, "{}", NULL, 0},
	    {FQ_WAIT_CLOSE, NULL, NULL, 0},
	    {0},
	};
	struct fake_qmp *f;
	struct qmp_client *c = start(steps, &f);
	struct diag d = {{0}};
	json_t *ret = NULL, *args = json_pack("{ss}", "id", "vf0");
	int major, minor, micro;

	(void)state;
	qmp_client_version(c, &major, &minor, &micro);
	assert_int_equal(major, 7);
	assert_int_equal(minor, 2);
	assert_int_equal(micro, 22);
	assert_int_equal(qmp_client_execute(c, "query-status", NULL, in_ms(2000), &ret, &d), 0);
	assert_string_equal(json_string_value(json_object_get(ret, "status")), "prelaunch");
	json_decref(ret);
	assert_int_equal(qmp_client_execute(c, "device_del", args, in_ms(2000), NULL, &d), 0);
	json_decref(args);
	qmp_client_free(c);
	finish(f);
}

/* Events before and after a reply are queued in order and can be waited for by name. */
static void test_interleaved_events(void **state)
{
	static const struct fq_step steps[] = {
	    FQ_HANDSHAKE,
	    {FQ_EXPECT, "migrate", "{\"uri\": \"tcp:127.0.0.1:4444\"}", 0},
	    {FQ_SEND, EV("MIGRATION", "{\"status\": \"setup\"}"), NULL, 0},
	    {FQ_REPLY, "{}", NULL, 0},
	    {FQ_SEND, EV("MIGRATION_PASS", "{\"pass\": 1}"), NULL, 0},
	    {FQ_SEND, EV("MIGRATION", "{\"status\": \"active\"}"), NULL, 0},
	    {FQ_EXPECT, "query-migrate", NULL, 0},
	    {FQ_SEND, EV("MIGRATION", "{\"status\": \"completed\"}"), NULL, 0},
	    {FQ_REPLY, "{\"status\": \"completed\", \"total-time\": 142}", NULL, 0},
	    {FQ_WAIT_CLOSE, NULL, NULL, 0},
	    {0},
	};
	struct fake_qmp *f;
	struct qmp_client *c = start(steps, &f);
	struct diag d = {{0}};
	struct qmp_event ev = {0};
	json_t *args = json_pack("{ss}", "uri", "tcp:127.0.0.1:4444"), *ret = NULL;

	(void)state;
	assert_int_equal(qmp_client_execute(c, "migrate", args, in_ms(2000), NULL, &d), 0);
	json_decref(args);
	assert_int_equal(qmp_client_wait_event(c, "MIGRATION", NULL, NULL, in_ms(2000), &ev, &d),
			 0);
	assert_string_equal(json_string_value(json_object_get(ev.data, "status")), "setup");
	assert_int_equal(ev.timestamp_us, 1795653902321576LL);
	qmp_event_clear(&ev);
	assert_int_equal(qmp_client_wait_event(c, "MIGRATION", NULL, NULL, in_ms(2000), &ev, &d),
			 0);
	assert_string_equal(json_string_value(json_object_get(ev.data, "status")), "active");
	qmp_event_clear(&ev);
	/* The reply comes after an event; the event stays queued. */
	assert_int_equal(qmp_client_execute(c, "query-migrate", NULL, in_ms(2000), &ret, &d), 0);
	assert_int_equal(json_integer_value(json_object_get(ret, "total-time")), 142);
	json_decref(ret);
	assert_int_equal(qmp_client_wait_event(c, "MIGRATION", NULL, NULL, in_ms(0), &ev, &d), 0);
	assert_string_equal(json_string_value(json_object_get(ev.data, "status")), "completed");
	qmp_event_clear(&ev);
	/* MIGRATION_PASS was never consumed: still there, and flushable. */
	assert_int_equal(qmp_client_flush_events(c, "MIGRATION_PASS"), 1);
	assert_int_equal(qmp_client_wait_event(c, NULL, NULL, NULL, in_ms(0), NULL, &d),
			 -ETIMEDOUT);
	qmp_client_free(c);
	finish(f);
}

static bool match_device(const struct qmp_event *ev, void *userdata)
{
	json_t *dev = json_object_get(ev->data, "device");

	return json_is_string(dev) && strcmp(json_string_value(dev), userdata) == 0;
}

static void test_wait_event_predicate_and_deadline(void **state)
{
	static const struct fq_step steps[] = {
	    FQ_HANDSHAKE,
	    {FQ_SEND,
	     EV("DEVICE_DELETED", "{\"path\": \"/machine/peripheral/vf0/virtio-backend\"}"), NULL,
	     0},
	    {FQ_SEND, EV("DEVICE_DELETED", "{\"device\": \"other\", \"path\": \"/x\"}"), NULL, 0},
	    {FQ_DELAY, NULL, NULL, 150},
	    {FQ_SEND,
	     EV("DEVICE_DELETED", "{\"device\": \"vf0\", \"path\": \"/machine/peripheral/vf0\"}"),
	     NULL, 0},
	    {FQ_WAIT_CLOSE, NULL, NULL, 0},
	    {0},
	};
	struct fake_qmp *f;
	struct qmp_client *c = start(steps, &f);
	struct diag d = {{0}};
	struct qmp_event ev = {0};
	int64_t t0 = time_now_ms();

	(void)state;
	/* Nothing matching within 50 ms: the event comes after 150 ms. */
	assert_int_equal(
	    qmp_client_wait_event(c, "DEVICE_DELETED", match_device, "vf0", in_ms(50), &ev, &d),
	    -ETIMEDOUT);
	assert_true(time_now_ms() - t0 >= 50);
	assert_true(time_now_ms() - t0 < 140);
	assert_non_null(strstr(d.msg, "DEVICE_DELETED"));
	assert_int_equal(
	    qmp_client_wait_event(c, "DEVICE_DELETED", match_device, "vf0", in_ms(2000), &ev, &d),
	    0);
	assert_string_equal(json_string_value(json_object_get(ev.data, "path")),
			    "/machine/peripheral/vf0");
	qmp_event_clear(&ev);
	/* The two that did not match stay queued, in order. */
	assert_int_equal(
	    qmp_client_wait_event(c, "DEVICE_DELETED", match_device, "other", in_ms(0), NULL, &d),
	    0);
	assert_int_equal(qmp_client_flush_events(c, NULL), 1);
	qmp_client_free(c);
	finish(f);
}

static void test_error_reply(void **state)
{
	static const struct fq_step steps[] = {
	    FQ_HANDSHAKE,
	    {FQ_EXPECT, "device_del", NULL, 0},
	    {FQ_ERROR, "DeviceNotFound", "Device 'nosuch' not found", 0},
	    {FQ_EXPECT, "query-status", NULL, 0},
	    {FQ_REPLY, "{\"status\": \"running\"}", NULL, 0},
	    /* QEMU could not parse the command: its error has no id. */
	    {FQ_EXPECT, "cont", NULL, 0},
	    {FQ_SEND,
	     "{\"error\": {\"class\": \"GenericError\", \"desc\": \"JSON parse error, invalid "
	     "keyword 'garbage'\"}}\r\n",
	     NULL, 0},
	    {FQ_WAIT_CLOSE, NULL, NULL, 0},
	    {0},
	};
	struct fake_qmp *f;
	struct qmp_client *c = start(steps, &f);
	struct diag d = {{0}};
	json_t *args = json_pack("{ss}", "id", "nosuch"), *ret = NULL;

	(void)state;
	assert_string_equal(qmp_client_last_error_class(c), "");
	assert_int_equal(qmp_client_execute(c, "device_del", args, in_ms(2000), &ret, &d),
			 -EREMOTEIO);
	json_decref(args);
	assert_null(ret);
	assert_string_equal(d.msg, "device_del: Device 'nosuch' not found");
	assert_string_equal(qmp_client_last_error_class(c), "DeviceNotFound");
	/* An error reply does not break the connection. */
	assert_int_equal(qmp_client_execute(c, "query-status", NULL, in_ms(2000), &ret, &d), 0);
	json_decref(ret);
	assert_int_equal(qmp_client_execute(c, "cont", NULL, in_ms(2000), NULL, &d), -EREMOTEIO);
	assert_non_null(strstr(d.msg, "JSON parse error"));
	qmp_client_free(c);
	finish(f);
}

/* A reply that comes after its deadline is discarded; the next command gets its own. */
static void test_timeout_then_stale_reply(void **state)
{
	static const struct fq_step steps[] = {
	    FQ_HANDSHAKE,
	    {FQ_EXPECT, "query-pci", NULL, 0},
	    {FQ_DELAY, NULL, NULL, 120},
	    {FQ_REPLY, "[\"stale\"]", NULL, 0},
	    {FQ_EXPECT, "query-status", NULL, 0},
	    {FQ_REPLY_ID, "{\"status\": \"wrong-id\"}", NULL, 5},
	    {FQ_REPLY, "{\"status\": \"running\"}", NULL, 0},
	    {FQ_WAIT_CLOSE, NULL, NULL, 0},
	    {0},
	};
	struct fake_qmp *f;
	struct qmp_client *c = start(steps, &f);
	struct diag d = {{0}};
	json_t *ret = NULL;
	int64_t t0 = time_now_ms();

	(void)state;
	assert_int_equal(qmp_client_execute(c, "query-pci", NULL, in_ms(40), &ret, &d), -ETIMEDOUT);
	assert_true(time_now_ms() - t0 < 110);
	assert_null(ret);
	assert_non_null(strstr(d.msg, "query-pci"));
	assert_int_equal(qmp_client_execute(c, "query-status", NULL, in_ms(2000), &ret, &d), 0);
	assert_string_equal(json_string_value(json_object_get(ret, "status")), "running");
	json_decref(ret);
	qmp_client_free(c);
	finish(f);
}

static void expect_broken(const struct fq_step *steps, int want, const char *what)
{
	struct fake_qmp *f;
	struct qmp_client *c = start(steps, &f);
	struct diag d = {{0}};
	json_t *ret = NULL;

	assert_int_equal(qmp_client_execute(c, "query-status", NULL, in_ms(2000), &ret, &d), want);
	assert_null(ret);
	assert_non_null(strstr(d.msg, what));
	/* Broken for good: the same error again, without waiting. */
	memset(&d, 0, sizeof(d));
	assert_int_equal(qmp_client_execute(c, "query-status", NULL, in_ms(2000), &ret, &d), want);
	assert_non_null(strstr(d.msg, what));
	/* Events that came before the break can still be had; then the error. */
	qmp_client_flush_events(c, NULL);
	assert_int_equal(qmp_client_wait_event(c, NULL, NULL, NULL, in_ms(2000), NULL, &d), want);
	qmp_client_free(c);
	finish(f);
}

static void test_garbage(void **state)
{
	static const struct fq_step steps[] = {
	    FQ_HANDSHAKE,
	    {FQ_EXPECT, "query-status", NULL, 0},
	    {FQ_SEND, "{\"return\": {}, \"id\": 2}} garbage\r\n", NULL, 0},
	    {FQ_WAIT_CLOSE, NULL, NULL, 0},
	    {0},
	};

	(void)state;
	expect_broken(steps, -EBADMSG, "malformed JSON");
}

static void test_oversized_line(void **state)
{
	static const struct fq_step steps[] = {
	    FQ_HANDSHAKE,
	    {FQ_EXPECT, "query-status", NULL, 0},
	    {FQ_SEND_BIG, NULL, NULL, QMP_LINE_MAX + 100},
	    {FQ_WAIT_CLOSE, NULL, NULL, 0},
	    {0},
	};

	(void)state;
	expect_broken(steps, -EMSGSIZE, "limit");
}

/* A line at the limit is fine. */
static void test_line_at_limit(void **state)
{
	static const struct fq_step steps[] = {
	    FQ_HANDSHAKE,
	    {FQ_EXPECT, "query-status", NULL, 0},
	    {FQ_SEND_BIG, NULL, NULL, QMP_LINE_MAX + 1},
	    {FQ_REPLY, "{}", NULL, 0},
	    {FQ_WAIT_CLOSE, NULL, NULL, 0},
	    {0},
	};
	struct fake_qmp *f;
	struct qmp_client *c = start(steps, &f);
	struct diag d = {{0}};

	(void)state;
	/* The big line has no id: a stray return, skipped; then our reply. */
	assert_int_equal(qmp_client_execute(c, "query-status", NULL, in_ms(2000), NULL, &d), 0);
	qmp_client_free(c);
	finish(f);
}

static void test_hangup(void **state)
{
	static const struct fq_step steps[] = {
	    FQ_HANDSHAKE,
	    {FQ_EXPECT, "query-status", NULL, 0},
	    {FQ_SEND, EV("SHUTDOWN", "{\"guest\": false, \"reason\": \"host-qmp-quit\"}"), NULL, 0},
	    {FQ_CLOSE, NULL, NULL, 0},
	    {0},
	};

	(void)state;
	expect_broken(steps, -ECONNRESET, "closed");
}

static void test_greeting_problems(void **state)
{
	static const struct fq_step no_greeting[] = {
	    {FQ_DELAY, NULL, NULL, 200},
	    {0},
	};
	static const struct fq_step wrong_first[] = {
	    {FQ_SEND, "{\"return\": {}}\r\n", NULL, 0},
	    {FQ_DELAY, NULL, NULL, 50},
	    {0},
	};
	static const struct fq_step caps_refused[] = {
	    {FQ_SEND, FQ_GREETING_LINE, NULL, 0},
	    {FQ_EXPECT, "qmp_capabilities", NULL, 0},
	    {FQ_ERROR, "CommandNotFound", "Capabilities negotiation is already complete", 0},
	    {FQ_DELAY, NULL, NULL, 50},
	    {0},
	};
	struct qmp_client *c = NULL;
	struct diag d = {{0}};
	struct fake_qmp *f;
	int fd;

	(void)state;
	f = fake_qmp_start(no_greeting, &fd);
	assert_int_equal(qmp_client_start(fd, in_ms(50), &c, &d), -ETIMEDOUT);
	assert_null(c);
	assert_non_null(strstr(d.msg, "greeting"));
	finish(f);
	f = fake_qmp_start(wrong_first, &fd);
	assert_int_equal(qmp_client_start(fd, in_ms(2000), &c, &d), -EBADMSG);
	assert_null(c);
	finish(f);
	f = fake_qmp_start(caps_refused, &fd);
	assert_int_equal(qmp_client_start(fd, in_ms(2000), &c, &d), -EREMOTEIO);
	assert_null(c);
	assert_non_null(strstr(d.msg, "already complete"));
	finish(f);
}

static void test_event_queue_bound(void **state)
{
	static struct fq_step steps[QMP_CLIENT_EVENT_QUEUE + 64];
	struct fake_qmp *f;
	struct qmp_client *c;
	struct diag d = {{0}};
	struct qmp_event ev = {0};
	unsigned i, n = 0, total = QMP_CLIENT_EVENT_QUEUE + 40;

	(void)state;
	steps[n++] = (struct fq_step){FQ_SEND, FQ_GREETING_LINE, NULL, 0};
	steps[n++] = (struct fq_step){FQ_EXPECT, "qmp_capabilities", NULL, 0};
	steps[n++] = (struct fq_step){FQ_REPLY, "{}", NULL, 0};
	steps[n++] = (struct fq_step){FQ_EXPECT, "query-status", NULL, 0};
	steps[n++] = (struct fq_step){FQ_SEND, EV("FIRST", "{}"), NULL, 0};
	for (i = 1; i < total; i++)
		steps[n++] =
		    (struct fq_step){FQ_SEND, EV("MIGRATION_PASS", "{\"pass\": 1}"), NULL, 0};
	steps[n++] = (struct fq_step){FQ_REPLY, "{}", NULL, 0};
	steps[n++] = (struct fq_step){FQ_WAIT_CLOSE, NULL, NULL, 0};
	steps[n] = (struct fq_step){0};
	c = start(steps, &f);
	assert_int_equal(qmp_client_execute(c, "query-status", NULL, in_ms(5000), NULL, &d), 0);
	assert_int_equal(qmp_client_dropped_events(c), total - QMP_CLIENT_EVENT_QUEUE);
	/* The oldest went first. */
	assert_int_equal(qmp_client_wait_event(c, "FIRST", NULL, NULL, in_ms(0), &ev, &d),
			 -ETIMEDOUT);
	assert_int_equal(qmp_client_flush_events(c, "MIGRATION_PASS"), QMP_CLIENT_EVENT_QUEUE);
	qmp_client_free(c);
	finish(f);
}

static void test_connect_path(void **state)
{
	static const struct fq_step steps[] = {
	    FQ_HANDSHAKE,
	    {FQ_EXPECT, "quit", NULL, 0},
	    {FQ_SEND, EV("SHUTDOWN", "{\"guest\": false, \"reason\": \"host-qmp-quit\"}"), NULL, 0},
	    {FQ_REPLY, "{}", NULL, 0},
	    {FQ_CLOSE, NULL, NULL, 0},
	    {0},
	};
	char path[64], longpath[200];
	struct qmp_client *c = NULL;
	struct diag d = {{0}};
	struct fake_qmp *f;

	(void)state;
	snprintf(path, sizeof(path), "/tmp/vfm-test-qmp-%d.sock", (int)getpid());
	f = fake_qmp_start_path(steps, path);
	assert_int_equal(qmp_client_connect(path, in_ms(2000), &c, &d), 0);
	assert_int_equal(qmp_client_execute(c, "quit", NULL, in_ms(2000), NULL, &d), 0);
	assert_int_equal(qmp_client_wait_event(c, "SHUTDOWN", NULL, NULL, in_ms(2000), NULL, &d),
			 0);
	qmp_client_free(c);
	finish(f);
	c = NULL;
	assert_int_equal(qmp_client_connect(path, in_ms(100), &c, &d), -ENOENT);
	assert_null(c);
	memset(longpath, 'x', sizeof(longpath) - 1);
	longpath[sizeof(longpath) - 1] = '\0';
	assert_int_equal(qmp_client_connect(longpath, in_ms(100), &c, &d), -EINVAL);
	assert_int_equal(qmp_client_connect("", in_ms(100), &c, &d), -EINVAL);
}

/* An error desc with terminal escapes reaches d (and so the user's terminal) sanitized. */
static void test_error_desc_sanitized(void **state)
{
	static const struct fq_step steps[] = {
	    FQ_HANDSHAKE,
	    {FQ_EXPECT, "device_del", NULL, 0},
	    {FQ_ERROR, "GenericError", "bad \\u001b[2J\\u001b]0;title\\u0007 \\u009b1m end", 0},
	    {FQ_WAIT_CLOSE, NULL, NULL, 0},
	    {0},
	};
	struct fake_qmp *f;
	struct qmp_client *c = start(steps, &f);
	struct diag d = {{0}};

	(void)state;
	assert_int_equal(qmp_client_execute(c, "device_del", NULL, in_ms(2000), NULL, &d),
			 -EREMOTEIO);
	assert_non_null(strstr(d.msg, "bad "));
	assert_non_null(strstr(d.msg, " end"));
	for (const unsigned char *p = (const unsigned char *)d.msg; *p; p++) {
		assert_true(*p >= 0x20 && *p != 0x7f);
		if (*p == 0xc2)
			assert_true(p[1] >= 0xa0);
	}
	qmp_client_free(c);
	finish(f);
}

/* A peer on the QMP socket that, after the handshake, sends events without end. */
static pid_t event_flood_peer(int *ret_fd)
{
	static const char greeting[] = FQ_GREETING_LINE;
	static const char ev[] = EV("RTC_CHANGE", "{\"offset\": 1}");
	static char big[1 << 18];
	int sv[2], sz = 1 << 22;
	size_t n = 0;
	char buf[512];
	pid_t pid;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid > 0) {
		close(sv[1]);
		*ret_fd = sv[0];
		return pid;
	}
	close(sv[0]);
	signal(SIGPIPE, SIG_IGN);
	setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	(void)!write(sv[1], greeting, sizeof(greeting) - 1);
	(void)!read(sv[1], buf, sizeof(buf)); /* qmp_capabilities, id 1 */
	(void)!write(sv[1], "{\"return\": {}, \"id\": 1}\r\n",
		     strlen("{\"return\": {}, \"id\": 1}\r\n"));
	while (n + sizeof(ev) - 1 <= sizeof(big)) {
		memcpy(big + n, ev, sizeof(ev) - 1);
		n += sizeof(ev) - 1;
	}
	while (write(sv[1], big, n) > 0)
		;
	_exit(0);
}

/* Endless events neither keep a command nor an event wait past its deadline. */
static void test_event_flood_deadline(void **state)
{
	struct qmp_client *c = NULL;
	struct diag d = {{0}};
	int fd, status;
	int64_t t0;
	pid_t pid;

	(void)state;
	pid = event_flood_peer(&fd);
	assert_int_equal(qmp_client_start(fd, in_ms(2000), &c, &d), 0);
	t0 = time_now_ms();
	assert_int_equal(qmp_client_execute(c, "query-status", NULL, in_ms(300), NULL, &d),
			 -ETIMEDOUT);
	assert_true(time_now_ms() - t0 < 1500);
	t0 = time_now_ms();
	assert_int_equal(
	    qmp_client_wait_event(c, "DEVICE_DELETED", NULL, NULL, in_ms(300), NULL, &d),
	    -ETIMEDOUT);
	assert_true(time_now_ms() - t0 < 1500);
	assert_false(qmp_client_is_broken(c));
	qmp_client_free(c);
	waitpid(pid, &status, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_handshake_and_execute),
	    cmocka_unit_test(test_interleaved_events),
	    cmocka_unit_test(test_wait_event_predicate_and_deadline),
	    cmocka_unit_test(test_error_reply),
	    cmocka_unit_test(test_timeout_then_stale_reply),
	    cmocka_unit_test(test_garbage),
	    cmocka_unit_test(test_oversized_line),
	    cmocka_unit_test(test_line_at_limit),
	    cmocka_unit_test(test_hangup),
	    cmocka_unit_test(test_greeting_problems),
	    cmocka_unit_test(test_event_queue_bound),
	    cmocka_unit_test(test_connect_path),
	    cmocka_unit_test(test_error_desc_sanitized),
	    cmocka_unit_test(test_event_flood_deadline),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
