// SPDX-License-Identifier: MIT
/*
 * vfmigrate-agent command logic over a fake link world: a fake clock, NICs that appear at a
 * scripted time (hot-plug) and get carrier some time after being set up, a bond that behaves
 * like the kernel's active-backup bond, injected kernel errors (on every call of an operation
 * or on its n-th call) and a trace of the changes the agent asked for.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../../../guest/agent.h"
#include "proto/qga.h"

#define MAX_LINKS 8

struct fake_link {
	struct agent_link l;
	int64_t appear_at;   /* hot-plug time */
	int64_t carrier_lag; /* ms from up to carrier; <0: never */
	int64_t up_at;
	const char *pci;    /* NULL: eth1 and eth2 are on 0000:01:00.0, others on none */
	const char *driver; /* NULL: none bound */
};

static const char *const ops[] = {"list", "create", "delete", "master", "up", "active", "primary"};

struct world {
	struct fake_link v[MAX_LINKS];
	int n;
	int next_index;
	int64_t now;
	const char *fail_op; /* inject -EPERM on every call of this op */
	struct {
		const char *op;
		int nth; /* inject -EPERM on this call of op (1: the first) */
	} fail[3];
	int calls[ARRAY_SIZE(ops)];
	int calls_set_master;
	int vanish_on_create; /* ifindex of a NIC that is unplugged as the bond is created */
	char trace[1024];     /* "op link arg; ..." of the changing calls, failed ones marked */
};

static struct world W;

static void apply(void)
{
	for (int i = 0; i < W.n; i++) {
		struct fake_link *f = &W.v[i];
		bool c = (f->l.flags & IFF_UP) && f->carrier_lag >= 0 &&
			 W.now >= f->up_at + f->carrier_lag;

		if (f->l.kind[0])
			continue;
		f->l.carrier = c;
		f->l.operstate = c ? 6 : 2;
		if (f->l.master)
			f->l.slave_mii_status = c ? AGENT_BOND_LINK_UP : AGENT_BOND_LINK_DOWN;
	}
}

static struct fake_link *fk(int ifindex)
{
	for (int i = 0; i < W.n; i++)
		if (W.v[i].l.ifindex == ifindex)
			return &W.v[i];
	return NULL;
}

static struct fake_link *add_nic(const char *name, const char *mac, int64_t appear_at,
				 int64_t carrier_lag)
{
	struct fake_link *f = &W.v[W.n++];

	memset(f, 0, sizeof(*f));
	f->l.ifindex = W.next_index++;
	snprintf(f->l.name, sizeof(f->l.name), "%s", name);
	parse_mac(mac, f->l.addr);
	memcpy(f->l.perm_addr, f->l.addr, 6);
	f->l.has_addr = f->l.has_perm_addr = true;
	f->l.has_operstate = f->l.has_carrier = true;
	f->appear_at = appear_at;
	f->carrier_lag = carrier_lag;
	return f;
}

static int inject(const char *op, struct diag *d)
{
	bool hit = W.fail_op && strcmp(W.fail_op, op) == 0;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(ops); i++)
		if (strcmp(ops[i], op) == 0)
			break;
	assert_true(i < ARRAY_SIZE(ops));
	W.calls[i]++;
	for (size_t j = 0; j < ARRAY_SIZE(W.fail); j++)
		if (W.fail[j].op && strcmp(W.fail[j].op, op) == 0 && W.fail[j].nth == W.calls[i])
			hit = true;
	if (hit) {
		diag_set(d, "injected failure of %s", op);
		return -EPERM;
	}
	return 0;
}

static const char *link_name(int ifindex)
{
	struct fake_link *f = ifindex ? fk(ifindex) : NULL;

	return f ? f->l.name : "-";
}

/* Appends one call to the trace; r < 0 marks it failed. */
static void trace(int r, const char *op, const char *link, const char *arg)
{
	size_t len = strlen(W.trace);

	snprintf(W.trace + len, sizeof(W.trace) - len, "%s%s %s%s%s%s", len ? "; " : "", op, link,
		 arg ? " " : "", arg ? arg : "", r < 0 ? " FAILED" : "");
}

static void bond_reselect(struct fake_link *b);

/* The kernel's release of a slave: closed, its own MAC back, out of the bond's choice. */
static void fake_release(struct fake_link *f)
{
	struct fake_link *b = fk(f->l.master);

	f->l.master = 0;
	f->l.slave_kind[0] = '\0';
	f->l.has_slave_mii = f->l.has_slave_state = f->l.has_slave_perm_addr = false;
	memcpy(f->l.addr, f->l.perm_addr, 6);
	f->l.flags &= ~IFF_UP;
	if (b) {
		if (b->l.bond_primary == f->l.ifindex)
			b->l.bond_primary = 0;
		if (b->l.bond_active_slave == f->l.ifindex)
			b->l.bond_active_slave = 0;
		bond_reselect(b);
	}
}

static int f_link_list(void *ctx, struct agent_link **ret, size_t *ret_n, struct diag *d)
{
	struct agent_link *v = calloc(MAX_LINKS, sizeof(*v));
	size_t n = 0;

	(void)ctx;
	if (inject("list", d) < 0) {
		free(v);
		return -EPERM;
	}
	apply();
	/* Like miimon: the bond notices link changes and reselects. */
	for (int i = 0; i < W.n; i++)
		if (W.v[i].l.kind[0])
			bond_reselect(&W.v[i]);
	for (int i = 0; i < W.n; i++)
		if (W.now >= W.v[i].appear_at)
			v[n++] = W.v[i].l;
	*ret = v;
	*ret_n = n;
	return 0;
}

static int f_bond_create(void *ctx, const struct agent_bond_params *p, struct diag *d)
{
	struct fake_link *f;

	(void)ctx;
	if (inject("create", d) < 0) {
		trace(-1, "create", p->name, NULL);
		return -EPERM;
	}
	f = &W.v[W.n++];
	memset(f, 0, sizeof(*f));
	f->l.ifindex = W.next_index++;
	snprintf(f->l.name, sizeof(f->l.name), "%s", p->name);
	strcpy(f->l.kind, "bond");
	f->l.has_bond_mode = f->l.has_bond_miimon = f->l.has_bond_fom = true;
	f->l.bond_mode = p->mode;
	f->l.bond_miimon = p->miimon;
	f->l.bond_fail_over_mac = p->fail_over_mac;
	f->l.has_addr = true;
	trace(0, "create", p->name, NULL);
	if (W.vanish_on_create)
		fk(W.vanish_on_create)->appear_at = INT64_MAX;
	return 0;
}

/* Like the kernel, deleting a bond releases its slaves. */
static int f_link_delete(void *ctx, int ifindex, struct diag *d)
{
	struct fake_link *f = fk(ifindex);
	int r;

	(void)ctx;
	assert_non_null(f);
	/* The agent deletes only the bond it created. */
	assert_string_equal(f->l.kind, "bond");
	r = inject("delete", d);
	trace(r, "delete", f->l.name, NULL);
	if (r < 0)
		return r;
	for (int i = 0; i < W.n; i++)
		if (W.v[i].l.master == ifindex)
			fake_release(&W.v[i]);
	memmove(f, f + 1, (size_t)(&W.v[W.n] - (f + 1)) * sizeof(*f));
	W.n--;
	return 0;
}

static void bond_reselect(struct fake_link *b)
{
	struct fake_link *cur = b->l.bond_active_slave ? fk(b->l.bond_active_slave) : NULL;
	struct fake_link *pri = b->l.bond_primary ? fk(b->l.bond_primary) : NULL;

	apply();
	if (pri && pri->l.slave_mii_status == AGENT_BOND_LINK_UP) {
		b->l.bond_active_slave = pri->l.ifindex;
		return;
	}
	if (cur && cur->l.master == b->l.ifindex && cur->l.slave_mii_status == AGENT_BOND_LINK_UP)
		return;
	b->l.bond_active_slave = 0;
	for (int i = 0; i < W.n; i++)
		if (W.v[i].l.master == b->l.ifindex &&
		    W.v[i].l.slave_mii_status == AGENT_BOND_LINK_UP) {
			b->l.bond_active_slave = W.v[i].l.ifindex;
			return;
		}
}

