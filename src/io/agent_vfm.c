// SPDX-License-Identifier: MIT
#include "agent_vfm.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "proto/vfnl.h"
#include "qga_client.h"

struct agent_vfm {
	char path[108];
	/* Instead of path: a callback that opens a connection. */
	agent_vfm_connect_fn connect;
	void *connect_userdata;
	char what[64];
	struct qga_client *c;
	bool used; /* a call tried to reach the agent */
};

int agent_vfm_new(const char *socket_path, struct agent_vfm **ret, struct diag *d)
{
	struct agent_vfm *a;

	if (!socket_path || !socket_path[0] || strlen(socket_path) >= sizeof(a->path)) {
		diag_set(d, "guest agent socket path is empty or too long");
		return -EINVAL;
	}
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	snprintf(a->path, sizeof(a->path), "%s", socket_path);
	snprintf(a->what, sizeof(a->what), "%s", socket_path);
	*ret = a;
	return 0;
}

int agent_vfm_new_connect(const char *what, agent_vfm_connect_fn connect, void *userdata,
			  struct agent_vfm **ret, struct diag *d)
{
	struct agent_vfm *a;

	if (!connect) {
		diag_set(d, "no way to connect");
		return -EINVAL;
	}
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->connect = connect;
	a->connect_userdata = userdata;
	snprintf(a->what, sizeof(a->what), "%s", what ? what : "connection");
	*ret = a;
	return 0;
}

/* A new client over a fresh connection. */
static int open_client(struct agent_vfm *a, int64_t deadline, struct diag *d)
{
	int fd;

	if (!a->connect)
		return qga_client_connect(a->path, deadline, &a->c, d);
	fd = a->connect(a->connect_userdata, deadline, d);
	if (fd < 0)
		return fd;
	return qga_client_start(fd, deadline, &a->c, d);
}

bool agent_vfm_used(const struct agent_vfm *a)
{
	return a && a->used;
}

struct agent_vfm *agent_vfm_free(struct agent_vfm *a)
{
	if (!a)
		return NULL;
	qga_client_free(a->c);
	free(a);
	return NULL;
}

/*
 * An agent older than NIC selectors refuses their arguments (class InvalidParameter): say what
 * that means instead. Only selectors with a kind or PCI address send them (checked before they
 * are sent, so a newer agent has no reason to refuse them), and the core uses those only for
 * NICs that share a MAC, so with distinct MACs any agent serves.
 */
static int selector_refused(json_t *args, struct diag *d)
{
	const char *which = json_object_get(args, "kind")  ? "kind"
			    : json_object_get(args, "pci") ? "PCI address"
							   : NULL;

	if (!which)
		return 0;
	diag_set(d,
		 "the guest's vfmigrate-agent refused to name a NIC by %s (it predates NIC "
		 "selectors?): NICs that share one MAC cannot be told apart; update "
		 "vfmigrate-agent in the guest",
		 which);
	return -EOPNOTSUPP;
}

/* One command; maps the agent's error class to an errno the core understands. */
static int call(struct agent_vfm *a, const char *cmd, json_t *args, int64_t deadline, json_t **ret,
		int not_found, struct diag *d)
{
	struct diag dd = {{0}};
	int r;

	a->used = true;
	if (!d)
		d = &dd;

	if (!a->c) {
		r = open_client(a, deadline, d);
		if (r < 0) {
			/* The caller names the guest agent and its side; qga_client_connect names
			 * the socket; a connect callback's transport is named here. */
			if (a->connect)
				diag_prefix(d, "%s", a->what);
			return r;
		}
	}
	r = qga_client_call(a->c, cmd, args, deadline, ret, d);
	if (r == -EREMOTEIO) {
		const char *cls = qga_client_last_error_class(a->c);

		if (!strcmp(cls, "DeviceNotFound"))
			return not_found;
		if (!strcmp(cls, "Timeout"))
			return -ETIMEDOUT;
		if (!strcmp(cls, "InvalidState"))
			return -EINVAL;
		if (!strcmp(cls, "InvalidParameter") && selector_refused(args, d) < 0)
			return -EOPNOTSUPP;
		return r;
	}
	if (errno_is_peer_gone(r)) {
		/* The channel is dead (guest rebooted, QEMU gone): reconnect next time. */
		a->c = qga_client_free(a->c);
	}
	return r;
}

