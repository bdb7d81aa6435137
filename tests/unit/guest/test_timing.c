// SPDX-License-Identifier: MIT
/*
 * guest-agent-timing: the agent's own share of a request, on a fake backend whose calls take
 * scripted time and a fake clock that advances 10 us at every read, so each part is exact.
 * Replies of the other commands are the same with and without timing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../../../guest/timing.h"
#include "proto/agent_timing.h"
#include "proto/qga.h"

#define TICK_NS 10000	/* every clock read */
#define LIST_NS 1000000 /* a link dump */

static int64_t T;

static int64_t fake_now_ns(void)
{
	int64_t t = T;

	T += TICK_NS;
	return t;
}

/* One bond, no slaves. */
static int f_link_list(void *ctx, struct agent_link **ret, size_t *ret_n, struct diag *d)
{
	struct agent_link *l = calloc(1, sizeof(*l));

	(void)ctx;
	(void)d;
	T += LIST_NS;
	l->ifindex = 2;
	snprintf(l->name, sizeof(l->name), "bond0");
	snprintf(l->kind, sizeof(l->kind), "bond");
	l->has_bond_mode = true;
	l->bond_mode = AGENT_BOND_MODE_ACTIVEBACKUP;
	*ret = l;
	*ret_n = 1;
	return 0;
}

static int f_no(void *ctx, const char *ifname, char *buf, size_t n)
{
	(void)ctx, (void)ifname, (void)buf, (void)n;
	return -ENOENT;
}

static int64_t f_now_ms(void *ctx)
{
	(void)ctx;
	return T / 1000000;
}

static const struct agent_backend fake_be = {
    .link_list = f_link_list,
    .pci_address = f_no,
    .driver = f_no,
    .now_ms = f_now_ms,
};

static struct agent_timing TM;
static struct agent A;

static int setup(void **state)
{
	(void)state;
	T = 5000000;
	agent_timing_init(&TM, &fake_be, fake_now_ns);
	agent_init(&A, &TM.ops);
	A.timing = &TM;
	return 0;
}

static char *send_req(struct agent *a, const char *req)
{
	size_t len = 0;
	char *s = agent_handle_message(a, req, strlen(req), &len);

	assert_non_null(s);
	return s;
}

/* The parsed guest-agent-timing reply. */
static struct agent_timing_reply timing(void)
{
	char *s = send_req(&A, "{\"execute\":\"guest-agent-timing\"}");
	struct agent_timing_reply t;
	struct qga_reply r;
	struct diag d = {{0}};

	if (qga_reply_parse(s, strlen(s) - 1, &r, &d) < 0 || r.is_error)
		fail_msg("bad reply %s", s);
	if (agent_timing_parse(r.value, &t, &d) < 0)
		fail_msg("%s: %s", s, d.msg);
	qga_reply_done(&r);
	free(s);
	return t;
}

static void test_parts(void **state)
{
	struct agent_timing_reply t;

	(void)state;
	t = timing();
	assert_false(t.has_last);
	assert_int_equal(t.requests, 0);

	/* No kernel call: all of it is the agent's. */
	free(send_req(&A, "{\"execute\":\"guest-ping\"}"));
	t = timing();
	assert_true(t.has_last);
	assert_int_equal(t.requests, 2); /* the first guest-agent-timing, guest-ping */
	assert_string_equal(t.last.command, "guest-ping");
	assert_int_equal(t.last.kernel_calls, 0);
	assert_int_equal(t.last.total_ns, TICK_NS);
	assert_int_equal(t.last.before_ns, TICK_NS);
	assert_int_equal(t.last.kernel_ns + t.last.after_ns, 0);

	/* One link dump: begin, call start, call end, end are four clock reads. */
	free(send_req(&A, "{\"execute\":\"guest-bond-status\"}"));
	t = timing();
	assert_string_equal(t.last.command, "guest-bond-status");
	assert_int_equal(t.last.kernel_calls, 1);
	assert_int_equal(t.last.before_ns, TICK_NS);
	assert_int_equal(t.last.kernel_ns, TICK_NS + LIST_NS);
	assert_int_equal(t.last.after_ns, TICK_NS);
	assert_int_equal(t.last.total_ns, 3 * TICK_NS + LIST_NS);

	/* The timing request itself is what the next one reports. */
	t = timing();
	assert_string_equal(t.last.command, "guest-agent-timing");

	/* A request that names no known command. */
	free(send_req(&A, "{\"execute\":\"guest-nope\"}"));
	t = timing();
	assert_string_equal(t.last.command, "-");
	free(send_req(&A, "not json"));
	t = timing();
	assert_string_equal(t.last.command, "-");
}

/* Production replies are byte for byte what an agent without timing sends. */
static void test_replies_unchanged(void **state)
{
	static const char *const reqs[] = {
	    "{\"execute\":\"guest-bond-status\",\"id\":7}",
	    "{\"execute\":\"guest-bond-status\",\"arguments\":{\"bond\":\"bond9\"}}",
	    "{\"execute\":\"guest-sync-delimited\",\"arguments\":{\"id\":42}}",
	    "{\"execute\":\"guest-ping\"}",
	};
	struct agent plain;

	(void)state;
	agent_init(&plain, &fake_be);
	for (size_t i = 0; i < ARRAY_SIZE(reqs); i++) {
		char *a = send_req(&A, reqs[i]), *b = send_req(&plain, reqs[i]);

		assert_string_equal(a, b);
		free(a);
		free(b);
	}
}

static void test_errors(void **state)
{
	struct agent plain;
	char *s;

	(void)state;
	s = send_req(&A, "{\"execute\":\"guest-agent-timing\",\"arguments\":{\"x\":1}}");
	assert_non_null(strstr(s, "InvalidParameter"));
	free(s);
	agent_init(&plain, &fake_be);
	s = send_req(&plain, "{\"execute\":\"guest-agent-timing\"}");
	assert_non_null(strstr(s, "does not time its requests"));
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_parts, setup),
	    cmocka_unit_test_setup(test_replies_unchanged, setup),
	    cmocka_unit_test_setup(test_errors, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