static int f_set_master(void *ctx, int ifindex, int master, struct diag *d)
{
	struct fake_link *f = fk(ifindex), *b = master ? fk(master) : NULL;
	int r;

	(void)ctx;
	W.calls_set_master++;
	assert_non_null(f);
	r = inject("master", d);
	/* The kernel refuses to enslave a NIC that is up. */
	if (r == 0 && master && (f->l.flags & IFF_UP)) {
		diag_set(d, "slave must be down");
		r = -EBUSY;
	}
	trace(r, "master", f->l.name, link_name(master));
	if (r < 0)
		return r;
	if (master) {
		assert_non_null(b);
		f->l.master = master;
		strcpy(f->l.slave_kind, "bond");
		f->l.has_slave_mii = f->l.has_slave_state = true;
		memcpy(f->l.slave_perm_addr, f->l.perm_addr, 6);
		f->l.has_slave_perm_addr = true;
		/* fail_over_mac=none: the bond takes the first slave's MAC, slaves take the bond's.
		 */
		if (!b->l.addr[0] && !b->l.addr[5])
			memcpy(b->l.addr, f->l.addr, 6);
		memcpy(f->l.addr, b->l.addr, 6);
		/* The bond opens its slave. */
		f->l.flags |= IFF_UP;
		f->up_at = W.now;
		bond_reselect(b);
	} else {
		fake_release(f);
	}
	return 0;
}

static int f_set_up(void *ctx, int ifindex, bool up, struct diag *d)
{
	struct fake_link *f = fk(ifindex);
	int r;

	(void)ctx;
	assert_non_null(f);
	r = inject("up", d);
	trace(r, "up", f->l.name, up ? "up" : "down");
	if (r < 0)
		return r;
	if (up && !(f->l.flags & IFF_UP))
		f->up_at = W.now;
	if (up)
		f->l.flags |= IFF_UP;
	else
		f->l.flags &= ~IFF_UP;
	return 0;
}

static int f_set_active(void *ctx, int bond, int slave, struct diag *d)
{
	struct fake_link *b = fk(bond), *s = fk(slave);
	int r;

	(void)ctx;
	r = inject("active", d);
	apply();
	if (r == 0 && (!s || s->l.master != bond || s->l.slave_mii_status != AGENT_BOND_LINK_UP)) {
		diag_set(d, "cannot set active");
		r = -EINVAL;
	}
	trace(r, "active", link_name(bond), link_name(slave));
	if (r < 0)
		return r;
	b->l.bond_active_slave = slave;
	return 0;
}

static int f_set_primary(void *ctx, int bond, int slave, struct diag *d)
{
	struct fake_link *b = fk(bond);
	int r;

	(void)ctx;
	r = inject("primary", d);
	trace(r, "primary", link_name(bond), link_name(slave));
	if (r < 0)
		return r;
	b->l.bond_primary = slave;
	bond_reselect(b);
	return 0;
}

static struct fake_link *fk_name(const char *name)
{
	for (int i = 0; i < W.n; i++)
		if (strcmp(W.v[i].l.name, name) == 0)
			return &W.v[i];
	return NULL;
}

static int f_pci(void *ctx, const char *ifname, char *buf, size_t n)
{
	struct fake_link *f = fk_name(ifname);

	(void)ctx;
	if (f && f->pci) {
		snprintf(buf, n, "%s", f->pci);
		return 0;
	}
	if (strcmp(ifname, "eth1") == 0 || strcmp(ifname, "eth2") == 0) {
		snprintf(buf, n, "0000:01:00.0");
		return 0;
	}
	return -ENOENT;
}

static int f_driver(void *ctx, const char *ifname, char *buf, size_t n)
{
	struct fake_link *f = fk_name(ifname);

	(void)ctx;
	if (!f || !f->driver)
		return -ENOENT;
	snprintf(buf, n, "%s", f->driver);
	return 0;
}

static int64_t f_now(void *ctx)
{
	(void)ctx;
	return W.now;
}

static int f_wait(void *ctx, int timeout_ms)
{
	(void)ctx;
	assert_true(timeout_ms > 0);
	assert_true(timeout_ms <= AGENT_WAIT_TICK_MS);
	W.now += timeout_ms;
	return 0;
}

static const struct agent_backend fake_be = {
    .link_list = f_link_list,
    .bond_create = f_bond_create,
    .link_delete = f_link_delete,
    .link_set_master = f_set_master,
    .link_set_up = f_set_up,
    .bond_set_active = f_set_active,
    .bond_set_primary = f_set_primary,
    .pci_address = f_pci,
    .driver = f_driver,
    .now_ms = f_now,
    .wait = f_wait,
};

#define VIRTIO_MAC "52:54:00:00:00:01"
#define VF_MAC	   "52:54:00:00:00:02"
#define VF2_MAC	   "52:54:00:00:00:03"

static struct agent A;

static int setup(void **state)
{
	struct fake_link *lo;

	(void)state;
	memset(&W, 0, sizeof(W));
	W.next_index = 1;
	W.now = 1000;
	lo = add_nic("lo", "00:00:00:00:00:00", 0, 0);
	lo->l.flags = IFF_LOOPBACK | IFF_UP;
	lo->l.has_perm_addr = false;
	add_nic("eth0", VIRTIO_MAC, 0, 0);
	add_nic("eth1", VF_MAC, 0, 2500);
	agent_init(&A, &fake_be);
	return 0;
}

/* Sends one request; returns the parsed reply (caller frees). */
static struct qga_reply call(const char *req)
{
	struct qga_reply r = {0};
	struct diag d = {{0}};
	size_t len = 0;
	char *s = agent_handle_message(&A, req, strlen(req), &len);
	const char *p = s;

	assert_non_null(s);
	assert_int_equal(strlen(s), len);
	assert_true(len > 0 && s[len - 1] == '\n');
	if ((unsigned char)p[0] == 0xFF)
		p++, len--;
	if (qga_reply_parse(p, len - 1, &r, &d) < 0)
		fail_msg("bad reply %s: %s", s, d.msg);
	free(s);
	return r;
}

static json_t *call_ok(const char *req)
{
	struct qga_reply r = call(req);
	json_t *v;

	if (r.is_error)
		fail_msg("%s -> %s: %s", req, r.error_class, r.error_desc);
	v = r.value;
	r.value = NULL;
	qga_reply_done(&r);
	return v;
}

static void call_err(const char *req, const char *cls, const char *desc_part)
{
	struct qga_reply r = call(req);

	if (!r.is_error)
		fail_msg("%s succeeded, expected %s", req, cls);
	if (strcmp(r.error_class, cls) != 0 || !strstr(r.error_desc, desc_part))
		fail_msg("%s -> %s: %s; expected %s: ...%s...", req, r.error_class, r.error_desc,
			 cls, desc_part);
	qga_reply_done(&r);
}

static const char *jstr(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_string(v) ? json_string_value(v) : "(null)";
}

static void create_bond(void)
{
	json_t *v = call_ok("{\"execute\":\"guest-bond-create\",\"arguments\":{\"slaves\":"
			    "[\"" VIRTIO_MAC "\",\"" VF_MAC "\"],\"primary\":\"" VF_MAC
			    "\",\"miimon\":100}}");

	assert_string_equal(jstr(v, "name"), "bond0");
	assert_string_equal(jstr(v, "mode"), "active-backup");
	assert_string_equal(jstr(v, "fail_over_mac"), "none");
	assert_int_equal(json_array_size(json_object_get(v, "slaves")), 2);
	json_decref(v);
}

