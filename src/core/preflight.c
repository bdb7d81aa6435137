// SPDX-License-Identifier: MIT
/* Pre-flight's checks that every mode makes: the two hypervisors, the destination's pool. */
#include "plan_impl.h"

#include <errno.h>

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

/* Pre-flight of the destination's VF pool, in every mode. */
int preflight_pool(struct ctx *c)
{
	const struct plan *p = c->p;
	const struct vfpool_ops *v = c->env->dst.vfpool;
	struct diag sd = {0};
	unsigned free_vfs = 0;
	int rc;

	rc = v->probe(v->userdata, p->physnet, cmd_dl(c), &free_vfs, &sd);
	if (rc < 0) {
		problem(c, PROBLEM_VF_POOL, PROBLEM_SIDE_DESTINATION, rc, "destination VF pool: %s",
			sd.msg);
		return rc;
	}
	if (free_vfs == 0) {
		problem(c, PROBLEM_NO_FREE_VF, PROBLEM_SIDE_DESTINATION, -ENOSPC,
			"destination VF pool has no free VF%s%s", p->physnet[0] ? " on " : "",
			p->physnet);
		return -ENOSPC;
	}
	return 0;
}
