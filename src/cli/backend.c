// SPDX-License-Identifier: MIT
/* The backends' table, and the world one run works with. */
#include <errno.h>
#include <string.h>

#include "cli.h"

static const struct backend *const backends[] = {
    &backend_qmp,
#ifdef VFM_HAVE_LIBVIRT
    &backend_libvirt,
#endif
};

const struct backend *backend_named(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(backends); i++)
		if (!strcmp(backends[i]->name, name))
			return backends[i];
	return NULL;
}

const struct backend *backend_find(const struct cli_args *a, const struct config *c, struct diag *d)
{
	const char *name = a->connect_uri ? "libvirt" : c->backend;
	const struct backend *be = backend_named(name);
	char clean[64];

	if (be)
		return be;
	if (!strcmp(name, "libvirt")) {
		diag_set(d, "this vfmigrate was built without libvirt");
		return NULL;
	}
	str_sanitize(clean, sizeof(clean), name);
	diag_set(d, "unknown backend \"%s\" (available: qmp, libvirt)", clean);
	return NULL;
}

bool backend_dest_is_host(const struct cli_args *a, const struct config *c)
{
	struct diag ignored;
	const struct backend *be = backend_find(a, c, &ignored);

	return be && be->dest_is_host;
}

static int64_t real_now(void *ud)
{
	(void)ud;
	return time_now_ms();
}

static int64_t real_wall(void *ud)
{
	(void)ud;
	return time_wall_ns() / 1000000;
}

static const struct clock_ops real_clock = {.now_ms = real_now, .wall_ms = real_wall};

void world_env(struct world *w)
{
	w->env.src = (struct plan_side){&w->src.hv, &w->src.ag, &w->src.vp};
	w->env.dst = (struct plan_side){&w->dst.hv, &w->dst.ag, &w->dst.vp};
	w->env.clock = &real_clock;
	w->env.event = cli_out_event;
	w->env.event_userdata = &w->out;
}

int world_prepare(const struct cli_args *a, const struct config *c, struct plan *p, struct world *w,
		  bool need_dest, bool *ret_usage, struct diag *d)
{
	int rc;

	*ret_usage = true;
	w->be = backend_find(a, c, d);
	if (!w->be)
		return -EOPNOTSUPP;
	rc = w->be->prepare(a, c, p, w, need_dest, d);
	if (rc < 0)
		*ret_usage = w->be->usage_error(rc);
	return rc;
}

void world_note_agents(struct world *w)
{
	if (!w->be)
		return;
	w->out.agent_src = w->be->agent_transport(&w->src);
	w->out.agent_dst = w->be->agent_transport(&w->dst);
}

void world_close(struct world *w)
{
	if (!w->be)
		return;
	w->be->close_side(&w->src);
	w->be->close_side(&w->dst);
}

void plan_apply_limits(const struct config *c, struct plan *p)
{
	p->migrate.max_bandwidth = c->max_bandwidth;
	p->migrate.downtime_limit_ms = c->downtime_limit_ms;
	if (c->t_command)
		p->timeouts.command_ms = c->t_command;
	if (c->t_unplug)
		p->timeouts.unplug_ms = c->t_unplug;
	if (c->t_unplug_settle)
		p->timeouts.unplug_settle_ms = c->t_unplug_settle;
	if (c->t_migrate)
		p->timeouts.migrate_ms = c->t_migrate;
	if (c->t_alive)
		p->timeouts.alive_ms = c->t_alive;
	if (c->t_link)
		p->timeouts.link_ms = c->t_link;
}

int plan_apply_mode(const struct config *c, struct plan *p, struct diag *d)
{
	if (c->mode[0] && plan_mode_from_string(c->mode, &p->mode) < 0) {
		diag_set(d, "guest.mode (--mode) must be auto, bond or failover");
		return -EINVAL;
	}
	return 0;
}

/*
 * Whether a libvirt URI read from a journal may be opened without the operator naming it: not
 * one that makes libvirt run a program here (the ext transport, or a command= parameter).
 * The state dir is root's; this is for a journal someone else managed to write.
 */
bool journal_uri_safe(const char *uri)
{
	const char *q = strchr(uri, '?'), *scheme_end = strstr(uri, "://");

	if (scheme_end && memmem(uri, (size_t)(scheme_end - uri), "+ext", 4))
		return false;
	return !q || (!strstr(q, "?command=") && !strstr(q, "&command="));
}
