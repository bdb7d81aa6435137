// SPDX-License-Identifier: MIT
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "util/util.h"
#include "proto/jsonlim.h"

static void test_sanitize(void **state)
{
	char out[32];

	(void)state;
	str_sanitize(out, sizeof(out), "ok\x1b[31mred\n\x7f");
	assert_string_equal(out, "ok?[31mred??");
	str_sanitize(out, sizeof(out), "caf\xc3\xa9 \xc2\x9b \xff");
	assert_string_equal(out, "caf\xc3\xa9 ?? ?");
	str_sanitize(out, 4, "abcdef");
	assert_string_equal(out, "abc");
	/* A multi-byte character that does not fit is dropped whole, never split. */
	str_sanitize(out, 4, "ab\xc3\xa9");
	assert_string_equal(out, "ab");
	/* Overlong '/', a surrogate, beyond U+10FFFF: each byte replaced. */
	str_sanitize(out, sizeof(out),
		     "\xe0\x80\xaf|\xed\xa0\x80|\xf4\x90\x80\x80|\xf0\x9f\x98\x80");
	assert_string_equal(out, "???|???|????|\xf0\x9f\x98\x80");
	str_sanitize(out, sizeof(out), NULL);
	assert_string_equal(out, "");
}

/* Invisible format and bidi characters: '?' in text, kept for JSON and escaped there. */
static void test_sanitize_format(void **state)
{
	static const char *const chars[] = {
	    "\xe2\x80\xae", /* U+202E right-to-left override */
	    "\xe2\x80\xaa", /* U+202A left-to-right embedding */
	    "\xe2\x80\xa8", /* U+2028 line separator */
	    "\xe2\x80\xa9", /* U+2029 paragraph separator */
	    "\xe2\x80\x8b", /* U+200B zero width space */
	    "\xe2\x80\x8f", /* U+200F right-to-left mark */
	    "\xe2\x81\xa6", /* U+2066 left-to-right isolate */
	    "\xe2\x81\xa9", /* U+2069 pop directional isolate */
	    "\xef\xbb\xbf", /* U+FEFF BOM */
	    "\xd8\x9c",	    /* U+061C arabic letter mark */
	};
	static const char *const escaped[] = {"\\u202e", "\\u202a", "\\u2028", "\\u2029",
					      "\\u200b", "\\u200f", "\\u2066", "\\u2069",
					      "\\ufeff", "\\u061c"};
	char in[32], out[32], want[32];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(chars); i++) {
		char *e;

		snprintf(in, sizeof(in), "a%sb", chars[i]);
		str_sanitize(out, sizeof(out), in);
		assert_string_equal(out, "a?b");
		str_sanitize_keep_format(out, sizeof(out), in);
		assert_string_equal(out, in);
		e = str_escape_format(in);
		assert_non_null(e);
		snprintf(want, sizeof(want), "a%sb", escaped[i]);
		assert_string_equal(e, want);
		free(e);
	}
	/* Their neighbours pass: U+200A hair space, U+2030 per mille, U+2065, U+FEFE, e-acute. */
	str_sanitize(out, sizeof(out), "\xe2\x80\x8a\xe2\x80\xb0\xe2\x81\xa5\xef\xbb\xbe\xc3\xa9");
	assert_string_equal(out, "\xe2\x80\x8a\xe2\x80\xb0\xe2\x81\xa5\xef\xbb\xbe\xc3\xa9");
	/* Escaping leaves everything else alone, invalid bytes too (str_sanitize_keep_format's). */
	char *e = str_escape_format("{\"m\": \"x\xc3\xa9\xe2\x80\xaey\"}\xff");
	assert_string_equal(e, "{\"m\": \"x\xc3\xa9\\u202ey\"}\xff");
	free(e);
	/* The keep_format variant still replaces controls. */
	str_sanitize_keep_format(out, sizeof(out), "a\x1b\xc2\x9b");
	assert_string_equal(out, "a???");
}

