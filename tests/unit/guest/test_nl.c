// SPDX-License-Identifier: MIT
/* The agent's rtnetlink codec: request builders and RTM_NEWLINK / ack parsing from buffers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include "../../../guest/nl.h"
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <string.h>

static const uint8_t MAC1[6] = {0x52, 0x54, 0, 0, 0, 1};
static const uint8_t MAC2[6] = {0x52, 0x54, 0, 0, 0, 2};

/* Appends an RTM_NEWLINK like the kernel's for a bond slave, or a bond when bond != 0. */
static struct nlmsghdr *put_link(char *buf, uint32_t seq, int ifindex, const char *name, bool bond,
				 int master)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifm;
	struct nlattr *info, *data;

	nlh->nlmsg_type = RTM_NEWLINK;
	nlh->nlmsg_flags = NLM_F_MULTI;
	nlh->nlmsg_seq = seq;
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_index = ifindex;
	ifm->ifi_flags = IFF_UP;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	mnl_attr_put(nlh, IFLA_ADDRESS, 6, MAC1);
	mnl_attr_put_u8(nlh, IFLA_OPERSTATE, 6);
	mnl_attr_put_u8(nlh, IFLA_CARRIER, 1);
	if (!bond) {
		mnl_attr_put(nlh, IFLA_PERM_ADDRESS, 6, MAC2);
		mnl_attr_put_u32(nlh, IFLA_MASTER, (uint32_t)master);
	}
	info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	if (bond) {
		mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "bond");
		data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
		mnl_attr_put_u8(nlh, IFLA_BOND_MODE, AGENT_BOND_MODE_ACTIVEBACKUP);
		mnl_attr_put_u32(nlh, IFLA_BOND_ACTIVE_SLAVE, 3);
		mnl_attr_put_u32(nlh, IFLA_BOND_PRIMARY, 3);
		mnl_attr_put_u32(nlh, IFLA_BOND_MIIMON, 100);
		mnl_attr_put_u8(nlh, IFLA_BOND_FAIL_OVER_MAC, 0);
		mnl_attr_nest_end(nlh, data);
	} else {
		mnl_attr_put_strz(nlh, IFLA_INFO_SLAVE_KIND, "bond");
		data = mnl_attr_nest_start(nlh, IFLA_INFO_SLAVE_DATA);
		mnl_attr_put_u8(nlh, IFLA_BOND_SLAVE_STATE, 0);
		mnl_attr_put_u8(nlh, IFLA_BOND_SLAVE_MII_STATUS, AGENT_BOND_LINK_UP);
		mnl_attr_put(nlh, IFLA_BOND_SLAVE_PERM_HWADDR, 6, MAC2);
		mnl_attr_nest_end(nlh, data);
	}
	mnl_attr_nest_end(nlh, info);
	return nlh;
}

static void test_parse_dump(void **state)
{
	char buf[4096] = {0};
	struct agent_link *links = NULL;
	struct nlmsghdr *nlh;
	struct diag d;
	size_t n = 0, off;

	(void)state;
	nlh = put_link(buf, 7, 2, "bond0", true, 0);
	off = NLMSG_ALIGN(nlh->nlmsg_len);
	nlh = put_link(buf + off, 7, 3, "eth1", false, 2);
	off += NLMSG_ALIGN(nlh->nlmsg_len);
	/* A stale message of another request is skipped. */
	nlh = put_link(buf + off, 6, 9, "stale", false, 0);
	off += NLMSG_ALIGN(nlh->nlmsg_len);
	assert_int_equal(nl_link_dump_parse(buf, off, 7, &links, &n, 16, &d), 0);
	assert_int_equal(n, 2);
	assert_string_equal(links[0].name, "bond0");
	assert_string_equal(links[0].kind, "bond");
	assert_int_equal(links[0].bond_mode, AGENT_BOND_MODE_ACTIVEBACKUP);
	assert_int_equal(links[0].bond_active_slave, 3);
	assert_int_equal(links[0].bond_primary, 3);
	assert_int_equal(links[0].bond_miimon, 100);
	assert_true(links[0].has_bond_fom);
	assert_string_equal(links[1].name, "eth1");
	assert_int_equal(links[1].master, 2);
	assert_string_equal(links[1].slave_kind, "bond");
	assert_int_equal(links[1].slave_mii_status, AGENT_BOND_LINK_UP);
	assert_true(links[1].carrier);
	assert_memory_equal(agent_link_mac(&links[1]), MAC2, 6);
	assert_memory_equal(links[1].addr, MAC1, 6);

	/* NLMSG_DONE ends the dump. */
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = NLMSG_DONE;
	nlh->nlmsg_seq = 7;
	mnl_nlmsg_put_extra_header(nlh, 4);
	assert_int_equal(nl_link_dump_parse(buf, nlh->nlmsg_len, 7, &links, &n, 16, &d), 1);
	free(links);
}