static void test_basic_commands(void **state)
{
	json_t *v;
	size_t len;
	char *s;

	(void)state;
	v = call_ok("{\"execute\":\"guest-ping\"}");
	assert_true(json_is_object(v) && json_object_size(v) == 0);
	json_decref(v);
	v = call_ok("{\"execute\":\"guest-sync\",\"arguments\":{\"id\":1234567890123}}");
	assert_int_equal(json_integer_value(v), 1234567890123LL);
	json_decref(v);
	v = call_ok("{\"execute\":\"guest-info\"}");
	assert_string_equal(jstr(v, "version"), VFM_VERSION);
	assert_true(json_array_size(json_object_get(v, "supported_commands")) >= 10);
	json_decref(v);

	/* guest-sync-delimited: 0xFF first, and the id echoed back. */
	{
		const char *req = "{\"execute\":\"guest-sync-delimited\",\"arguments\":{\"id\":7}}";

		s = agent_handle_message(&A, req, strlen(req), &len);
	}
	assert_int_equal((unsigned char)s[0], 0xFF);
	assert_string_equal(s + 1, "{\"return\":7}\n");
	free(s);
	/* The request id is echoed on success and on error. */
	s = agent_handle_message(&A, "{\"execute\":\"guest-ping\",\"id\":\"abc\"}", 35, &len);
	assert_non_null(strstr(s, "\"id\":\"abc\""));
	free(s);
	s = agent_handle_message(&A, "{\"execute\":\"nope\",\"id\":\"abc\"}", 29, &len);
	assert_non_null(strstr(s, "\"id\":\"abc\""));
	assert_non_null(strstr(s, "CommandNotFound"));
	free(s);
}

static void test_error_classes(void **state)
{
	(void)state;
	call_err("{\"execute\":", "GenericError", "malformed JSON");
	call_err("\"just a string\"", "GenericError", "not a JSON object");
	call_err("{\"arguments\":{}}", "GenericError", "no 'execute'");
	call_err("{\"execute\":\"guest-frobnicate\"}", "CommandNotFound",
		 "command 'guest-frobnicate' not found");
	call_err("{\"execute\":\"guest-sync\"}", "InvalidParameter", "missing parameter 'id'");
	call_err("{\"execute\":\"guest-sync\",\"arguments\":{\"id\":\"x\"}}", "InvalidParameter",
		 "invalid parameter type for 'id', expected: integer");
	call_err("{\"execute\":\"guest-ping\",\"arguments\":{\"x\":1}}", "InvalidParameter",
		 "unknown parameter 'x'");
	call_err("{\"execute\":\"guest-bond-release\",\"arguments\":{\"mac\":5}}",
		 "InvalidParameter", "invalid parameter type for 'mac'");
	call_err(
	    "{\"execute\":\"guest-bond-release\",\"arguments\":{\"mac\":\"52:54:00:zz:00:01\"}}",
	    "InvalidParameter", "not a MAC address");
	call_err("{\"execute\":\"guest-bond-status\",\"arguments\":{\"bond\":\"../x\"}}",
		 "InvalidParameter", "not a valid interface name");
	call_err("{\"execute\":\"guest-link-wait\",\"arguments\":{\"mac\":\"" VF_MAC
		 "\",\"timeout\":600000}}",
		 "InvalidParameter", "must be in [0, 60000]");
	call_err("{\"execute\":\"guest-bond-status\"}", "DeviceNotFound", "no bond named bond0");
	call_err("{\"execute\":\"guest-bond-status\",\"arguments\":{\"bond\":\"eth0\"}}",
		 "InvalidState", "eth0 is not a bond");
	call_err("{\"execute\":\"guest-bond-create\",\"arguments\":{\"slaves\":[\"" VF_MAC
		 "\"],\"mode\":\"balance-rr\"}}",
		 "InvalidParameter", "only active-backup");
	call_err("{\"execute\":\"guest-bond-create\",\"arguments\":{\"slaves\":[\"" VF_MAC
		 "\"],\"primary\":\"" VIRTIO_MAC "\"}}",
		 "InvalidParameter", "must be one of 'slaves'");
	call_err("{\"execute\":\"guest-bond-create\",\"arguments\":{\"slaves\":[\"" VF_MAC
		 "\",\"" VF_MAC "\"]}}",
		 "InvalidParameter", "listed twice");
	call_err("{\"execute\":\"guest-bond-create\",\"arguments\":{\"slaves\":[]}}",
		 "InvalidParameter", "1 to 16");
	/* Nothing was created by the refused requests. */
	call_err("{\"execute\":\"guest-bond-status\"}", "DeviceNotFound", "bond0");
	assert_int_equal(W.calls_set_master, 0);
	{
		size_t len;
		char *s = agent_reply_oversize(&A, 70000, &len);

		assert_non_null(strstr(s, "GenericError"));
		assert_non_null(strstr(s, "exceeds the limit of 65536 bytes"));
		free(s);
	}
}

static void test_create_and_status(void **state)
{
	json_t *v, *slaves, *s;
	size_t i;

	(void)state;
	W.now += 3000; /* nothing is up yet: carrier comes 2.5 s after up */
	create_bond();
	W.now += 3000;
	v = call_ok("{\"execute\":\"guest-bond-status\"}");
	assert_string_equal(jstr(v, "active"), VF_MAC);
	assert_string_equal(jstr(v, "active_name"), "eth1");
	/* What the host's MAC model reads: the bond's fail_over_mac and its own current MAC
	 * (at none, the first slave's). */
	assert_string_equal(jstr(v, "fail_over_mac"), "none");
	assert_string_equal(jstr(v, "mac"), VIRTIO_MAC);
	assert_string_equal(jstr(v, "primary"), VF_MAC);
	slaves = json_object_get(v, "slaves");
	assert_int_equal(json_array_size(slaves), 2);
	json_array_foreach (slaves, i, s) {
		/* NICs are named by their permanent MAC although the bond rewrote them. */
		if (strcmp(jstr(s, "name"), "eth1") == 0) {
			assert_string_equal(jstr(s, "mac"), VF_MAC);
			assert_string_equal(jstr(s, "pci"), "0000:01:00.0");
			assert_true(json_is_true(json_object_get(s, "active")));
			assert_string_equal(jstr(s, "link"), "up");
		} else {
			assert_string_equal(jstr(s, "mac"), VIRTIO_MAC);
			assert_true(json_is_null(json_object_get(s, "pci")));
			assert_string_equal(jstr(s, "address"), VIRTIO_MAC);
		}
	}
	json_decref(v);
	call_err("{\"execute\":\"guest-bond-create\",\"arguments\":{\"slaves\":[\"" VF_MAC "\"]}}",
		 "InvalidState", "bond0 already exists");
}

static void test_set_active_both_ways(void **state)
{
	json_t *v;

	(void)state;
	create_bond();
	W.now += 3000;
	/* To the virtio NIC, clearing the primary (step 1 of a migration). */
	v = call_ok("{\"execute\":\"guest-bond-set-active\",\"arguments\":{\"mac\":\"" VIRTIO_MAC
		    "\",\"primary\":false}}");
	assert_string_equal(jstr(v, "active"), VIRTIO_MAC);
	assert_true(json_is_null(json_object_get(v, "primary")));
	json_decref(v);
	/* Back to the VF, as primary. */
	v = call_ok("{\"execute\":\"guest-bond-set-active\",\"arguments\":{\"mac\":\"" VF_MAC
		    "\"}}");
	assert_string_equal(jstr(v, "active"), VF_MAC);
	assert_string_equal(jstr(v, "primary"), VF_MAC);
	json_decref(v);
	call_err("{\"execute\":\"guest-bond-set-active\",\"arguments\":{\"mac\":\"" VF2_MAC "\"}}",
		 "DeviceNotFound", "no NIC with MAC " VF2_MAC);
	/* A slave without link cannot become active. */
	W.v[2].carrier_lag = -1;
	call_err("{\"execute\":\"guest-bond-set-active\",\"arguments\":{\"mac\":\"" VF_MAC "\"}}",
		 "InvalidState", "has no link");
}

