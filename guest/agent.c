// SPDX-License-Identifier: MIT
#include "agent.h"
#include "agent_impl.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "../src/proto/qga.h"
#include "timing.h"

/* The errno of a failure of each class (a kernel failure returns the kernel's own). */
static const int class_errno[_QGA_ERROR_MAX] = {
    [QGA_ERROR_GENERIC] = EPROTO,
    [QGA_ERROR_COMMAND_NOT_FOUND] = EOPNOTSUPP,
    [QGA_ERROR_INVALID_PARAMETER] = EINVAL,
    [QGA_ERROR_DEVICE_NOT_FOUND] = ENODEV,
    [QGA_ERROR_INVALID_STATE] = EBUSY,
    [QGA_ERROR_TIMEOUT] = ETIMEDOUT,
    [QGA_ERROR_KERNEL] = EIO,
};

int cmd_fail(struct cmd_err *e, enum qga_error_class cls, const char *fmt, ...)
{
	va_list ap;

	e->cls = cls;
	va_start(ap, fmt);
	vsnprintf(e->desc, sizeof(e->desc), fmt, ap);
	va_end(ap);
	return (unsigned)cls < _QGA_ERROR_MAX ? -class_errno[cls] : -EIO;
}

/* The kernel's text for a failed request, or the errno's. */
const char *kernel_text(int r, const struct diag *d)
{
	return d->msg[0] ? d->msg : strerror(-r);
}

int cmd_fail_kernel(struct cmd_err *e, const char *what, int r, const struct diag *d)
{
	cmd_fail(e, QGA_ERROR_KERNEL, "%s: %s", what, kernel_text(r, d));
	return r < 0 ? r : -EIO;
}

/*
 * Appends "; undo: TEXT" to an error whose undo failed in part (truncated to the limit), and
 * makes it InvalidState: the guest is then left neither as it was nor as asked.
 */
void cmd_fail_undo(struct cmd_err *e, const char *fmt, ...)
{
	size_t len = strlen(e->desc);
	va_list ap;

	e->cls = QGA_ERROR_INVALID_STATE;
	snprintf(e->desc + len, sizeof(e->desc) - len, "; undo: ");
	len = strlen(e->desc);
	va_start(ap, fmt);
	vsnprintf(e->desc + len, sizeof(e->desc) - len, fmt, ap);
	va_end(ap);
}

const uint8_t *agent_link_mac(const struct agent_link *l)
{
	if (l->has_perm_addr)
		return l->perm_addr;
	if (l->has_slave_perm_addr)
		return l->slave_perm_addr;
	return l->addr;
}

void agent_init(struct agent *a, const struct agent_backend *be)
{
	memset(a, 0, sizeof(*a));
	a->be = be;
}

/* ---- argument checking ---- */

static const char *const arg_type_names[] = {
    [ARG_INT] = "integer",
    [ARG_BOOL] = "boolean",
    [ARG_MAC] = "string (MAC address)",
    [ARG_MAC_LIST] = "array of MAC addresses",
    [ARG_IFNAME] = "string (interface name)",
    [ARG_STRING] = "string",
    [ARG_PCI] = "string (PCI address)",
    [ARG_KIND] = "string (NIC kind)",
};

/* What a NIC is, beside its MAC: the words of "kind" in replies and selectors. */
static const char *const kind_names[] = {"virtio", "vf", "other"};

static bool ifname_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= IF_NAMESIZE || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return false;
	for (; *s; s++)
		if (*s == '/' || *s == ':' || (unsigned char)*s <= ' ' || (unsigned char)*s >= 0x7f)
			return false;
	return true;
}

