// SPDX-License-Identifier: MIT
#include "agent.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "../src/proto/qga.h"

struct cmd_err {
	enum qga_error_class cls;
	char desc[QGA_ERROR_DESC_MAX];
};

static int cmd_fail(struct cmd_err *e, enum qga_error_class cls, const char *fmt, ...)
    _printf_(3, 4);
static int cmd_fail(struct cmd_err *e, enum qga_error_class cls, const char *fmt, ...)
{
	va_list ap;

	e->cls = cls;
	va_start(ap, fmt);
	vsnprintf(e->desc, sizeof(e->desc), fmt, ap);
	va_end(ap);
	return -1;
}

/* The kernel's text for a failed request, or the errno's. */
static const char *kernel_text(int r, const struct diag *d)
{
	return d->msg[0] ? d->msg : strerror(-r);
}

static int cmd_fail_kernel(struct cmd_err *e, const char *what, int r, const struct diag *d)
{
	return cmd_fail(e, QGA_ERROR_KERNEL, "%s: %s", what, kernel_text(r, d));
}

/*
 * Appends "; undo: TEXT" to an error whose undo failed in part (truncated to the limit), and
 * makes it InvalidState: the guest is then left neither as it was nor as asked.
 */
static void cmd_fail_undo(struct cmd_err *e, const char *fmt, ...) _printf_(2, 3);
static void cmd_fail_undo(struct cmd_err *e, const char *fmt, ...)
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

enum arg_type {
	ARG_INT,
	ARG_BOOL,
	ARG_MAC,
	ARG_MAC_LIST,
	ARG_IFNAME,
	ARG_STRING,
	ARG_PCI,
	ARG_KIND,
};

struct arg_spec {
	const char *name;
	enum arg_type type;
	bool required;
	int64_t min, max; /* ARG_INT */
};

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
static int args_check(json_t *args, const struct arg_spec *spec, struct cmd_err *e)
{
	const struct arg_spec *sp;
	const char *key;
	json_t *v;

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
		if (arg_check_one(sp, v, e) < 0)
			return -1;
	}
	for (sp = spec; sp && sp->name; sp++)
		if (sp->required && !json_object_get(args, sp->name))
			return cmd_fail(e, QGA_ERROR_INVALID_PARAMETER, "missing parameter '%s'",
					sp->name);
	return 0;
}

static const char *arg_str(json_t *args, const char *name, const char *def)
{
	json_t *v = json_object_get(args, name);

	return v ? json_string_value(v) : def;
}

static int64_t arg_int(json_t *args, const char *name, int64_t def)
{
	json_t *v = json_object_get(args, name);

	return v ? json_integer_value(v) : def;
}

static bool arg_bool(json_t *args, const char *name, bool def)
{
	json_t *v = json_object_get(args, name);

	return v ? json_is_true(v) : def;
}

static void arg_mac(json_t *args, const char *name, uint8_t mac[6])
{
	parse_mac(json_string_value(json_object_get(args, name)), mac);
}

/* ---- link snapshots ---- */

struct links {
	struct agent_link *v;
	size_t n;
};

static void links_free(struct links *ls)
{
	free(ls->v);
	ls->v = NULL;
	ls->n = 0;
}

static int links_load(struct agent *a, struct links *ls, struct cmd_err *e)
{
	struct diag d = {{0}};
	int r;

	links_free(ls);
	r = a->be->link_list(a->be->ctx, &ls->v, &ls->n, &d);
	if (r < 0)
		return cmd_fail_kernel(e, "reading links", r, &d);
	return 0;
}

static const struct agent_link *links_by_index(const struct links *ls, int ifindex)
{
	for (size_t i = 0; i < ls->n; i++)
		if (ls->v[i].ifindex == ifindex)
			return &ls->v[i];
	return NULL;
}

static const struct agent_link *links_by_name(const struct links *ls, const char *name)
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

