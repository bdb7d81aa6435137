// SPDX-License-Identifier: MIT
#include "agent_qga.h"
#include "agent_qga_impl.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "io/qga_client.h"

#define FILE_READ_MAX 65536
#define POLL_MS	      100

struct agent_qga {
	struct qga_transport t;
};

int agent_qga_new(const struct qga_transport *t, struct agent_qga **ret, struct diag *d)
{
	struct agent_qga *a = calloc(1, sizeof(*a));

	(void)d;
	if (!a)
		return -ENOMEM;
	a->t = *t;
	*ret = a;
	return 0;
}

struct agent_qga *agent_qga_free(struct agent_qga *a)
{
	if (a && a->t.free)
		a->t.free(a->t.userdata);
	free(a);
	return NULL;
}

/* The stock qemu-ga's own UNIX socket (a QEMU chardev), one qga_client, connected on first
 * use and again after the peer hung up. */
struct qga_socket {
	char path[108]; /* sun_path */
	struct qga_client *c;
	bool used;
};

static int socket_call(void *ud, const char *cmd, json_t *args, int64_t deadline, json_t **ret,
		       struct diag *d)
{
	struct qga_socket *s = ud;
	int r;

	s->used = true;
	if (!s->c) {
		r = qga_client_connect(s->path, deadline, &s->c, d);
		if (r < 0) {
			json_decref(args);
			diag_prefix(d, "qemu-ga %s", s->path);
			return r;
		}
	}
	r = qga_client_call(s->c, cmd, args, deadline, ret, d);
	json_decref(args);
	if (errno_is_peer_gone(r))
		s->c = qga_client_free(s->c);
	return r;
}

static void socket_free(void *ud)
{
	struct qga_socket *s = ud;

	if (s)
		qga_client_free(s->c);
	free(s);
}

int agent_qga_new_socket(const char *path, struct agent_qga **ret, struct diag *d)
{
	struct qga_socket *s;
	struct qga_transport t = {.call = socket_call, .free = socket_free};
	int r;

	if (!path[0] || strlen(path) >= sizeof(s->path)) {
		diag_set(d, "bad qemu-ga socket path");
		return -EINVAL;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	snprintf(s->path, sizeof(s->path), "%s", path);
	t.userdata = s;
	r = agent_qga_new(&t, ret, d);
	if (r < 0)
		socket_free(s);
	return r;
}

bool agent_qga_socket_used(const struct agent_qga *a)
{
	return a && a->t.call == socket_call && ((struct qga_socket *)a->t.userdata)->used;
}

bool agent_qga_ifname_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= VFM_IFNAME_MAX || !strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || strchr("_.-", *s)))
			return false;
	return true;
}

/* One qemu-ga command; args is consumed (may be NULL). *ret: new reference to "return". */
static int qga(struct agent_qga *a, const char *cmd, json_t *args, int64_t deadline, json_t **ret,
	       struct diag *d)
{
	json_t *rv = NULL;
	int r = a->t.call(a->t.userdata, cmd, args, deadline, &rv, d);

	if (r < 0) {
		diag_prefix(d, "%s", cmd);
		return r;
	}
	if (!rv) {
		diag_set(d, "%s: reply without return", cmd);
		return -EBADMSG;
	}
	if (ret)
		*ret = rv;
	else
		json_decref(rv);
	return 0;
}

/* guest-file-open: the handle, or -errno (-EBADMSG when the reply holds none). */
static int guest_file_open(struct agent_qga *a, const char *path, const char *mode,
			   int64_t deadline, json_int_t *ret_handle, struct diag *d)
{
	json_t *h = NULL;
	int r;

	r = qga(a, "guest-file-open", json_pack("{ssss}", "path", path, "mode", mode), deadline, &h,
		d);
	if (r < 0)
		return r;
	if (!json_is_integer(h)) {
		json_decref(h);
		diag_set(d, "guest-file-open: bad handle");
		return -EBADMSG;
	}
	*ret_handle = json_integer_value(h);
	json_decref(h);
	return 0;
}

