// SPDX-License-Identifier: MIT
#include "timing.h"

#include <stdio.h>
#include <string.h>

static int64_t call_start(struct agent_timing *t)
{
	int64_t now = t->now_ns();

	if (t->calls++ == 0)
		t->t_first = now;
	return now;
}

static void call_end(struct agent_timing *t)
{
	t->t_last = t->now_ns();
}

/* Each wrapper: the inner operation between call_start and call_end. */
#define TIMED(t, expr)                   \
	({                               \
		call_start(t);           \
		__auto_type r_ = (expr); \
		call_end(t);             \
		r_;                      \
	})

static int t_link_list(void *ctx, struct agent_link **ret_links, size_t *ret_n, struct diag *d)
{
	struct agent_timing *t = ctx;

	return TIMED(t, t->inner->link_list(t->inner->ctx, ret_links, ret_n, d));
}

static int t_bond_create(void *ctx, const struct agent_bond_params *p, struct diag *d)
{
	struct agent_timing *t = ctx;

	return TIMED(t, t->inner->bond_create(t->inner->ctx, p, d));
}

static int t_link_delete(void *ctx, int ifindex, struct diag *d)
{
	struct agent_timing *t = ctx;

	return TIMED(t, t->inner->link_delete(t->inner->ctx, ifindex, d));
}

static int t_link_set_master(void *ctx, int ifindex, int master, struct diag *d)
{
	struct agent_timing *t = ctx;

	return TIMED(t, t->inner->link_set_master(t->inner->ctx, ifindex, master, d));
}

static int t_link_set_up(void *ctx, int ifindex, bool up, struct diag *d)
{
	struct agent_timing *t = ctx;

	return TIMED(t, t->inner->link_set_up(t->inner->ctx, ifindex, up, d));
}

static int t_bond_set_active(void *ctx, int bond, int slave, struct diag *d)
{
	struct agent_timing *t = ctx;

	return TIMED(t, t->inner->bond_set_active(t->inner->ctx, bond, slave, d));
}

static int t_bond_set_primary(void *ctx, int bond, int slave, struct diag *d)
{
	struct agent_timing *t = ctx;

	return TIMED(t, t->inner->bond_set_primary(t->inner->ctx, bond, slave, d));
}

static int t_pci_address(void *ctx, const char *ifname, char *buf, size_t n)
{
	struct agent_timing *t = ctx;

	return TIMED(t, t->inner->pci_address(t->inner->ctx, ifname, buf, n));
}

static int t_driver(void *ctx, const char *ifname, char *buf, size_t n)
{
	struct agent_timing *t = ctx;

	return TIMED(t, t->inner->driver(t->inner->ctx, ifname, buf, n));
}

/* Reading the clock is not a call into the kernel (vDSO): not timed. */
static int64_t t_now_ms(void *ctx)
{
	struct agent_timing *t = ctx;

	return t->inner->now_ms(t->inner->ctx);
}

static int t_wait(void *ctx, int timeout_ms)
{
	struct agent_timing *t = ctx;

	return TIMED(t, t->inner->wait(t->inner->ctx, timeout_ms));
}

void agent_timing_init(struct agent_timing *t, const struct agent_backend *inner,
		       int64_t (*now_ns)(void))
{
	memset(t, 0, sizeof(*t));
	t->inner = inner;
	t->now_ns = now_ns;
	t->ops = (struct agent_backend){
	    .link_list = t_link_list,
	    .bond_create = t_bond_create,
	    .link_delete = t_link_delete,
	    .link_set_master = t_link_set_master,
	    .link_set_up = t_link_set_up,
	    .bond_set_active = t_bond_set_active,
	    .bond_set_primary = t_bond_set_primary,
	    .pci_address = t_pci_address,
	    .driver = inner->driver ? t_driver : NULL,
	    .now_ms = t_now_ms,
	    .wait = t_wait,
	    .ctx = t,
	};
}

void agent_timing_begin(struct agent_timing *t)
{
	t->calls = 0;
	t->t_begin = t->now_ns();
}

void agent_timing_end(struct agent_timing *t, const char *command)
{
	struct agent_timing_rec *r = &t->done.last;
	int64_t end = t->now_ns();

	snprintf(r->command, sizeof(r->command), "%s", command);
	r->total_ns = end - t->t_begin;
	r->kernel_calls = t->calls;
	if (t->calls) {
		r->before_ns = t->t_first - t->t_begin;
		r->kernel_ns = t->t_last - t->t_first;
		r->after_ns = end - t->t_last;
	} else {
		r->before_ns = r->total_ns;
		r->kernel_ns = r->after_ns = 0;
	}
	t->done.requests++;
	t->done.has_last = true;
}