static json_t *mac_json(const uint8_t mac[6])
{
	char m[18];

	return json_string(format_mac(mac, m));
}

/* The arguments that name a NIC: "mac", and "kind" and "pci" when the selector has them. */
static int sel_args(json_t *args, const struct nic_sel *s, struct diag *d)
{
	if (!args)
		return -ENOMEM;
	json_object_set_new(args, "mac", mac_json(s->mac));
	if (s->kind != NIC_KIND_ANY) {
		if ((unsigned)s->kind >= _NIC_KIND_MAX) {
			diag_set(d, "bad NIC kind %d", (int)s->kind);
			return -EINVAL;
		}
		json_object_set_new(args, "kind", json_string(nic_kind_to_string(s->kind)));
	}
	if (s->pci[0]) {
		if (!pci_addr_valid(s->pci)) {
			diag_set(d, "bad guest PCI address");
			return -EINVAL;
		}
		json_object_set_new(args, "pci", json_string(s->pci));
	}
	return 0;
}

static int get_text(json_t *o, const char *key, char *dst, size_t n, bool null_ok)
{
	json_t *v = json_object_get(o, key);

	if (null_ok && (!v || json_is_null(v))) {
		dst[0] = '\0';
		return 0;
	}
	if (!json_is_string(v) || json_string_length(v) >= n ||
	    strlen(json_string_value(v)) != json_string_length(v))
		return -EPROTO;
	/* Guest text goes into messages and reports (plan.c prints the mode, for one): no
	 * control characters or escapes past this point. Never longer than its input. */
	str_sanitize(dst, n, json_string_value(v));
	return 0;
}

/* A guest interface name the guest reports: as the kernel makes them (vfnl_ifname_valid). */
static int get_ifname(json_t *o, const char *key, char dst[VFM_IFNAME_MAX])
{
	json_t *v = json_object_get(o, key);

	if (!json_is_string(v) || json_string_length(v) >= VFM_IFNAME_MAX ||
	    strlen(json_string_value(v)) != json_string_length(v) ||
	    !vfnl_ifname_valid(json_string_value(v)))
		return -EPROTO;
	snprintf(dst, VFM_IFNAME_MAX, "%s", json_string_value(v));
	return 0;
}

static int get_mac(json_t *o, const char *key, uint8_t mac[6])
{
	json_t *v = json_object_get(o, key);

	if (!json_is_string(v) || parse_mac(json_string_value(v), mac) < 0)
		return -EPROTO;
	return 0;
}

/* Absent or null (not on PCI, or an older agent): "". Present: the kernel's spelling. */
static int get_pci(json_t *o, const char *key, char dst[VFM_PCI_MAX])
{
	json_t *v = json_object_get(o, key);

	dst[0] = '\0';
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v) || json_string_length(v) >= VFM_PCI_MAX ||
	    strlen(json_string_value(v)) != json_string_length(v) ||
	    !pci_addr_valid(json_string_value(v)))
		return -EPROTO;
	memcpy(dst, json_string_value(v), json_string_length(v) + 1);
	return 0;
}

/* Absent (an agent older than the key): any. Present: one of the words the agent says. */
static int get_kind(json_t *o, const char *key, enum nic_kind *ret)
{
	json_t *v = json_object_get(o, key);

	*ret = NIC_KIND_ANY;
	if (!v)
		return 0;
	if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v))
		return -EPROTO;
	return nic_kind_from_string(json_string_value(v), ret) < 0 ? -EPROTO : 0;
}

/* Absent: def. Present: a boolean. */
static int get_bool(json_t *o, const char *key, bool def, bool *ret)
{
	json_t *v = json_object_get(o, key);

	if (!v) {
		*ret = def;
		return 0;
	}
	if (!json_is_boolean(v))
		return -EPROTO;
	*ret = json_is_true(v);
	return 0;
}

/* Absent (an agent older than the key): unknown. Present: one of the known words. */
static int get_fom(json_t *o, const char *key, enum bond_fom *ret)
{
	json_t *v = json_object_get(o, key);

	if (!v) {
		*ret = BOND_FOM_UNKNOWN;
		return 0;
	}
	if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v))
		return -EPROTO;
	return bond_fom_from_string(json_string_value(v), ret) < 0 ? -EPROTO : 0;
}