/* Reads a small guest file. -ENOENT when it cannot be opened (d says why). */
static int file_read(struct agent_qga *a, const char *path, int64_t deadline, char **ret,
		     struct diag *d)
{
	json_t *rd = NULL;
	json_int_t handle;
	char *out = NULL;
	size_t len = 0;
	int r;

	r = guest_file_open(a, path, "r", deadline, &handle, d);
	if (r < 0)
		return r == -EIO || r == -EINVAL || r == -EREMOTEIO ? -ENOENT : r;
	r = qga(a, "guest-file-read", json_pack("{sIsi}", "handle", handle, "count", FILE_READ_MAX),
		deadline, &rd, d);
	if (r >= 0) {
		const char *b64 = json_string_value(json_object_get(rd, "buf-b64"));

		if (!b64 || qga_base64_decode(b64, FILE_READ_MAX, &out, &len) < 0) {
			diag_set(d, "guest-file-read: bad data");
			r = -EBADMSG;
		}
	}
	json_decref(rd);
	(void)qga(a, "guest-file-close", json_pack("{sI}", "handle", handle), deadline, NULL,
		  &(struct diag){{0}});
	if (r < 0) {
		free(out);
		return r;
	}
	*ret = out;
	return 0;
}

/* Writes text to a guest (sysfs) file. */
static int file_write(struct agent_qga *a, const char *path, const char *text, int64_t deadline,
		      struct diag *d)
{
	_cleanup_free_ char *b64 = qga_base64_encode(text);
	json_int_t handle;
	int r, rc;

	if (!b64)
		return -ENOMEM;
	r = guest_file_open(a, path, "w", deadline, &handle, d);
	if (r < 0)
		return r;
	r = qga(a, "guest-file-write", json_pack("{sIss}", "handle", handle, "buf-b64", b64),
		deadline, NULL, d);
	/* sysfs reports a refused value at close (flush). */
	rc = qga(a, "guest-file-close", json_pack("{sI}", "handle", handle), deadline, NULL,
		 r < 0 ? &(struct diag){{0}} : d);
	if (r >= 0 && rc < 0)
		r = rc;
	if (r < 0)
		diag_prefix(d, "writing \"%.32s\" to %s", text, path);
	return r;
}

/*
 * "Bonding Mode: fault-tolerance (active-backup) (fail_over_mac active)": the mode is the
 * first parenthesized word; the kernel adds the second group only in active-backup mode and
 * only when fail_over_mac is not none. -EBADMSG on a fail_over_mac word it does not know.
 */
static int parse_mode(const char *val, struct bond_status *b)
{
	const char *open = strchr(val, '('), *close = open ? strchr(open, ')') : NULL;
	static const char tag[] = "(fail_over_mac ";
	const char *f = strstr(val, tag);

	if (open && close && close > open + 1 && open != f)
		snprintf(b->mode, sizeof(b->mode), "%.*s", (int)(close - open - 1), open + 1);
	else
		snprintf(b->mode, sizeof(b->mode), "%.31s", val);
	b->fail_over_mac = BOND_FOM_UNKNOWN;
	if (f) {
		const char *w = f + sizeof(tag) - 1, *end = strchr(w, ')');
		char word[16];

		if (!end || end == w || (size_t)(end - w) >= sizeof(word))
			return -EBADMSG;
		snprintf(word, sizeof(word), "%.*s", (int)(end - w), w);
		if (bond_fom_from_string(word, &b->fail_over_mac) < 0 ||
		    b->fail_over_mac == BOND_FOM_UNKNOWN)
			return -EBADMSG;
	} else if (strcmp(b->mode, "active-backup") == 0) {
		b->fail_over_mac = BOND_FOM_NONE;
	}
	return 0;
}

int agent_qga_parse_address(const char *text, uint8_t ret_mac[6])
{
	char buf[18];
	size_t n = strlen(text);

	if (n > 0 && text[n - 1] == '\n')
		n--;
	if (n != 17)
		return -EBADMSG;
	memcpy(buf, text, 17);
	buf[17] = '\0';
	return parse_mac(buf, ret_mac) < 0 ? -EBADMSG : 0;
}

