// SPDX-License-Identifier: MIT
/* The journal record codec: round trips, strictness, whole-file parsing with a torn tail. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/plan.h"
#include "proto/journal.h"

static struct journal_record begin_rec(void)
{
	struct journal_record r = {.seq = 1, .wall_ms = 1700000000123, .kind = JOURNAL_BEGIN};

	snprintf(r.guest, sizeof(r.guest), "g1");
	snprintf(r.bond, sizeof(r.bond), "bond0");
	r.has_vf = true;
	parse_mac("52:54:00:00:00:0f", r.vf_mac);
	parse_mac("52:54:00:00:00:0b", r.backup_mac);
	r.has_spec = true;
	snprintf(r.spec.device_id, sizeof(r.spec.device_id), "vf0");
	snprintf(r.spec.driver, sizeof(r.spec.driver), "e1000e");
	snprintf(r.spec.bus, sizeof(r.spec.bus), "rp1");
	snprintf(r.spec.backend, sizeof(r.spec.backend), "taps0");
	r.spec.has_mac = true;
	memcpy(r.spec.mac, r.vf_mac, 6);
	r.spec.vlan = -1;
	return r;
}

static void round_trip(const struct journal_record *in)
{
	char line[JOURNAL_LINE_MAX];
	struct journal_record out;
	struct diag d = {0};
	int n = journal_record_encode(in, line, sizeof(line));

	assert_true(n > 0);
	assert_int_equal(line[n - 1], '\n');
	assert_int_equal(journal_record_decode(line, (size_t)n - 1, &out, &d), 0);
	assert_int_equal(out.seq, in->seq);
	assert_int_equal(out.kind, in->kind);
	assert_true(out.wall_ms == in->wall_ms);
	assert_string_equal(out.step, in->step);
	assert_string_equal(out.guest, in->guest);
	assert_string_equal(out.dest, in->dest);
	assert_int_equal(out.has_dst_mac, in->has_dst_mac);
	if (in->has_dst_mac)
		assert_memory_equal(out.dst_mac, in->dst_mac, 6);
	assert_int_equal(out.has_spec, in->has_spec);
	if (in->has_spec)
		assert_memory_equal(&out.spec, &in->spec, sizeof(out.spec));
	assert_int_equal(out.has_tuning, in->has_tuning);
	if (in->has_tuning) {
		assert_true(out.tuning.max_bandwidth == in->tuning.max_bandwidth);
		assert_true(out.tuning.downtime_limit_ms == in->tuning.downtime_limit_ms);
	}
	assert_string_equal(out.outcome, in->outcome);
}

static void decode_fails(const char *line, const char *why)
{
	struct journal_record out;
	struct diag d = {0};

	assert_int_equal(journal_record_decode(line, strlen(line), &out, &d), -EBADMSG);
	if (!strstr(d.msg, why))
		fail_msg("\"%s\": got \"%s\", expected \"%s\"", line, d.msg, why);
}

/* The source's migration tuning, on the INTENT of migrate only; each value known or absent. */
static void test_intent_tuning(void **state)
{
	struct journal_record r = {.seq = 8, .wall_ms = 5, .kind = JOURNAL_INTENT};
	char line[JOURNAL_LINE_MAX];

	(void)state;
	snprintf(r.step, sizeof(r.step), "migrate");
	round_trip(&r);
	r.has_tuning = true;
	r.tuning = (struct migrate_tuning){134217728, 300};
	round_trip(&r);
	r.tuning = (struct migrate_tuning){-1, 0};
	round_trip(&r);
	assert_true(journal_record_encode(&r, line, sizeof(line)) > 0);
	assert_null(strstr(line, "max_bandwidth"));
	r.tuning = (struct migrate_tuning){INT64_MAX, -1}; /* libvirt's "unlimited" is near */
	round_trip(&r);
	/* The encoder refuses what the decoder would. */
	r.tuning = (struct migrate_tuning){-1, -1};
	assert_int_equal(journal_record_encode(&r, line, sizeof(line)), -EINVAL);
	r.tuning = (struct migrate_tuning){-2, 5};
	assert_int_equal(journal_record_encode(&r, line, sizeof(line)), -EINVAL);
	r.tuning = (struct migrate_tuning){1, 5};
	r.kind = JOURNAL_DONE;
	assert_int_equal(journal_record_encode(&r, line, sizeof(line)), -EINVAL);

#define INTENT "{\"seq\":8,\"t\":5,\"rec\":\"intent\",\"step\":\"migrate\","
	decode_fails(INTENT "\"tuning\":{}}", "\"tuning\" is empty");
	decode_fails(INTENT "\"tuning\":[1]}", "\"tuning\" is not an object");
	decode_fails(INTENT "\"tuning\":{\"max_bandwidth\":-1}}", "out of range");
	decode_fails(INTENT "\"tuning\":{\"max_bandwidth\":\"1\"}}", "not an integer");
	decode_fails(INTENT "\"tuning\":{\"max_bandwidth\":9223372036854775808}}", "");
	decode_fails(INTENT "\"tuning\":{\"max_bandwidth\":1,\"x\":1}}", "\"x\"");
	decode_fails("{\"seq\":8,\"t\":5,\"rec\":\"done\",\"step\":\"migrate\","
		     "\"tuning\":{\"max_bandwidth\":1}}",
		     "\"tuning\" on a done record");
#undef INTENT
}

