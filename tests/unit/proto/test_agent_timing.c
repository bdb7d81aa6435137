// SPDX-License-Identifier: MIT
/* The guest-agent-timing reply: round trip, and the strict parser's refusals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "proto/agent_timing.h"

#define LAST_OK                                                                          \
	"\"command\":\"guest-bond-release\",\"total_ns\":1000,\"before_kernel_ns\":100," \
	"\"kernel_ns\":850,\"after_kernel_ns\":50,\"kernel_calls\":3"

static int parse(const char *text, struct agent_timing_reply *ret)
{
	json_t *v = json_loads(text, 0, NULL);
	struct diag d = {{0}};
	int r;

	assert_non_null(v);
	r = agent_timing_parse(v, ret, &d);
	if (r < 0)
		assert_true(d.msg[0] != '\0');
	json_decref(v);
	return r;
}

static void test_round_trip(void **state)
{
	struct agent_timing_reply in = {.requests = 9, .has_last = true}, out = {0};
	json_t *v;
	char *s;

	(void)state;
	snprintf(in.last.command, sizeof(in.last.command), "guest-bond-enslave");
	in.last.total_ns = 7000;
	in.last.before_ns = 1000;
	in.last.kernel_ns = 5000;
	in.last.after_ns = 1000;
	in.last.kernel_calls = 6;
	v = agent_timing_to_json(&in);
	s = json_dumps(v, 0);
	assert_int_equal(parse(s, &out), 0);
	assert_memory_equal(&in, &out, sizeof(in));
	free(s);
	json_decref(v);

	in.has_last = false;
	memset(&in.last, 0, sizeof(in.last));
	v = agent_timing_to_json(&in);
	s = json_dumps(v, 0);
	memset(&out, 0xAA, sizeof(out));
	assert_int_equal(parse(s, &out), 0);
	assert_false(out.has_last);
	assert_int_equal(out.requests, 9);
	free(s);
	json_decref(v);
}

static void test_refusals(void **state)
{
	static const char *const bad[] = {
	    "[]",
	    "{\"requests\":1}",
	    "{\"requests\":1,\"last\":null,\"x\":1}",
	    "{\"requests\":-1,\"last\":null}",
	    "{\"requests\":1.5,\"last\":null}",
	    "{\"requests\":\"1\",\"last\":null}",
	    "{\"requests\":1,\"last\":[]}",
	    "{\"requests\":0,\"last\":{" LAST_OK "}}",
	    "{\"requests\":1,\"last\":{" LAST_OK ",\"own_ns\":1}}",
	    "{\"requests\":1,\"last\":{\"command\":\"guest-bond-release\",\"total_ns\":1000}}",
	    /* parts that do not add up */
	    "{\"requests\":1,\"last\":{\"command\":\"c\",\"total_ns\":999,\"before_kernel_ns\":100,"
	    "\"kernel_ns\":850,\"after_kernel_ns\":50,\"kernel_calls\":3}}",
	    /* kernel time without a kernel call */
	    "{\"requests\":1,\"last\":{\"command\":\"c\",\"total_ns\":1000,\"before_kernel_ns\":"
	    "100,"
	    "\"kernel_ns\":850,\"after_kernel_ns\":50,\"kernel_calls\":0}}",
	    /* out of range, negative, real */
	    "{\"requests\":1,\"last\":{\"command\":\"c\",\"total_ns\":2000000000000,"
	    "\"before_kernel_ns\":2000000000000,\"kernel_ns\":0,\"after_kernel_ns\":0,"
	    "\"kernel_calls\":0}}",
	    "{\"requests\":1,\"last\":{\"command\":\"c\",\"total_ns\":0,\"before_kernel_ns\":100,"
	    "\"kernel_ns\":-100,\"after_kernel_ns\":0,\"kernel_calls\":1}}",
	    "{\"requests\":1,\"last\":{\"command\":\"c\",\"total_ns\":1.0,\"before_kernel_ns\":1,"
	    "\"kernel_ns\":0,\"after_kernel_ns\":0,\"kernel_calls\":0}}",
	    "{\"requests\":1,\"last\":{\"command\":\"c\",\"total_ns\":1,\"before_kernel_ns\":1,"
	    "\"kernel_ns\":0,\"after_kernel_ns\":0,\"kernel_calls\":2000000}}",
	    /* command names: empty, a space, a control character, not a string, too long */
	    "{\"requests\":1,\"last\":{\"command\":\"\",\"total_ns\":1,\"before_kernel_ns\":1,"
	    "\"kernel_ns\":0,\"after_kernel_ns\":0,\"kernel_calls\":0}}",
	    "{\"requests\":1,\"last\":{\"command\":\"a b\",\"total_ns\":1,\"before_kernel_ns\":1,"
	    "\"kernel_ns\":0,\"after_kernel_ns\":0,\"kernel_calls\":0}}",
	    "{\"requests\":1,\"last\":{\"command\":\"a\\u001b[2J\",\"total_ns\":1,"
	    "\"before_kernel_ns\":1,\"kernel_ns\":0,\"after_kernel_ns\":0,\"kernel_calls\":0}}",
	    "{\"requests\":1,\"last\":{\"command\":7,\"total_ns\":1,\"before_kernel_ns\":1,"
	    "\"kernel_ns\":0,\"after_kernel_ns\":0,\"kernel_calls\":0}}",
	    "{\"requests\":1,\"last\":{\"command\":"
	    "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaa\",\"total_ns\":1,\"before_kernel_ns\":1,\"kernel_ns\":0,"
	    "\"after_kernel_ns\":0,\"kernel_calls\":0}}",
	};
	struct agent_timing_reply out, untouched;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		memset(&out, 0x5A, sizeof(out));
		memcpy(&untouched, &out, sizeof(out));
		if (parse(bad[i], &out) == 0)
			fail_msg("accepted: %s", bad[i]);
		assert_memory_equal(&out, &untouched, sizeof(out));
	}
	assert_int_equal(parse("{\"requests\":1,\"last\":{" LAST_OK "}}", &out), 0);
	assert_string_equal(out.last.command, "guest-bond-release");
	assert_int_equal(out.last.kernel_calls, 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
