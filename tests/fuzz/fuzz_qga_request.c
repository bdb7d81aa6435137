// SPDX-License-Identifier: MIT
/*
 * Fuzzes vfmigrate-agent's request path: stream splitting, request parsing, argument checking
 * and every command, over a fake backend with a bond of two NICs (fake clock, so waits are
 * instant). Every message must get exactly one well-formed reply. The codec is included so
 * libFuzzer instruments it.
 */
#include "../../src/proto/qga.c"

#include "../../guest/agent.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int64_t now;

static int f_list(void *ctx, struct agent_link **ret, size_t *ret_n, struct diag *d)
{
	struct agent_link *v = calloc(4, sizeof(*v));

	(void)ctx;
	(void)d;
	if (!v)
		return -ENOMEM;
	for (int i = 0; i < 4; i++) {
		v[i].ifindex = i + 1;
		v[i].has_addr = v[i].has_perm_addr = v[i].has_carrier = true;
		v[i].perm_addr[0] = 0x52;
		v[i].perm_addr[5] = (uint8_t)i;
		memcpy(v[i].addr, v[i].perm_addr, 6);
		v[i].carrier = true;
		v[i].flags = 1;
	}
	strcpy(v[0].name, "lo");
	v[0].flags |= 8;
	strcpy(v[1].name, "bond0");
	strcpy(v[1].kind, "bond");
	v[1].has_bond_mode = true;
	v[1].bond_mode = 1;
	v[1].bond_active_slave = 3;
	strcpy(v[2].name, "eth0");
	strcpy(v[3].name, "eth1");
	for (int i = 2; i < 4; i++) {
		v[i].master = 2;
		strcpy(v[i].slave_kind, "bond");
		v[i].has_slave_mii = true;
	}
	*ret = v;
	*ret_n = 4;
	return 0;
}

static int f_create(void *ctx, const struct agent_bond_params *p, struct diag *d)
{
	(void)ctx;
	(void)p;
	diag_set(d, "refused");
	return -EPERM;
}

static int f_delete(void *ctx, int ifindex, struct diag *d)
{
	(void)ctx;
	(void)ifindex;
	(void)d;
	return 0;
}

static int f_master(void *ctx, int ifindex, int master, struct diag *d)
{
	(void)ctx;
	(void)ifindex;
	(void)master;
	(void)d;
	return 0;
}

static int f_up(void *ctx, int ifindex, bool up, struct diag *d)
{
	(void)ctx;
	(void)ifindex;
	(void)up;
	(void)d;
	return 0;
}

static int f_bond(void *ctx, int bond, int slave, struct diag *d)
{
	(void)ctx;
	(void)bond;
	(void)slave;
	(void)d;
	return 0;
}

static int f_pci(void *ctx, const char *ifname, char *buf, size_t n)
{
	(void)ctx;
	snprintf(buf, n, "0000:00:%02zx.0", strlen(ifname));
	return 0;
}

static int64_t f_now(void *ctx)
{
	(void)ctx;
	return now;
}

static int f_wait(void *ctx, int timeout_ms)
{
	(void)ctx;
	now += timeout_ms > 0 ? timeout_ms : 1;
	return 0;
}

static const struct agent_backend be = {
    .link_list = f_list,
    .bond_create = f_create,
    .link_delete = f_delete,
    .link_set_master = f_master,
    .link_set_up = f_up,
    .bond_set_active = f_bond,
    .bond_set_primary = f_bond,
    .pci_address = f_pci,
    .now_ms = f_now,
    .wait = f_wait,
};

static void check_reply(char *s, size_t len)
{
	struct qga_reply r;
	struct diag d;
	size_t off = 0;

	if (!s)
		abort();
	if (len == 0 || s[len - 1] != '\n' || strlen(s) != len)
		abort();
	if ((unsigned char)s[0] == QGA_SENTINEL)
		off = 1;
	/* The agent's own replies always satisfy the client's strict parser. */
	if (qga_reply_parse(s + off, len - off - 1, &r, &d) < 0)
		abort();
	qga_reply_done(&r);
	free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct qga_splitter sp;
	struct agent a;
	size_t off = 0;

	agent_init(&a, &be);
	qga_splitter_init(&sp, QGA_REQUEST_MAX);
	while (off < size) {
		size_t used = 0, rlen = 0;
		int ev = qga_splitter_feed(&sp, data + off, size - off, &used);

		if (ev < 0)
			abort();
		off += used;
		char *reply = NULL;

		if (ev == QGA_SPLIT_MESSAGE)
			reply = agent_handle_message(&a, sp.buf, sp.len, &rlen);
		else if (ev == QGA_SPLIT_OVERSIZE)
			reply = agent_reply_oversize(&a, sp.dropped, &rlen);
		else
			continue;
		check_reply(reply, rlen);
	}
	qga_splitter_done(&sp);
	return 0;
}
