// SPDX-License-Identifier: MIT
/* The QGA wire codec: framing, 0xFF resync, limits, request and reply parsing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "proto/qga.h"

/* Feeds s in one go and collects the messages (joined by '|') and events. */
static void split_all(struct qga_splitter *sp, const char *data, size_t len, char *out,
		      size_t outsz, int *n_oversize, int *n_resync)
{
	size_t off = 0;

	out[0] = '\0';
	while (off < len) {
		size_t used = 0;
		int ev = qga_splitter_feed(sp, data + off, len - off, &used);

		assert_true(ev >= 0);
		assert_true(used <= len - off);
		off += used;
		if (ev == QGA_SPLIT_MESSAGE) {
			assert_int_equal(strlen(sp->buf), sp->len);
			if (out[0])
				strncat(out, "|", outsz - strlen(out) - 1);
			strncat(out, sp->buf, outsz - strlen(out) - 1);
		} else if (ev == QGA_SPLIT_OVERSIZE) {
			(*n_oversize)++;
		} else if (ev == QGA_SPLIT_RESYNC) {
			(*n_resync)++;
		} else {
			assert_int_equal(used, len - (off - used));
		}
	}
}

static void test_split_objects(void **state)
{
	struct qga_splitter sp;
	char out[512];
	int over = 0, resync = 0;
	const char in[] = "{\"execute\":\"a\"}\n  {\"execute\":\"b\",\"arguments\":{\"x\":\"}{\"}}"
			  "{\"execute\":\"c\"}\n";

	(void)state;
	qga_splitter_init(&sp, 1024);
	split_all(&sp, in, strlen(in), out, sizeof(out), &over, &resync);
	assert_string_equal(out,
			    "{\"execute\":\"a\"}|{\"execute\":\"b\",\"arguments\":{\"x\":\"}{\"}}|"
			    "{\"execute\":\"c\"}");
	assert_int_equal(over, 0);
	assert_int_equal(resync, 0);
	qga_splitter_done(&sp);
}

/* A message split across many reads (one byte at a time) comes out whole. */
static void test_split_bytewise(void **state)
{
	const char in[] = "{\"execute\":\"guest-ping\",\"id\":\"\\\"}\"}\n";
	struct qga_splitter sp;
	int msgs = 0;

	(void)state;
	qga_splitter_init(&sp, 1024);
	for (size_t i = 0; i < strlen(in); i++) {
		size_t used;
		int ev = qga_splitter_feed(&sp, in + i, 1, &used);

		assert_int_equal(used, 1);
		if (ev == QGA_SPLIT_MESSAGE) {
			msgs++;
			assert_string_equal(sp.buf,
					    "{\"execute\":\"guest-ping\",\"id\":\"\\\"}\"}");
		}
	}
	assert_int_equal(msgs, 1);
	qga_splitter_done(&sp);
}

/* 0xFF drops a partial message, even inside a string, and the next one parses. */
static void test_split_resync(void **state)
{
	const char in[] = "{\"execute\":\"gue\xff{\"execute\":\"guest-ping\"}";
	struct qga_splitter sp;
	char out[256];
	int over = 0, resync = 0;

	(void)state;
	qga_splitter_init(&sp, 1024);
	split_all(&sp, in, strlen(in), out, sizeof(out), &over, &resync);
	assert_string_equal(out, "{\"execute\":\"guest-ping\"}");
	assert_int_equal(resync, 1);
	qga_splitter_done(&sp);
}

/* Junk outside an object ends at a newline, as one (invalid) message. */
static void test_split_junk_line(void **state)
{
	const char in[] = "garbage ]]\n{\"execute\":\"x\"}";
	struct qga_splitter sp;
	char out[256];
	int over = 0, resync = 0;

	(void)state;
	qga_splitter_init(&sp, 1024);
	split_all(&sp, in, strlen(in), out, sizeof(out), &over, &resync);
	assert_string_equal(out, "garbage ]]|{\"execute\":\"x\"}");
	qga_splitter_done(&sp);
}