int agent_qga_parse_bonding(const char *text, const char *bond, struct bond_status *ret,
			    struct diag *d)
{
	struct bond_status b = {0};
	char active[VFM_IFNAME_MAX] = "";
	struct bond_slave *cur = NULL;
	const char *line = text;
	bool seen_mode = false;

	snprintf(b.name, sizeof(b.name), "%s", bond);
	while (line && *line) {
		const char *nl = strchr(line, '\n');
		size_t l = nl ? (size_t)(nl - line) : strlen(line);
		char buf[256], val[200];

		snprintf(buf, sizeof(buf), "%.*s", (int)(l < sizeof(buf) - 1 ? l : sizeof(buf) - 1),
			 line);
		line = nl ? nl + 1 : NULL;
		if (sscanf(buf, "Bonding Mode: %199[^\n]", val) == 1) {
			seen_mode = true;
			if (parse_mode(val, &b) < 0)
				goto bad;
		} else if (sscanf(buf, "Currently Active Slave: %199s", val) == 1) {
			if (strcmp(val, "None") != 0) {
				if (!agent_qga_ifname_ok(val))
					goto bad;
				snprintf(active, sizeof(active), "%s", val);
			}
		} else if (sscanf(buf, "Slave Interface: %199s", val) == 1) {
			if (b.n_slaves == VFM_BOND_SLAVES_MAX) {
				diag_set(d, "bond %s has more than %d slaves", bond,
					 VFM_BOND_SLAVES_MAX);
				return -E2BIG;
			}
			if (!agent_qga_ifname_ok(val))
				goto bad;
			cur = &b.slaves[b.n_slaves++];
			snprintf(cur->name, sizeof(cur->name), "%s", val);
		} else if (cur && sscanf(buf, "MII Status: %199s", val) == 1) {
			cur->link_up = strcmp(val, "up") == 0;
		} else if (cur && sscanf(buf, "Permanent HW addr: %199s", val) == 1) {
			if (parse_mac(val, cur->mac) < 0)
				goto bad;
		}
	}
	if (!seen_mode)
		goto bad;
	for (size_t i = 0; active[0] && i < b.n_slaves; i++)
		if (!strcmp(b.slaves[i].name, active)) {
			b.has_active = true;
			b.slaves[i].active = true;
			memcpy(b.active_mac, b.slaves[i].mac, 6);
		}
	*ret = b;
	return 0;
bad:
	diag_set(d, "/proc/net/bonding/%s: unexpected content", bond);
	return -EBADMSG;
}

static int path_for(char *buf, size_t n, const char *fmt, const char *name, struct diag *d);

int agent_qga_parse_uevent(const char *text, char driver[32], char pci[VFM_PCI_MAX])
{
	bool seen_driver = false, seen_pci = false;
	const char *line = text;

	driver[0] = pci[0] = '\0';
	while (*line) {
		const char *nl = strchr(line, '\n'), *eq = strchr(line, '=');
		size_t l = nl ? (size_t)(nl - line) : strlen(line);
		const char *val = eq + 1;
		size_t vl;

		if (!eq || eq >= line + l)
			return -EBADMSG;
		vl = l - (size_t)(val - line);
		if (!strncmp(line, "DRIVER=", 7)) {
			if (seen_driver || vl == 0 || vl >= 32)
				return -EBADMSG;
			for (size_t i = 0; i < vl; i++)
				if (!((val[i] >= 'a' && val[i] <= 'z') ||
				      (val[i] >= 'A' && val[i] <= 'Z') ||
				      (val[i] >= '0' && val[i] <= '9') || val[i] == '_' ||
				      val[i] == '-'))
					return -EBADMSG;
			memcpy(driver, val, vl);
			driver[vl] = '\0';
			seen_driver = true;
		} else if (!strncmp(line, "PCI_SLOT_NAME=", 14)) {
			char buf[VFM_PCI_MAX];

			if (seen_pci || vl >= sizeof(buf))
				return -EBADMSG;
			memcpy(buf, val, vl);
			buf[vl] = '\0';
			if (!pci_addr_valid(buf))
				return -EBADMSG;
			memcpy(pci, buf, vl + 1);
			seen_pci = true;
		}
		if (!nl)
			break;
		line = nl + 1;
	}
	return 0;
}