static void test_parse_limits_and_garbage(void **state)
{
	char buf[4096] = {0};
	struct agent_link *links = NULL, l;
	struct nlmsghdr *nlh;
	struct diag d;
	size_t n = 0;

	(void)state;
	nlh = put_link(buf, 1, 3, "eth1", false, 2);
	assert_int_equal(nl_link_dump_parse(buf, nlh->nlmsg_len, 1, &links, &n, 0, &d), -E2BIG);
	/* A u32 attribute with a short payload is rejected, not read past. */
	memset(buf, 0, sizeof(buf));
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWLINK;
	{
		struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));

		ifm->ifi_index = 4;
	}
	mnl_attr_put_strz(nlh, IFLA_IFNAME, "eth9");
	mnl_attr_put_u8(nlh, IFLA_MASTER, 1);
	assert_int_equal(nl_link_parse(nlh, &l), -EBADMSG);
	/* No ifinfomsg at all. */
	nlh->nlmsg_len = NLMSG_HDRLEN + 4;
	assert_int_equal(nl_link_parse(nlh, &l), -EBADMSG);
	/* Truncated datagram (the kernel never sends one): malformed, nothing parsed, no crash. */
	nlh = put_link(buf, 1, 3, "eth1", false, 2);
	assert_int_equal(nl_link_dump_parse(buf, nlh->nlmsg_len - 8, 1, &links, &n, 16, &d),
			 -EBADMSG);
	assert_int_equal(n, 0);
	free(links);
}

/* Found by fuzzing: a message whose length is not a multiple of 4 and ends the buffer, with an
 * attribute that reaches into the alignment padding past it. It must be rejected, not read. */
static void test_parse_unaligned_tail(void **state)
{
	/* 41 bytes of message; bytes 41..43 stand for memory past the received data. */
	static const uint8_t msg[44] = {
	    0x29, 0, 0,	   0, 0x10, 0,	 0x02, 0,    1, 0,   0,	  0,
	    0,	  0, 0,	   0, /* nlmsghdr, seq 1 */
	    0,	  0, 0,	   0, 2,    0,	 0,    0x40, 1, 2,   0,	  0,
	    0,	  0, 0,	   0,					       /* ifinfomsg, index 2 */
	    0x0a, 0, 0x03, 0, 'b',  'o', 0,    0,    1, 'X', 'Y', 'Z', /* IFLA_IFNAME, len 10 */
	};
	uint8_t buf[44] __attribute__((aligned(4)));
	struct agent_link *links = NULL;
	struct diag d = {{0}};
	size_t n = 0;

	(void)state;
	memcpy(buf, msg, sizeof(buf));
	assert_int_equal(nl_link_dump_parse(buf, 41, 1, &links, &n, 8, &d), -EBADMSG);
	assert_int_equal(n, 0);
	free(links);
}

static void test_ack(void **state)
{
	char buf[512] = {0};
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nlmsgerr *err;
	struct diag d = {{0}};

	(void)state;
	nlh->nlmsg_type = NLMSG_ERROR;
	nlh->nlmsg_seq = 5;
	nlh->nlmsg_flags = NLM_F_CAPPED | NLM_F_ACK_TLVS;
	err = mnl_nlmsg_put_extra_header(nlh, sizeof(*err));
	err->error = -EBUSY;
	mnl_attr_put_strz(nlh, NLMSGERR_ATTR_MSG, "Device is up");
	assert_int_equal(nl_ack_parse(buf, nlh->nlmsg_len, 4, &d), 0);
	assert_int_equal(nl_ack_parse(buf, nlh->nlmsg_len, 5, &d), -EBUSY);
	assert_non_null(strstr(d.msg, "Device is up"));
	err->error = 0;
	assert_int_equal(nl_ack_parse(buf, nlh->nlmsg_len, 5, &d), 1);
}