/* An oversized message is reported once when it ends, and the stream goes on. */
static void test_split_oversize(void **state)
{
	struct qga_splitter sp;
	char in[300], out[256];
	int over = 0, resync = 0;

	(void)state;
	memset(in, 0, sizeof(in));
	strcpy(in, "{\"a\":\"");
	memset(in + 6, 'x', 200);
	strcat(in, "\"}{\"execute\":\"ok\"}");
	qga_splitter_init(&sp, 64);
	split_all(&sp, in, strlen(in), out, sizeof(out), &over, &resync);
	assert_int_equal(over, 1);
	assert_string_equal(out, "{\"execute\":\"ok\"}");
	qga_splitter_done(&sp);
}

/* Client side: everything before the sentinel is dropped. */
static void test_split_expect_sentinel(void **state)
{
	const char in[] = "{\"return\":1}\n{\"return\":{\"stale\"\xff{\"return\":7}\n";
	struct qga_splitter sp;
	char out[256];
	int over = 0, resync = 0;

	(void)state;
	qga_splitter_init(&sp, 1024);
	qga_splitter_expect_sentinel(&sp);
	split_all(&sp, in, strlen(in), out, sizeof(out), &over, &resync);
	assert_string_equal(out, "{\"return\":7}");
	assert_int_equal(resync, 1);
	qga_splitter_done(&sp);
}

static void expect_request_error(const char *in, enum qga_error_class cls, const char *desc_part,
				 const char *id_json)
{
	struct qga_request req = {0};
	enum qga_error_class got;
	struct diag d = {{0}};
	json_t *id = NULL;

	assert_int_equal(qga_request_parse(in, strlen(in), &req, &got, &id, &d), -EINVAL);
	assert_int_equal(got, cls);
	if (!strstr(d.msg, desc_part))
		fail_msg("desc '%s' lacks '%s'", d.msg, desc_part);
	if (id_json) {
		char *s;

		assert_non_null(id);
		s = json_dumps(id, JSON_ENCODE_ANY | JSON_COMPACT);
		assert_string_equal(s, id_json);
		free(s);
	} else {
		assert_null(id);
	}
	json_decref(id);
}

static void test_request_errors(void **state)
{
	char big[QGA_REQUEST_MAX + 100];

	(void)state;
	expect_request_error("{\"execute\":", QGA_ERROR_GENERIC, "malformed JSON", NULL);
	expect_request_error("[1,2]", QGA_ERROR_GENERIC, "not a JSON object", NULL);
	expect_request_error("{\"arguments\":{}}", QGA_ERROR_GENERIC, "no 'execute'", NULL);
	expect_request_error("{\"execute\":5,\"id\":9}", QGA_ERROR_GENERIC,
			     "'execute' must be a string", "9");
	expect_request_error("{\"execute\":\"x\",\"arguments\":[],\"id\":\"a\"}", QGA_ERROR_GENERIC,
			     "'arguments' must be an object", "\"a\"");
	expect_request_error("{\"execute\":\"x\",\"bogus\":1}", QGA_ERROR_GENERIC,
			     "unexpected member 'bogus'", NULL);
	expect_request_error("{\"execute\":\"x\",\"execute\":\"y\"}", QGA_ERROR_GENERIC,
			     "malformed JSON", NULL);
	expect_request_error(
	    "{\"execute\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaa\"}",
	    QGA_ERROR_COMMAND_NOT_FOUND, "not found", NULL);
	expect_request_error(
	    "{\"a\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]"
	    "]]]]]]]}",
	    QGA_ERROR_GENERIC, "nests deeper", NULL);
	memset(big, ' ', sizeof(big) - 1);
	big[0] = '{';
	big[sizeof(big) - 2] = '}';
	big[sizeof(big) - 1] = '\0';
	expect_request_error(big, QGA_ERROR_GENERIC, "exceeds the limit", NULL);
}

