// SPDX-License-Identifier: MIT
/* QMP codec: golden QEMU 7.2 transcript, rejections, limits, migration stats. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "proto/qmp.h"

static const char *golden_path;

static int parse(const char *s, struct qmp_msg *m)
{
	struct diag d = {{0}};

	return qmp_parse_line(s, strlen(s), m, &d);
}

/* Every line QEMU sent parses, and what the client sent is what qmp_build_command builds. */
static void test_golden_transcript(void **state)
{
	FILE *f = fopen(golden_path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	unsigned n_greet = 0, n_ret = 0, n_err = 0, n_ev = 0, n_cmd = 0;
	int mig_seen = 0;
	bool saw_device_deleted = false, saw_completed_stats = false;

	(void)state;
	assert_non_null(f);
	while ((n = getline(&line, &cap, f)) > 0) {
		struct qmp_msg m = {0};
		struct diag d = {{0}};

		if (strncmp(line, "C: ", 3) == 0) {
			json_error_t jerr;
			json_t *sent = json_loads(line + 3, 0, &jerr), *exec, *args, *id;
			char *built;
			size_t blen;

			if (!sent)
				continue; /* the deliberate garbage line */
			exec = json_object_get(sent, "execute");
			args = json_object_get(sent, "arguments");
			id = json_object_get(sent, "id");
			if (json_is_integer(id)) {
				json_t *back;

				assert_int_equal(qmp_build_command(json_string_value(exec), args,
								   (uint64_t)json_integer_value(id),
								   &built, &blen, &d),
						 0);
				assert_int_equal(built[blen - 1], '\n');
				assert_null(memchr(built, '\n', blen - 1));
				back = json_loads(built, 0, &jerr);
				assert_non_null(back);
				assert_true(json_equal(back, sent));
				json_decref(back);
				free(built);
				n_cmd++;
			}
			json_decref(sent);
			continue;
		}
		if (strncmp(line, "S: ", 3) != 0)
			continue;
		assert_int_equal(qmp_parse_line(line + 3, (size_t)n - 3, &m, &d), 0);
		switch (m.type) {
		case QMP_MSG_GREETING:
			n_greet++;
			assert_int_equal(m.version_major, 7);
			assert_int_equal(m.version_minor, 2);
			assert_int_equal(m.version_micro, 22);
			break;
		case QMP_MSG_RETURN: {
			struct qmp_migration_info mi;

			n_ret++;
			assert_non_null(m.ret);
			if (m.has_id && m.id == 11) {
				assert_int_equal(qmp_parse_migration_info(m.ret, &mi, &d), 0);
				assert_int_equal(mi.status, QMP_MIG_COMPLETED);
				assert_int_equal(mi.total_time_ms, 142);
				assert_int_equal(mi.downtime_ms, 3);
				assert_int_equal(mi.setup_time_ms, 4);
				assert_int_equal(mi.ram_transferred, 357579);
				assert_int_equal(mi.ram_total, 67641344);
				assert_int_equal(mi.ram_remaining, 0);
				assert_int_equal(mi.ram_dirty_sync_count, 3);
				assert_true(mi.ram_mbps > 33.5 && mi.ram_mbps < 33.6);
				assert_int_equal(mi.expected_downtime_ms, -1);
				saw_completed_stats = true;
			}
			if (m.has_id && m.id == 17) {
				assert_int_equal(qmp_parse_migration_info(m.ret, &mi, &d), 0);
				assert_int_equal(mi.status, QMP_MIG_FAILED);
				assert_string_equal(mi.error_desc,
						    "Unable to write to socket: Broken pipe");
			}
			if (m.has_id && m.id == 2) {
				assert_int_equal(qmp_parse_migration_info(m.ret, &mi, &d), 0);
				assert_int_equal(mi.status, QMP_MIG_NONE);
				assert_int_equal(mi.total_time_ms, -1);
			}
			if (m.has_id && m.id == 7)
				assert_true(json_is_array(m.ret));
			break;
		}
		case QMP_MSG_ERROR:
			n_err++;
			assert_non_null(m.err_desc);
			if (m.has_id && m.id == 3) {
				assert_string_equal(m.err_class, "DeviceNotFound");
				assert_string_equal(m.err_desc, "Device 'nosuch' not found");
			}
			if (!m.has_id && strstr(m.err_desc, "parse error"))
				assert_string_equal(m.err_class, "GenericError");
			break;
		case QMP_MSG_EVENT:
			n_ev++;
			assert_true(m.event.timestamp_us > 0);
			assert_true(json_is_object(m.event.data));
			if (strcmp(m.event.name, "MIGRATION") == 0) {
				enum qmp_migration_status st;
				static const enum qmp_migration_status want[] = {
				    QMP_MIG_SETUP, QMP_MIG_ACTIVE, QMP_MIG_COMPLETED,
				    QMP_MIG_FAILED};

				assert_int_equal(qmp_parse_migration_event(m.event.data, &st, &d),
						 0);
				assert_true(mig_seen < 4);
				assert_int_equal(st, want[mig_seen]);
				mig_seen++;
			}
			if (strcmp(m.event.name, "DEVICE_DELETED") == 0 &&
			    json_object_get(m.event.data, "device"))
				saw_device_deleted = true;
			break;
		}
		qmp_msg_clear(&m);
	}
	free(line);
	fclose(f);
	assert_int_equal(n_greet, 1);
	assert_int_equal(n_err, 4);
	assert_true(n_ret >= 15);
	assert_true(n_ev >= 12);
	assert_true(n_cmd >= 16);
	assert_int_equal(mig_seen, 4);
	assert_true(saw_device_deleted);
	assert_true(saw_completed_stats);
}

static void test_event_fields(void **state)
{
	struct qmp_msg m = {0};

	(void)state;
	assert_int_equal(parse("{\"timestamp\": {\"seconds\": 1795653904, \"microseconds\": "
			       "339091}, \"event\": \"RESUME\"}\r\n",
			       &m),
			 0);
	assert_int_equal(m.type, QMP_MSG_EVENT);
	assert_string_equal(m.event.name, "RESUME");
	assert_int_equal(m.event.timestamp_us, 1795653904339091LL);
	/* An event without data gets an empty object, never NULL. */
	assert_true(json_is_object(m.event.data));
	assert_int_equal(json_object_size(m.event.data), 0);
	assert_false(m.has_id);
	qmp_msg_clear(&m);
	/* QEMU's "clock failed" timestamp is kept as absent. */
	assert_int_equal(parse("{\"timestamp\": {\"seconds\": -1, \"microseconds\": -1}, "
			       "\"event\": \"STOP\"}",
			       &m),
			 0);
	assert_int_equal(m.event.timestamp_us, -1);
	qmp_msg_clear(&m);
}

static void test_ids(void **state)
{
	struct qmp_msg m = {0};

	(void)state;
	assert_int_equal(parse("{\"return\": {}, \"id\": 42}", &m), 0);
	assert_true(m.has_id);
	assert_int_equal(m.id, 42);
	qmp_msg_clear(&m);
	/* We only send integer ids: anything else is "not ours". */
	assert_int_equal(parse("{\"return\": {}, \"id\": \"str-id\"}", &m), 0);
	assert_false(m.has_id);
	qmp_msg_clear(&m);
	assert_int_equal(parse("{\"return\": 5, \"id\": -3}", &m), 0);
	assert_false(m.has_id);
	assert_true(json_is_integer(m.ret));
	qmp_msg_clear(&m);
}

static void test_error_desc_sanitized(void **state)
{
	struct qmp_msg m = {0};

	(void)state;
	assert_int_equal(parse("{\"id\": 1, \"error\": {\"class\": \"Gen\\u001bericError\", "
			       "\"desc\": \"bad\\u001b[31m\\nthing \\u00e9\"}}",
			       &m),
			 0);
	assert_int_equal(m.type, QMP_MSG_ERROR);
	/* desc is verbatim; the printable copy has no control characters. */
	assert_string_equal(m.err_desc, "bad\x1b[31m\nthing \xc3\xa9");
	assert_string_equal(m.err_desc_print, "bad?[31m?thing \xc3\xa9");
	assert_string_equal(m.err_class, "Gen?ericError");
	qmp_msg_clear(&m);
}

static void test_rejects(void **state)
{
	static const char *const bad[] = {
	    "garbage",
	    "[1,2]",
	    "\"str\"",
	    "{}",
	    "{\"id\": 1}",
	    "{\"return\": {}, \"error\": {\"class\": \"a\", \"desc\": \"b\"}}",
	    "{\"return\": {}}{\"return\": {}}",
	    "{\"return\": {}, \"return\": {}}",
	    "{\"error\": \"oops\"}",
	    "{\"error\": {\"class\": \"GenericError\"}}",
	    "{\"error\": {\"class\": 1, \"desc\": \"x\"}}",
	    "{\"event\": 5}",
	    "{\"event\": \"\"}",
	    "{\"event\": \"lower_case\"}",
	    "{\"event\": \"BAD NAME\"}",
	    "{\"event\": \"X\", \"data\": [1]}",
	    "{\"event\": \"X\", \"timestamp\": {\"seconds\": \"1\"}}",
	    "{\"event\": \"X\", \"timestamp\": {\"seconds\": 1, \"microseconds\": 1000000}}",
	    "{\"event\": \"X\", \"timestamp\": 7}",
	    "{\"QMP\": 1}",
	    "{\"QMP\": {\"version\": {}}}",
	    "{\"QMP\": {\"version\": {\"qemu\": {\"major\": 7, \"minor\": 2, \"micro\": -1}}}}",
	    /* One literal split over two lines (in parentheses: not a missing comma). */
	    ("{\"QMP\": {\"version\": {\"qemu\": {\"major\": 7, \"minor\": 2, \"micro\": 0}}, "
	     "\"capabilities\": {}}}"),
	    "{\"return\": \"a\\u0000b\"}",
	    "",
	    "\r\n",
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		struct qmp_msg m = {0};
		struct diag d = {{0}};

		if (qmp_parse_line(bad[i], strlen(bad[i]), &m, &d) != -EBADMSG)
			fail_msg("accepted or wrong error for: %s", bad[i]);
		assert_true(d.msg[0] != '\0');
		/* Not written on failure. */
		assert_null(m.ret);
		assert_null(m.err_desc);
	}
}

static void test_limits(void **state)
{
	size_t n = QMP_LINE_MAX + 1, i;
	char *big = malloc(n + 64);
	struct qmp_msg m = {0};
	struct diag d = {{0}};

	(void)state;
	/* One byte over the line limit. */
	strcpy(big, "{\"return\": \"");
	for (i = strlen(big); i < n - 2; i++)
		big[i] = 'a';
	big[n - 2] = '"';
	big[n - 1] = '}';
	assert_int_equal(qmp_parse_line(big, n, &m, &d), -EMSGSIZE);
	/* At the limit it parses. */
	big[n - 3] = '"';
	big[n - 2] = '}';
	assert_int_equal(qmp_parse_line(big, n - 1, &m, &d), 0);
	assert_int_equal(strlen(json_string_value(m.ret)), n - 1 - 14);
	qmp_msg_clear(&m);
	/* Deeper than QMP_DEPTH_MAX. */
	strcpy(big, "{\"return\": ");
	for (i = 0; i < QMP_DEPTH_MAX; i++)
		strcat(big, "[");
	for (i = 0; i < QMP_DEPTH_MAX; i++)
		strcat(big, "]");
	strcat(big, "}");
	assert_int_equal(qmp_parse_line(big, strlen(big), &m, &d), -EBADMSG);
	assert_non_null(strstr(d.msg, "deeper"));
	free(big);
}

static void test_build(void **state)
{
	char *line = NULL;
	size_t len = 0;
	struct diag d = {{0}};
	json_t *args = json_pack("{ss}", "id", "vf0"), *arr = json_array();

	(void)state;
	assert_int_equal(qmp_build_command("query-status", NULL, 7, &line, &len, &d), 0);
	assert_string_equal(line, "{\"execute\":\"query-status\",\"id\":7}\n");
	assert_int_equal(len, strlen(line));
	free(line);
	assert_int_equal(qmp_build_command("device_del", args, 8, &line, &len, &d), 0);
	assert_string_equal(
	    line, "{\"execute\":\"device_del\",\"arguments\":{\"id\":\"vf0\"},\"id\":8}\n");
	free(line);
	line = NULL;
	assert_int_equal(qmp_build_command("bad name", NULL, 1, &line, &len, &d), -EINVAL);
	assert_int_equal(qmp_build_command("x\"}", NULL, 1, &line, &len, &d), -EINVAL);
	assert_int_equal(qmp_build_command("", NULL, 1, &line, &len, &d), -EINVAL);
	assert_int_equal(qmp_build_command("cont", arr, 1, &line, &len, &d), -EINVAL);
	assert_null(line);
	/* A newline inside an argument never ends the line early. */
	json_object_set_new(args, "id", json_string("a\nb"));
	assert_int_equal(qmp_build_command("device_del", args, 9, &line, &len, &d), 0);
	assert_null(memchr(line, '\n', len - 1));
	free(line);
	json_decref(args);
	json_decref(arr);
}

static void test_migration_info(void **state)
{
	struct qmp_migration_info mi = {.status = QMP_MIG_ACTIVE};
	struct diag d = {{0}};
	json_t *v;

	(void)state;
	v = json_loads("{\"status\": \"active\", \"total-time\": \"12\"}", 0, NULL);
	assert_int_equal(qmp_parse_migration_info(v, &mi, &d), -EBADMSG);
	json_decref(v);
	v = json_loads("{\"status\": \"active\", \"ram\": {\"mbps\": \"fast\"}}", 0, NULL);
	assert_int_equal(qmp_parse_migration_info(v, &mi, &d), -EBADMSG);
	json_decref(v);
	v = json_loads("[1]", 0, NULL);
	assert_int_equal(qmp_parse_migration_info(v, &mi, &d), -EBADMSG);
	json_decref(v);
	assert_int_equal(mi.status, QMP_MIG_ACTIVE); /* untouched on failure */
	v = json_loads("{\"status\": \"completed\", \"total-time\": 0, \"downtime\": 0}", 0, NULL);
	assert_int_equal(qmp_parse_migration_info(v, &mi, &d), 0);
	assert_int_equal(mi.total_time_ms, 0);
	assert_int_equal(mi.downtime_ms, 0);
	assert_int_equal(mi.ram_transferred, -1);
	json_decref(v);
	v = json_loads("{\"status\": \"something-new\"}", 0, NULL);
	assert_int_equal(qmp_parse_migration_info(v, &mi, &d), 0);
	assert_int_equal(mi.status, QMP_MIG_UNKNOWN);
	json_decref(v);

	assert_int_equal(qmp_migration_status_from_string("wait-unplug"), QMP_MIG_WAIT_UNPLUG);
	assert_string_equal(qmp_migration_status_to_string(QMP_MIG_POSTCOPY_ACTIVE),
			    "postcopy-active");
	assert_true(qmp_migration_status_is_final(QMP_MIG_CANCELLED));
	assert_false(qmp_migration_status_is_final(QMP_MIG_CANCELLING));
	assert_int_equal(qmp_parse_migration_event(NULL, &mi.status, &d), -EBADMSG);
}

/* A peer's negative statistics are not passed on as numbers: they count as unknown (-1). */
static void test_migration_negative(void **state)
{
	struct qmp_migration_info mi;
	struct diag d = {0};
	json_t *v;

	(void)state;
	v = json_loads("{\"status\": \"completed\", \"total-time\": -5, \"downtime\": -9000,"
		       " \"ram\": {\"transferred\": -1, \"total\": 268435456}}",
		       0, NULL);
	assert_non_null(v);
	assert_int_equal(qmp_parse_migration_info(v, &mi, &d), 0);
	assert_int_equal(mi.total_time_ms, -1);
	assert_int_equal(mi.downtime_ms, -1);
	assert_int_equal(mi.ram_transferred, -1);
	assert_int_equal(mi.ram_total, 268435456);
	json_decref(v);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_golden_transcript),
	    cmocka_unit_test(test_event_fields),
	    cmocka_unit_test(test_ids),
	    cmocka_unit_test(test_error_desc_sanitized),
	    cmocka_unit_test(test_rejects),
	    cmocka_unit_test(test_limits),
	    cmocka_unit_test(test_build),
	    cmocka_unit_test(test_migration_info),
	    cmocka_unit_test(test_migration_negative),
	};

	if (argc != 2) {
		fprintf(stderr, "usage: test_qmp GOLDEN-TRANSCRIPT\n");
		return 2;
	}
	golden_path = argv[1];
	return cmocka_run_group_tests(tests, NULL, NULL);
}