static void test_builders(void **state)
{
	char buf[NL_MSG_BUF];
	struct agent_bond_params p = {.name = "bond0", .mode = 1, .miimon = 100};
	struct nlmsghdr *nlh;
	struct agent_link l;

	(void)state;
	nlh = nl_build_bond_create(buf, 3, &p);
	assert_int_equal(nlh->nlmsg_type, RTM_NEWLINK);
	assert_true(nlh->nlmsg_flags & NLM_F_CREATE);
	assert_true(nlh->nlmsg_flags & NLM_F_EXCL);
	assert_true(nlh->nlmsg_flags & NLM_F_ACK);
	/* The parser reads back what the builder wrote (same attribute layout). */
	nlh->nlmsg_type = RTM_NEWLINK;
	((struct ifinfomsg *)mnl_nlmsg_get_payload(nlh))->ifi_index = 5;
	assert_int_equal(nl_link_parse(nlh, &l), 0);
	assert_string_equal(l.name, "bond0");
	assert_string_equal(l.kind, "bond");
	assert_int_equal(l.bond_mode, 1);
	assert_int_equal(l.bond_miimon, 100);
	assert_int_equal(l.bond_fail_over_mac, 0);

	nlh = nl_build_set_master(buf, 4, 3, 0);
	assert_int_equal(((struct ifinfomsg *)mnl_nlmsg_get_payload(nlh))->ifi_index, 3);
	nlh = nl_build_set_up(buf, 4, 3, 1);
	assert_int_equal(((struct ifinfomsg *)mnl_nlmsg_get_payload(nlh))->ifi_change, IFF_UP);
	assert_int_equal(((struct ifinfomsg *)mnl_nlmsg_get_payload(nlh))->ifi_flags, IFF_UP);
	nlh = nl_build_bond_set_u32(buf, 4, 2, IFLA_BOND_ACTIVE_SLAVE, 3);
	((struct ifinfomsg *)mnl_nlmsg_get_payload(nlh))->ifi_index = 2;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, "bond0");
	assert_int_equal(nl_link_parse(nlh, &l), 0);
	assert_int_equal(l.bond_active_slave, 3);
	nlh = nl_build_link_dump(buf, 9);
	assert_true(nlh->nlmsg_flags & NLM_F_DUMP);
}

/* The bond is deleted by ifindex alone: no name or other attribute that could pick another link,
 * nothing left over from a message built before in the same buffer. */
static void test_build_link_delete(void **state)
{
	char buf[NL_MSG_BUF];
	struct agent_bond_params p = {.name = "bond0", .mode = 1, .miimon = 100};
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifm;

	(void)state;
	nl_build_bond_create(buf, 3, &p);
	nlh = nl_build_link_delete(buf, 11, 7);
	assert_ptr_equal(nlh, buf);
	assert_int_equal(nlh->nlmsg_type, RTM_DELLINK);
	assert_int_equal(nlh->nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK);
	assert_int_equal(nlh->nlmsg_seq, 11);
	assert_int_equal(nlh->nlmsg_len, NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(*ifm)));
	ifm = mnl_nlmsg_get_payload(nlh);
	assert_int_equal(ifm->ifi_family, AF_UNSPEC);
	assert_int_equal(ifm->ifi_index, 7);
	assert_int_equal(ifm->ifi_flags, 0);
	assert_int_equal(ifm->ifi_change, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_dump),
	    cmocka_unit_test(test_parse_limits_and_garbage),
	    cmocka_unit_test(test_parse_unaligned_tail),
	    cmocka_unit_test(test_ack),
	    cmocka_unit_test(test_builders),
	    cmocka_unit_test(test_build_link_delete),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