static void test_request_ok(void **state)
{
	const char in[] = "{\"execute\":\"guest-sync\",\"arguments\":{\"id\":5},\"id\":[1]}";
	struct qga_request req = {0};
	enum qga_error_class cls;
	struct diag d = {{0}};
	json_t *id = NULL;

	(void)state;
	assert_int_equal(qga_request_parse(in, strlen(in), &req, &cls, &id, &d), 0);
	assert_string_equal(req.execute, "guest-sync");
	assert_int_equal(json_integer_value(json_object_get(req.arguments, "id")), 5);
	assert_true(json_is_array(req.id));
	assert_null(id);
	qga_request_done(&req);

	assert_int_equal(qga_request_parse("{\"execute\":\"guest-ping\"}", 24, &req, &cls, &id, &d),
			 0);
	assert_true(json_is_object(req.arguments));
	assert_int_equal(json_object_size(req.arguments), 0);
	assert_null(req.id);
	qga_request_done(&req);
}

static void test_reply_format(void **state)
{
	json_t *v = json_integer(42), *id = json_string("q");
	char *s;

	(void)state;
	s = qga_reply_format_return(v, NULL, true);
	assert_int_equal((unsigned char)s[0], 0xFF);
	assert_string_equal(s + 1, "{\"return\":42}\n");
	free(s);
	s = qga_reply_format_return(NULL, id, false);
	assert_string_equal(s, "{\"return\":{},\"id\":\"q\"}\n");
	free(s);
	s = qga_reply_format_error(QGA_ERROR_DEVICE_NOT_FOUND, "no NIC", NULL);
	assert_string_equal(s, "{\"error\":{\"class\":\"DeviceNotFound\",\"desc\":\"no NIC\"}}\n");
	free(s);
	s = qga_request_format("guest-ping", NULL, id);
	assert_string_equal(s, "{\"execute\":\"guest-ping\",\"id\":\"q\"}\n");
	free(s);
	json_decref(v);
	json_decref(id);
}

static void test_error_classes(void **state)
{
	(void)state;
	for (int c = 0; c < _QGA_ERROR_MAX; c++) {
		const char *name = qga_error_class_to_string(c);

		assert_non_null(name);
		assert_int_equal(qga_error_class_from_string(name), c);
	}
	assert_string_equal(qga_error_class_to_string(QGA_ERROR_GENERIC), "GenericError");
	assert_string_equal(qga_error_class_to_string(QGA_ERROR_COMMAND_NOT_FOUND),
			    "CommandNotFound");
	assert_int_equal(qga_error_class_from_string("Nope"), -EINVAL);
}

static void test_reply_parse(void **state)
{
	struct qga_reply r;
	struct diag d;
	const char ok[] = "{\"return\":{\"a\":1},\"id\":3}";
	const char err[] = "{\"error\":{\"class\":\"Timeout\",\"desc\":\"bad\\u001b[31m\"}}";

	(void)state;
	assert_int_equal(qga_reply_parse(ok, strlen(ok), &r, &d), 0);
	assert_false(r.is_error);
	assert_int_equal(json_integer_value(json_object_get(r.value, "a")), 1);
	assert_int_equal(json_integer_value(r.id), 3);
	qga_reply_done(&r);

	assert_int_equal(qga_reply_parse(err, strlen(err), &r, &d), 0);
	assert_true(r.is_error);
	assert_string_equal(r.error_class, "Timeout");
	/* The escape sequence was sanitized. */
	assert_null(strchr(r.error_desc, '\x1b'));
	qga_reply_done(&r);

	static const char *const bad[] = {
	    "{\"return\":1,\"error\":{\"class\":\"a\",\"desc\":\"b\"}}",
	    "{}",
	    "{\"error\":{\"class\":1,\"desc\":\"b\"}}",
	    "{\"error\":\"x\"}",
	    "{\"return\":1,\"event\":\"X\"}",
	    "[]",
	    "{\"return\":",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(qga_reply_parse(bad[i], strlen(bad[i]), &r, &d), -EBADMSG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_split_objects),  cmocka_unit_test(test_split_bytewise),
	    cmocka_unit_test(test_split_resync),   cmocka_unit_test(test_split_junk_line),
	    cmocka_unit_test(test_split_oversize), cmocka_unit_test(test_split_expect_sentinel),
	    cmocka_unit_test(test_request_errors), cmocka_unit_test(test_request_ok),
	    cmocka_unit_test(test_reply_format),   cmocka_unit_test(test_error_classes),
	    cmocka_unit_test(test_reply_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
