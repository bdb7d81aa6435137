// SPDX-License-Identifier: MIT
/* The agent's bond commands: set-active, release, enslave, create; each undoes what it did
 * when it fails part way. */
#include "agent_impl.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

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
	if ((r = find_bond(ls, bond_name, &b, e)) < 0)
		return r;
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
	if ((r = links_load(a, ls, e)) < 0 || (r = find_bond(ls, bond_name, &b, e)) < 0)
		return r;
	if (b->bond_active_slave != target) {
		r = a->be->bond_set_active(a->be->ctx, bond, target, &d);
		if (r < 0)
			return cmd_fail_kernel(e, "setting the active slave", r, &d);
		if ((r = links_load(a, ls, e)) < 0 || (r = find_bond(ls, bond_name, &b, e)) < 0)
			return r;
	}
	if (b->bond_active_slave != target)
		return cmd_fail(e, QGA_ERROR_KERNEL, "%s did not make %s its active slave",
				bond_name, name);
	return 0;
}

int cmd_bond_set_active(struct agent *a, json_t *args, json_t **ret, struct cmd_err *e)
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
	int r;

	if ((r = args_check(args, spec, e)) < 0)
		return r;
	arg_sel(args, &sel);
	if ((r = links_load(a, &ls, e)) < 0 || (r = find_bond(&ls, bond, &b, e)) < 0 ||
	    (r = find_nic(a, &ls, &sel, &l, e)) < 0)
		return r;
	if ((r = bond_make_active(a, &ls, bond, l, arg_bool(args, "primary", true), NULL, e)) < 0)
		return r;
	if ((r = find_bond(&ls, bond, &b, e)) < 0)
		return r;
	*ret = json_bond(a, &ls, b);
	return 0;
}

int cmd_bond_release(struct agent *a, json_t *args, json_t **ret, struct cmd_err *e)
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

	if ((r = args_check(args, spec, e)) < 0)
		return r;
	arg_sel(args, &sel);
	if ((r = links_load(a, &ls, e)) < 0 || (r = find_bond(&ls, bond, &b, e)) < 0 ||
	    (r = find_nic(a, &ls, &sel, &l, e)) < 0)
		return r;
	if (l->master != b->ifindex)
		return cmd_fail(e, QGA_ERROR_INVALID_STATE, "%s is not a slave of %s", l->name,
				bond);
	was_active = b->bond_active_slave == l->ifindex;
	ifindex = l->ifindex;
	r = a->be->link_set_master(a->be->ctx, ifindex, 0, &d);
	if (r < 0)
		return cmd_fail_kernel(e, "releasing the slave", r, &d);
	if ((r = links_load(a, &ls, e)) < 0 || (r = find_bond(&ls, bond, &b, e)) < 0)
		return r;
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
	/* The failure is one that is not undone (see enslave_finish). */
	bool keep;
};

/*
 * The steps of guest-bond-enslave after the NIC is a slave: the link wait, 'active', the reply
 * from ls. Returns 0 or -errno (e filled). A NIC that got no link in time or left the bond
 * while waiting fails with x->keep set: that is not undone (see the man page).
 */
static int enslave_finish(struct agent *a, json_t *args, struct links *ls, struct enslave *x,
			  json_t **ret, struct cmd_err *e)
{
	const struct agent_link *b, *l;
	int64_t t_link = -1;
	int r;

	if (!arg_bool(args, "wait_link", true)) {
		if ((r = links_load(a, ls, e)) < 0)
			return r;
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
			x->keep = true;
			return -ETIMEDOUT;
		}
		if (r < 0)
			return r;
		t_link = a->be->now_ms(a->be->ctx) - x->start;
		if (arg_bool(args, "active", false)) {
			const struct agent_link *act;

			if ((r = find_bond(ls, x->bond_name, &b, e)) < 0)
				return r;
			x->primary = b->bond_primary;
			x->active = b->bond_active_slave;
			act = x->active ? links_by_index(ls, x->active) : NULL;
			snprintf(x->active_name, sizeof(x->active_name), "%s",
				 act ? act->name : "");
			if ((r = bond_make_active(a, ls, x->bond_name, l, true, &x->primary_set,
						  e)) < 0)
				return r;
		}
	}
	if ((r = find_bond(ls, x->bond_name, &b, e)) < 0)
		return r;
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
int cmd_bond_enslave(struct agent *a, json_t *args, json_t **ret, struct cmd_err *e)
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

	if ((r = args_check(args, spec, e)) < 0)
		return r;
	if (arg_bool(args, "active", false) && !arg_bool(args, "wait_link", true))
		return cmd_fail(
		    e, QGA_ERROR_INVALID_PARAMETER,
		    "'active' needs 'wait_link' (a slave without link cannot be made active)");
	arg_sel(args, &x.sel);
	sel_text(&x.sel, x.m);
	x.start = a->be->now_ms(a->be->ctx);
	x.deadline = deadline_from(a, args);
	if ((r = links_load(a, &ls, e)) < 0 || (r = find_bond(&ls, x.bond_name, &b, e)) < 0)
		return r;
	x.bond = b->ifindex;
	r = wait_nic(a, &ls, &x.sel, x.deadline, pred_present, NULL, &l, e);
	if (r == -ETIMEDOUT)
		return cmd_fail(e, QGA_ERROR_TIMEOUT, "no NIC with %s appeared within %lld ms", x.m,
				(long long)(x.deadline - x.start));
	if (r < 0)
		return r;
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
	if (r < 0 && !x.keep)
		enslave_undo(a, &x, e);
	return r < 0 ? r : 0;
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

	if ((r = links_load(a, ls, e)) < 0 || (r = find_bond(ls, name, &b, e)) < 0)
		return r;
	*bond = b->ifindex;
	for (size_t i = 0; i < n; i++) {
		l = links_by_index(ls, s[i].ifindex);
		if (!l)
			return cmd_fail(e, QGA_ERROR_DEVICE_NOT_FOUND, "slave %s vanished",
					s[i].name);
		slave_undo_start(&s[i], l);
		if ((r = nic_enslave(a, l, *bond, &s[i].enslaved, e)) < 0)
			return r;
	}
	r = a->be->link_set_up(a->be->ctx, *bond, true, &d);
	if (r < 0)
		return cmd_fail_kernel(e, "setting the bond up", r, &d);
	if (primary) {
		r = a->be->bond_set_primary(a->be->ctx, *bond, primary, &d);
		if (r < 0)
			return cmd_fail_kernel(e, "setting the primary", r, &d);
	}
	if ((r = links_load(a, ls, e)) < 0 || (r = find_bond(ls, name, &b, e)) < 0)
		return r;
	return 0;
}

/* All or nothing: a failure after the bond was created undoes what was done. */
int cmd_bond_create(struct agent *a, json_t *args, json_t **ret, struct cmd_err *e)
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

	if ((r = args_check(args, spec, e)) < 0)
		return r;
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
	if ((r = links_load(a, &ls, e)) < 0)
		return r;
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
		if ((r = find_nic(a, &ls, &sel, &l, e)) < 0)
			return r;
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
	r = bond_create_finish(a, &ls, p.name, s, n, primary, &bond, e);
	if (r < 0) {
		bond_create_undo(a, p.name, bond, s, n, e);
		return r;
	}
	if ((r = find_bond(&ls, p.name, &b, e)) < 0)
		return r;
	*ret = json_bond(a, &ls, b);
	return 0;
}