/*
 * A NIC's kind and PCI address from its device's uevent file (virtio-net: the driver
 * virtio_net on a virtio device, whose parent is the PCI function). A NIC without a device is
 * NIC_KIND_OTHER.
 */
static int nic_ident(struct agent_qga *a, const char *name, int64_t deadline,
		     enum nic_kind *ret_kind, char ret_pci[VFM_PCI_MAX], struct diag *d)
{
	_cleanup_free_ char *text = NULL, *parent = NULL;
	char path[128], driver[32], pci[VFM_PCI_MAX], pdrv[32];
	int r;

	r = path_for(path, sizeof(path), "/sys/class/net/%s/device/uevent", name, d);
	if (r < 0)
		return r;
	r = file_read(a, path, deadline, &text, d);
	if (r == -ENOENT) {
		*ret_kind = NIC_KIND_OTHER;
		ret_pci[0] = '\0';
		return 0;
	}
	if (r < 0)
		return r;
	if (agent_qga_parse_uevent(text, driver, pci) < 0)
		goto bad;
	if (!strcmp(driver, "virtio_net")) {
		/* The kernel resolves ".." after the device link: the virtio device's parent. */
		snprintf(path, sizeof(path), "/sys/class/net/%s/device/../uevent", name);
		r = file_read(a, path, deadline, &parent, d);
		if (r < 0 && r != -ENOENT)
			return r;
		if (r >= 0 && agent_qga_parse_uevent(parent, pdrv, pci) < 0)
			goto bad;
		*ret_kind = NIC_KIND_VIRTIO;
	} else {
		*ret_kind = pci[0] ? NIC_KIND_VF : NIC_KIND_OTHER;
	}
	memcpy(ret_pci, pci, sizeof(pci));
	return 0;
bad:
	diag_set(d, "%s: unexpected content", path);
	return -EBADMSG;
}

/* Whether NIC name is what sel says beside the MAC (read only when sel says more). */
static int nic_matches(struct agent_qga *a, const char *name, const struct nic_sel *sel,
		       int64_t deadline, bool *ret, struct diag *d)
{
	enum nic_kind kind;
	char pci[VFM_PCI_MAX];
	int r;

	if (sel->kind == NIC_KIND_ANY && !sel->pci[0]) {
		*ret = true;
		return 0;
	}
	r = nic_ident(a, name, deadline, &kind, pci, d);
	if (r < 0)
		return r;
	*ret = (sel->kind == NIC_KIND_ANY || sel->kind == kind) &&
	       (!sel->pci[0] || !strcmp(sel->pci, pci));
	return 0;
}

static const char *sel_text(const struct nic_sel *s, char buf[static 64])
{
	char m[18];

	snprintf(buf, 64, "MAC %s%s%s%s%s", format_mac(s->mac, m),
		 s->kind != NIC_KIND_ANY ? " kind " : "",
		 s->kind != NIC_KIND_ANY ? nic_kind_to_string(s->kind) : "",
		 s->pci[0] ? " pci " : "", s->pci);
	return buf;
}

static int path_for(char *buf, size_t n, const char *fmt, const char *name, struct diag *d)
{
	if (!agent_qga_ifname_ok(name)) {
		char clean[40];

		str_sanitize(clean, sizeof(clean), name);
		diag_set(d, "bad interface name \"%s\"", clean);
		return -EINVAL;
	}
	snprintf(buf, n, fmt, name);
	return 0;
}

/* The bonding file only: what the bond commands below need. */
static int bond_read(struct agent_qga *a, const char *bond, int64_t deadline,
		     struct bond_status *ret, struct diag *d)
{
	_cleanup_free_ char *text = NULL;
	char path[128];
	int r;