static int arg_check_one(const struct arg_spec *sp, json_t *v, struct cmd_err *e)
{
	uint8_t mac[6];
	size_t i;
	json_t *x;

	switch (sp->type) {
	case ARG_INT:
		if (!json_is_integer(v))
			break;
		if (json_integer_value(v) < sp->min || json_integer_value(v) > sp->max)
			return cmd_fail(e, QGA_ERROR_INVALID_PARAMETER,
					"parameter '%s' must be in [%lld, %lld]", sp->name,
					(long long)sp->min, (long long)sp->max);
		return 0;
	case ARG_BOOL:
		if (!json_is_boolean(v))
			break;
		return 0;
	case ARG_STRING:
		if (!json_is_string(v))
			break;
		return 0;
	case ARG_IFNAME:
		if (!json_is_string(v))
			break;
		if (strlen(json_string_value(v)) != json_string_length(v) ||
		    !ifname_valid(json_string_value(v)))
			return cmd_fail(e, QGA_ERROR_INVALID_PARAMETER,
					"parameter '%s' is not a valid interface name", sp->name);
		return 0;
	case ARG_MAC:
		if (!json_is_string(v))
			break;
		if (parse_mac(json_string_value(v), mac) < 0)
			return cmd_fail(e, QGA_ERROR_INVALID_PARAMETER,
					"parameter '%s' is not a MAC address (aa:bb:cc:dd:ee:ff)",
					sp->name);
		return 0;
	case ARG_PCI:
		if (!json_is_string(v))
			break;
		if (strlen(json_string_value(v)) != json_string_length(v) ||
		    !pci_addr_valid(json_string_value(v)))
			return cmd_fail(e, QGA_ERROR_INVALID_PARAMETER,
					"parameter '%s' is not a PCI address (dddd:bb:ss.f)",
					sp->name);
		return 0;
	case ARG_KIND:
		if (!json_is_string(v))
			break;
		for (i = 0; i < ARRAY_SIZE(kind_names); i++)
			if (strcmp(json_string_value(v), kind_names[i]) == 0 &&
			    strlen(kind_names[i]) == json_string_length(v))
				return 0;
		return cmd_fail(e, QGA_ERROR_INVALID_PARAMETER,
				"parameter '%s' must be virtio, vf or other", sp->name);
	case ARG_MAC_LIST:
		if (!json_is_array(v))
			break;
		if (json_array_size(v) == 0 || json_array_size(v) > 16)
			return cmd_fail(e, QGA_ERROR_INVALID_PARAMETER,
					"parameter '%s' needs 1 to 16 MAC addresses", sp->name);
		json_array_foreach (v, i, x) {
			if (!json_is_string(x) || parse_mac(json_string_value(x), mac) < 0)
				return cmd_fail(e, QGA_ERROR_INVALID_PARAMETER,
						"parameter '%s': element %zu is not a MAC address",
						sp->name, i);
		}
		return 0;
	}
	return cmd_fail(e, QGA_ERROR_INVALID_PARAMETER,
			"invalid parameter type for '%s', expected: %s", sp->name,
			arg_type_names[sp->type]);
}

/* Rejects unknown, missing and mistyped arguments. */
int args_check(json_t *args, const struct arg_spec *spec, struct cmd_err *e)
{
	const struct arg_spec *sp;
	const char *key;
	json_t *v;
	int r;

	json_object_foreach (args, key, v) {
		for (sp = spec; sp && sp->name; sp++)
			if (strcmp(sp->name, key) == 0)
				break;
		if (!sp || !sp->name) {
			char clean[64];

			str_sanitize(clean, sizeof(clean), key);
			return cmd_fail(e, QGA_ERROR_INVALID_PARAMETER, "unknown parameter '%s'",
					clean);
		}
		if ((r = arg_check_one(sp, v, e)) < 0)
			return r;
	}
	for (sp = spec; sp && sp->name; sp++)
		if (sp->required && !json_object_get(args, sp->name))
			return cmd_fail(e, QGA_ERROR_INVALID_PARAMETER, "missing parameter '%s'",
					sp->name);
	return 0;
}

const char *arg_str(json_t *args, const char *name, const char *def)
{
	json_t *v = json_object_get(args, name);

	return v ? json_string_value(v) : def;
}

int64_t arg_int(json_t *args, const char *name, int64_t def)
{
	json_t *v = json_object_get(args, name);

	return v ? json_integer_value(v) : def;
}

bool arg_bool(json_t *args, const char *name, bool def)
{
	json_t *v = json_object_get(args, name);

	return v ? json_is_true(v) : def;
}

void arg_mac(json_t *args, const char *name, uint8_t mac[6])
{
	parse_mac(json_string_value(json_object_get(args, name)), mac);
}

/* ---- link snapshots ---- */

void links_free(struct links *ls)
{
	free(ls->v);
	ls->v = NULL;
	ls->n = 0;
}