static void test_round_trip_every_kind(void **state)
{
	struct journal_record r = begin_rec();

	(void)state;
	round_trip(&r);
	for (int k = JOURNAL_INTENT; k < _JOURNAL_KIND_MAX; k++) {
		struct journal_record x = {.seq = 2, .wall_ms = 5, .kind = k};

		if (k != JOURNAL_PONR && k != JOURNAL_END)
			snprintf(x.step, sizeof(x.step), "unplug");
		if (k == JOURNAL_FAIL) {
			x.err = ETIMEDOUT;
			snprintf(x.msg, sizeof(x.msg), "Device 'vf0' not found");
		}
		if (k == JOURNAL_END)
			snprintf(x.outcome, sizeof(x.outcome), "rolled-back");
		if (k == JOURNAL_DONE) {
			x.has_spec = true;
			x.spec = r.spec;
			x.spec.backend_kind = PLUG_BACKEND_HOSTDEV;
			snprintf(x.spec.backend, sizeof(x.spec.backend), "0000:3b:02.1");
		}
		round_trip(&x);
	}
}

static void test_fail_message_is_sanitized(void **state)
{
	struct journal_record r = {.seq = 3, .kind = JOURNAL_FAIL, .err = EIO};
	char line[JOURNAL_LINE_MAX];
	struct journal_record out;

	(void)state;
	snprintf(r.step, sizeof(r.step), "migrate");
	snprintf(r.msg, sizeof(r.msg), "evil\033[2Jtext\nnext");
	int n = journal_record_encode(&r, line, sizeof(line));
	assert_true(n > 0);
	assert_null(memchr(line, '\n', (size_t)n - 1));
	assert_int_equal(journal_record_decode(line, (size_t)n - 1, &out, NULL), 0);
	assert_string_equal(out.msg, "evil?[2Jtext?next");
}