static void test_mac(void **state)
{
	uint8_t mac[6];
	char buf[18];

	(void)state;
	assert_int_equal(parse_mac("52:54:00:AB:cd:01", mac), 0);
	assert_string_equal(format_mac(mac, buf), "52:54:00:ab:cd:01");
	assert_int_equal(parse_mac("52:54:00:ab:cd", mac), -EINVAL);
	assert_int_equal(parse_mac("52-54-00-ab-cd-01", mac), -EINVAL);
	assert_int_equal(parse_mac("52:54:00:ab:cd:0g", mac), -EINVAL);
}

/* Guest and agent text reaches this check: only the kernel's own spelling passes. */
static void test_pci_addr(void **state)
{
	static const char *const bad[] = {
	    "",
	    "0000:00:03.8",
	    "0000:00:20.0",
	    "0000:00:03.0 ",
	    " 000:00:03.0",
	    "+000:00:03.0",
	    "0000:0G:03.0",
	    "0000:0A:03.0",
	    "0000:00:03",
	    "0000:00:03.0/",
	    "0000-00-03.0",
	    "00000:00:03.0",
	    "../0:00:03.0",
	    "0000:00:03.0\n",
	};

	(void)state;
	assert_true(pci_addr_valid("0000:00:03.0"));
	assert_true(pci_addr_valid("ffff:ff:1f.7"));
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		if (pci_addr_valid(bad[i]))
			fail_msg("accepted \"%s\"", bad[i]);
	assert_false(pci_addr_valid(NULL));
}

static void test_int(void **state)
{
	int64_t v = 7;

	(void)state;
	assert_int_equal(parse_int64("42", 0, 100, &v), 0);
	assert_int_equal(v, 42);
	assert_int_equal(parse_int64("101", 0, 100, &v), -ERANGE);
	assert_int_equal(parse_int64("4x", 0, 100, &v), -EINVAL);
	assert_int_equal(parse_int64("", 0, 100, &v), -EINVAL);
	assert_int_equal(v, 42);
}

static void test_json_limits(void **state)
{
	struct diag d = {0};
	json_t *v;

	(void)state;
	v = json_decode_strict("{\"a\":[1,{\"b\":\"]]]]\"}]}", 22, 100, 3, &d);
	assert_non_null(v);
	json_decref(v);
	v = json_decode_strict("[[[[1]]]]", 9, 100, 3, &d);
	assert_null(v);
	assert_non_null(strstr(d.msg, "deeper"));
	v = json_decode_strict("{\"a\":1,\"a\":2}", 13, 100, 3, &d);
	assert_null(v);
	v = json_decode_strict("{} {}", 5, 100, 3, &d);
	assert_null(v);
	v = json_decode_strict("[1,2,3]", 7, 6, 3, &d);
	assert_null(v);
	assert_non_null(strstr(d.msg, "limit"));
	v = json_decode_strict("\"a\0b\"", 5, 100, 3, &d);
	assert_null(v);
}

static void test_diag(void **state)
{
	struct diag d = {0};

	(void)state;
	diag_set(&d, "device %s busy", "vf0");
	diag_prefix(&d, "unplug");
	assert_string_equal(d.msg, "unplug: device vf0 busy");
	diag_set(NULL, "ignored");
}

static void test_peer_gone(void **state)
{
	static const int gone[] = {ECONNRESET, ECONNABORTED, ECONNREFUSED,
				   ENOTCONN,   EPIPE,	     ESHUTDOWN};
	static const int not_gone[] = {0, EIO, ETIMEDOUT, ENOENT, EINVAL, EAGAIN, EINTR};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(gone); i++) {
		assert_true(errno_is_peer_gone(gone[i]));
		assert_true(errno_is_peer_gone(-gone[i]));
	}
	for (size_t i = 0; i < ARRAY_SIZE(not_gone); i++)
		assert_false(errno_is_peer_gone(-not_gone[i]));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sanitize),
	    cmocka_unit_test(test_mac),
	    cmocka_unit_test(test_int),
	    cmocka_unit_test(test_json_limits),
	    cmocka_unit_test(test_diag),
	    cmocka_unit_test(test_peer_gone),
	    cmocka_unit_test(test_sanitize_format),
	    cmocka_unit_test(test_pci_addr),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