int links_load(struct agent *a, struct links *ls, struct cmd_err *e)
{
	struct diag d = {{0}};
	int r;

	links_free(ls);
	r = a->be->link_list(a->be->ctx, &ls->v, &ls->n, &d);
	if (r < 0)
		return cmd_fail_kernel(e, "reading links", r, &d);
	for (size_t i = 0; i < ls->n; i++) {
		ls->v[i].is_upper = false;
		for (size_t j = 0; j < ls->n; j++)
			if (ls->v[j].master == ls->v[i].ifindex)
				ls->v[i].is_upper = true;
	}
	return 0;
}

const struct agent_link *links_by_index(const struct links *ls, int ifindex)
{
	for (size_t i = 0; i < ls->n; i++)
		if (ls->v[i].ifindex == ifindex)
			return &ls->v[i];
	return NULL;
}

const struct agent_link *links_by_name(const struct links *ls, const char *name)
{
	for (size_t i = 0; i < ls->n; i++)
		if (strcmp(ls->v[i].name, name) == 0)
			return &ls->v[i];
	return NULL;
}

/* A NIC that can be named by MAC: hardware, not a virtual device on top of one. */
static bool link_is_nic(const struct agent_link *l)
{
	return l->kind[0] == '\0' && !(l->flags & IFF_LOOPBACK) && l->has_addr;
}

/*
 * virtio: the virtio-net driver; vf: any other driver of a PCI function (a VF passed through,
 * or the lab's emulated stand-in: the guest cannot tell those apart); other: neither, and a
 * NIC that other NICs have as master: net_failover's master, whose device is its standby's
 * virtio device (so by driver it would read virtio too).
 */
static void nic_ident(struct agent *a, const struct agent_link *l, struct nic_ident *ret)
{
	memset(ret, 0, sizeof(*ret));
	if (a->be->pci_address(a->be->ctx, l->name, ret->pci, sizeof(ret->pci)) < 0 ||
	    !pci_addr_valid(ret->pci))
		ret->pci[0] = '\0';
	if (!a->be->driver ||
	    a->be->driver(a->be->ctx, l->name, ret->driver, sizeof(ret->driver)) < 0)
		ret->driver[0] = '\0';
	if (l->is_upper)
		ret->kind = kind_names[2];
	else if (strcmp(ret->driver, "virtio_net") == 0)
		ret->kind = kind_names[0];
	else if (ret->pci[0])
		ret->kind = kind_names[1];
	else
		ret->kind = kind_names[2];
}

/* From checked arguments "mac", "pci", "kind". */
void arg_sel(json_t *args, struct nic_sel *ret)
{
	parse_mac(json_string_value(json_object_get(args, "mac")), ret->mac);
	ret->pci = arg_str(args, "pci", NULL);
	ret->kind = arg_str(args, "kind", NULL);
}

/* "MAC aa:..:ff", with the kind and PCI address when the selector names them. */
const char *sel_text(const struct nic_sel *s, char buf[static 64])
{
	char m[18];

	snprintf(buf, 64, "MAC %s%s%s%s%s%s", format_mac(s->mac, m), s->kind || s->pci ? " (" : "",
		 s->kind ? "kind " : "", s->kind ? s->kind : "",
		 s->pci ? (s->kind ? ", pci " : "pci ") : "", s->pci ? s->pci : "");
	if (s->kind || s->pci)
		snprintf(buf + strlen(buf), 64 - strlen(buf), ")");
	return buf;
}

static bool sel_ident_matches(struct agent *a, const struct nic_sel *s, const struct agent_link *l)
{
	struct nic_ident id;

	if (!s->pci && !s->kind)
		return true;
	nic_ident(a, l, &id);
	return (!s->pci || strcmp(s->pci, id.pci) == 0) &&
	       (!s->kind || strcmp(s->kind, id.kind) == 0);
}

/*
 * Finds the NIC the selector names. The permanent address wins: a bond with fail_over_mac=none
 * rewrites its slaves' current addresses, so those are only used for NICs outside a bond.
 * Returns NULL (none) or sets *ambiguous when two NICs match at the same level.
 */