static void test_rejects(void **state)
{
	static const char *const bad[] = {
	    "",
	    "[]",
	    "{\"seq\":1,\"t\":0,\"rec\":\"ponr\",\"x\":1}", /* unknown key */
	    "{\"seq\":0,\"t\":0,\"rec\":\"ponr\"}",	    /* seq 0 */
	    "{\"seq\":1,\"t\":-1,\"rec\":\"ponr\"}",	    /* negative time */
	    "{\"seq\":1,\"t\":0,\"rec\":\"nope\"}",	    /* unknown kind */
	    "{\"seq\":1,\"t\":0,\"rec\":\"intent\"}",	    /* intent without step */
	    "{\"seq\":1,\"t\":0,\"rec\":\"intent\",\"step\":\"../x\"}",
	    "{\"seq\":1,\"t\":0,\"rec\":\"ponr\",\"step\":\"unplug\"}",
	    "{\"seq\":1,\"t\":0,\"rec\":\"end\",\"outcome\":\"A\"}",
	    "{\"seq\":1,\"t\":0,\"rec\":\"end\"}",
	    "{\"seq\":\"1\",\"t\":0,\"rec\":\"ponr\"}",
	    "{\"seq\":1,\"seq\":2,\"t\":0,\"rec\":\"ponr\"}", /* duplicate key */
	    "{\"seq\":1,\"t\":0,\"rec\":\"ponr\"} x",
	    "{\"seq\":1,\"t\":0,\"rec\":\"done\",\"step\":\"reserve\",\"spec\":{}}",
	    "{\"seq\":1,\"t\":0,\"rec\":\"done\",\"step\":\"reserve\",\"spec\":{\"device_id\":"
	    "\"a\\u0000b\",\"driver\":\"\",\"bus\":\"\",\"backend_kind\":\"tap\",\"backend\":"
	    "\"\",\"netdev_id\":\"\",\"vlan\":-1}}",
	    "{\"seq\":1,\"t\":0,\"rec\":\"begin\",\"guest\":\"g\",\"bond\":\"b\",\"has_vf\":1,"
	    "\"vf_mac\":\"52:54:00:00:00:0f\",\"backup_mac\":\"52:54:00:00:00:0b\"}",
	    "{\"seq\":1,\"t\":0,\"rec\":\"begin\",\"guest\":\"g\",\"bond\":"
	    "\"bond-name-too-long-for-ifname\",\"has_vf\":true,"
	    "\"vf_mac\":\"52:54:00:00:00:0f\",\"backup_mac\":\"52:54:00:00:00:0b\"}",
	    "{\"seq\":1,\"t\":0,\"rec\":\"fail\",\"step\":\"x\",\"err\":99999,\"msg\":\"\"}",
	    "{\"a\":{\"b\":{\"c\":{\"d\":{\"e\":1}}}}}", /* deeper than a VF's spec */
	    "{\"seq\":1,\"t\":0,\"rec\":\"ponr\",\"vf\":1}",
	    "{\"seq\":1,\"t\":0,\"rec\":\"intent\",\"step\":\"plug\",\"vf\":4}",
	    "{\"seq\":1,\"t\":0,\"rec\":\"intent\",\"step\":\"plug\",\"vf\":-1}",
	    "{\"seq\":1,\"t\":0,\"rec\":\"intent\",\"step\":\"plug\",\"vfs\":[]}",
	    "{\"seq\":1,\"t\":0,\"rec\":\"intent\",\"step\":\"plug\",\"vf_name\":\"a\"}",
	};
	struct journal_record r;
	struct diag d;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		memset(&d, 0, sizeof(d));
		if (journal_record_decode(bad[i], strlen(bad[i]), &r, &d) >= 0)
			fail_msg("accepted bad record %zu: %s", i, bad[i]);
		assert_true(d.msg[0] != '\0');
	}
}

