// SPDX-License-Identifier: MIT
/* Pre-flight: what the run needs, checked before anything changes, for every VF. The checks of
 * the hypervisors and of the destination's pool are every mode's (failover.c's too). */
#include "plan_impl.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

void problem(struct ctx *c, enum plan_problem_code code, enum problem_side side, int rc,
	     const char *fmt, ...)
{
	struct plan_report *r = c->rep;
	struct plan_problem *pb;
	va_list ap;

	if (r->n_problems >= PLAN_PROBLEMS_MAX) {
		r->n_problems_dropped++;
		return;
	}
	pb = &r->problems[r->n_problems++];
	pb->code = code;
	pb->side = side;
	pb->rc = rc;
	va_start(ap, fmt);
	vsnprintf(pb->text, sizeof(pb->text), fmt, ap);
	va_end(ap);
}

/* Whether a VF of the plan before the current one shares its bond (only one slave of an
 * active-backup bond is active) or its destination network (one pool probe covers both). */
static bool earlier_vf_shares(const struct ctx *c, bool bond)
{
	for (size_t i = 0; i < c->cur; i++) {
		const struct plan_vf *o = &c->p->vfs[i];

		if (bond ? !strcmp(o->bond, cv(c)->bond) : !strcmp(o->physnet, cv(c)->physnet))
			return true;
	}
	return false;
}