static const struct agent_link *links_find(struct agent *a, const struct links *ls,
					   const struct nic_sel *s, bool *ambiguous)
{
	const struct agent_link *hit;

	*ambiguous = false;
	for (int level = 0; level < 3; level++) {
		hit = NULL;
		for (size_t i = 0; i < ls->n; i++) {
			const struct agent_link *l = &ls->v[i];
			const uint8_t *m;

			if (!link_is_nic(l))
				continue;
			if (level == 0)
				m = l->has_perm_addr ? l->perm_addr : NULL;
			else if (level == 1)
				m = l->has_slave_perm_addr ? l->slave_perm_addr : NULL;
			else
				m = (l->master == 0 && l->slave_kind[0] == '\0') ? l->addr : NULL;
			if (!m || memcmp(m, s->mac, 6) != 0 || !sel_ident_matches(a, s, l))
				continue;
			if (hit && hit->ifindex != l->ifindex) {
				*ambiguous = true;
				return NULL;
			}
			hit = l;
		}
		if (hit)
			return hit;
	}
	return NULL;
}

int find_nic(struct agent *a, const struct links *ls, const struct nic_sel *s,
	     const struct agent_link **ret, struct cmd_err *e)
{
	const struct agent_link *l;
	bool ambiguous;
	char t[64];

	l = links_find(a, ls, s, &ambiguous);
	if (ambiguous)
		return cmd_fail(e, QGA_ERROR_INVALID_STATE,
				"several NICs match %s (tell them apart with 'kind' or 'pci')",
				sel_text(s, t));
	if (!l)
		return cmd_fail(e, QGA_ERROR_DEVICE_NOT_FOUND, "no NIC with %s", sel_text(s, t));
	*ret = l;
	return 0;
}

int find_bond(const struct links *ls, const char *name, const struct agent_link **ret,
	      struct cmd_err *e)
{
	const struct agent_link *b = links_by_name(ls, name);

	if (!b)
		return cmd_fail(e, QGA_ERROR_DEVICE_NOT_FOUND, "no bond named %s", name);
	if (strcmp(b->kind, "bond") != 0)
		return cmd_fail(e, QGA_ERROR_INVALID_STATE, "%s is not a bond", name);
	*ret = b;
	return 0;
}

/* ---- JSON views ---- */

static const char *const bond_mode_names[] = {
    "balance-rr", "active-backup", "balance-xor", "broadcast",
    "802.3ad",	  "balance-tlb",   "balance-alb",
};

const char *const fom_names[3] = {"none", "active", "follow"};

static const char *const mii_names[] = {"up", "fail", "down", "back"};

static const char *const oper_names[] = {"unknown", "notpresent", "down", "lowerlayerdown",
					 "testing", "dormant",	  "up"};

json_t *json_mac(const uint8_t mac[6])
{
	char m[18];

	return json_string(format_mac(mac, m));
}

static json_t *json_link_mac_or_null(const struct links *ls, int ifindex)
{
	const struct agent_link *l = ifindex ? links_by_index(ls, ifindex) : NULL;

	return l ? json_mac(agent_link_mac(l)) : json_null();
}

static json_t *json_link_name_or_null(const struct links *ls, int ifindex)
{
	const struct agent_link *l = ifindex ? links_by_index(ls, ifindex) : NULL;

	return l ? json_string(l->name) : json_null();
}

static bool link_has_carrier(const struct agent_link *l)
{
	if (l->has_carrier)
		return l->carrier;
	return l->has_operstate && l->operstate == AGENT_IF_OPER_UP;
}

/* Link as the bond sees it (MII status), falling back to carrier. */
bool slave_link_up(const struct agent_link *l)
{
	if (l->has_slave_mii)
		return l->slave_mii_status == AGENT_BOND_LINK_UP;
	return link_has_carrier(l);
}