/* The destination in BEGIN: optional, so journals written before it existed still load. */
static void test_begin_dest(void **state)
{
	/* A BEGIN record as the previous version wrote it: no "dest". */
	static const char old[] =
	    "{\"seq\":1,\"t\":1,\"rec\":\"begin\",\"guest\":\"g1\",\"bond\":\"bond0\","
	    "\"has_vf\":true,\"vf_mac\":\"52:54:00:00:00:0f\","
	    "\"backup_mac\":\"52:54:00:00:00:0b\"}";
	struct journal_record r = begin_rec(), out;
	char line[JOURNAL_LINE_MAX];
	const char *p;
	struct diag d = {0};
	int n;

	(void)state;
	/* Without: no key written, and none read back. */
	n = journal_record_encode(&r, line, sizeof(line));
	assert_true(n > 0);
	assert_null(strstr(line, "\"dest\""));
	round_trip(&r);
	assert_int_equal(journal_record_decode(old, strlen(old), &out, &d), 0);
	assert_string_equal(out.dest, "");
	assert_string_equal(out.guest, "g1");

	/* With: a libvirt URI, a QMP migration URI, the longest allowed, non-ASCII text. */
	snprintf(r.dest, sizeof(r.dest), "qemu+ssh://root@h2/system?keyfile=/root/.ssh/id");
	round_trip(&r);
	snprintf(r.dest, sizeof(r.dest), "tcp:10.78.0.2:4444");
	round_trip(&r);
	memset(r.dest, 'x', sizeof(r.dest) - 1);
	r.dest[sizeof(r.dest) - 1] = '\0';
	round_trip(&r);
	snprintf(r.dest, sizeof(r.dest), "qemu+ssh://h\xc3\xb6st/system \"quoted\" \\");
	round_trip(&r);

	/* The encoder refuses what the decoder would refuse. */
	snprintf(r.dest, sizeof(r.dest), "qemu:///system\nrec");
	assert_int_equal(journal_record_encode(&r, line, sizeof(line)), -EINVAL);
	snprintf(r.dest, sizeof(r.dest), "a\xc2\x85"); /* C1 control NEL */
	assert_int_equal(journal_record_encode(&r, line, sizeof(line)), -EINVAL);
	snprintf(r.dest, sizeof(r.dest), "bad\xff");
	assert_int_equal(journal_record_encode(&r, line, sizeof(line)), -EINVAL);

	/* The decoder: one byte over the limit, wrong types, control characters, empty, or on a
	 * record that is not BEGIN. */
	{
		char big[JOURNAL_LINE_MAX];
		char longest[JOURNAL_DEST_MAX + 1];

		memset(longest, 'x', JOURNAL_DEST_MAX);
		longest[JOURNAL_DEST_MAX] = '\0';
		snprintf(big, sizeof(big), "%.*s,\"dest\":\"%s\"}", (int)strlen(old) - 1, old,
			 longest);
		memset(&d, 0, sizeof(d));
		assert_int_equal(journal_record_decode(big, strlen(big), &out, &d), -EBADMSG);
		assert_non_null(strstr(d.msg, "dest"));
		/* One shorter is the longest allowed. */
		longest[JOURNAL_DEST_MAX - 1] = '\0';
		snprintf(big, sizeof(big), "%.*s,\"dest\":\"%s\"}", (int)strlen(old) - 1, old,
			 longest);
		assert_int_equal(journal_record_decode(big, strlen(big), &out, &d), 0);
		assert_int_equal(strlen(out.dest), JOURNAL_DEST_MAX - 1);
	}
	{
		static const char *const bad_dest[] = {
		    "1",
		    "true",
		    "null",
		    "[\"qemu:///system\"]",
		    "{}",
		    "\"\"",
		    "\"qemu:///system\\n\"",
		    "\"a\\u001bb\"",
		    "\"a\\u007f\"",
		    "\"a\\u0085\"",
		    "\"a\\u0000b\"", /* refused by the JSON layer already */
		};
		char line2[JOURNAL_LINE_MAX];

		for (size_t i = 0; i < ARRAY_SIZE(bad_dest); i++) {
			snprintf(line2, sizeof(line2), "%.*s,\"dest\":%s}", (int)strlen(old) - 1,
				 old, bad_dest[i]);
			memset(&d, 0, sizeof(d));
			if (journal_record_decode(line2, strlen(line2), &out, &d) >= 0)
				fail_msg("accepted dest %s", bad_dest[i]);
			assert_true(d.msg[0] != '\0');
		}
	}
	p = "{\"seq\":2,\"t\":0,\"rec\":\"ponr\",\"dest\":\"qemu:///system\"}";
	memset(&d, 0, sizeof(d));
	assert_int_equal(journal_record_decode(p, strlen(p), &out, &d), -EBADMSG);
	assert_non_null(strstr(d.msg, "dest"));
}