static int parse_bond(json_t *r, struct bond_status *ret, struct diag *d)
{
	struct bond_status b = {0};
	json_t *slaves, *s, *act, *mac;
	size_t i;

	if (!json_is_object(r) || get_text(r, "name", b.name, sizeof(b.name), false) < 0 ||
	    get_text(r, "mode", b.mode, sizeof(b.mode), false) < 0 ||
	    get_fom(r, "fail_over_mac", &b.fail_over_mac) < 0)
		goto bad;
	/* The bond's own MAC: absent or null when the agent does not say. */
	mac = json_object_get(r, "mac");
	if (mac && !json_is_null(mac)) {
		if (get_mac(r, "mac", b.mac) < 0)
			goto bad;
		b.has_mac = true;
	}
	act = json_object_get(r, "active");
	if (act && !json_is_null(act)) {
		if (get_mac(r, "active", b.active_mac) < 0)
			goto bad;
		b.has_active = true;
	}
	slaves = json_object_get(r, "slaves");
	if (!json_is_array(slaves))
		goto bad;
	if (json_array_size(slaves) > VFM_BOND_SLAVES_MAX) {
		diag_set(d, "guest-bond-status: more than %d slaves", VFM_BOND_SLAVES_MAX);
		return -E2BIG;
	}
	json_array_foreach (slaves, i, s) {
		struct bond_slave *sl = &b.slaves[b.n_slaves];
		char link[16];

		if (!json_is_object(s) || get_mac(s, "mac", sl->mac) < 0 ||
		    get_text(s, "name", sl->name, sizeof(sl->name), false) < 0 ||
		    get_pci(s, "pci", sl->pci) < 0 || get_kind(s, "kind", &sl->kind) < 0 ||
		    get_text(s, "link", link, sizeof(link), true) < 0)
			goto bad;
		sl->link_up = !strcmp(link, "up");
		/* An agent without the slave's own flag: the one with the active MAC. */
		if (get_bool(s, "active", b.has_active && !memcmp(sl->mac, b.active_mac, 6),
			     &sl->active) < 0)
			goto bad;
		b.n_slaves++;
	}
	*ret = b;
	return 0;
bad:
	diag_set(d, "guest-bond-status: malformed reply");
	return -EPROTO;
}

static int op_ping(void *ud, int64_t deadline, struct diag *d)
{
	return call(ud, "guest-ping", NULL, deadline, NULL, -ENODEV, d);
}

static int op_bond_status(void *ud, const char *bond, int64_t deadline, struct bond_status *ret,
			  struct diag *d)
{
	json_t *args = json_pack("{s:s}", "bond", bond), *r = NULL;
	int rc;

	if (!args)
		return -ENOMEM;
	rc = call(ud, "guest-bond-status", args, deadline, &r, -ENOENT, d);
	json_decref(args);
	if (rc < 0)
		return rc;
	rc = parse_bond(r, ret, d);
	json_decref(r);
	return rc;
}

static int op_bond_create(void *ud, const char *bond, const uint8_t backup_mac[6],
			  const uint8_t *vf_mac, enum bond_fom fail_over_mac, int64_t deadline,
			  struct diag *d)
{
	json_t *slaves, *args;
	int rc;

	/* Always said: the agent's own default (none) is for compatibility only. */
	if (fail_over_mac == BOND_FOM_UNKNOWN || (unsigned)fail_over_mac >= _BOND_FOM_MAX) {
		diag_set(d, "guest-bond-create: no fail_over_mac given");
		return -EINVAL;
	}
	slaves = json_array();
	if (!slaves)
		return -ENOMEM;
	json_array_append_new(slaves, mac_json(backup_mac));
	if (vf_mac)
		json_array_append_new(slaves, mac_json(vf_mac));
	args = json_pack("{s:s,s:o,s:s,s:s}", "bond", bond, "slaves", slaves, "mode",
			 "active-backup", "fail_over_mac", bond_fom_to_string(fail_over_mac));
	if (!args)
		return -ENOMEM;
	if (vf_mac)
		json_object_set_new(args, "primary", mac_json(vf_mac));
	rc = call(ud, "guest-bond-create", args, deadline, NULL, -ENODEV, d);
	json_decref(args);
	return rc;
}