json_t *json_nic(struct agent *a, const struct links *ls, const struct agent_link *l,
		 const struct agent_link *bond)
{
	struct nic_ident id;
	json_t *o;

	o = json_pack("{s:o,s:s,s:i,s:b,s:b,s:s}", "mac", json_mac(agent_link_mac(l)), "name",
		      l->name, "ifindex", l->ifindex, "up", !!(l->flags & IFF_UP), "carrier",
		      link_has_carrier(l), "operstate",
		      l->has_operstate && l->operstate < ARRAY_SIZE(oper_names)
			  ? oper_names[l->operstate]
			  : "unknown");
	if (!o)
		return NULL;
	if (l->has_addr)
		json_object_set_new(o, "address", json_mac(l->addr));
	nic_ident(a, l, &id);
	json_object_set_new(o, "pci", id.pci[0] ? json_string(id.pci) : json_null());
	json_object_set_new(o, "driver", id.driver[0] ? json_string(id.driver) : json_null());
	json_object_set_new(o, "kind", json_string(id.kind));
	json_object_set_new(o, "master", json_link_name_or_null(ls, l->master));
	if (bond) {
		json_object_set_new(
		    o, "link",
		    json_string(l->has_slave_mii && l->slave_mii_status < ARRAY_SIZE(mii_names)
				    ? mii_names[l->slave_mii_status]
				    : (link_has_carrier(l) ? "up" : "down")));
		json_object_set_new(o, "active",
				    json_boolean(bond->bond_active_slave == l->ifindex));
		json_object_set_new(o, "primary", json_boolean(bond->bond_primary == l->ifindex));
	}
	return o;
}

json_t *json_bond(struct agent *a, const struct links *ls, const struct agent_link *b)
{
	json_t *o, *slaves;

	slaves = json_array();
	if (!slaves)
		return NULL;
	for (size_t i = 0; i < ls->n; i++)
		if (ls->v[i].master == b->ifindex)
			json_array_append_new(slaves, json_nic(a, ls, &ls->v[i], b));
	o = json_pack("{s:s,s:s,s:i,s:s,s:b,s:o,s:o,s:o,s:o,s:o}", "name", b->name, "mode",
		      b->has_bond_mode && b->bond_mode < ARRAY_SIZE(bond_mode_names)
			  ? bond_mode_names[b->bond_mode]
			  : "unknown",
		      "miimon", (int)b->bond_miimon, "fail_over_mac",
		      b->has_bond_fom && b->bond_fail_over_mac < ARRAY_SIZE(fom_names)
			  ? fom_names[b->bond_fail_over_mac]
			  : "unknown",
		      "up", !!(b->flags & IFF_UP), "active",
		      json_link_mac_or_null(ls, b->bond_active_slave), "active_name",
		      json_link_name_or_null(ls, b->bond_active_slave), "primary",
		      json_link_mac_or_null(ls, b->bond_primary), "primary_name",
		      json_link_name_or_null(ls, b->bond_primary), "slaves", slaves);
	if (o && b->has_addr)
		json_object_set_new(o, "mac", json_mac(b->addr));
	return o;
}

/* ---- waiting ---- */

int64_t deadline_from(struct agent *a, json_t *args)
{
	return a->be->now_ms(a->be->ctx) + arg_int(args, "timeout", AGENT_WAIT_DEFAULT_MS);
}

/*
 * Reloads links until pred holds for the NIC s names (found, or NULL while absent) or the
 * deadline passes (returns -ETIMEDOUT, e not filled). Other errors fill e.
 */
int wait_nic(struct agent *a, struct links *ls, const struct nic_sel *s, int64_t deadline,
	     bool (*pred)(const struct agent_link *l, const void *arg), const void *arg,
	     const struct agent_link **ret, struct cmd_err *e)
{
	for (;;) {
		const struct agent_link *l;
		bool ambiguous;
		int64_t left;

		if (links_load(a, ls, e) < 0)
			return -EIO;
		l = links_find(a, ls, s, &ambiguous);
		if (ambiguous) {
			find_nic(a, ls, s, &l, e);
			return -EINVAL;
		}
		if (l && pred(l, arg)) {
			*ret = l;
			return 0;
		}
		left = deadline - a->be->now_ms(a->be->ctx);
		if (left <= 0)
			return -ETIMEDOUT;
		a->be->wait(a->be->ctx,
			    (int)(left < AGENT_WAIT_TICK_MS ? left : AGENT_WAIT_TICK_MS));
	}
}

bool pred_present(const struct agent_link *l, const void *arg)
{
	(void)l;
	(void)arg;
	return true;
}

static bool pred_carrier(const struct agent_link *l, const void *arg)
{
	(void)arg;
	return link_has_carrier(l);
}

bool pred_slave_link(const struct agent_link *l, const void *arg)
{
	const int *bond = arg;

	return l->master == *bond && slave_link_up(l);
}

/* ---- commands ---- */

/* Returns 0 with *ret set, or -errno with e filled (the error reply's class and text). */
typedef int (*cmd_fn)(struct agent *a, json_t *args, json_t **ret, struct cmd_err *e);