	r = path_for(path, sizeof(path), "/proc/net/bonding/%s", bond, d);
	if (r < 0)
		return r;
	r = file_read(a, path, deadline, &text, d);
	if (r == -ENOENT) {
		diag_set(d, "bond %s not found in the guest", bond);
		return -ENOENT;
	}
	if (r < 0)
		return r;
	return agent_qga_parse_bonding(text, bond, ret, d);
}

static int lv_bond_status(void *ud, const char *bond, int64_t deadline, struct bond_status *ret,
			  struct diag *d)
{
	struct agent_qga *a = ud;
	_cleanup_free_ char *addr = NULL;
	struct bond_status b;
	char path[128];
	int r;

	r = bond_read(a, bond, deadline, &b, d);
	if (r < 0)
		return r;
	for (size_t i = 0; i < b.n_slaves; i++) {
		r = nic_ident(a, b.slaves[i].name, deadline, &b.slaves[i].kind, b.slaves[i].pci, d);
		if (r < 0)
			return r;
	}
	/* The bonding file does not show the bond's own MAC; its sysfs address does. A file
	 * that cannot be opened leaves it unknown (the core refuses when it needs it). */
	snprintf(path, sizeof(path), "/sys/class/net/%s/address", bond);
	r = file_read(a, path, deadline, &addr, d);
	if (r >= 0) {
		if (agent_qga_parse_address(addr, b.mac) < 0) {
			diag_set(d, "%s: unexpected content", path);
			return -EBADMSG;
		}
		b.has_mac = true;
	} else if (r != -ENOENT) {
		return r;
	}
	*ret = b;
	return 0;
}

static int lv_ping(void *ud, int64_t deadline, struct diag *d)
{
	return qga(ud, "guest-ping", NULL, deadline, NULL, d);
}

static int lv_bond_create(void *ud, const char *bond, const uint8_t backup_mac[6],
			  const uint8_t *vf_mac, enum bond_fom fail_over_mac, int64_t deadline,
			  struct diag *d)
{
	(void)ud;
	(void)backup_mac;
	(void)vf_mac;
	(void)fail_over_mac;
	(void)deadline;
	diag_set(d, "creating bond %s needs vfmigrate-agent (qemu-ga fallback)", bond);
	return -EOPNOTSUPP;
}

/* The slave sel names (*ret NULL: none); -EINVAL when several match. */
static int slave_by_sel(struct agent_qga *a, const struct bond_status *b, const struct nic_sel *sel,
			int64_t deadline, const struct bond_slave **ret, struct diag *d)
{
	const struct bond_slave *hit = NULL;
	char t[64];

	for (size_t i = 0; i < b->n_slaves; i++) {
		bool ok;
		int r;

		if (memcmp(b->slaves[i].mac, sel->mac, 6) != 0)
			continue;
		r = nic_matches(a, b->slaves[i].name, sel, deadline, &ok, d);
		if (r < 0)
			return r;
		if (!ok)
			continue;
		if (hit) {
			diag_set(d, "several slaves of %s match %s", b->name, sel_text(sel, t));
			return -EINVAL;
		}
		hit = &b->slaves[i];
	}
	*ret = hit;
	return 0;
}

/* The slave of bond that sel names (*ret NULL: none), read afresh into *b. */
static int slave_now(struct agent_qga *a, const char *bond, const struct nic_sel *sel,
		     int64_t deadline, struct bond_status *b, const struct bond_slave **ret,
		     struct diag *d)
{
	int r = bond_read(a, bond, deadline, b, d);

	return r < 0 ? r : slave_by_sel(a, b, sel, deadline, ret, d);
}