/* A command that names one NIC: args (consumed) gain the selector's fields. */
static int call_nic(void *ud, const char *cmd, json_t *args, const struct nic_sel *nic,
		    int64_t deadline, struct diag *d)
{
	int rc;

	if (!args)
		return -ENOMEM;
	rc = sel_args(args, nic, d);
	if (rc >= 0)
		rc = call(ud, cmd, args, deadline, NULL, -ENODEV, d);
	json_decref(args);
	return rc;
}

static int op_set_active(void *ud, const char *bond, const struct nic_sel *nic, bool make_primary,
			 int64_t deadline, struct diag *d)
{
	return call_nic(ud, "guest-bond-set-active",
			json_pack("{s:s,s:b}", "bond", bond, "primary", make_primary), nic,
			deadline, d);
}

static int op_release(void *ud, const char *bond, const struct nic_sel *nic, int64_t deadline,
		      struct diag *d)
{
	return call_nic(ud, "guest-bond-release", json_pack("{s:s}", "bond", bond), nic, deadline,
			d);
}

static int64_t clamp_timeout(int64_t ms)
{
	return ms < 0 ? 0 : ms > 60000 ? 60000 : ms;
}

static int op_enslave(void *ud, const char *bond, const struct nic_sel *nic,
		      int64_t link_timeout_ms, bool make_active, int64_t deadline, struct diag *d)
{
	return call_nic(ud, "guest-bond-enslave",
			json_pack("{s:s,s:I,s:b}", "bond", bond, "timeout",
				  (json_int_t)clamp_timeout(link_timeout_ms), "active",
				  make_active),
			nic, deadline, d);
}

static int op_link_wait(void *ud, const struct nic_sel *nic, int64_t link_timeout_ms,
			int64_t deadline, struct diag *d)
{
	return call_nic(ud, "guest-link-wait",
			json_pack("{s:I}", "timeout", (json_int_t)clamp_timeout(link_timeout_ms)),
			nic, deadline, d);
}

/* One NIC of a failover status: absent/null = none; else its link from "carrier". */
static int failover_nic(json_t *r, const char *key, bool *ret_has, bool *ret_link)
{
	json_t *v = json_object_get(r, key);

	*ret_has = *ret_link = false;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_object(v))
		return -EPROTO;
	*ret_has = true;
	return get_bool(v, "carrier", false, ret_link);
}

int agent_vfm_parse_failover(json_t *r, struct failover_status *ret, struct diag *d)
{
	struct failover_status st = {0};
	char active[16];

	if (!json_is_object(r) || get_ifname(r, "master", st.master) < 0 ||
	    get_text(r, "active", active, sizeof(active), false) < 0 ||
	    failover_nic(r, "standby", &st.has_standby, &st.standby_link) < 0 ||
	    failover_nic(r, "primary", &st.has_primary, &st.primary_link) < 0 ||
	    (strcmp(active, "primary") != 0 && strcmp(active, "standby") != 0 &&
	     strcmp(active, "none") != 0)) {
		diag_set(d, "guest-failover-status: malformed reply");
		return -EPROTO;
	}
	st.primary_active = strcmp(active, "primary") == 0 && st.has_primary;
	*ret = st;
	return 0;
}

static int op_failover_status(void *ud, const uint8_t mac[6], int64_t primary_wait_ms,
			      int64_t deadline, struct failover_status *ret, struct diag *d)
{
	char m[18];
	json_t *args = json_pack("{s:s,s:I}", "mac", format_mac(mac, m), "timeout",
				 (json_int_t)clamp_timeout(primary_wait_ms)),
	       *r = NULL;
	int rc;

	if (!args)
		return -ENOMEM;
	rc = call(ud, "guest-failover-status", args, deadline, &r, -ENOENT, d);
	json_decref(args);
	if (rc < 0)
		return rc;
	rc = agent_vfm_parse_failover(r, ret, d);
	json_decref(r);
	return rc;
}

void agent_vfm_ops(struct agent_vfm *a, struct agent_ops *ret_ops)
{
	*ret_ops = (struct agent_ops){
	    .userdata = a,
	    .ping = op_ping,
	    .bond_status = op_bond_status,
	    .bond_create = op_bond_create,
	    .set_active = op_set_active,
	    .release = op_release,
	    .enslave = op_enslave,
	    .link_wait = op_link_wait,
	    .failover_status = op_failover_status,
	};
}