struct command {
	const char *name;
	cmd_fn fn;
	bool delimited;
};

static const struct command *commands_table(size_t *n);

static int cmd_sync(struct agent *a, json_t *args, json_t **ret, struct cmd_err *e)
{
	static const struct arg_spec spec[] = {
	    {"id", ARG_INT, true, INT64_MIN, INT64_MAX},
	    {NULL, 0, false, 0, 0},
	};
	int r;

	(void)a;
	if ((r = args_check(args, spec, e)) < 0)
		return r;
	*ret = json_incref(json_object_get(args, "id"));
	return 0;
}

static int cmd_ping(struct agent *a, json_t *args, json_t **ret, struct cmd_err *e)
{
	int r;

	(void)a;
	if ((r = args_check(args, NULL, e)) < 0)
		return r;
	*ret = json_object();
	return 0;
}

static int cmd_info(struct agent *a, json_t *args, json_t **ret, struct cmd_err *e)
{
	const struct command *t;
	json_t *list;
	size_t n;
	int r;

	(void)a;
	if ((r = args_check(args, NULL, e)) < 0)
		return r;
	list = json_array();
	t = commands_table(&n);
	for (size_t i = 0; i < n; i++)
		json_array_append_new(list, json_pack("{s:s,s:b,s:b}", "name", t[i].name, "enabled",
						      1, "success-response", 1));
	*ret = json_pack("{s:s,s:o}", "version", VFM_VERSION, "supported_commands", list);
	return 0;
}

static const struct arg_spec bond_only_spec[] = {
    {"bond", ARG_IFNAME, false, 0, 0},
    {NULL, 0, false, 0, 0},
};

static int cmd_bond_status(struct agent *a, json_t *args, json_t **ret, struct cmd_err *e)
{
	_cleanup_(links_free) struct links ls = {0};
	const struct agent_link *b;
	int r;

	if ((r = args_check(args, bond_only_spec, e)) < 0)
		return r;
	if ((r = links_load(a, &ls, e)) < 0 ||
	    (r = find_bond(&ls, arg_str(args, "bond", "bond0"), &b, e)) < 0)
		return r;
	*ret = json_bond(a, &ls, b);
	return 0;
}

static int cmd_link_list(struct agent *a, json_t *args, json_t **ret, struct cmd_err *e)
{
	_cleanup_(links_free) struct links ls = {0};
	json_t *list;
	int r;

	if ((r = args_check(args, NULL, e)) < 0)
		return r;
	if ((r = links_load(a, &ls, e)) < 0)
		return r;
	list = json_array();
	for (size_t i = 0; i < ls.n; i++)
		if (link_is_nic(&ls.v[i]))
			json_array_append_new(list, json_nic(a, &ls, &ls.v[i], NULL));
	*ret = list;
	return 0;
}
static int cmd_link_wait(struct agent *a, json_t *args, json_t **ret, struct cmd_err *e)
{
	static const struct arg_spec spec[] = {
	    {"mac", ARG_MAC, true, 0, 0},    {"pci", ARG_PCI, false, 0, 0},
	    {"kind", ARG_KIND, false, 0, 0}, {"timeout", ARG_INT, false, 0, AGENT_WAIT_MAX_MS},
	    {"link", ARG_BOOL, false, 0, 0}, {NULL, 0, false, 0, 0},
	};
	_cleanup_(links_free) struct links ls = {0};
	const struct agent_link *l;
	int64_t start, deadline;
	struct nic_sel sel;
	bool want_link;
	char m[64];
	json_t *o;
	int r;

	if ((r = args_check(args, spec, e)) < 0)
		return r;
	arg_sel(args, &sel);
	sel_text(&sel, m);
	want_link = arg_bool(args, "link", true);
	start = a->be->now_ms(a->be->ctx);
	deadline = deadline_from(a, args);
	r = wait_nic(a, &ls, &sel, deadline, want_link ? pred_carrier : pred_present, NULL, &l, e);
	if (r == -ETIMEDOUT) {
		bool ambiguous;

		if (!links_find(a, &ls, &sel, &ambiguous))
			return cmd_fail(e, QGA_ERROR_TIMEOUT,
					"no NIC with %s appeared within %lld ms", m,
					(long long)(deadline - start));
		return cmd_fail(e, QGA_ERROR_TIMEOUT, "NIC with %s got no link within %lld ms", m,
				(long long)(deadline - start));
	}
	if (r < 0)
		return r;
	o = json_nic(a, &ls, l, NULL);
	json_object_set_new(o, "waited_ms", json_integer(a->be->now_ms(a->be->ctx) - start));
	*ret = o;
	return 0;
}