/* BEGIN's dst_mac, the MAC the destination VF is given: optional (older journals have none),
 * a MAC, and on BEGIN only. */
static void test_begin_dst_mac(void **state)
{
	static const char old[] =
	    "{\"seq\":1,\"t\":1,\"rec\":\"begin\",\"guest\":\"g1\",\"bond\":\"bond0\","
	    "\"has_vf\":true,\"vf_mac\":\"52:54:00:00:00:0f\","
	    "\"backup_mac\":\"52:54:00:00:00:0b\"}";
	static const char *const bad[] = {"\"52:54:00\"", "\"\"", "7", "null", "[]"};
	struct journal_record r = begin_rec(), out;
	char line[JOURNAL_LINE_MAX];
	struct diag d = {0};
	const char *p;

	(void)state;
	assert_int_equal(journal_record_decode(old, strlen(old), &out, &d), 0);
	assert_false(out.has_dst_mac);
	r.has_dst_mac = true;
	parse_mac("02:00:00:00:00:99", r.dst_mac);
	assert_true(journal_record_encode(&r, line, sizeof(line)) > 0);
	assert_non_null(strstr(line, "\"dst_mac\":\"02:00:00:00:00:99\""));
	round_trip(&r);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		snprintf(line, sizeof(line), "%.*s,\"dst_mac\":%s}", (int)strlen(old) - 1, old,
			 bad[i]);
		memset(&d, 0, sizeof(d));
		if (journal_record_decode(line, strlen(line), &out, &d) >= 0)
			fail_msg("accepted dst_mac %s", bad[i]);
		assert_non_null(strstr(d.msg, "dst_mac"));
	}
	p = "{\"seq\":2,\"t\":0,\"rec\":\"ponr\",\"dst_mac\":\"02:00:00:00:00:99\"}";
	memset(&d, 0, sizeof(d));
	assert_int_equal(journal_record_decode(p, strlen(p), &out, &d), -EBADMSG);
	assert_non_null(strstr(d.msg, "dst_mac"));
}

/* Failover mode: "mode" on BEGIN (absent: bond mode), the pair id in a spec (optional). */
static void test_begin_failover(void **state)
{
	static const char old[] =
	    "{\"seq\":1,\"t\":1,\"rec\":\"begin\",\"guest\":\"g1\",\"bond\":\"bond0\","
	    "\"has_vf\":true,\"vf_mac\":\"52:54:00:00:00:0f\","
	    "\"backup_mac\":\"52:54:00:00:00:0b\"}";
	static const char *const bad[] = {"\"bond\"", "\"\"", "7", "null"};
	struct journal_record r = begin_rec(), out;
	char line[JOURNAL_LINE_MAX];
	struct diag d = {0};
	const char *p;

	(void)state;
	assert_int_equal(journal_record_decode(old, strlen(old), &out, &d), 0);
	assert_string_equal(out.mode, "");
	snprintf(r.mode, sizeof(r.mode), "failover");
	r.bond[0] = '\0';
	r.has_spec = true;
	snprintf(r.spec.device_id, sizeof(r.spec.device_id), "vf0");
	snprintf(r.spec.failover_pair_id, sizeof(r.spec.failover_pair_id), "net0");
	r.spec.vlan = -1;
	assert_true(journal_record_encode(&r, line, sizeof(line)) > 0);
	assert_non_null(strstr(line, "\"mode\":\"failover\""));
	assert_non_null(strstr(line, "\"failover_pair_id\":\"net0\""));
	round_trip(&r);
	assert_int_equal(journal_record_decode(line, strlen(line) - 1, &out, &d), 0);
	assert_string_equal(out.mode, "failover");
	assert_string_equal(out.spec.failover_pair_id, "net0");
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		snprintf(line, sizeof(line), "%.*s,\"mode\":%s}", (int)strlen(old) - 1, old,
			 bad[i]);
		memset(&d, 0, sizeof(d));
		if (journal_record_decode(line, strlen(line), &out, &d) >= 0)
			fail_msg("accepted mode %s", bad[i]);
	}
	p = "{\"seq\":2,\"t\":0,\"rec\":\"ponr\",\"mode\":\"failover\"}";
	assert_int_equal(journal_record_decode(p, strlen(p), &out, &d), -EBADMSG);
}

