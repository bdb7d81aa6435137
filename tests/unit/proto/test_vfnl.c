// SPDX-License-Identifier: MIT
/* The VF netlink codec: requests byte for byte, replies strictly. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../vfnl_replies.h"
#include "proto/vfnl.h"

static const uint8_t mac1[6] = {0x52, 0x54, 0x00, 0x77, 0x01, 0x10};

struct seen {
	bool ifname_ok, has_list;
	int n_info;
	struct ifla_vf_mac m;
	struct ifla_vf_vlan v;
	bool has_m, has_v;
	int other;
};

static int info_cb(const struct nlattr *a, void *data)
{
	struct seen *s = data;

	if (mnl_attr_get_type(a) == IFLA_VF_MAC && mnl_attr_get_payload_len(a) == sizeof(s->m)) {
		memcpy(&s->m, mnl_attr_get_payload(a), sizeof(s->m));
		s->has_m = true;
	} else if (mnl_attr_get_type(a) == IFLA_VF_VLAN &&
		   mnl_attr_get_payload_len(a) == sizeof(s->v)) {
		memcpy(&s->v, mnl_attr_get_payload(a), sizeof(s->v));
		s->has_v = true;
	} else
		s->other++;
	return MNL_CB_OK;
}

static int list_cb(const struct nlattr *a, void *data)
{
	struct seen *s = data;

	if (mnl_attr_get_type(a) != IFLA_VF_INFO) {
		s->other++;
		return MNL_CB_OK;
	}
	s->n_info++;
	return mnl_attr_parse_nested(a, info_cb, s) < 0 ? MNL_CB_ERROR : MNL_CB_OK;
}

static int top_cb(const struct nlattr *a, void *data)
{
	struct seen *s = data;

	switch (mnl_attr_get_type(a)) {
	case IFLA_IFNAME:
		s->ifname_ok = strcmp(mnl_attr_get_str(a), "ens1f0") == 0;
		break;
	case IFLA_VFINFO_LIST:
		s->has_list = true;
		return mnl_attr_parse_nested(a, list_cb, s) < 0 ? MNL_CB_ERROR : MNL_CB_OK;
	default:
		s->other++;
	}
	return MNL_CB_OK;
}

static void test_build_set_vf(void **state)
{
	uint8_t buf[VFNL_REQ_BUF];
	const struct nlmsghdr *nlh = (const void *)buf;
	const struct ifinfomsg *ifm;
	struct seen s = {0};
	int len;

	(void)state;
	len = vfnl_build_set_vf(buf, sizeof(buf), 42, "ens1f0", 3, mac1, 100);
	assert_true(len > 0);
	assert_int_equal(nlh->nlmsg_len, (uint32_t)len);
	assert_int_equal(nlh->nlmsg_type, RTM_SETLINK);
	assert_int_equal(nlh->nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK);
	assert_int_equal(nlh->nlmsg_seq, 42);
	ifm = mnl_nlmsg_get_payload(nlh);
	assert_int_equal(ifm->ifi_index, 0);
	assert_int_equal(ifm->ifi_family, AF_UNSPEC);
	assert_int_equal(mnl_attr_parse(nlh, sizeof(*ifm), top_cb, &s), MNL_CB_OK);
	assert_true(s.ifname_ok);
	assert_true(s.has_list);
	assert_int_equal(s.n_info, 1);
	assert_true(s.has_m && s.has_v);
	assert_int_equal(s.other, 0);
	assert_int_equal(s.m.vf, 3);
	assert_memory_equal(s.m.mac, mac1, 6);
	for (size_t i = 6; i < sizeof(s.m.mac); i++)
		assert_int_equal(s.m.mac[i], 0);
	assert_int_equal(s.v.vf, 3);
	assert_int_equal(s.v.vlan, 100);
	assert_int_equal(s.v.qos, 0);
	/* Exact size: header, ifinfomsg, IFNAME "ens1f0\0" (pad 8), list{info{mac 36, vlan 12}}. */
	assert_int_equal(len, 16 + 16 + (4 + 8) + 4 + 4 + (4 + 36) + (4 + 12));

	/* No VLAN is VLAN 0: a VLAN set before is cleared. */
	memset(&s, 0, sizeof(s));
	assert_true(vfnl_build_set_vf(buf, sizeof(buf), 43, "ens1f0", 0, (uint8_t[6]){0}, -1) > 0);
	assert_int_equal(mnl_attr_parse(nlh, sizeof(*ifm), top_cb, &s), MNL_CB_OK);
	assert_int_equal(s.v.vlan, 0);
	assert_int_equal(s.m.vf, 0);
	assert_memory_equal(s.m.mac, (uint8_t[6]){0}, 6);

	assert_int_equal(vfnl_build_set_vf(buf, sizeof(buf), 1, "", 0, mac1, -1), -EINVAL);
	assert_int_equal(vfnl_build_set_vf(buf, sizeof(buf), 1, "a/b", 0, mac1, -1), -EINVAL);
	assert_int_equal(vfnl_build_set_vf(buf, sizeof(buf), 1, "0123456789abcdef", 0, mac1, -1),
			 -EINVAL);
	assert_int_equal(vfnl_build_set_vf(buf, sizeof(buf), 1, "ens1f0", VFNL_VFS_MAX, mac1, -1),
			 -EINVAL);
	assert_int_equal(vfnl_build_set_vf(buf, sizeof(buf), 1, "ens1f0", 0, mac1, 4095), -EINVAL);
	assert_int_equal(vfnl_build_set_vf(buf, 64, 1, "ens1f0", 0, mac1, 1), -EINVAL);
}

