/* SPDX-License-Identifier: MIT */
/* What the agent's command files share (agent.c, agent_bond.c). Private to guest/. */
#ifndef VFM_GUEST_AGENT_IMPL_H
#define VFM_GUEST_AGENT_IMPL_H

#include <jansson.h>

#include "agent.h"
#include "../src/proto/qga.h"

struct cmd_err {
	enum qga_error_class cls;
	char desc[QGA_ERROR_DESC_MAX];
};

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

struct links {
	struct agent_link *v;
	size_t n;
};

/* What tells NICs that carry one MAC apart, read from sysfs by the backend. */
struct nic_ident {
	char pci[16];	  /* "" when not on PCI */
	char driver[32];  /* "" when not known */
	const char *kind; /* one of kind_names */
};

/* Names one NIC: its MAC and, where NICs share it, its PCI address and/or kind. */
struct nic_sel {
	uint8_t mac[6];
	const char *pci;  /* NULL: any */
	const char *kind; /* NULL: any */
};

/* agent_bond.c */
int cmd_bond_set_active(struct agent *a, json_t *args, json_t **ret, struct cmd_err *e);
int cmd_bond_release(struct agent *a, json_t *args, json_t **ret, struct cmd_err *e);
int cmd_bond_enslave(struct agent *a, json_t *args, json_t **ret, struct cmd_err *e);
int cmd_bond_create(struct agent *a, json_t *args, json_t **ret, struct cmd_err *e);
int cmd_failover_status(struct agent *a, json_t *args, json_t **ret, struct cmd_err *e);

/* agent.c */
extern const char *const fom_names[3]; /* the bond's fail_over_mac, by its number */
/* Fills e; returns the -errno of the class (cmd_fail_kernel: the kernel's). */
int cmd_fail(struct cmd_err *e, enum qga_error_class cls, const char *fmt, ...) _printf_(3, 4);
const char *kernel_text(int r, const struct diag *d);
int cmd_fail_kernel(struct cmd_err *e, const char *what, int r, const struct diag *d);
void cmd_fail_undo(struct cmd_err *e, const char *fmt, ...) _printf_(2, 3);
int args_check(json_t *args, const struct arg_spec *spec, struct cmd_err *e);
const char *arg_str(json_t *args, const char *name, const char *def);
int64_t arg_int(json_t *args, const char *name, int64_t def);
bool arg_bool(json_t *args, const char *name, bool def);
void arg_mac(json_t *args, const char *name, uint8_t mac[6]);
void links_free(struct links *ls);
int links_load(struct agent *a, struct links *ls, struct cmd_err *e);
const struct agent_link *links_by_index(const struct links *ls, int ifindex);
const struct agent_link *links_by_name(const struct links *ls, const char *name);
void arg_sel(json_t *args, struct nic_sel *ret);
const char *sel_text(const struct nic_sel *s, char buf[static 64]);
int find_nic(struct agent *a, const struct links *ls, const struct nic_sel *s,
	     const struct agent_link **ret, struct cmd_err *e);
int find_bond(const struct links *ls, const char *name, const struct agent_link **ret,
	      struct cmd_err *e);
json_t *json_mac(const uint8_t mac[6]);
bool slave_link_up(const struct agent_link *l);
json_t *json_nic(struct agent *a, const struct links *ls, const struct agent_link *l,
		 const struct agent_link *bond);
json_t *json_bond(struct agent *a, const struct links *ls, const struct agent_link *b);
int64_t deadline_from(struct agent *a, json_t *args);
int wait_nic(struct agent *a, struct links *ls, const struct nic_sel *s, int64_t deadline,
	     bool (*pred)(const struct agent_link *l, const void *arg), const void *arg,
	     const struct agent_link **ret, struct cmd_err *e);
bool pred_present(const struct agent_link *l, const void *arg);
bool pred_slave_link(const struct agent_link *l, const void *arg);

#endif