/* What tells NICs that carry one MAC apart, read from sysfs by the backend. */
struct nic_ident {
	char pci[16];	  /* "" when not on PCI */
	char driver[32];  /* "" when not known */
	const char *kind; /* one of kind_names */
};

/*
 * virtio: the virtio-net driver; vf: any other driver of a PCI function (a VF passed through,
 * or the lab's emulated stand-in: the guest cannot tell those apart); other: neither.
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
	if (strcmp(ret->driver, "virtio_net") == 0)
		ret->kind = kind_names[0];
	else if (ret->pci[0])
		ret->kind = kind_names[1];
	else
		ret->kind = kind_names[2];
}

/* Names one NIC: its MAC and, where NICs share it, its PCI address and/or kind. */
struct nic_sel {
	uint8_t mac[6];
	const char *pci;  /* NULL: any */
	const char *kind; /* NULL: any */
};

/* From checked arguments "mac", "pci", "kind". */
static void arg_sel(json_t *args, struct nic_sel *ret)
{
	parse_mac(json_string_value(json_object_get(args, "mac")), ret->mac);
	ret->pci = arg_str(args, "pci", NULL);
	ret->kind = arg_str(args, "kind", NULL);
}

/* "MAC aa:..:ff", with the kind and PCI address when the selector names them. */
static const char *sel_text(const struct nic_sel *s, char buf[static 64])
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