static int lv_set_active(void *ud, const char *bond, const struct nic_sel *nic, bool make_primary,
			 int64_t deadline, struct diag *d)
{
	struct bond_status b;
	const struct bond_slave *s;
	char path[128], t[64];
	int r;

	r = slave_now(ud, bond, nic, deadline, &b, &s, d);
	if (r < 0)
		return r;
	if (!s) {
		diag_set(d, "no slave with %s in %s", sel_text(nic, t), bond);
		return -ENODEV;
	}
	snprintf(path, sizeof(path), "/sys/class/net/%s/bonding/primary", bond);
	r = file_write(ud, path, make_primary ? s->name : "\n", deadline, d);
	if (r < 0)
		return r;
	snprintf(path, sizeof(path), "/sys/class/net/%s/bonding/active_slave", bond);
	return file_write(ud, path, s->name, deadline, d);
}

static int lv_release(void *ud, const char *bond, const struct nic_sel *nic, int64_t deadline,
		      struct diag *d)
{
	struct bond_status b;
	const struct bond_slave *s;
	char path[128], cmd[VFM_IFNAME_MAX + 2];
	int r;

	r = slave_now(ud, bond, nic, deadline, &b, &s, d);
	if (r < 0)
		return r;
	if (!s)
		return 0; /* not a slave: nothing to release */
	snprintf(path, sizeof(path), "/sys/class/net/%s/bonding/slaves", bond);
	snprintf(cmd, sizeof(cmd), "-%s", s->name);
	return file_write(ud, path, cmd, deadline, d);
}

/*
 * The name of the NIC sel names among those outside bond b (not the bond itself, not its
 * slaves: under fail_over_mac=none they all carry the bond's MAC); -ENODEV when none, -EINVAL
 * when several match.
 */
static int nic_by_sel(struct agent_qga *a, const struct bond_status *b, const struct nic_sel *sel,
		      int64_t deadline, char name[VFM_IFNAME_MAX], struct diag *d)
{
	json_t *ifs = NULL, *e;
	size_t i;
	char t[64];
	int r;

	r = qga(a, "guest-network-get-interfaces", NULL, deadline, &ifs, d);
	if (r < 0)
		return r;
	r = -ENODEV;
	json_array_foreach (ifs, i, e) {
		const char *n = json_string_value(json_object_get(e, "name"));
		const char *hw = json_string_value(json_object_get(e, "hardware-address"));
		bool ok, slave = false;
		uint8_t m[6];
		int k;

		if (!n || !hw || parse_mac(hw, m) < 0 || memcmp(m, sel->mac, 6) != 0 ||
		    !agent_qga_ifname_ok(n) || !strcmp(n, b->name))
			continue;
		for (size_t j = 0; j < b->n_slaves; j++)
			slave = slave || !strcmp(n, b->slaves[j].name);
		if (slave)
			continue;
		k = nic_matches(a, n, sel, deadline, &ok, d);
		if (k < 0) {
			r = k;
			break;
		}
		if (!ok)
			continue;
		if (r == 0) {
			diag_set(d, "several NICs match %s", sel_text(sel, t));
			r = -EINVAL;
			break;
		}
		snprintf(name, VFM_IFNAME_MAX, "%s", n);
		r = 0;
	}
	json_decref(ifs);
	return r;
}

/* Waits for carrier on NIC name until until_ms. */
static int carrier_wait(struct agent_qga *a, const char *name, int64_t until_ms, int64_t deadline,
			struct diag *d)
{
	char path[128];

	snprintf(path, sizeof(path), "/sys/class/net/%s/carrier", name);
	for (;;) {
		_cleanup_free_ char *v = NULL;
		int r = file_read(a, path, deadline, &v, d);

		if (r < 0 && r != -ENOENT)
			return r;
		if (r >= 0 && v[0] == '1')
			return 0;
		if (time_now_ms() + POLL_MS >= until_ms) {
			diag_set(d, "no carrier on %s in time", name);
			return -ETIMEDOUT;
		}
		usleep(POLL_MS * 1000);
	}
}

/*
 * Waits until the bond itself sees slave name's link up (its "MII Status", which follows the
 * carrier at the next miimon tick, after any updelay): the kernel refuses to make a slave
 * whose link it thinks down the active one.
 */