static void test_parse_file(void **state)
{
	struct journal_record b = begin_rec(), p = {.seq = 2, .kind = JOURNAL_PONR}, *recs;
	char buf[3 * JOURNAL_LINE_MAX];
	size_t len = 0, n;
	bool torn;
	struct diag d = {0};
	int k;

	(void)state;
	k = journal_record_encode(&b, buf, sizeof(buf));
	assert_true(k > 0);
	len += (size_t)k;
	k = journal_record_encode(&p, buf + len, sizeof(buf) - len);
	assert_true(k > 0);
	len += (size_t)k;
	assert_int_equal(journal_parse(buf, len, &recs, &n, &torn, &d), 0);
	assert_int_equal(n, 2);
	assert_false(torn);
	free(recs);
	/* A torn last line (crash during write) is ignored, and said so. */
	memcpy(buf + len, "{\"seq\":3,\"t", 12);
	assert_int_equal(journal_parse(buf, len + 12, &recs, &n, &torn, &d), 0);
	assert_int_equal(n, 2);
	assert_true(torn);
	free(recs);
	/* Out of sequence. */
	assert_int_equal(
	    journal_parse(buf + (size_t)(len - (size_t)k), (size_t)k, &recs, &n, &torn, &d),
	    -EBADMSG);
	/* Empty. */
	assert_int_equal(journal_parse(buf, 0, &recs, &n, &torn, &d), -ENODATA);
	/* Too big. */
	assert_int_equal(journal_parse(buf, JOURNAL_FILE_MAX + 1, &recs, &n, &torn, &d), -EFBIG);
}

/* The record limit: exactly JOURNAL_RECORDS_MAX records load, one more is refused; the
 * array is sized by the lines there are. */
static void test_parse_record_limit(void **state)
{
	struct journal_record b = begin_rec(), u = {.kind = JOURNAL_UNDO}, *recs;
	size_t cap = (size_t)(JOURNAL_RECORDS_MAX + 1) * JOURNAL_LINE_MAX, len = 0, n;
	char *buf = test_malloc(cap);
	struct diag d = {0};
	bool torn;
	int k;

	(void)state;
	snprintf(u.step, sizeof(u.step), "unplug");
	k = journal_record_encode(&b, buf, cap);
	assert_true(k > 0);
	len += (size_t)k;
	for (uint32_t seq = 2; seq <= JOURNAL_RECORDS_MAX + 1; seq++) {
		u.seq = seq;
		k = journal_record_encode(&u, buf + len, cap - len);
		assert_true(k > 0);
		if (seq == JOURNAL_RECORDS_MAX + 1) {
			assert_int_equal(journal_parse(buf, len, &recs, &n, &torn, &d), 0);
			assert_int_equal(n, JOURNAL_RECORDS_MAX);
			assert_int_equal(recs[n - 1].seq, JOURNAL_RECORDS_MAX);
			free(recs);
		}
		len += (size_t)k;
	}
	assert_int_equal(journal_parse(buf, len, &recs, &n, &torn, &d), -EFBIG);
	assert_non_null(strstr(d.msg, "more than 512 records"));
	test_free(buf);
}