static int cmd_agent_timing(struct agent *a, json_t *args, json_t **ret, struct cmd_err *e)
{
	int r;

	if ((r = args_check(args, NULL, e)) < 0)
		return r;
	if (!a->timing)
		return cmd_fail(e, QGA_ERROR_GENERIC, "this agent does not time its requests");
	*ret = agent_timing_to_json(&a->timing->done);
	return 0;
}

static const struct command commands[] = {
    {"guest-sync-delimited", cmd_sync, true},
    {"guest-sync", cmd_sync, false},
    {"guest-ping", cmd_ping, false},
    {"guest-info", cmd_info, false},
    {"guest-bond-status", cmd_bond_status, false},
    {"guest-bond-create", cmd_bond_create, false},
    {"guest-bond-set-active", cmd_bond_set_active, false},
    {"guest-bond-release", cmd_bond_release, false},
    {"guest-bond-enslave", cmd_bond_enslave, false},
    {"guest-link-wait", cmd_link_wait, false},
    {"guest-link-list", cmd_link_list, false},
    {AGENT_TIMING_COMMAND, cmd_agent_timing, false},
    {"guest-failover-status", cmd_failover_status, false},
};

static const struct command *commands_table(size_t *n)
{
	*n = ARRAY_SIZE(commands);
	return commands;
}

static char *reply_error(struct agent *a, enum qga_error_class cls, const char *desc, json_t *id,
			 size_t *ret_len)
{
	char *s = qga_reply_format_error(cls, desc, id);

	a->errors++;
	if (s)
		*ret_len = strlen(s);
	return s;
}

char *agent_reply_oversize(struct agent *a, size_t dropped, size_t *ret_len)
{
	char desc[128];

	snprintf(desc, sizeof(desc), "request of %zu bytes or more exceeds the limit of %d bytes",
		 dropped, QGA_REQUEST_MAX);
	a->requests++;
	return reply_error(a, QGA_ERROR_GENERIC, desc, NULL, ret_len);
}

/* *ret_name: the command's name from the table, when the request named a known one. */
static char *handle_message(struct agent *a, const char *buf, size_t len, size_t *ret_len,
			    const char **ret_name)
{
	struct qga_request req = {0};
	enum qga_error_class cls;
	struct cmd_err e = {0};
	const struct command *c = NULL;
	json_t *id = NULL, *value = NULL;
	struct diag d = {{0}};
	char *s;

	a->requests++;
	if (qga_request_parse(buf, len, &req, &cls, &id, &d) < 0) {
		s = reply_error(a, cls, d.msg, id, ret_len);
		json_decref(id);
		return s;
	}
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (strcmp(commands[i].name, req.execute) == 0)
			c = &commands[i];
	if (!c) {
		char clean[QGA_COMMAND_NAME_MAX];

		str_sanitize(clean, sizeof(clean), req.execute);
		snprintf(e.desc, sizeof(e.desc), "command '%s' not found", clean);
		s = reply_error(a, QGA_ERROR_COMMAND_NOT_FOUND, e.desc, req.id, ret_len);
		qga_request_done(&req);
		return s;
	}
	*ret_name = c->name;
	if (c->fn(a, req.arguments, &value, &e) < 0) {
		s = reply_error(a, e.cls, e.desc, req.id, ret_len);
	} else if (!value) {
		s = reply_error(a, QGA_ERROR_GENERIC, "out of memory", req.id, ret_len);
	} else {
		s = qga_reply_format_return(value, req.id, c->delimited);
		if (s)
			*ret_len = strlen(s);
	}
	json_decref(value);
	qga_request_done(&req);
	return s;
}

char *agent_handle_message(struct agent *a, const char *buf, size_t len, size_t *ret_len)
{
	const char *name = "-";
	char *s;

	if (a->timing)
		agent_timing_begin(a->timing);
	s = handle_message(a, buf, len, ret_len, &name);
	if (a->timing)
		agent_timing_end(a->timing, name);
	return s;
}