static void test_release_and_enslave_after_hotplug(void **state)
{
	json_t *v, *slave;
	struct fake_link *vf2;

	(void)state;
	create_bond();
	W.now += 3000;
	json_decref(
	    call_ok("{\"execute\":\"guest-bond-set-active\",\"arguments\":{\"mac\":\"" VIRTIO_MAC
		    "\",\"primary\":false}}"));
	v = call_ok("{\"execute\":\"guest-bond-release\",\"arguments\":{\"mac\":\"" VF_MAC "\"}}");
	assert_string_equal(jstr(v, "released"), VF_MAC);
	assert_int_equal(json_array_size(json_object_get(json_object_get(v, "bond"), "slaves")), 1);
	json_decref(v);
	call_err("{\"execute\":\"guest-bond-release\",\"arguments\":{\"mac\":\"" VF_MAC "\"}}",
		 "InvalidState", "eth1 is not a slave of bond0");
	call_err("{\"execute\":\"guest-bond-release\",\"arguments\":{\"mac\":\"" VF2_MAC "\"}}",
		 "DeviceNotFound", "no NIC with MAC");
	call_err("{\"execute\":\"guest-bond-release\",\"arguments\":{\"bond\":\"bond9\",\"mac\":"
		 "\"" VF_MAC "\"}}",
		 "DeviceNotFound", "no bond named bond9");

	/* The destination VF is hot-plugged 1.5 s from now, takes 2.5 s to get carrier. */
	vf2 = add_nic("eth2", VF2_MAC, W.now + 1500, 2500);
	(void)vf2;
	int64_t t0 = W.now;
	v = call_ok("{\"execute\":\"guest-bond-enslave\",\"arguments\":{\"mac\":\"" VF2_MAC
		    "\",\"timeout\":8000,\"active\":true}}");
	slave = json_object_get(v, "slave");
	assert_string_equal(jstr(slave, "name"), "eth2");
	assert_string_equal(jstr(slave, "mac"), VF2_MAC);
	assert_true(json_is_true(json_object_get(slave, "active")));
	assert_true(json_is_true(json_object_get(slave, "primary")));
	assert_true(json_integer_value(json_object_get(v, "appeared_ms")) >= 1500);
	assert_true(json_integer_value(json_object_get(v, "appeared_ms")) < 1700);
	assert_true(json_integer_value(json_object_get(v, "link_ms")) >= 4000);
	assert_true(W.now - t0 < 4300);
	json_decref(v);
	v = call_ok("{\"execute\":\"guest-bond-status\"}");
	assert_string_equal(jstr(v, "active"), VF2_MAC);
	json_decref(v);
	/* Without the link wait the reply comes at once; 'active' then makes no sense. */
	json_decref(call_ok("{\"execute\":\"guest-bond-release\",\"arguments\":{\"mac\":\"" VF2_MAC
			    "\"}}"));
	t0 = W.now;
	v = call_ok("{\"execute\":\"guest-bond-enslave\",\"arguments\":{\"mac\":\"" VF2_MAC
		    "\",\"wait_link\":false}}");
	assert_int_equal(W.now, t0);
	assert_true(json_is_null(json_object_get(v, "link_ms")));
	assert_string_equal(jstr(json_object_get(v, "slave"), "master"), "bond0");
	json_decref(v);
	call_err("{\"execute\":\"guest-bond-enslave\",\"arguments\":{\"mac\":\"" VF2_MAC
		 "\",\"wait_link\":false,\"active\":true}}",
		 "InvalidParameter", "'active' needs 'wait_link'");
	W.now += 3000;
	/* Enslaving again is idempotent. */
	json_decref(call_ok("{\"execute\":\"guest-bond-enslave\",\"arguments\":{\"mac\":\"" VF2_MAC
			    "\"}}"));
}

static void test_enslave_timeouts(void **state)
{
	int64_t t0;

	(void)state;
	create_bond();
	W.now += 3000;
	json_decref(
	    call_ok("{\"execute\":\"guest-bond-release\",\"arguments\":{\"mac\":\"" VF_MAC "\"}}"));
	t0 = W.now;
	call_err("{\"execute\":\"guest-bond-enslave\",\"arguments\":{\"mac\":\"" VF2_MAC
		 "\",\"timeout\":700}}",
		 "Timeout", "no NIC with MAC " VF2_MAC " appeared within 700 ms");
	assert_true(W.now - t0 >= 700 && W.now - t0 < 800);
	/* A NIC that never gets carrier: enslaved, but the link wait times out. */
	W.v[2].carrier_lag = -1;
	call_err("{\"execute\":\"guest-bond-enslave\",\"arguments\":{\"mac\":\"" VF_MAC
		 "\",\"timeout\":1000}}",
		 "Timeout", "eth1 was enslaved to bond0 but got no link within 1000 ms");
	/* A NIC enslaved elsewhere is refused. */
	call_err("{\"execute\":\"guest-bond-enslave\",\"arguments\":{\"bond\":\"bond1\",\"mac\":"
		 "\"" VF_MAC "\"}}",
		 "DeviceNotFound", "no bond named bond1");
}

static void test_link_wait(void **state)
{
	json_t *v;

	(void)state;
	add_nic("eth2", VF2_MAC, W.now + 300, 0);
	v = call_ok("{\"execute\":\"guest-link-wait\",\"arguments\":{\"mac\":\"" VF2_MAC
		    "\",\"link\":false}}");
	assert_string_equal(jstr(v, "name"), "eth2");
	assert_true(json_integer_value(json_object_get(v, "waited_ms")) >= 300);
	json_decref(v);
	call_err("{\"execute\":\"guest-link-wait\",\"arguments\":{\"mac\":\"" VF2_MAC
		 "\",\"timeout\":200}}",
		 "Timeout", "got no link within 200 ms");
	call_err("{\"execute\":\"guest-link-wait\",\"arguments\":{\"mac\":\"02:00:00:00:00:99\","
		 "\"timeout\":0}}",
		 "Timeout", "appeared within 0 ms");
	v = call_ok("{\"execute\":\"guest-link-list\"}");
	assert_int_equal(json_array_size(v), 3); /* lo is not a NIC */
	json_decref(v);
}

/*
 * net_failover: a master with no device and no link kind over the virtio NIC (the standby) and,
 * once it appears, a VF of the same MAC (the primary). guest-failover-status finds the master
 * from the virtio NIC's MAC and says which lower it sends on; with a timeout it waits for the
 * primary.
 */
static void test_failover_status(void **state)
{
	struct fake_link *vio = &W.v[1], *vf = &W.v[2], *m;
	json_t *v;

	(void)state;
	m = add_nic("eth9", VIRTIO_MAC, 0, 0);
	m->l.flags = IFF_UP;
	m->l.has_perm_addr = false;
	/* The kernel gives the master its standby's device: by driver it reads virtio too. */
	m->driver = "virtio_net";
	vio->driver = "virtio_net";
	vio->l.master = m->l.ifindex;
	vio->l.flags = IFF_UP;
	/* The kernel takes the VF as primary when it appears (hot-plugged at +500 ms, carrier
	 * 2.5 s after it is up). */
	memcpy(vf->l.perm_addr, vio->l.perm_addr, 6);
	memcpy(vf->l.addr, vio->l.addr, 6);
	vf->driver = "e1000e";
	vf->l.master = m->l.ifindex;
	vf->l.flags = IFF_UP;
	vf->appear_at = vf->up_at = W.now + 500;
	v = call_ok("{\"execute\":\"guest-failover-status\",\"arguments\":{\"mac\":\"" VIRTIO_MAC
		    "\"}}");
	assert_string_equal(jstr(v, "master"), "eth9");
	assert_string_equal(jstr(v, "active"), "standby");
	assert_string_equal(jstr(json_object_get(v, "standby"), "kind"), "virtio");
	assert_true(json_is_null(json_object_get(v, "primary")));
	json_decref(v);
	/* The kind rule: the master is "other", so kind "virtio" names the standby alone. */
	v = call_ok("{\"execute\":\"guest-link-list\"}");
	for (size_t i = 0; i < json_array_size(v); i++) {
		json_t *n = json_array_get(v, i);

		if (!strcmp(jstr(n, "name"), "eth9"))
			assert_string_equal(jstr(n, "kind"), "other");
		if (!strcmp(jstr(n, "name"), "eth0"))
			assert_string_equal(jstr(n, "kind"), "virtio");
	}
	json_decref(v);
	v = call_ok("{\"execute\":\"guest-link-wait\",\"arguments\":{\"mac\":\"" VIRTIO_MAC
		    "\",\"kind\":\"virtio\",\"link\":false}}");
	assert_string_equal(jstr(v, "name"), "eth0");
	json_decref(v);
	v = call_ok("{\"execute\":\"guest-failover-status\",\"arguments\":{\"mac\":\"" VIRTIO_MAC
		    "\",\"timeout\":5000}}");
	assert_string_equal(jstr(v, "active"), "primary");
	assert_string_equal(jstr(json_object_get(v, "primary"), "name"), "eth1");
	assert_string_equal(jstr(json_object_get(v, "primary"), "kind"), "vf");
	assert_true(json_integer_value(json_object_get(v, "waited_ms")) >= 3000);
	json_decref(v);
	/* A primary that never gets carrier: the wait says so at its end. */
	vf->carrier_lag = -1;
	call_err("{\"execute\":\"guest-failover-status\",\"arguments\":{\"mac\":\"" VIRTIO_MAC
		 "\",\"timeout\":200}}",
		 "Timeout", "failover master eth9: its primary got no link within 200 ms");
	call_err("{\"execute\":\"guest-failover-status\",\"arguments\":{\"mac\":\"" VF2_MAC "\"}}",
		 "DeviceNotFound", "no net_failover master over a virtio NIC with MAC " VF2_MAC);
	/* A bond over a virtio NIC is no failover master. */
	snprintf(m->l.kind, sizeof(m->l.kind), "bond");
	call_err("{\"execute\":\"guest-failover-status\",\"arguments\":{\"mac\":\"" VIRTIO_MAC
		 "\"}}",
		 "DeviceNotFound", "no net_failover master");
	call_err("{\"execute\":\"guest-failover-status\",\"arguments\":{\"mac\":\"" VIRTIO_MAC
		 "\",\"timeout\":-1}}",
		 "InvalidParameter", "timeout");
}