static int find_nic(struct agent *a, const struct links *ls, const struct nic_sel *s,
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

static int find_bond(const struct links *ls, const char *name, const struct agent_link **ret,
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

static const char *const fom_names[] = {"none", "active", "follow"};

static const char *const mii_names[] = {"up", "fail", "down", "back"};

static const char *const oper_names[] = {"unknown", "notpresent", "down", "lowerlayerdown",
					 "testing", "dormant",	  "up"};

static json_t *json_mac(const uint8_t mac[6])
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
static bool slave_link_up(const struct agent_link *l)
{
	if (l->has_slave_mii)
		return l->slave_mii_status == AGENT_BOND_LINK_UP;
	return link_has_carrier(l);
}

static json_t *json_nic(struct agent *a, const struct links *ls, const struct agent_link *l,
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

static json_t *json_bond(struct agent *a, const struct links *ls, const struct agent_link *b)
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

static int64_t deadline_from(struct agent *a, json_t *args)
{
	return a->be->now_ms(a->be->ctx) + arg_int(args, "timeout", AGENT_WAIT_DEFAULT_MS);
}

/*
 * Reloads links until pred holds for the NIC s names (found, or NULL while absent) or the
 * deadline passes (returns -ETIMEDOUT, e not filled). Other errors fill e.
 */
static int wait_nic(struct agent *a, struct links *ls, const struct nic_sel *s, int64_t deadline,
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

static bool pred_present(const struct agent_link *l, const void *arg)
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

static bool pred_slave_link(const struct agent_link *l, const void *arg)
{
	const int *bond = arg;

	return l->master == *bond && slave_link_up(l);
}

/* ---- commands ---- */

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

	(void)a;
	if (args_check(args, spec, e) < 0)
		return -1;
	*ret = json_incref(json_object_get(args, "id"));
	return 0;
}

static int cmd_ping(struct agent *a, json_t *args, json_t **ret, struct cmd_err *e)
{
	(void)a;
	if (args_check(args, NULL, e) < 0)
		return -1;
	*ret = json_object();
	return 0;
}

static int cmd_info(struct agent *a, json_t *args, json_t **ret, struct cmd_err *e)
{
	const struct command *t;
	json_t *list;
	size_t n;

	(void)a;
	if (args_check(args, NULL, e) < 0)
		return -1;
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

	if (args_check(args, bond_only_spec, e) < 0)
		return -1;
	if (links_load(a, &ls, e) < 0 || find_bond(&ls, arg_str(args, "bond", "bond0"), &b, e) < 0)
		return -1;
	*ret = json_bond(a, &ls, b);
	return 0;
}

static int cmd_link_list(struct agent *a, json_t *args, json_t **ret, struct cmd_err *e)
{
	_cleanup_(links_free) struct links ls = {0};
	json_t *list;

	if (args_check(args, NULL, e) < 0)
		return -1;
	if (links_load(a, &ls, e) < 0)
		return -1;
	list = json_array();
	for (size_t i = 0; i < ls.n; i++)
		if (link_is_nic(&ls.v[i]))
			json_array_append_new(list, json_nic(a, &ls, &ls.v[i], NULL));
	*ret = list;
	return 0;
}

/*
 * Sets (or clears) the primary, then makes slave active, and checks that it is. *primary_set
 * (if not NULL) is set once the primary was changed, also when a later step fails.
 */
static int bond_make_active(struct agent *a, struct links *ls, const char *bond_name,
			    const struct agent_link *slave, bool primary, bool *primary_set,
			    struct cmd_err *e)
{
	const struct agent_link *b;
	struct diag d = {{0}};
	int bond, target = slave->ifindex, r;
	char name[IF_NAMESIZE];

	snprintf(name, sizeof(name), "%s", slave->name);
	if (find_bond(ls, bond_name, &b, e) < 0)
		return -1;
	bond = b->ifindex;
	if (slave->master != bond)
		return cmd_fail(e, QGA_ERROR_INVALID_STATE, "%s is not a slave of %s", name,
				bond_name);
	if (!slave_link_up(slave))
		return cmd_fail(e, QGA_ERROR_INVALID_STATE,
				"%s has no link; the bond cannot make it active", name);
	r = a->be->bond_set_primary(a->be->ctx, bond, primary ? target : 0, &d);
	if (r < 0)
		return cmd_fail_kernel(e, primary ? "setting the primary" : "clearing the primary",
				       r, &d);
	if (primary_set)
		*primary_set = true;
	if (links_load(a, ls, e) < 0 || find_bond(ls, bond_name, &b, e) < 0)
		return -1;
	if (b->bond_active_slave != target) {
		r = a->be->bond_set_active(a->be->ctx, bond, target, &d);
		if (r < 0)
			return cmd_fail_kernel(e, "setting the active slave", r, &d);
		if (links_load(a, ls, e) < 0 || find_bond(ls, bond_name, &b, e) < 0)
			return -1;
	}
	if (b->bond_active_slave != target)
		return cmd_fail(e, QGA_ERROR_KERNEL, "%s did not make %s its active slave",
				bond_name, name);
	return 0;
}

static int cmd_bond_set_active(struct agent *a, json_t *args, json_t **ret, struct cmd_err *e)
{
	static const struct arg_spec spec[] = {
	    {"bond", ARG_IFNAME, false, 0, 0},	{"mac", ARG_MAC, true, 0, 0},
	    {"pci", ARG_PCI, false, 0, 0},	{"kind", ARG_KIND, false, 0, 0},
	    {"primary", ARG_BOOL, false, 0, 0}, {NULL, 0, false, 0, 0},
	};
	_cleanup_(links_free) struct links ls = {0};
	const char *bond = arg_str(args, "bond", "bond0");
	const struct agent_link *b, *l;
	struct nic_sel sel;

	if (args_check(args, spec, e) < 0)
		return -1;
	arg_sel(args, &sel);
	if (links_load(a, &ls, e) < 0 || find_bond(&ls, bond, &b, e) < 0 ||
	    find_nic(a, &ls, &sel, &l, e) < 0)
		return -1;
	if (bond_make_active(a, &ls, bond, l, arg_bool(args, "primary", true), NULL, e) < 0)
		return -1;
	if (find_bond(&ls, bond, &b, e) < 0)
		return -1;
	*ret = json_bond(a, &ls, b);
	return 0;
}

static int cmd_bond_release(struct agent *a, json_t *args, json_t **ret, struct cmd_err *e)
{
	static const struct arg_spec spec[] = {
	    {"bond", ARG_IFNAME, false, 0, 0},
	    {"mac", ARG_MAC, true, 0, 0},
	    {"pci", ARG_PCI, false, 0, 0},
	    {"kind", ARG_KIND, false, 0, 0},
	    {NULL, 0, false, 0, 0},
	};
	_cleanup_(links_free) struct links ls = {0};
	const char *bond = arg_str(args, "bond", "bond0");
	const struct agent_link *b, *l;
	struct diag d = {{0}};
	struct nic_sel sel;
	bool was_active;
	int r, ifindex;

	if (args_check(args, spec, e) < 0)
		return -1;
	arg_sel(args, &sel);
	if (links_load(a, &ls, e) < 0 || find_bond(&ls, bond, &b, e) < 0 ||
	    find_nic(a, &ls, &sel, &l, e) < 0)
		return -1;
	if (l->master != b->ifindex)
		return cmd_fail(e, QGA_ERROR_INVALID_STATE, "%s is not a slave of %s", l->name,
				bond);
	was_active = b->bond_active_slave == l->ifindex;
	ifindex = l->ifindex;
	r = a->be->link_set_master(a->be->ctx, ifindex, 0, &d);
	if (r < 0)
		return cmd_fail_kernel(e, "releasing the slave", r, &d);
	if (links_load(a, &ls, e) < 0 || find_bond(&ls, bond, &b, e) < 0)
		return -1;
	l = links_by_index(&ls, ifindex);
	if (l && l->master != 0)
		return cmd_fail(e, QGA_ERROR_KERNEL, "%s is still enslaved after release", l->name);
	*ret = json_pack("{s:o,s:b,s:o}", "released", json_mac(sel.mac), "was_active", was_active,
			 "bond", json_bond(a, &ls, b));
	return 0;
}

/* What a bond command did to one NIC, so that a failure can be undone. */
struct slave_undo {
	int ifindex;
	char name[IF_NAMESIZE];
	bool was_up;   /* IFF_UP before it was enslaved */
	bool touched;  /* nic_enslave() ran on it */
	bool enslaved; /* this call made it a slave */
};

/* Gives a NIC that left the bond the up/down state it had before. */
static void slave_restore(struct agent *a, const struct slave_undo *s, struct cmd_err *e)
{
	struct diag d = {{0}};
	int r;

	r = a->be->link_set_up(a->be->ctx, s->ifindex, s->was_up, &d);
	if (r < 0)
		cmd_fail_undo(e, "could not set %s %s again: %s", s->name,
			      s->was_up ? "up" : "down", kernel_text(r, &d));
}

/*
 * Undoes nic_enslave() on one NIC: releases it if it was enslaved (releasing closes a slave;
 * the kernel restores its MAC address itself), then gives it the up/down state it had. One
 * that cannot be released stays in the bond as it is, still marked enslaved; e says why.
 */
static void slave_undo(struct agent *a, struct slave_undo *s, struct cmd_err *e)
{
	struct diag d = {{0}};
	int r;

	if (!s->touched)
		return;
	if (s->enslaved) {
		r = a->be->link_set_master(a->be->ctx, s->ifindex, 0, &d);
		if (r < 0) {
			cmd_fail_undo(e, "could not release %s: %s", s->name, kernel_text(r, &d));
			return;
		}
		s->enslaved = false;
	}
	slave_restore(a, s, e);
}

/* Records a NIC before nic_enslave() changes it. */
static void slave_undo_start(struct slave_undo *s, const struct agent_link *l)
{
	s->ifindex = l->ifindex;
	snprintf(s->name, sizeof(s->name), "%s", l->name);
	s->was_up = l->flags & IFF_UP;
	s->touched = true;
}

/*
 * Takes a free NIC into the bond: down, master, up. *enslaved (if not NULL) is set once its
 * master is set, also when a later step fails.
 */
static int nic_enslave(struct agent *a, const struct agent_link *l, int bond, bool *enslaved,
		       struct cmd_err *e)
{
	struct diag d = {{0}};
	int r;

	if (l->flags & IFF_UP) {
		r = a->be->link_set_up(a->be->ctx, l->ifindex, false, &d);
		if (r < 0)
			return cmd_fail_kernel(e, "setting the NIC down before enslaving", r, &d);
	}
	r = a->be->link_set_master(a->be->ctx, l->ifindex, bond, &d);
	if (r < 0)
		return cmd_fail_kernel(e, "enslaving", r, &d);
	if (enslaved)
		*enslaved = true;
	r = a->be->link_set_up(a->be->ctx, l->ifindex, true, &d);
	if (r < 0)
		return cmd_fail_kernel(e, "setting the slave up", r, &d);
	return 0;
}

/* One guest-bond-enslave: the request, and what it changed so that a failure can be undone. */
struct enslave {
	const char *bond_name;
	int bond; /* its ifindex */
	struct nic_sel sel;
	char m[64]; /* sel as text */
	int64_t start, deadline, t_appear;
	struct slave_undo nic; /* ifindex and name also when it was a slave already */
	/* The bond's primary and active slave before 'active' changed them (0: none). */
	int primary, active;
	char active_name[IF_NAMESIZE];
	bool primary_set; /* this call set the primary */
};

/*
 * The steps of guest-bond-enslave after the NIC is a slave: the link wait, 'active', the reply
 * from ls. Returns 0; -1 on a failure to undo; -ETIMEDOUT when the NIC got no link in time or
 * left the bond while waiting (e filled): those are not undone (see the man page).
 */
static int enslave_finish(struct agent *a, json_t *args, struct links *ls, struct enslave *x,
			  json_t **ret, struct cmd_err *e)
{
	const struct agent_link *b, *l;
	int64_t t_link = -1;
	int r;

	if (!arg_bool(args, "wait_link", true)) {
		if (links_load(a, ls, e) < 0)
			return -1;
	} else {
		r = wait_nic(a, ls, &x->sel, x->deadline, pred_slave_link, &x->bond, &l, e);
		if (r == -ETIMEDOUT) {
			l = links_by_index(ls, x->nic.ifindex);
			if (l && l->master != x->bond)
				cmd_fail(e, QGA_ERROR_INVALID_STATE,
					 "%s left %s while waiting for its link", l->name,
					 x->bond_name);
			else
				cmd_fail(e, QGA_ERROR_TIMEOUT,
					 "%s was enslaved to %s but got no link within %lld ms",
					 l ? l->name : x->m, x->bond_name,
					 (long long)(x->deadline - x->start));
			return -ETIMEDOUT;
		}
		if (r < 0)
			return -1;
		t_link = a->be->now_ms(a->be->ctx) - x->start;
		if (arg_bool(args, "active", false)) {
			const struct agent_link *act;

			if (find_bond(ls, x->bond_name, &b, e) < 0)
				return -1;
			x->primary = b->bond_primary;
			x->active = b->bond_active_slave;
			act = x->active ? links_by_index(ls, x->active) : NULL;
			snprintf(x->active_name, sizeof(x->active_name), "%s",
				 act ? act->name : "");
			if (bond_make_active(a, ls, x->bond_name, l, true, &x->primary_set, e) < 0)
				return -1;
		}
	}
	if (find_bond(ls, x->bond_name, &b, e) < 0)
		return -1;
	l = links_by_index(ls, x->nic.ifindex);
	if (!l) {
		/* It took its state with it: nothing of it to give back. */
		x->nic.touched = false;
		return cmd_fail(e, QGA_ERROR_DEVICE_NOT_FOUND, "NIC with %s vanished", x->m);
	}
	*ret = json_pack("{s:o,s:I,s:o}", "slave", json_nic(a, ls, l, b), "appeared_ms",
			 (json_int_t)x->t_appear, "link_ms",
			 t_link >= 0 ? json_integer(t_link) : json_null());
	return 0;
}

/*
 * Undoes a guest-bond-enslave that failed after its first change; e holds that failure and
 * keeps it. Gives the bond back the primary and active slave it had if this call set the
 * primary (setting the primary may switch the active slave at once, so both go back), then
 * releases the NIC if this call enslaved it and sets it up or down as it was.
 * Every step is tried; those that fail are appended to e.
 */
static void enslave_undo(struct agent *a, struct enslave *x, struct cmd_err *e)
{
	struct diag d = {{0}};
	int r;

	if (x->primary_set && x->primary != x->nic.ifindex) {
		r = a->be->bond_set_primary(a->be->ctx, x->bond, x->primary, &d);
		if (r < 0)
			cmd_fail_undo(e, "could not give %s its primary back: %s", x->bond_name,
				      kernel_text(r, &d));
	}
	/* Not to the NIC this call enslaved: it is released below. */
	if (x->primary_set && x->active && !(x->nic.enslaved && x->active == x->nic.ifindex)) {
		struct diag da = {{0}};

		r = a->be->bond_set_active(a->be->ctx, x->bond, x->active, &da);
		if (r < 0)
			cmd_fail_undo(e, "could not make %s active again: %s", x->active_name,
				      kernel_text(r, &da));
	}
	slave_undo(a, &x->nic, e);
}

/*
 * All or nothing, but for the link wait: a failure after the first change undoes what was
 * done; a NIC that gets no link in time stays enslaved (a second call resumes the wait).
 */
static int cmd_bond_enslave(struct agent *a, json_t *args, json_t **ret, struct cmd_err *e)
{
	static const struct arg_spec spec[] = {
	    {"bond", ARG_IFNAME, false, 0, 0},
	    {"mac", ARG_MAC, true, 0, 0},
	    {"pci", ARG_PCI, false, 0, 0},
	    {"kind", ARG_KIND, false, 0, 0},
	    {"timeout", ARG_INT, false, 0, AGENT_WAIT_MAX_MS},
	    {"active", ARG_BOOL, false, 0, 0},
	    {"wait_link", ARG_BOOL, false, 0, 0},
	    {NULL, 0, false, 0, 0},
	};
	_cleanup_(links_free) struct links ls = {0};
	struct enslave x = {.bond_name = arg_str(args, "bond", "bond0")};
	const struct agent_link *b, *l;
	int r = 0;

	if (args_check(args, spec, e) < 0)
		return -1;
	if (arg_bool(args, "active", false) && !arg_bool(args, "wait_link", true))
		return cmd_fail(
		    e, QGA_ERROR_INVALID_PARAMETER,
		    "'active' needs 'wait_link' (a slave without link cannot be made active)");
	arg_sel(args, &x.sel);
	sel_text(&x.sel, x.m);
	x.start = a->be->now_ms(a->be->ctx);
	x.deadline = deadline_from(a, args);
	if (links_load(a, &ls, e) < 0 || find_bond(&ls, x.bond_name, &b, e) < 0)
		return -1;
	x.bond = b->ifindex;
	r = wait_nic(a, &ls, &x.sel, x.deadline, pred_present, NULL, &l, e);
	if (r == -ETIMEDOUT)
		return cmd_fail(e, QGA_ERROR_TIMEOUT, "no NIC with %s appeared within %lld ms", x.m,
				(long long)(x.deadline - x.start));
	if (r < 0)
		return -1;
	x.t_appear = a->be->now_ms(a->be->ctx) - x.start;
	x.nic.ifindex = l->ifindex;
	snprintf(x.nic.name, sizeof(x.nic.name), "%s", l->name);
	if (l->master != x.bond) {
		if (l->master != 0) {
			const struct agent_link *other = links_by_index(&ls, l->master);

			return cmd_fail(e, QGA_ERROR_INVALID_STATE, "%s is already enslaved to %s",
					l->name, other ? other->name : "another device");
		}
		slave_undo_start(&x.nic, l);
		r = nic_enslave(a, l, x.bond, &x.nic.enslaved, e);
	}
	if (r >= 0)
		r = enslave_finish(a, args, &ls, &x, ret, e);
	if (r == -1)
		enslave_undo(a, &x, e);
	return r < 0 ? -1 : 0;
}

/*
 * Undoes a guest-bond-create that failed after the bond was created; e holds that failure and
 * keeps it. Releases the slaves enslaved so far, last first, giving each the up/down state it
 * had, then deletes the bond (bond: its ifindex, 0 when not known yet). Every step is tried;
 * those that fail are appended to e.
 */
static void bond_create_undo(struct agent *a, const char *name, int bond, struct slave_undo *s,
			     size_t n, struct cmd_err *e)
{
	struct diag d = {{0}};
	int r;

	/* A slave that cannot be released leaves with the bond and is restored below. */
	for (size_t i = n; i-- > 0;)
		slave_undo(a, &s[i], e);
	if (!bond) {
		_cleanup_(links_free) struct links ls = {0};
		struct cmd_err le = {0};
		const struct agent_link *b;

		if (links_load(a, &ls, &le) < 0 || find_bond(&ls, name, &b, &le) < 0) {
			cmd_fail_undo(e, "could not delete %s: %s", name, le.desc);
			return;
		}
		bond = b->ifindex;
	}
	r = a->be->link_delete(a->be->ctx, bond, &d);
	if (r < 0) {
		cmd_fail_undo(e, "could not delete %s: %s", name, kernel_text(r, &d));
		return;
	}
	for (size_t i = n; i-- > 0;)
		if (s[i].enslaved)
			slave_restore(a, &s[i], e);
}

/*
 * The steps of guest-bond-create after the bond exists: enslave, bond up, primary, and the
 * final state into ls. *bond is set to the bond's ifindex as soon as it is known.
 */
static int bond_create_finish(struct agent *a, struct links *ls, const char *name,
			      struct slave_undo *s, size_t n, int primary, int *bond,
			      struct cmd_err *e)
{
	const struct agent_link *b, *l;
	struct diag d = {{0}};
	int r;

	if (links_load(a, ls, e) < 0 || find_bond(ls, name, &b, e) < 0)
		return -1;
	*bond = b->ifindex;
	for (size_t i = 0; i < n; i++) {
		l = links_by_index(ls, s[i].ifindex);
		if (!l)
			return cmd_fail(e, QGA_ERROR_DEVICE_NOT_FOUND, "slave %s vanished",
					s[i].name);
		slave_undo_start(&s[i], l);
		if (nic_enslave(a, l, *bond, &s[i].enslaved, e) < 0)
			return -1;
	}
	r = a->be->link_set_up(a->be->ctx, *bond, true, &d);
	if (r < 0)
		return cmd_fail_kernel(e, "setting the bond up", r, &d);
	if (primary) {
		r = a->be->bond_set_primary(a->be->ctx, *bond, primary, &d);
		if (r < 0)
			return cmd_fail_kernel(e, "setting the primary", r, &d);
	}
	return links_load(a, ls, e) < 0 || find_bond(ls, name, &b, e) < 0 ? -1 : 0;
}

/* All or nothing: a failure after the bond was created undoes what was done. */
static int cmd_bond_create(struct agent *a, json_t *args, json_t **ret, struct cmd_err *e)
{
	static const struct arg_spec spec[] = {
	    {"bond", ARG_IFNAME, false, 0, 0},
	    {"slaves", ARG_MAC_LIST, true, 0, 0},
	    {"primary", ARG_MAC, false, 0, 0},
	    {"miimon", ARG_INT, false, 0, 60000},
	    {"fail_over_mac", ARG_STRING, false, 0, 0},
	    {"mode", ARG_STRING, false, 0, 0},
	    {NULL, 0, false, 0, 0},
	};
	_cleanup_(links_free) struct links ls = {0};
	struct agent_bond_params p = {0};
	struct slave_undo s[16] = {{0}};
	const struct agent_link *b, *l;
	int primary = 0, bond = 0, r;
	json_t *slaves, *v;
	struct diag d = {{0}};
	uint8_t mac[6], pmac[6];
	const char *fom;
	size_t n, i;

	if (args_check(args, spec, e) < 0)
		return -1;
	p.name = arg_str(args, "bond", "bond0");
	p.mode = AGENT_BOND_MODE_ACTIVEBACKUP;
	p.miimon = (uint32_t)arg_int(args, "miimon", 100);
	if (strcmp(arg_str(args, "mode", "active-backup"), "active-backup") != 0)
		return cmd_fail(e, QGA_ERROR_INVALID_PARAMETER,
				"parameter 'mode': only active-backup is supported");
	fom = arg_str(args, "fail_over_mac", "none");
	for (i = 0; i < ARRAY_SIZE(fom_names); i++)
		if (strcmp(fom, fom_names[i]) == 0)
			break;
	if (i == ARRAY_SIZE(fom_names))
		return cmd_fail(e, QGA_ERROR_INVALID_PARAMETER,
				"parameter 'fail_over_mac' must be none, active or follow");
	p.fail_over_mac = (uint8_t)i;
	if (links_load(a, &ls, e) < 0)
		return -1;
	if (links_by_name(&ls, p.name))
		return cmd_fail(e, QGA_ERROR_INVALID_STATE, "%s already exists", p.name);
	slaves = json_object_get(args, "slaves");
	n = json_array_size(slaves);
	if (json_object_get(args, "primary"))
		arg_mac(args, "primary", pmac);
	json_array_foreach (slaves, i, v) {
		struct nic_sel sel = {.pci = NULL};

		parse_mac(json_string_value(v), mac);
		memcpy(sel.mac, mac, 6);
		if (find_nic(a, &ls, &sel, &l, e) < 0)
			return -1;
		for (size_t j = 0; j < i; j++)
			if (s[j].ifindex == l->ifindex)
				return cmd_fail(e, QGA_ERROR_INVALID_PARAMETER,
						"parameter 'slaves': %s is listed twice",
						json_string_value(v));
		if (l->master)
			return cmd_fail(e, QGA_ERROR_INVALID_STATE, "%s is already enslaved",
					l->name);
		s[i].ifindex = l->ifindex;
		snprintf(s[i].name, sizeof(s[i].name), "%s", l->name);
		if (json_object_get(args, "primary") && memcmp(mac, pmac, 6) == 0)
			primary = l->ifindex;
	}
	if (json_object_get(args, "primary") && !primary)
		return cmd_fail(e, QGA_ERROR_INVALID_PARAMETER,
				"parameter 'primary' must be one of 'slaves'");
	r = a->be->bond_create(a->be->ctx, &p, &d);
	if (r < 0)
		return cmd_fail_kernel(e, "creating the bond", r, &d);
	if (bond_create_finish(a, &ls, p.name, s, n, primary, &bond, e) < 0) {
		bond_create_undo(a, p.name, bond, s, n, e);
		return -1;
	}
	if (find_bond(&ls, p.name, &b, e) < 0)
		return -1;
	*ret = json_bond(a, &ls, b);
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

	if (args_check(args, spec, e) < 0)
		return -1;
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
		return -1;
	o = json_nic(a, &ls, l, NULL);
	json_object_set_new(o, "waited_ms", json_integer(a->be->now_ms(a->be->ctx) - start));
	*ret = o;
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

char *agent_handle_message(struct agent *a, const char *buf, size_t len, size_t *ret_len)
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