/* Pre-flight of the current VF's bond in the guest. */
static void preflight_vf(struct ctx *c, int *first_rc)
{
	const struct plan *p = c->p;
	const struct plan_vf *pv = cv(c);
	const struct plan_env *e = c->env;
	struct diag sd = {0};
	int rc;

#define PROBLEM(r, code, side, ...)                                                \
	do {                                                                       \
		if (!*first_rc)                                                    \
			*first_rc = (r) < 0 ? (r) : -EINVAL;                       \
		problem(c, PROBLEM_##code, PROBLEM_SIDE_##side, (r), __VA_ARGS__); \
	} while (0)
	struct bond_status b;
	char m[18];

	rc = agent_rc(
	    c, e->src.agent,
	    e->src.agent->bond_status(e->src.agent->userdata, pv->bond, cmd_dl(c), &b, &sd), &sd);
	if (rc == -ENOENT && p->create_bond && memcmp(pv->vf_mac, pv->backup_mac, 6) == 0) {
		PROBLEM(-EINVAL, NICS_APART, GUEST,
			"bond %s does not exist, and --create-bond cannot build one whose "
			"NICs share MAC %s (the agent's guest-bond-create names slaves by "
			"MAC alone); build the bond in the guest",
			pv->bond, format_mac(pv->vf_mac, m));
	} else if (rc == -ENOENT && p->create_bond) {
		/* The agent enslaves the backup first: the new bond takes its MAC. */
		struct bond_status nb = {.fail_over_mac = p->fail_over_mac, .has_mac = true};

		memcpy(nb.mac, pv->backup_mac, 6);
		note(c, STEP_PREFLIGHT,
		     "bond %s does not exist; it will be created at fail_over_mac=%s", pv->bond,
		     bond_fom_to_string(p->fail_over_mac));
		if (dst_mac_model(c, &nb, cs(c)->dst_mac, &sd) >= 0)
			cs(c)->has_dst_mac = true;
		else
			PROBLEM(-EINVAL, MAC_MODEL, GUEST,
				"bond %s would be created at fail_over_mac=%s on the virtio "
				"NIC's MAC %s (enslaved first): a destination VF whose MAC its "
				"PF sets cannot carry it; create it at fail_over_mac=active "
				"(the default of [guest] fail-over-mac)",
				pv->bond, bond_fom_to_string(p->fail_over_mac),
				format_mac(pv->backup_mac, m));
	} else if (rc < 0) {
		PROBLEM(rc, BOND, GUEST, "bond %s: %s", pv->bond, sd.msg);
	} else {
		const struct bond_slave *vf, *bk;
		struct nic_sel svf, sbk;

		/* In active-backup mode, what could only fail after the point of no
		 * return (the destination VF joining the bond) fails here. */
		if (strcmp(b.mode, "active-backup") != 0)
			PROBLEM(-EINVAL, BOND_MODE, GUEST,
				"bond %s is in mode %s, not active-backup", pv->bond, b.mode);
		else if (dst_mac_model(c, &b, cs(c)->dst_mac, &sd) < 0)
			PROBLEM(-EINVAL, MAC_MODEL, GUEST, "%s", sd.msg);
		else
			cs(c)->has_dst_mac = true;
		/* Also a shared MAC the destination VF is given: after dst_mac_model. */
		if (bond_nics_apart(c, &b, &sd) < 0) {
			PROBLEM(-EINVAL, NICS_APART, GUEST, "%s", sd.msg);
			return;
		}
		svf = nic_sel_of(c, pv->vf_mac, NIC_KIND_VF);
		sbk = nic_sel_of(c, pv->backup_mac, NIC_KIND_VIRTIO);
		vf = bond_find(&b, &svf);
		bk = bond_find(&b, &sbk);
		if (!vf)
			PROBLEM(-EINVAL, VF_NOT_SLAVE, GUEST, "VF %s is not a slave of %s",
				format_mac(pv->vf_mac, m), pv->bond);
		else if (!vf->active && !earlier_vf_shares(c, true))
			PROBLEM(-EINVAL, VF_NOT_ACTIVE, GUEST,
				"VF %s is not the active slave of %s", format_mac(pv->vf_mac, m),
				pv->bond);
		if (!bk)
			PROBLEM(-EINVAL, BACKUP_NOT_SLAVE, GUEST,
				"backup NIC %s is not a slave of %s", format_mac(pv->backup_mac, m),
				pv->bond);
		else if (!bk->link_up)
			PROBLEM(-EINVAL, BACKUP_NO_LINK, GUEST, "backup NIC %s has no link",
				format_mac(pv->backup_mac, m));
	}
#undef PROBLEM
}

/* Pre-flight of the two hypervisors, in every mode: problems recorded; the first one's rc. */
int preflight_hosts(struct ctx *c)
{
	const struct plan_env *e = c->env;
	struct hv_probe pr;
	struct diag sd = {0};
	int rc, first = 0;

	rc = e->src.hv->probe(e->src.hv->userdata, cmd_dl(c), &pr, &sd);
	if (rc < 0)
		problem(c, PROBLEM_HYPERVISOR, PROBLEM_SIDE_SOURCE, first = rc,
			"source hypervisor: %s", sd.msg);
	else if (!pr.running)
		problem(c, PROBLEM_GUEST_NOT_RUNNING, PROBLEM_SIDE_SOURCE, first = -EINVAL,
			"source guest is not running (%s)", pr.status);

	rc = e->dst.hv->probe(e->dst.hv->userdata, cmd_dl(c), &pr, &sd);
	if (rc < 0)
		problem(c, PROBLEM_HYPERVISOR, PROBLEM_SIDE_DESTINATION, rc,
			"destination hypervisor: %s", sd.msg);
	else if (pr.incoming == HV_INCOMING_NONE)
		problem(c, PROBLEM_NOT_INCOMING, PROBLEM_SIDE_DESTINATION, rc = -EINVAL,
			"destination is not waiting for an incoming migration (%s)", pr.status);
	return first ? first : rc < 0 ? rc : 0;
}

/*
 * Pre-flight of the destination's VF pool, in every mode: every VF must be free there before
 * anything changes, per network as many as the plan's VFs on it. Problems recorded; the
 * first one's rc. Leaves c->cur at 0.
 */
int preflight_pool(struct ctx *c)
{
	const struct plan *p = c->p;
	const struct vfpool_ops *v = c->env->dst.vfpool;
	struct diag sd = {0};
	int rc, first = 0;

	for (c->cur = 0; c->cur < p->n_vfs; c->cur++) {
		const struct plan_vf *pv = cv(c);
		unsigned free_vfs = 0, want = 0;

		if (earlier_vf_shares(c, false))
			continue;
		for (size_t i = 0; i < p->n_vfs; i++)
			want += !strcmp(p->vfs[i].physnet, pv->physnet);
		rc = v->probe(v->userdata, pv->physnet, cmd_dl(c), &free_vfs, &sd);
		if (rc < 0) {
			problem(c, PROBLEM_VF_POOL, PROBLEM_SIDE_DESTINATION, rc,
				"destination VF pool: %s", sd.msg);
		} else if (free_vfs < want && want == 1) {
			problem(c, PROBLEM_NO_FREE_VF, PROBLEM_SIDE_DESTINATION, rc = -ENOSPC,
				"destination VF pool has no free VF%s%s",
				pv->physnet[0] ? " on " : "", pv->physnet);
		} else if (free_vfs < want) {
			problem(c, PROBLEM_NO_FREE_VF, PROBLEM_SIDE_DESTINATION, rc = -ENOSPC,
				"destination VF pool has %u free VF%s%s%s, the guest needs %u",
				free_vfs, free_vfs == 1 ? "" : "s", pv->physnet[0] ? " on " : "",
				pv->physnet, want);
		}
		if (rc < 0 && !first)
			first = rc;
	}
	c->cur = 0;
	return first;
}

/* ------------------------------------------------------------------------------------------ */
/* The steps. run and undo return 0 or -errno with d filled.                                 */

int run_preflight(struct ctx *c, struct diag *d)
{
	const struct plan *p = c->p;
	const struct plan_env *e = c->env;
	struct diag sd = {0};
	int rc, first = 0;

#define PROBLEM(r, code, side, ...)                                                \
	do {                                                                       \
		if (!first)                                                        \
			first = (r) < 0 ? (r) : -EINVAL;                           \
		problem(c, PROBLEM_##code, PROBLEM_SIDE_##side, (r), __VA_ARGS__); \
	} while (0)

	first = preflight_hosts(c);

	rc = agent_rc(c, e->src.agent, e->src.agent->ping(e->src.agent->userdata, cmd_dl(c), &sd),
		      &sd);
	if (rc < 0) {
		PROBLEM(rc, AGENT, GUEST, "%s", sd.msg);
	} else {
		for (c->cur = 0; c->cur < p->n_vfs; c->cur++)
			preflight_vf(c, &first);
	}

	if (p->n_vfs && (rc = preflight_pool(c)) < 0 && !first)
		first = rc;
#undef PROBLEM
	if (first) {
		/* The step's error is the first problem; the report has them all. */
		diag_set(d, "%s", c->rep->problems[0].text);
		return first;
	}
	for (c->cur = 0; c->cur < p->n_vfs; c->cur++) {
		char m[18];

		if (!cs(c)->has_dst_mac || memcmp(cs(c)->dst_mac, cv(c)->vf_mac, 6) == 0)
			continue;
		note(c, STEP_PREFLIGHT,
		     "the destination VF is given MAC %s by its PF, bond %s's own: the only one "
		     "the bond lets a VF carry that cannot change its MAC",
		     format_mac(cs(c)->dst_mac, m), cv(c)->bond);
	}
	c->cur = 0;
	return 0;
}