/* The slave of bond0 with this kind, or NULL. */
static json_t *slave_of_kind(json_t *bond, const char *kind)
{
	json_t *s;
	size_t i;

	json_array_foreach (json_object_get(bond, "slaves"), i, s)
		if (strcmp(jstr(s, "kind"), kind) == 0)
			return s;
	return NULL;
}

/*
 * net_failover's layout: the virtio NIC carries the VF's MAC. The MAC alone names no NIC; the
 * kind or the PCI address names each, in every command that takes a NIC.
 */
static void test_shared_mac(void **state)
{
	struct fake_link *vio = &W.v[1], *vf = &W.v[2];
	json_t *v, *s;

	(void)state;
	memcpy(vf->l.perm_addr, vio->l.perm_addr, 6);
	memcpy(vf->l.addr, vio->l.addr, 6);
	vio->driver = "virtio_net";
	vio->pci = "0000:00:03.0";
	vf->driver = "igbvf";
	/* The bond is built on virtio while the VF is not plugged yet. */
	vf->appear_at = W.now + 500;
	json_decref(call_ok("{\"execute\":\"guest-bond-create\",\"arguments\":{\"slaves\":"
			    "[\"" VIRTIO_MAC "\"],\"fail_over_mac\":\"none\"}}"));
	/* Then it is, with the same MAC: one MAC, two NICs. */
	W.now += 600;
	call_err("{\"execute\":\"guest-bond-enslave\",\"arguments\":{\"mac\":\"" VIRTIO_MAC
		 "\",\"timeout\":1000}}",
		 "InvalidState", "several NICs match MAC " VIRTIO_MAC " (tell them apart");
	v = call_ok("{\"execute\":\"guest-bond-enslave\",\"arguments\":{\"mac\":\"" VIRTIO_MAC
		    "\",\"kind\":\"vf\",\"timeout\":5000,\"active\":true}}");
	assert_string_equal(jstr(json_object_get(v, "slave"), "name"), "eth1");
	json_decref(v);
	v = call_ok("{\"execute\":\"guest-bond-status\"}");
	s = slave_of_kind(v, "virtio");
	assert_non_null(s);
	assert_string_equal(jstr(s, "name"), "eth0");
	assert_string_equal(jstr(s, "driver"), "virtio_net");
	assert_string_equal(jstr(s, "pci"), "0000:00:03.0");
	assert_true(json_is_false(json_object_get(s, "active")));
	s = slave_of_kind(v, "vf");
	assert_non_null(s);
	assert_string_equal(jstr(s, "name"), "eth1");
	assert_string_equal(jstr(s, "driver"), "igbvf");
	assert_string_equal(jstr(s, "pci"), "0000:01:00.0");
	assert_string_equal(jstr(s, "mac"), VIRTIO_MAC);
	assert_true(json_is_true(json_object_get(s, "active")));
	json_decref(v);

	/* The migration's source steps, each NIC named by kind or by PCI address. */
	call_err("{\"execute\":\"guest-bond-set-active\",\"arguments\":{\"mac\":\"" VIRTIO_MAC
		 "\"}}",
		 "InvalidState", "several NICs match");
	v = call_ok("{\"execute\":\"guest-bond-set-active\",\"arguments\":{\"mac\":\"" VIRTIO_MAC
		    "\",\"kind\":\"virtio\"}}");
	assert_string_equal(jstr(v, "active_name"), "eth0");
	json_decref(v);
	v = call_ok("{\"execute\":\"guest-bond-release\",\"arguments\":{\"mac\":\"" VIRTIO_MAC
		    "\",\"pci\":\"0000:01:00.0\"}}");
	assert_true(json_is_false(json_object_get(v, "was_active")));
	assert_int_equal(json_array_size(json_object_get(json_object_get(v, "bond"), "slaves")), 1);
	assert_string_equal(jstr(json_object_get(v, "bond"), "active_name"), "eth0");
	json_decref(v);
	/* A selector that matches nothing, or contradicts itself, names no NIC. */
	call_err("{\"execute\":\"guest-bond-set-active\",\"arguments\":{\"mac\":\"" VIRTIO_MAC
		 "\",\"kind\":\"virtio\",\"pci\":\"0000:01:00.0\"}}",
		 "DeviceNotFound",
		 "no NIC with MAC " VIRTIO_MAC " (kind virtio, pci 0000:01:00.0)");
	call_err("{\"execute\":\"guest-link-wait\",\"arguments\":{\"mac\":\"" VIRTIO_MAC
		 "\",\"kind\":\"other\",\"timeout\":100}}",
		 "Timeout", "no NIC with MAC " VIRTIO_MAC " (kind other) appeared within 100 ms");
	v = call_ok("{\"execute\":\"guest-link-wait\",\"arguments\":{\"mac\":\"" VIRTIO_MAC
		    "\",\"kind\":\"vf\",\"link\":false}}");
	assert_string_equal(jstr(v, "name"), "eth1");
	json_decref(v);
	/* Back in, by PCI address alone. */
	v = call_ok("{\"execute\":\"guest-bond-enslave\",\"arguments\":{\"mac\":\"" VIRTIO_MAC
		    "\",\"pci\":\"0000:01:00.0\",\"timeout\":5000,\"active\":true}}");
	assert_string_equal(jstr(json_object_get(v, "slave"), "name"), "eth1");
	json_decref(v);
}

/* A selector is checked like every argument: the kernel's spelling of a PCI address, a known
 * kind, strings only. */