static void test_build_get_pf(void **state)
{
	uint8_t buf[VFNL_REQ_BUF];
	const struct nlmsghdr *nlh = (const void *)buf;
	const struct nlattr *a;
	bool mask = false;
	int len;

	(void)state;
	len = vfnl_build_get_pf(buf, sizeof(buf), 9, "ens1f0");
	assert_true(len > 0);
	assert_int_equal(nlh->nlmsg_type, RTM_GETLINK);
	assert_int_equal(nlh->nlmsg_flags, NLM_F_REQUEST);
	mnl_attr_for_each (a, nlh, sizeof(struct ifinfomsg)) {
		if (mnl_attr_get_type(a) == IFLA_EXT_MASK) {
			assert_true(mnl_attr_get_u32(a) & RTEXT_FILTER_VF);
			mask = true;
		}
	}
	assert_true(mask);
	assert_int_equal(vfnl_build_get_pf(buf, sizeof(buf), 9, ".."), -EINVAL);
	assert_int_equal(vfnl_build_get_pf(buf, sizeof(buf), 9, "en s"), -EINVAL);
}

static void test_parse_link(void **state)
{
	static uint8_t buf[VFNL_TEST_BUF];
	const struct test_vf in[] = {
	    {0, {0}, 0, 0},
	    {1, {0x52, 0x54, 0x00, 0x77, 0x01, 0x10}, 100, 3},
	    {2, {0}, 0, 0},
	};
	struct vfnl_vf out[4];
	struct diag d = {{0}};
	size_t n = 99, len;
	int num = -5;

	(void)state;
	len = test_vfnl_link(buf, 5, "ens1f0", in, 3);
	assert_int_equal(vfnl_parse_link(buf, len, 5, out, 4, &n, &num, &d), 0);
	assert_int_equal(n, 3);
	assert_int_equal(num, 3);
	assert_int_equal(out[1].index, 1);
	assert_true(out[1].has_mac && out[1].has_vlan);
	assert_memory_equal(out[1].mac, in[1].mac, 6);
	assert_int_equal(out[1].vlan, 100);
	assert_int_equal(out[1].qos, 3);
	assert_non_null(vfnl_find(out, n, 2));
	assert_null(vfnl_find(out, n, 3));

	/* Room for two: too many VFs. */
	n = 99;
	assert_int_equal(vfnl_parse_link(buf, len, 5, out, 2, &n, &num, &d), -E2BIG);
	assert_int_equal(n, 99);
	assert_non_null(strstr(d.msg, "more than 2"));

	/* Another seq only: no answer. Truncated: malformed. */
	assert_int_equal(vfnl_parse_link(buf, len, 6, out, 4, &n, &num, &d), -ENOMSG);
	assert_int_equal(vfnl_parse_link(buf, len - 1, 5, out, 4, &n, &num, &d), -EBADMSG);
	assert_int_equal(vfnl_parse_link(buf, 3, 5, out, 4, &n, &num, &d), -EBADMSG);

	/* A PF without VFs: an empty list. */
	len = test_vfnl_link(buf, 5, "lo", NULL, 0);
	assert_int_equal(vfnl_parse_link(buf, len, 5, out, 4, &n, &num, &d), 0);
	assert_int_equal(n, 0);
	assert_int_equal(num, 0);
}

/* Finds the first attribute of type t and length alen at or after from in buf (IFLA_VF_INFO and
 * IFLA_VF_MAC share type 1: the length tells them apart). */
static struct nlattr *find_attr(uint8_t *buf, size_t len, uint16_t t, uint16_t alen, size_t from)
{
	for (size_t o = from; o + 4 <= len; o += 4) {
		struct nlattr *a = (struct nlattr *)(buf + o);

		if ((a->nla_type & NLA_TYPE_MASK) == t && a->nla_len == alen && o + alen <= len)
			return a;
	}
	return NULL;
}