static void test_summary(void **state)
{
	struct journal_record recs[6] = {begin_rec()};
	struct journal_summary s;
	struct diag d = {0};

	(void)state;
	recs[1] = (struct journal_record){.seq = 2, .kind = JOURNAL_INTENT, .step = "reserve"};
	recs[2] = (struct journal_record){.seq = 3,
					  .kind = JOURNAL_DONE,
					  .step = "reserve",
					  .has_spec = true,
					  .spec = recs[0].spec};
	recs[3] = (struct journal_record){.seq = 4, .kind = JOURNAL_PONR};
	recs[4] = (struct journal_record){.seq = 5, .kind = JOURNAL_END, .outcome = "migrated"};
	recs[5] = (struct journal_record){.seq = 6, .kind = JOURNAL_PONR};
	assert_int_equal(journal_summarize(recs, 3, &s, &d), 0);
	assert_false(s.passed_ponr);
	assert_true(s.has_dst_spec);
	assert_int_equal(s.step_state[STEP_RESERVE], JOURNAL_DONE);
	assert_int_equal(s.step_state[STEP_UNPLUG], -1);
	assert_int_equal(journal_summarize(recs, 5, &s, &d), 0);
	assert_true(s.finished && s.passed_ponr);
	assert_string_equal(s.outcome, "migrated");
	/* Nothing may follow the end. */
	assert_int_equal(journal_summarize(recs, 6, &s, &d), -EBADMSG);
}

/* Several VFs: the others in BEGIN, the VF's index on its step records. */
static void test_multi_vf(void **state)
{
	struct journal_record recs[5] = {begin_rec()}, out;
	struct journal_record *b = &recs[0];
	struct journal_summary s;
	char line[JOURNAL_LINE_MAX];
	struct diag d = {0};
	int n;

	(void)state;
	snprintf(b->vf_name, sizeof(b->vf_name), "net0");
	b->n_more_vfs = 2;
	for (size_t i = 0; i < 2; i++) {
		struct journal_vf *v = &b->more_vfs[i];

		snprintf(v->name, sizeof(v->name), "net%zu", i + 1);
		snprintf(v->bond, sizeof(v->bond), "bond%zu", i + 1);
		parse_mac("52:54:00:00:01:0f", v->vf_mac);
		v->vf_mac[5] = (uint8_t)i;
		parse_mac("52:54:00:00:01:0b", v->backup_mac);
		v->has_dst_mac = i == 1;
		v->spec = b->spec;
		snprintf(v->spec.device_id, sizeof(v->spec.device_id), "vf%zu", i + 1);
	}
	n = journal_record_encode(b, line, sizeof(line));
	assert_true(n > 0);
	assert_non_null(strstr(line, "\"vf_name\":\"net0\""));
	assert_non_null(strstr(line, "\"vfs\":[{\"name\":\"net1\",\"bond\":\"bond1\""));
	assert_int_equal(journal_record_decode(line, (size_t)n - 1, &out, &d), 0);
	assert_int_equal(out.n_more_vfs, 2);
	assert_string_equal(out.vf_name, "net0");
	assert_string_equal(out.more_vfs[1].bond, "bond2");
	assert_string_equal(out.more_vfs[1].spec.device_id, "vf2");
	assert_memory_equal(out.more_vfs[0].vf_mac, b->more_vfs[0].vf_mac, 6);
	assert_false(out.more_vfs[0].has_dst_mac);
	assert_true(out.more_vfs[1].has_dst_mac);
	/* A single-VF record has neither key: old readers see nothing new. */
	recs[1] = begin_rec();
	n = journal_record_encode(&recs[1], line, sizeof(line));
	assert_null(strstr(line, "vfs"));
	assert_null(strstr(line, "vf_name"));

	recs[1] = (struct journal_record){.seq = 2, .kind = JOURNAL_INTENT, .step = "unplug"};
	recs[2] = (struct journal_record){.seq = 3, .kind = JOURNAL_DONE, .step = "unplug"};
	recs[3] =
	    (struct journal_record){.seq = 4, .kind = JOURNAL_INTENT, .step = "unplug", .vf = 2};
	n = journal_record_encode(&recs[3], line, sizeof(line));
	assert_non_null(strstr(line, "\"vf\":2"));
	assert_int_equal(journal_record_decode(line, (size_t)n - 1, &out, &d), 0);
	assert_int_equal(out.vf, 2);
	n = journal_record_encode(&recs[1], line, sizeof(line));
	assert_null(strstr(line, "\"vf\""));
	/* Per VF: a record without "vf" is VF 0's. */
	assert_int_equal(journal_summarize(recs, 4, &s, &d), 0);
	assert_int_equal(s.vf_step_state[0][STEP_UNPLUG], JOURNAL_DONE);
	assert_int_equal(s.vf_step_state[1][STEP_UNPLUG], -1);
	assert_int_equal(s.vf_step_state[2][STEP_UNPLUG], JOURNAL_INTENT);
	/* A VF BEGIN does not have. */
	recs[4] =
	    (struct journal_record){.seq = 5, .kind = JOURNAL_UNDO, .step = "unplug", .vf = 3};
	assert_int_equal(journal_summarize(recs, 5, &s, &d), -EBADMSG);
	/* Encoding refuses what decoding would. */
	recs[4].kind = JOURNAL_PONR;
	recs[4].step[0] = '\0';
	assert_true(journal_record_encode(&recs[4], line, sizeof(line)) < 0);
	recs[4] = begin_rec();
	recs[4].n_more_vfs = VFM_VFS_MAX;
	assert_true(journal_record_encode(&recs[4], line, sizeof(line)) < 0);
}