static void test_selector_args(void **state)
{
	static const char *const bad[][2] = {
	    {"\"pci\":\"0000:01:00.0 \"", "not a PCI address"},
	    {"\"pci\":\"0000:01:00.8\"", "not a PCI address"},
	    {"\"pci\":\"../../0:01:00.0\"", "not a PCI address"},
	    {"\"pci\":\"0000:01:00.\\u0660\"", "not a PCI address"},
	    {"\"pci\":\"0000:0A:00.0\"", "not a PCI address"},
	    {"\"pci\":\"0000:01:00.00000000000000000000\"", "not a PCI address"},
	    {"\"kind\":\"VF\"", "must be virtio, vf or other"},
	    {"\"kind\":\"vf \"", "must be virtio, vf or other"},
	    {"\"kind\":\"\"", "must be virtio, vf or other"},
	    {"\"kind\":\"virtio-net\"", "must be virtio, vf or other"},
	};
	static const char *const mistyped[] = {
	    "\"pci\":3",     "\"pci\":null", "\"pci\":[\"0000:01:00.0\"]",
	    "\"kind\":true", "\"kind\":{}",
	};
	char req[256];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		snprintf(req, sizeof(req),
			 "{\"execute\":\"guest-bond-release\",\"arguments\":{\"mac\":\"" VF_MAC
			 "\",%s}}",
			 bad[i][0]);
		call_err(req, "InvalidParameter", bad[i][1]);
	}
	for (size_t i = 0; i < ARRAY_SIZE(mistyped); i++) {
		snprintf(req, sizeof(req),
			 "{\"execute\":\"guest-link-wait\",\"arguments\":{\"mac\":\"" VF_MAC
			 "\",%s}}",
			 mistyped[i]);
		call_err(req, "InvalidParameter", "invalid parameter type");
	}
	/* Commands that name no NIC take no selector. */
	call_err("{\"execute\":\"guest-bond-status\",\"arguments\":{\"kind\":\"vf\"}}",
		 "InvalidParameter", "unknown parameter 'kind'");
	assert_int_equal(W.calls_set_master, 0);
}

static void test_kernel_errors(void **state)
{
	(void)state;
	W.fail_op = "create";
	call_err("{\"execute\":\"guest-bond-create\",\"arguments\":{\"slaves\":[\"" VF_MAC "\"]}}",
		 "KernelError", "creating the bond: injected failure of create");
	W.fail_op = NULL;
	create_bond();
	W.now += 3000;
	W.fail_op = "master";
	call_err("{\"execute\":\"guest-bond-release\",\"arguments\":{\"mac\":\"" VF_MAC "\"}}",
		 "KernelError", "releasing the slave: injected failure");
	W.fail_op = "primary";
	call_err("{\"execute\":\"guest-bond-set-active\",\"arguments\":{\"mac\":\"" VIRTIO_MAC
		 "\"}}",
		 "KernelError", "setting the primary");
	W.fail_op = "list";
	call_err("{\"execute\":\"guest-bond-status\"}", "KernelError", "reading links");
	W.fail_op = NULL;
	/* Still serving. */
	json_decref(call_ok("{\"execute\":\"guest-ping\"}"));
	assert_true(A.errors >= 4);
}

/* ---- guest-bond-create is all or nothing ---- */

#define CREATE_REQ                                                                    \
	"{\"execute\":\"guest-bond-create\",\"arguments\":{\"slaves\":[\"" VIRTIO_MAC \
	"\",\"" VF_MAC "\"],\"primary\":\"" VF_MAC "\"}}"

/* What CREATE_REQ asks for, with eth0 up and eth1 down before. */
#define T_ETH0	    "create bond0; up eth0 down; master eth0 bond0; up eth0 up"
#define T_ETH1	    "; master eth1 bond0; up eth1 up"
#define T_BOND	    "; up bond0 up; primary bond0 eth1"
#define T_UNDO_ETH1 "; master eth1 -; up eth1 down"
#define T_UNDO_ETH0 "; master eth0 -; up eth0 up"

/* The reply is exactly this error. */
static void call_err_exact(const char *req, const char *cls, const char *desc)
{
	struct qga_reply r = call(req);

	if (!r.is_error)
		fail_msg("%s succeeded, expected %s", req, cls);
	if (strcmp(r.error_class, cls) != 0 || strcmp(r.error_desc, desc) != 0)
		fail_msg("got %s: %s\nexpected %s: %s", r.error_class, r.error_desc, cls, desc);
	qga_reply_done(&r);
}

static void assert_trace(const char *want)
{
	if (strcmp(W.trace, want) != 0)
		fail_msg("trace\n  %s\nexpected\n  %s", W.trace, want);
}

/* The NIC is out of any bond, with its own MAC and this up/down state. */
static void assert_nic_free(int ifindex, bool up)
{
	struct fake_link *f = fk(ifindex);

	assert_non_null(f);
	if (f->l.master || f->l.slave_kind[0] || memcmp(f->l.addr, f->l.perm_addr, 6) != 0 ||
	    !!(f->l.flags & IFF_UP) != up)
		fail_msg("%s: master %d, slave kind '%s', own MAC %s, %s (expected %s)", f->l.name,
			 f->l.master, f->l.slave_kind,
			 memcmp(f->l.addr, f->l.perm_addr, 6) ? "no" : "yes",
			 f->l.flags & IFF_UP ? "up" : "down", up ? "up" : "down");
}

/* Nothing of the failed bond is left: no bond0, eth0 up and eth1 down as they were. */
static void assert_as_before(void)
{
	assert_int_equal(W.n, 3);
	for (int i = 0; i < W.n; i++)
		assert_string_not_equal(W.v[i].l.name, "bond0");
	assert_nic_free(2, true);
	assert_nic_free(3, false);
}

static void setup_mixed(void)
{
	setup(NULL);
	W.v[1].l.flags |= IFF_UP; /* eth0 */
	W.v[1].up_at = 0;
}

static void test_create_trace(void **state)
{
	(void)state;
	setup_mixed();
	create_bond();
	assert_trace(T_ETH0 T_ETH1 T_BOND);
}

/*
 * A failure at each step after the bond was created: the original error, and the steps done
 * undone in reverse (slaves released and back up or down as they were, the bond deleted).
 */
static void test_create_undo_each_step(void **state)
{
	static const struct {
		const char *op;
		int nth;
		int vanish; /* ifindex of a NIC unplugged while the bond is created */
		const char *cls, *desc, *trace;
	} cases[] = {
	    {NULL, 0, 2, "DeviceNotFound", "slave eth0 vanished", "create bond0; delete bond0"},
	    {NULL, 0, 3, "DeviceNotFound", "slave eth1 vanished",
	     T_ETH0 T_UNDO_ETH0 "; delete bond0"},
	    {"list", 2, 0, "KernelError", "reading links: injected failure of list",
	     "create bond0; delete bond0"},
	    {"up", 1, 0, "KernelError",
	     "setting the NIC down before enslaving: injected failure of up",
	     "create bond0; up eth0 down FAILED; up eth0 up; delete bond0"},
	    {"master", 1, 0, "KernelError", "enslaving: injected failure of master",
	     "create bond0; up eth0 down; master eth0 bond0 FAILED; up eth0 up; delete bond0"},
	    {"up", 2, 0, "KernelError", "setting the slave up: injected failure of up",
	     "create bond0; up eth0 down; master eth0 bond0; up eth0 up FAILED" T_UNDO_ETH0
	     "; delete bond0"},
	    {"master", 2, 0, "KernelError", "enslaving: injected failure of master",
	     T_ETH0 "; master eth1 bond0 FAILED; up eth1 down" T_UNDO_ETH0 "; delete bond0"},
	    {"up", 3, 0, "KernelError", "setting the slave up: injected failure of up",
	     T_ETH0 "; master eth1 bond0; up eth1 up FAILED" T_UNDO_ETH1 T_UNDO_ETH0
		    "; delete bond0"},
	    {"up", 4, 0, "KernelError", "setting the bond up: injected failure of up",
	     T_ETH0 T_ETH1 "; up bond0 up FAILED" T_UNDO_ETH1 T_UNDO_ETH0 "; delete bond0"},
	    {"primary", 1, 0, "KernelError", "setting the primary: injected failure of primary",
	     T_ETH0 T_ETH1 "; up bond0 up; primary bond0 eth1 FAILED" T_UNDO_ETH1 T_UNDO_ETH0
			   "; delete bond0"},
	    /* The bond is made but its state cannot be read back for the reply. */
	    {"list", 3, 0, "KernelError", "reading links: injected failure of list",
	     T_ETH0 T_ETH1 T_BOND T_UNDO_ETH1 T_UNDO_ETH0 "; delete bond0"},
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		print_message("case %zu: %s #%d, vanish %d\n", i, cases[i].op ? cases[i].op : "-",
			      cases[i].nth, cases[i].vanish);
		setup_mixed();
		W.fail[0].op = cases[i].op;
		W.fail[0].nth = cases[i].nth;
		W.vanish_on_create = cases[i].vanish;
		call_err_exact(CREATE_REQ, cases[i].cls, cases[i].desc);
		assert_trace(cases[i].trace);
		assert_as_before();
		/* Nothing is in the way of trying again. */
		W.fail[0].op = NULL;
		W.vanish_on_create = 0;
		for (int j = 0; j < W.n; j++)
			W.v[j].appear_at = 0;
		create_bond();
	}
}