static void test_parse_link_malformed(void **state)
{
	static uint8_t buf[VFNL_TEST_BUF];
	const struct test_vf in[] = {{0, {0}, 0, 0}, {1, {0}, 0, 0}};
	struct vfnl_vf out[4];
	struct diag d = {{0}};
	struct nlattr *a;
	size_t n, len;
	int num;

	(void)state;
	/* VF index differs between IFLA_VF_MAC and IFLA_VF_VLAN. */
	len = test_vfnl_link(buf, 5, "ens1f0", in, 2);
	a = find_attr(buf, len, IFLA_VF_VLAN, 4 + sizeof(struct ifla_vf_vlan), 32);
	assert_non_null(a);
	((struct ifla_vf_vlan *)mnl_attr_get_payload(a))->vf = 1;
	assert_int_equal(vfnl_parse_link(buf, len, 5, out, 4, &n, &num, &d), -EBADMSG);
	assert_non_null(strstr(d.msg, "VF index differs"));

	/* The same VF twice. */
	len =
	    test_vfnl_link(buf, 5, "ens1f0", (struct test_vf[]){{1, {0}, 0, 0}, {1, {0}, 0, 0}}, 2);
	assert_int_equal(vfnl_parse_link(buf, len, 5, out, 4, &n, &num, &d), -EBADMSG);
	assert_non_null(strstr(d.msg, "twice"));

	/* VLAN out of range. */
	len = test_vfnl_link(buf, 5, "ens1f0", (struct test_vf[]){{0, {0}, 5000, 0}}, 1);
	assert_int_equal(vfnl_parse_link(buf, len, 5, out, 4, &n, &num, &d), -EBADMSG);

	/* IFLA_VF_MAC one byte short (its size field shrunk; the rest stays in the nest). */
	len = test_vfnl_link(buf, 5, "ens1f0", in, 1);
	a = find_attr(buf, len, IFLA_VF_MAC, 4 + sizeof(struct ifla_vf_mac), 32);
	assert_non_null(a);
	a->nla_len -= 1;
	assert_int_equal(vfnl_parse_link(buf, len, 5, out, 4, &n, &num, &d), -EBADMSG);
	assert_non_null(strstr(d.msg, "IFLA_VF_MAC"));

	/* nlmsg_len past the datagram. */
	len = test_vfnl_link(buf, 5, "ens1f0", in, 2);
	((struct nlmsghdr *)buf)->nlmsg_len = (uint32_t)len + 4;
	assert_int_equal(vfnl_parse_link(buf, len, 5, out, 4, &n, &num, &d), -EBADMSG);
	((struct nlmsghdr *)buf)->nlmsg_len = 0xffffffffu;
	assert_int_equal(vfnl_parse_link(buf, len, 5, out, 4, &n, &num, &d), -EBADMSG);
}

static void test_errors_and_acks(void **state)
{
	static uint8_t buf[VFNL_TEST_BUF];
	struct vfnl_vf out[4];
	struct diag d = {{0}};
	size_t n, len;
	int num;

	(void)state;
	len = test_vfnl_error(buf, 3, 0, NULL);
	assert_int_equal(vfnl_parse_ack(buf, len, 3, &d), 0);
	assert_int_equal(vfnl_parse_ack(buf, len, 4, &d), -ENOMSG);
	/* An ack where a link was expected is malformed. */
	assert_int_equal(vfnl_parse_link(buf, len, 3, out, 4, &n, &num, &d), -EBADMSG);

	len = test_vfnl_error(buf, 3, -EOPNOTSUPP, "VF MAC not supported\n\x1b[31m");
	assert_int_equal(vfnl_parse_ack(buf, len, 3, &d), -EOPNOTSUPP);
	assert_non_null(strstr(d.msg, "VF MAC not supported"));
	assert_null(strchr(d.msg, '\x1b'));
	assert_int_equal(vfnl_parse_link(buf, len, 3, out, 4, &n, &num, &d), -EOPNOTSUPP);

	len = test_vfnl_error(buf, 3, -ENODEV, NULL);
	assert_int_equal(vfnl_parse_ack(buf, len, 3, &d), -ENODEV);
	assert_non_null(strstr(d.msg, strerror(ENODEV)));

	/* A positive error number is a protocol error, not success. */
	len = test_vfnl_error(buf, 3, 5, NULL);
	assert_int_equal(vfnl_parse_ack(buf, len, 3, &d), -EPROTO);

	/* A link where an ack was expected. */
	len = test_vfnl_link(buf, 3, "ens1f0", NULL, 0);
	assert_int_equal(vfnl_parse_ack(buf, len, 3, &d), -EBADMSG);
}

static void test_ifname_valid(void **state)
{
	(void)state;
	assert_true(vfnl_ifname_valid("ens1f0"));
	assert_true(vfnl_ifname_valid("enp59s0f0np0"));
	assert_true(vfnl_ifname_valid("0123456789abcde"));
	assert_false(vfnl_ifname_valid("0123456789abcdef"));
	assert_false(vfnl_ifname_valid(""));
	assert_false(vfnl_ifname_valid(NULL));
	assert_false(vfnl_ifname_valid("."));
	assert_false(vfnl_ifname_valid(".."));
	assert_false(vfnl_ifname_valid("a:b"));
	assert_false(vfnl_ifname_valid("a b"));
	assert_false(vfnl_ifname_valid("a\nb"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_build_set_vf),    cmocka_unit_test(test_build_get_pf),
	    cmocka_unit_test(test_parse_link),	    cmocka_unit_test(test_parse_link_malformed),
	    cmocka_unit_test(test_errors_and_acks), cmocka_unit_test(test_ifname_valid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