/* Failover mode with several VFs: each VF of "vfs" has no bond and its spec carries its pair;
 * one with neither a bond nor a pair is refused both ways. */
static void test_multi_vf_failover(void **state)
{
	struct journal_record b = begin_rec(), out;
	struct journal_vf *v = &b.more_vfs[0];
	char line[JOURNAL_LINE_MAX];
	struct diag d = {0};
	char *at;
	int n;

	(void)state;
	snprintf(b.mode, sizeof(b.mode), "failover");
	b.bond[0] = '\0';
	snprintf(b.spec.failover_pair_id, sizeof(b.spec.failover_pair_id), "net0");
	b.n_more_vfs = 1;
	snprintf(v->name, sizeof(v->name), "net1");
	parse_mac("52:54:00:00:01:0f", v->vf_mac);
	memcpy(v->backup_mac, v->vf_mac, 6);
	v->spec = b.spec;
	snprintf(v->spec.device_id, sizeof(v->spec.device_id), "vf1");
	snprintf(v->spec.failover_pair_id, sizeof(v->spec.failover_pair_id), "net1");
	n = journal_record_encode(&b, line, sizeof(line));
	assert_true(n > 0);
	assert_int_equal(journal_record_decode(line, (size_t)n - 1, &out, &d), 0);
	assert_string_equal(out.mode, "failover");
	assert_string_equal(out.spec.failover_pair_id, "net0");
	assert_int_equal(out.n_more_vfs, 1);
	assert_string_equal(out.more_vfs[0].bond, "");
	assert_string_equal(out.more_vfs[0].spec.failover_pair_id, "net1");

	/* The same line without VF net1's pair. */
	at = strstr(line, ",\"failover_pair_id\":\"net1\"");
	assert_non_null(at);
	memmove(at, at + strlen(",\"failover_pair_id\":\"net1\""),
		strlen(at + strlen(",\"failover_pair_id\":\"net1\"")) + 1);
	assert_int_equal(journal_record_decode(line, strlen(line) - 1, &out, &d), -EBADMSG);
	assert_non_null(strstr(d.msg, "neither a bond nor a failover_pair_id"));
	v->spec.failover_pair_id[0] = '\0';
	assert_true(journal_record_encode(&b, line, sizeof(line)) < 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip_every_kind),
	    cmocka_unit_test(test_fail_message_is_sanitized),
	    cmocka_unit_test(test_rejects),
	    cmocka_unit_test(test_begin_dest),
	    cmocka_unit_test(test_begin_dst_mac),
	    cmocka_unit_test(test_begin_failover),
	    cmocka_unit_test(test_intent_tuning),
	    cmocka_unit_test(test_parse_record_limit),
	    cmocka_unit_test(test_parse_file),
	    cmocka_unit_test(test_summary),
	    cmocka_unit_test(test_multi_vf),
	    cmocka_unit_test(test_multi_vf_failover),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