/* An undo step that fails is appended to the original error, which becomes InvalidState. */
static void test_create_undo_fails(void **state)
{
	(void)state;

	/* The bond cannot be deleted: the slaves are out of it all the same. */
	setup_mixed();
	W.fail[0].op = "primary", W.fail[0].nth = 1;
	W.fail[1].op = "delete", W.fail[1].nth = 1;
	call_err_exact(CREATE_REQ, "InvalidState",
		       "setting the primary: injected failure of primary; undo: could not delete "
		       "bond0: injected failure of delete");
	assert_trace(T_ETH0 T_ETH1
		     "; up bond0 up; primary bond0 eth1 FAILED" T_UNDO_ETH1 T_UNDO_ETH0
		     "; delete bond0 FAILED");
	assert_int_equal(W.n, 4);
	assert_nic_free(2, true);
	assert_nic_free(3, false);
	call_err(CREATE_REQ, "InvalidState", "bond0 already exists");

	/* A slave that cannot be released leaves with the bond, then is set up again. */
	setup_mixed();
	W.fail[0].op = "up", W.fail[0].nth = 4;
	W.fail[1].op = "master", W.fail[1].nth = 4;
	call_err_exact(CREATE_REQ, "InvalidState",
		       "setting the bond up: injected failure of up; undo: could not release eth0: "
		       "injected failure of master");
	assert_trace(T_ETH0 T_ETH1 "; up bond0 up FAILED" T_UNDO_ETH1
				   "; master eth0 - FAILED; delete bond0; up eth0 up");
	assert_as_before();

	/* A slave that cannot be set up again. */
	setup_mixed();
	W.fail[0].op = "up", W.fail[0].nth = 4;
	W.fail[1].op = "up", W.fail[1].nth = 6;
	call_err_exact(CREATE_REQ, "InvalidState",
		       "setting the bond up: injected failure of up; undo: could not set eth0 up "
		       "again: injected failure of up");
	assert_trace(T_ETH0 T_ETH1 "; up bond0 up FAILED" T_UNDO_ETH1
				   "; master eth0 -; up eth0 up FAILED; delete bond0");
	assert_int_equal(W.n, 3);
	assert_nic_free(2, false);
	assert_nic_free(3, false);

	/* The bond's ifindex was never read, and cannot be. */
	setup_mixed();
	W.fail[0].op = "list", W.fail[0].nth = 2;
	W.fail[1].op = "list", W.fail[1].nth = 3;
	call_err_exact(CREATE_REQ, "InvalidState",
		       "reading links: injected failure of list; undo: could not delete bond0: "
		       "reading links: injected failure of list");
	assert_trace("create bond0");
	assert_int_equal(W.n, 4);

	/* Two undo steps fail: both are reported; the slave stays in the bond that stays. */
	setup_mixed();
	W.fail[0].op = "up", W.fail[0].nth = 4;
	W.fail[1].op = "master", W.fail[1].nth = 4;
	W.fail[2].op = "delete", W.fail[2].nth = 1;
	call_err_exact(CREATE_REQ, "InvalidState",
		       "setting the bond up: injected failure of up; undo: could not release eth0: "
		       "injected failure of master; undo: could not delete bond0: injected "
		       "failure of delete");
	assert_trace(T_ETH0 T_ETH1 "; up bond0 up FAILED" T_UNDO_ETH1
				   "; master eth0 - FAILED; delete bond0 FAILED");
	assert_int_equal(fk(2)->l.master, 4);
	assert_nic_free(3, false);
}

/* ---- guest-bond-enslave is all or nothing, but for the link wait ---- */

#define ENSLAVE_ARGS(x) \
	"{\"execute\":\"guest-bond-enslave\",\"arguments\":{\"mac\":\"" VF2_MAC "\"," x "}}"
#define ENSLAVE_REQ	   ENSLAVE_ARGS("\"timeout\":2000,\"active\":true")
#define ENSLAVE_NOWAIT_REQ ENSLAVE_ARGS("\"wait_link\":false")

/* What ENSLAVE_REQ asks for, with eth2 up before. */
#define T_EN_DOWN  "up eth2 down; "
#define T_EN_SLAVE "master eth2 bond0; up eth2 up"
#define T_EN_PRI   "; primary bond0 eth2"
/* The bond back as it was, then eth2 out of it and up again. */
#define T_EN_UNDO_BOND "; primary bond0 eth0; active bond0 eth0"
#define T_EN_UNDO_ETH2 "; master eth2 -; up eth2 up"

/*
 * bond0 with eth0 (primary, active) and eth1, both with link; eth2 free, up or down, gets
 * carrier as soon as it is up. Calls and trace start from here.
 */
static void setup_enslave(bool eth2_up)
{
	struct fake_link *f;

	setup(NULL);
	create_bond();
	W.now += 3000;
	json_decref(call_ok(
	    "{\"execute\":\"guest-bond-set-active\",\"arguments\":{\"mac\":\"" VIRTIO_MAC "\"}}"));
	f = add_nic("eth2", VF2_MAC, 0, 0);
	if (eth2_up)
		f->l.flags |= IFF_UP;
	memset(W.calls, 0, sizeof(W.calls));
	W.trace[0] = '\0';
}

/* bond0's primary and active slave (ifindex, 0 when none). */
static void assert_bond(int primary, int active)
{
	struct fake_link *b = fk(4);

	assert_non_null(b);
	assert_string_equal(b->l.name, "bond0");
	if (b->l.bond_primary != primary || b->l.bond_active_slave != active)
		fail_msg("bond0: primary %s, active %s (expected %s, %s)",
			 link_name(b->l.bond_primary), link_name(b->l.bond_active_slave),
			 link_name(primary), link_name(active));
}

/* As setup_enslave() left it: eth2 free, bond0 on eth0 with eth1 still in it. */
static void assert_enslave_as_before(bool eth2_up)
{
	assert_nic_free(5, eth2_up);
	assert_bond(2, 2);
	assert_int_equal(fk(3)->l.master, 4);
}

static void test_enslave_trace(void **state)
{
	json_t *v;

	(void)state;
	setup_enslave(true);
	v = call_ok(ENSLAVE_REQ);
	assert_true(json_is_true(json_object_get(json_object_get(v, "slave"), "active")));
	json_decref(v);
	assert_trace(T_EN_DOWN T_EN_SLAVE T_EN_PRI);
	assert_bond(5, 5);
}

/*
 * A failure at each step after the first change: the original error, and what was done
 * undone in reverse (the bond's primary and active slave back, eth2 released and up or down
 * as it was).
 */