static int bond_link_wait(struct agent_qga *a, const char *bond, const char *name, int64_t until_ms,
			  int64_t deadline, struct diag *d)
{
	for (;;) {
		struct bond_status b;
		int r = bond_read(a, bond, deadline, &b, d);

		if (r < 0)
			return r;
		for (size_t i = 0; i < b.n_slaves; i++)
			if (!strcmp(b.slaves[i].name, name) && b.slaves[i].link_up)
				return 0;
		if (time_now_ms() + POLL_MS >= until_ms) {
			diag_set(d, "bond %s does not see the link of %s up in time", bond, name);
			return -ETIMEDOUT;
		}
		usleep(POLL_MS * 1000);
	}
}

static int lv_enslave(void *ud, const char *bond, const struct nic_sel *nic,
		      int64_t link_timeout_ms, bool make_active, int64_t deadline, struct diag *d)
{
	struct agent_qga *a = ud;
	int64_t until = time_now_ms() + link_timeout_ms;
	char name[VFM_IFNAME_MAX] = "", path[128], cmd[VFM_IFNAME_MAX + 2];
	struct bond_status b;
	int r;

	if (until > deadline)
		until = deadline;
	for (;;) {
		const struct bond_slave *s;

		r = slave_now(a, bond, nic, deadline, &b, &s, d);
		if (r < 0)
			return r;
		if (s) {
			snprintf(name, sizeof(name), "%s", s->name);
			break;
		}
		r = nic_by_sel(a, &b, nic, deadline, name, d);
		if (r == 0) {
			snprintf(path, sizeof(path), "/sys/class/net/%s/bonding/slaves", bond);
			snprintf(cmd, sizeof(cmd), "+%s", name);
			r = file_write(a, path, cmd, deadline, d);
			if (r < 0)
				return r;
			break;
		}
		if (r != -ENODEV)
			return r;
		if (time_now_ms() + POLL_MS >= until) {
			char t[64];

			diag_set(d, "no NIC with %s appeared in the guest", sel_text(nic, t));
			return -ETIMEDOUT;
		}
		usleep(POLL_MS * 1000);
	}
	r = carrier_wait(a, name, until, deadline, d);
	if (r < 0 || !make_active)
		return r;
	r = bond_link_wait(a, bond, name, until, deadline, d);
	if (r < 0)
		return r;
	return lv_set_active(a, bond, nic, true, deadline, d);
}

static int lv_link_wait(void *ud, const struct nic_sel *nic, int64_t link_timeout_ms,
			int64_t deadline, struct diag *d)
{
	struct agent_qga *a = ud;
	int64_t until = time_now_ms() + link_timeout_ms;
	struct bond_status none = {0};
	char name[VFM_IFNAME_MAX];
	int r = nic_by_sel(a, &none, nic, deadline, name, d);

	if (r < 0)
		return r;
	return carrier_wait(a, name, until < deadline ? until : deadline, deadline, d);
}

void agent_qga_ops(struct agent_qga *a, struct agent_ops *ret_ops)
{
	*ret_ops = (struct agent_ops){
	    .userdata = a,
	    .ping = lv_ping,
	    .bond_status = lv_bond_status,
	    .bond_create = lv_bond_create,
	    .set_active = lv_set_active,
	    .release = lv_release,
	    .enslave = lv_enslave,
	    .link_wait = lv_link_wait,
	    .failover_status = agent_qga_failover_status,
	};
}

/* For agent_qga_failover.c (agent_qga_impl.h). */
int agent_qga_cmd(struct agent_qga *a, const char *cmd, json_t *args, int64_t deadline,
		  json_t **ret, struct diag *d)
{
	return qga(a, cmd, args, deadline, ret, d);
}

int agent_qga_read(struct agent_qga *a, const char *path, int64_t deadline, char **ret,
		   struct diag *d)
{
	return file_read(a, path, deadline, ret, d);
}

int agent_qga_nic_ident(struct agent_qga *a, const char *name, int64_t deadline,
			enum nic_kind *ret_kind, struct diag *d)
{
	char pci[VFM_PCI_MAX];

	return nic_ident(a, name, deadline, ret_kind, pci, d);
}