static void test_enslave_undo_each_step(void **state)
{
	static const struct {
		bool up;     /* eth2 before */
		bool nowait; /* wait_link false */
		const char *op;
		int nth;
		const char *desc, *trace;
	} cases[] = {
	    {true, false, "up", 1, "setting the NIC down before enslaving: injected failure of up",
	     "up eth2 down FAILED; up eth2 up"},
	    {true, false, "master", 1, "enslaving: injected failure of master",
	     T_EN_DOWN "master eth2 bond0 FAILED; up eth2 up"},
	    {true, false, "up", 2, "setting the slave up: injected failure of up",
	     T_EN_DOWN "master eth2 bond0; up eth2 up FAILED" T_EN_UNDO_ETH2},
	    /* The first read of the link wait. */
	    {true, false, "list", 3, "reading links: injected failure of list",
	     T_EN_DOWN T_EN_SLAVE T_EN_UNDO_ETH2},
	    {true, false, "primary", 1, "setting the primary: injected failure of primary",
	     T_EN_DOWN T_EN_SLAVE "; primary bond0 eth2 FAILED" T_EN_UNDO_ETH2},
	    /* The primary is set (and with it the active slave) but cannot be read back. */
	    {true, false, "list", 4, "reading links: injected failure of list",
	     T_EN_DOWN T_EN_SLAVE T_EN_PRI T_EN_UNDO_BOND T_EN_UNDO_ETH2},
	    /* Enslaved, but its state cannot be read for the reply. */
	    {true, true, "list", 3, "reading links: injected failure of list",
	     T_EN_DOWN T_EN_SLAVE T_EN_UNDO_ETH2},
	    /* eth2 down before: it is set down again. */
	    {false, false, "master", 1, "enslaving: injected failure of master",
	     "master eth2 bond0 FAILED; up eth2 down"},
	    {false, false, "up", 1, "setting the slave up: injected failure of up",
	     "master eth2 bond0; up eth2 up FAILED; master eth2 -; up eth2 down"},
	    {false, false, "list", 4, "reading links: injected failure of list",
	     T_EN_SLAVE T_EN_PRI T_EN_UNDO_BOND "; master eth2 -; up eth2 down"},
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		print_message("case %zu: eth2 %s, %s #%d%s\n", i, cases[i].up ? "up" : "down",
			      cases[i].op, cases[i].nth, cases[i].nowait ? ", no link wait" : "");
		setup_enslave(cases[i].up);
		W.fail[0].op = cases[i].op;
		W.fail[0].nth = cases[i].nth;
		call_err_exact(cases[i].nowait ? ENSLAVE_NOWAIT_REQ : ENSLAVE_REQ, "KernelError",
			       cases[i].desc);
		assert_trace(cases[i].trace);
		assert_enslave_as_before(cases[i].up);
		/* Nothing is in the way of trying again. */
		W.fail[0].op = NULL;
		json_decref(call_ok(ENSLAVE_REQ));
		assert_bond(5, 5);
	}
}

/* A NIC that was a slave already stays one; only what this call did to the bond goes back. */
static void test_enslave_undo_slave_already(void **state)
{
	(void)state;
	setup_enslave(false);
	W.fail[0].op = "list", W.fail[0].nth = 4;
	call_err_exact("{\"execute\":\"guest-bond-enslave\",\"arguments\":{\"mac\":\"" VF_MAC
		       "\",\"active\":true}}",
		       "KernelError", "reading links: injected failure of list");
	assert_trace("primary bond0 eth1" T_EN_UNDO_BOND);
	assert_bond(2, 2);
	assert_int_equal(fk(3)->l.master, 4);
	assert_true(fk(3)->l.flags & IFF_UP);
}

/* An undo step that fails is appended to the original error, which becomes InvalidState. */
static void test_enslave_undo_fails(void **state)
{
	(void)state;

	/* eth2 cannot be released: it stays in the bond, up, neither primary nor active. */
	setup_enslave(true);
	W.fail[0].op = "primary", W.fail[0].nth = 1;
	W.fail[1].op = "master", W.fail[1].nth = 2;
	call_err_exact(ENSLAVE_REQ, "InvalidState",
		       "setting the primary: injected failure of primary; undo: could not release "
		       "eth2: injected failure of master");
	assert_trace(T_EN_DOWN T_EN_SLAVE "; primary bond0 eth2 FAILED; master eth2 - FAILED");
	assert_int_equal(fk(5)->l.master, 4);
	assert_bond(2, 2);

	/* eth2 cannot be set up again. */
	setup_enslave(true);
	W.fail[0].op = "up", W.fail[0].nth = 2;
	W.fail[1].op = "up", W.fail[1].nth = 3;
	call_err_exact(ENSLAVE_REQ, "InvalidState",
		       "setting the slave up: injected failure of up; undo: could not set eth2 up "
		       "again: injected failure of up");
	assert_trace(T_EN_DOWN "master eth2 bond0; up eth2 up FAILED; master eth2 -; up eth2 up "
			       "FAILED");
	assert_nic_free(5, false);
	assert_bond(2, 2);

	/* The primary cannot be given back: the active slave and eth2 are all the same. */
	setup_enslave(true);
	W.fail[0].op = "list", W.fail[0].nth = 4;
	W.fail[1].op = "primary", W.fail[1].nth = 2;
	call_err_exact(ENSLAVE_REQ, "InvalidState",
		       "reading links: injected failure of list; undo: could not give bond0 its "
		       "primary back: injected failure of primary");
	assert_trace(T_EN_DOWN T_EN_SLAVE T_EN_PRI
		     "; primary bond0 eth0 FAILED; active bond0 eth0" T_EN_UNDO_ETH2);
	assert_nic_free(5, true);
	assert_bond(0, 2); /* releasing eth2 cleared the primary */

	/* The active slave cannot be given back; the primary then brings it back. */
	setup_enslave(true);
	W.fail[0].op = "list", W.fail[0].nth = 4;
	W.fail[1].op = "active", W.fail[1].nth = 1;
	call_err_exact(ENSLAVE_REQ, "InvalidState",
		       "reading links: injected failure of list; undo: could not make eth0 active "
		       "again: injected failure of active");
	assert_trace(T_EN_DOWN T_EN_SLAVE T_EN_PRI
		     "; primary bond0 eth0; active bond0 eth0 FAILED" T_EN_UNDO_ETH2);
	assert_enslave_as_before(true);

	/* Two undo steps fail: both are reported. */
	setup_enslave(true);
	W.fail[0].op = "list", W.fail[0].nth = 4;
	W.fail[1].op = "primary", W.fail[1].nth = 2;
	W.fail[2].op = "master", W.fail[2].nth = 2;
	call_err_exact(ENSLAVE_REQ, "InvalidState",
		       "reading links: injected failure of list; undo: could not give bond0 its "
		       "primary back: injected failure of primary; undo: could not release eth2: "
		       "injected failure of master");
	assert_int_equal(fk(5)->l.master, 4);
}

/*
 * No link in time is not undone: eth2 stays enslaved (up, neither primary nor active), and a
 * second call resumes the wait instead of taking the NIC down and starting its link over.
 */
static void test_enslave_timeout_kept(void **state)
{
	static const char req[] = ENSLAVE_ARGS("\"timeout\":1000,\"active\":true");
	json_t *v;

	(void)state;
	setup_enslave(true);
	fk(5)->carrier_lag = 1500;
	call_err_exact(req, "Timeout", "eth2 was enslaved to bond0 but got no link within 1000 ms");
	assert_trace(T_EN_DOWN T_EN_SLAVE);
	assert_int_equal(fk(5)->l.master, 4);
	assert_true(fk(5)->l.flags & IFF_UP);
	assert_bond(2, 2);
	v = call_ok(req);
	assert_true(json_integer_value(json_object_get(v, "link_ms")) <= 600);
	json_decref(v);
	assert_trace(T_EN_DOWN T_EN_SLAVE T_EN_PRI);
	assert_bond(5, 5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_basic_commands, setup),
	    cmocka_unit_test_setup(test_failover_status, setup),
	    cmocka_unit_test_setup(test_error_classes, setup),
	    cmocka_unit_test_setup(test_create_and_status, setup),
	    cmocka_unit_test_setup(test_set_active_both_ways, setup),
	    cmocka_unit_test_setup(test_release_and_enslave_after_hotplug, setup),
	    cmocka_unit_test_setup(test_enslave_timeouts, setup),
	    cmocka_unit_test_setup(test_link_wait, setup),
	    cmocka_unit_test_setup(test_shared_mac, setup),
	    cmocka_unit_test_setup(test_selector_args, setup),
	    cmocka_unit_test_setup(test_kernel_errors, setup),
	    cmocka_unit_test(test_create_trace),
	    cmocka_unit_test(test_create_undo_each_step),
	    cmocka_unit_test(test_create_undo_fails),
	    cmocka_unit_test(test_enslave_trace),
	    cmocka_unit_test(test_enslave_undo_each_step),
	    cmocka_unit_test(test_enslave_undo_slave_already),
	    cmocka_unit_test(test_enslave_undo_fails),
	    cmocka_unit_test(test_enslave_timeout_kept),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
