// SPDX-License-Identifier: MIT
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

enum ctype {
	T_STR,	/* printable, no spaces */
	T_PATH, /* absolute path, printable, no spaces */
	T_MAC,
	T_BOOL,
	T_MS,	       /* duration: "500", "500ms", "10s" */
	T_BYTES_PER_S, /* integer >= 0 */
	T_VLAN,
	T_POOL,	    /* space-separated list of names */
	T_INCOMING, /* "defer" | "listen" */
	T_AGENT,    /* enum config_agent */
	T_PCI,	    /* host PCI address DDDD:BB:DD.F, or empty */
	T_FOM,	    /* enum bond_fom, not unknown */
};

static const char *const agent_names[_CONFIG_AGENT_MAX] = {
    [CONFIG_AGENT_AUTO] = "auto",
    [CONFIG_AGENT_SOCKET] = "socket",
    [CONFIG_AGENT_CHANNEL] = "channel",
    [CONFIG_AGENT_QEMU_GA] = "qemu-ga",
};

const char *config_agent_to_string(enum config_agent a)
{
	return (unsigned)a < _CONFIG_AGENT_MAX ? agent_names[a] : "unknown";
}

struct ckey {
	const char *section;
	const char *key;
	enum ctype type;
	size_t off;
	size_t size;
	size_t has_off; /* T_MAC: offset of its bool; 0 = none */
	const char *help;
};

#define F(field)     offsetof(struct config, field), sizeof(((struct config *)0)->field)
#define S(side, fld) offsetof(struct config, side.fld), sizeof(((struct config *)0)->side.fld)
#define SIDE(sec, sd)                                                                           \
	{sec, "qmp", T_PATH, S(sd, qmp), 0, "QMP socket"},                                      \
	    {sec, "agent", T_PATH, S(sd, agent), 0, "guest agent socket"},                      \
	    {sec, "qga", T_PATH, S(sd, qga), 0, "stock qemu-ga socket"},                        \
	    {sec, "vf-device", T_STR, S(sd, vf_device), 0, "VF device id"},                     \
	    {sec, "vf-bus", T_STR, S(sd, vf_bus), 0, "VF root port id"},                        \
	    {sec, "vf-driver", T_STR, S(sd, vf_driver), 0, "VF device driver"},                 \
	    {sec, "vf-netdev", T_STR, S(sd, vf_netdev), 0, "VF netdev id"},                     \
	    {sec, "vf-tap", T_STR, S(sd, vf_tap), 0, "tap backing the VF"},                     \
	    {sec, "vf-pool", T_POOL, offsetof(struct config, sd.vf_pool), 0, 0, "VF pool"},     \
	    {sec, "pool-host", T_STR, S(sd, pool_host), 0, "host name of shared reservations"}, \
	{                                                                                       \
		sec, "sysfs-root", T_PATH, S(sd, sysfs_root), 0, "sysfs for the VF pool"        \
	}

static const struct ckey keys[] = {
    {"guest", "bond", T_STR, F(bond), 0, "bond name in the guest"},
    {"guest", "vf-mac", T_MAC, F(vf_mac), offsetof(struct config, has_vf_mac), "VF MAC"},
    {"guest", "backup-mac", T_MAC, F(backup_mac), offsetof(struct config, has_backup_mac),
     "virtio MAC"},
    {"guest", "physnet", T_STR, F(physnet), 0, "VF pool network"},
    {"guest", "vlan", T_VLAN, F(vlan), 0, "VLAN of the VF"},
    {"guest", "create-bond", T_BOOL, F(create_bond), 0, "create the bond if missing"},
    {"guest", "fail-over-mac", T_FOM, F(fail_over_mac), 0, "none|active|follow"},
    {"guest", "backend", T_STR, F(backend), 0, "hypervisor backend"},
    {"guest", "mode", T_STR, F(mode), 0, "auto|bond|failover"},
    SIDE("source", src),
    {"source", "vf-host", T_PCI, S(src, vf_host), 0, "host PCI address of the VF"},
    SIDE("destination", dst),
    {"destination", "migrate-uri", T_STR, S(dst, migrate_uri), 0, "migration URI"},
    {"destination", "incoming-uri", T_STR, S(dst, incoming_uri), 0, "listen URI"},
    {"destination", "incoming", T_INCOMING, S(dst, incoming_defer), 0, "defer|listen"},
    {"migration", "max-bandwidth", T_BYTES_PER_S, F(max_bandwidth), 0, "bytes/s"},
    {"migration", "downtime-limit", T_MS, F(downtime_limit_ms), 0, "max downtime"},
    {"timeouts", "command", T_MS, F(t_command), 0, NULL},
    {"timeouts", "unplug", T_MS, F(t_unplug), 0, NULL},
    {"timeouts", "unplug-settle", T_MS, F(t_unplug_settle), 0, NULL},
    {"timeouts", "migrate", T_MS, F(t_migrate), 0, NULL},
    {"timeouts", "alive", T_MS, F(t_alive), 0, NULL},
    {"timeouts", "link", T_MS, F(t_link), 0, NULL},
    {"libvirt", "agent", T_AGENT, F(lv_agent), 0, "auto|socket|channel|qemu-ga"},
};

#define V(field) offsetof(struct config_vf, field), sizeof(((struct config_vf *)0)->field)

/* The keys of a [vf NAME] section, at offsets in struct config_vf. */
static const struct ckey vf_keys[] = {
    {"vf", "bond", T_STR, V(bond), 0, "bond name in the guest"},
    {"vf", "vf-mac", T_MAC, V(vf_mac), offsetof(struct config_vf, has_vf_mac), "VF MAC"},
    {"vf", "backup-mac", T_MAC, V(backup_mac), offsetof(struct config_vf, has_backup_mac),
     "virtio MAC"},
    {"vf", "physnet", T_STR, V(physnet), 0, "VF pool network"},
    {"vf", "vlan", T_VLAN, V(vlan), 0, "VLAN of the VF"},
    {"vf", "vf-device", T_STR, V(vf_device), 0, "source VF device id"},
    {"vf", "vf-bus", T_STR, V(vf_bus), 0, "source VF root port id"},
    {"vf", "vf-driver", T_STR, V(vf_driver), 0, "VF device driver"},
    {"vf", "vf-netdev", T_STR, V(vf_netdev), 0, "source VF netdev id"},
    {"vf", "vf-tap", T_STR, V(vf_tap), 0, "tap backing the source VF"},
    {"vf", "vf-host", T_PCI, V(vf_host), 0, "host PCI address of the source VF"},
    {"vf", "destination-vf-device", T_STR, V(dst_vf_device), 0, "destination device id"},
};

static void config_vf_init(struct config_vf *v)
{
	memset(v, 0, sizeof(*v));
	v->vlan = -1;
}

void config_init(struct config *c)
{
	memset(c, 0, sizeof(*c));
	c->vlan = -1;
	c->fail_over_mac = BOND_FOM_ACTIVE;
	snprintf(c->backend, sizeof(c->backend), "qmp");
	snprintf(c->mode, sizeof(c->mode), "auto");
}

static bool word_ok(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f || *s == '"' ||
		    *s == '\\')
			return false;
	return true;
}

static int parse_ms(const char *v, int64_t *ret)
{
	int64_t mult = 1, x;
	char num[32];
	size_t n = strlen(v);

	if (n >= 2 && strcmp(v + n - 2, "ms") == 0)
		n -= 2;
	else if (n >= 1 && v[n - 1] == 's') {
		mult = 1000;
		n -= 1;
	}
	if (n == 0 || n >= sizeof(num))
		return -EINVAL;
	memcpy(num, v, n);
	num[n] = '\0';
	if (parse_int64(num, 0, INT64_MAX / 1000 / 1000, &x) < 0)
		return -EINVAL;
	if (x > 86400000 / mult) /* a day */
		return -ERANGE;
	*ret = x * mult;
	return 0;
}

static int set_value(void *c, const struct ckey *k, const char *v, struct diag *d)
{
	char *base = c;
	size_t len = strlen(v);
	int64_t x;

	switch (k->type) {
	case T_STR:
	case T_PATH:
		if (len >= k->size) {
			diag_set(d, "%s.%s: value longer than %zu bytes", k->section, k->key,
				 k->size - 1);
			return -EINVAL;
		}
		if (!word_ok(v)) {
			diag_set(d, "%s.%s: value must be printable ASCII without spaces or quotes",
				 k->section, k->key);
			return -EINVAL;
		}
		if (k->type == T_PATH && len > 0 && v[0] != '/') {
			diag_set(d, "%s.%s: must be an absolute path", k->section, k->key);
			return -EINVAL;
		}
		memcpy(base + k->off, v, len + 1);
		return 0;
	case T_MAC:
		if (len == 0) {
			*(bool *)(base + k->has_off) = false;
			return 0;
		}
		if (parse_mac(v, (uint8_t *)(base + k->off)) < 0) {
			diag_set(d, "%s.%s: not a MAC address (aa:bb:cc:dd:ee:ff)", k->section,
				 k->key);
			return -EINVAL;
		}
		*(bool *)(base + k->has_off) = true;
		return 0;
	case T_BOOL:
		if (!strcmp(v, "yes") || !strcmp(v, "true") || !strcmp(v, "1"))
			*(bool *)(base + k->off) = true;
		else if (!strcmp(v, "no") || !strcmp(v, "false") || !strcmp(v, "0"))
			*(bool *)(base + k->off) = false;
		else {
			diag_set(d, "%s.%s: expected yes or no", k->section, k->key);
			return -EINVAL;
		}
		return 0;
	case T_MS:
		if (parse_ms(v, &x) < 0) {
			diag_set(d, "%s.%s: expected a duration (500ms, 10s) up to a day",
				 k->section, k->key);
			return -EINVAL;
		}
		*(int64_t *)(base + k->off) = x;
		return 0;
	case T_BYTES_PER_S:
		if (parse_int64(v, 0, INT64_MAX, &x) < 0) {
			diag_set(d, "%s.%s: expected a non-negative integer", k->section, k->key);
			return -EINVAL;
		}
		*(int64_t *)(base + k->off) = x;
		return 0;
	case T_VLAN:
		if (!strcmp(v, "none") || len == 0)
			x = -1;
		else if (parse_int64(v, 0, 4094, &x) < 0) {
			diag_set(d, "%s.%s: expected 0..4094 or none", k->section, k->key);
			return -EINVAL;
		}
		*(int *)(base + k->off) = (int)x;
		return 0;
	case T_INCOMING:
		if (!strcmp(v, "defer"))
			*(bool *)(base + k->off) = true;
		else if (!strcmp(v, "listen"))
			*(bool *)(base + k->off) = false;
		else {
			diag_set(d, "%s.%s: expected defer or listen", k->section, k->key);
			return -EINVAL;
		}
		return 0;
	case T_AGENT:
		for (int i = 0; i < _CONFIG_AGENT_MAX; i++)
			if (!strcmp(v, agent_names[i])) {
				*(enum config_agent *)(base + k->off) = (enum config_agent)i;
				return 0;
			}
		diag_set(d, "%s.%s: expected auto, socket, channel or qemu-ga", k->section, k->key);
		return -EINVAL;
	case T_FOM: {
		enum bond_fom f;

		if (bond_fom_from_string(v, &f) < 0 || f == BOND_FOM_UNKNOWN) {
			diag_set(d, "%s.%s: expected none, active or follow", k->section, k->key);
			return -EINVAL;
		}
		*(enum bond_fom *)(base + k->off) = f;
		return 0;
	}
	case T_PCI: {
		static const char pat[] = "xxxx:xx:xx.x";
		bool ok = len == 0 || len == sizeof(pat) - 1;

		for (size_t i = 0; ok && len && pat[i]; i++)
			ok = pat[i] == 'x'
				 ? ((v[i] >= '0' && v[i] <= '9') || (v[i] >= 'a' && v[i] <= 'f'))
				 : v[i] == pat[i];
		if (!ok) {
			diag_set(d, "%s.%s: expected a PCI address DDDD:BB:DD.F (lower-case hex)",
				 k->section, k->key);
			return -EINVAL;
		}
		memcpy(base + k->off, v, len + 1);
		return 0;
	}
	case T_POOL: {
		struct config_side *s =
		    (struct config_side *)(base + k->off - offsetof(struct config_side, vf_pool));
		char tmp[CONFIG_LINE_MAX], *save = NULL, *tok;
		size_t n = 0;
		bool n_sysfs = false; /* the kind of the entries so far */

		if (len >= sizeof(tmp)) {
			diag_set(d, "%s.%s: value too long", k->section, k->key);
			return -EINVAL;
		}
		memcpy(tmp, v, len + 1);
		for (tok = strtok_r(tmp, " \t,", &save); tok; tok = strtok_r(NULL, " \t,", &save)) {
			if (n == CONFIG_POOL_MAX) {
				diag_set(d, "%s.%s: more than %d entries", k->section, k->key,
					 CONFIG_POOL_MAX);
				return -EINVAL;
			}
			bool sysfs = !strncmp(tok, CONFIG_POOL_SYSFS, strlen(CONFIG_POOL_SYSFS));
			const char *name = sysfs ? tok + strlen(CONFIG_POOL_SYSFS) : tok;
			const char *colon = strchr(name, ':');
			size_t tl = colon ? (size_t)(colon - name) : strlen(name);

			if (tl == 0 || tl >= VFM_IFNAME_MAX || strlen(tok) >= VFM_ID_MAX ||
			    !word_ok(tok) || strchr(tok, '/') ||
			    (colon && strchr(colon + 1, ':')) || (colon && !colon[1]) ||
			    (tl <= 2 && name[0] == '.' && name[tl - 1] == '.')) {
				char clean[24];

				/* -o values come from the command line: keep escapes out. */
				str_sanitize(clean, sizeof(clean), tok);
				diag_set(d,
					 "%s.%s: \"%s\" is not tap, tap:rootport, sysfs:PF or "
					 "sysfs:PF:rootport",
					 k->section, k->key, clean);
				return -EINVAL;
			}
			if (n > 0 && sysfs != n_sysfs) {
				diag_set(d, "%s.%s: sysfs:PF and tap entries cannot be mixed",
					 k->section, k->key);
				return -EINVAL;
			}
			n_sysfs = sysfs;
			n++;
		}
		memcpy(tmp, v, len + 1);
		save = NULL;
		s->n_vf_pool = 0;
		for (tok = strtok_r(tmp, " \t,", &save); tok; tok = strtok_r(NULL, " \t,", &save))
			snprintf(s->vf_pool[s->n_vf_pool++], VFM_ID_MAX, "%s", tok);
		return 0;
	}
	}
	return -EINVAL;
}

static const struct ckey *find_key(const char *section, const char *key)
{
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
		if (!strcmp(keys[i].section, section) && !strcmp(keys[i].key, key))
			return &keys[i];
	return NULL;
}

static bool section_known(const char *s)
{
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
		if (!strcmp(keys[i].section, s))
			return true;
	return false;
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

/* A [vf NAME] header: the next VF, NAME [A-Za-z0-9_.-]{1,24}, unique. */
static int vf_section(struct config *c, const char *name, unsigned lineno, struct diag *d)
{
	size_t n = strlen(name);

	if (n == 0 || n > 24 ||
	    strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			 "0123456789_.-") != n) {
		diag_set(d, "line %u: [vf NAME]: NAME must be 1 to 24 of A-Z a-z 0-9 _ . -",
			 lineno);
		return -EINVAL;
	}
	for (size_t i = 0; i < c->n_vfs; i++)
		if (!strcmp(c->vfs[i].name, name)) {
			diag_set(d, "line %u: [vf %s] given twice", lineno, name);
			return -EINVAL;
		}
	if (c->n_vfs == VFM_VFS_MAX) {
		diag_set(d, "line %u: more than %d [vf] sections", lineno, VFM_VFS_MAX);
		return -EINVAL;
	}
	config_vf_init(&c->vfs[c->n_vfs]);
	snprintf(c->vfs[c->n_vfs].name, VFM_ID_MAX, "%s", name);
	c->n_vfs++;
	return 0;
}

static const struct ckey *find_vf_key(const char *key)
{
	for (size_t i = 0; i < ARRAY_SIZE(vf_keys); i++)
		if (!strcmp(vf_keys[i].key, key))
			return &vf_keys[i];
	return NULL;
}

int config_parse(struct config *c, const char *buf, size_t len, struct diag *d)
{
	char section[CONFIG_WORD_MAX] = "";
	bool seen[ARRAY_SIZE(keys)] = {false}, vf_seen[ARRAY_SIZE(vf_keys)] = {false};
	struct config_vf *vf = NULL; /* in a [vf NAME] section */
	size_t off = 0;
	unsigned lineno = 0;
	struct config tmp = *c;

	if (len > CONFIG_FILE_MAX) {
		diag_set(d, "config of %zu bytes exceeds the limit of %d", len, CONFIG_FILE_MAX);
		return -EFBIG;
	}
	if (memchr(buf, '\0', len)) {
		diag_set(d, "config contains a NUL byte");
		return -EINVAL;
	}
	while (off < len) {
		const char *nl = memchr(buf + off, '\n', len - off);
		size_t l = nl ? (size_t)(nl - (buf + off)) : len - off;
		char line[CONFIG_LINE_MAX + 1], *s, *eq, *key, *val;
		const struct ckey *k;
		struct diag vd = {0};

		lineno++;
		if (l > CONFIG_LINE_MAX) {
			diag_set(d, "line %u: longer than %d bytes", lineno, CONFIG_LINE_MAX);
			return -EINVAL;
		}
		memcpy(line, buf + off, l);
		line[l] = '\0';
		off += l + (nl ? 1 : 0);
		s = trim(line);
		if (*s == '\0' || *s == '#' || *s == ';')
			continue;
		if (*s == '[') {
			char *e = strchr(s, ']');

			if (!e || e[1] != '\0' || (size_t)(e - s - 1) >= sizeof(section)) {
				diag_set(d, "line %u: malformed section header", lineno);
				return -EINVAL;
			}
			*e = '\0';
			vf = NULL;
			if (!strncmp(s + 1, "vf ", 3)) {
				if (vf_section(&tmp, s + 4, lineno, d) < 0)
					return -EINVAL;
				vf = &tmp.vfs[tmp.n_vfs - 1];
				memset(vf_seen, 0, sizeof(vf_seen));
				snprintf(section, sizeof(section), "vf");
				continue;
			}
			if (!section_known(s + 1)) {
				char clean[CONFIG_WORD_MAX];

				str_sanitize(clean, sizeof(clean), s + 1);
				diag_set(d, "line %u: unknown section [%s]", lineno, clean);
				return -EINVAL;
			}
			snprintf(section, sizeof(section), "%s", s + 1);
			continue;
		}
		eq = strchr(s, '=');
		if (!eq) {
			diag_set(d, "line %u: expected key = value", lineno);
			return -EINVAL;
		}
		*eq = '\0';
		key = trim(s);
		val = trim(eq + 1);
		if (!section[0]) {
			diag_set(d, "line %u: key outside a [section]", lineno);
			return -EINVAL;
		}
		k = vf ? find_vf_key(key) : find_key(section, key);
		if (!k) {
			char clean[64];

			str_sanitize(clean, sizeof(clean), key);
			diag_set(d, "line %u: unknown key \"%s\" in [%s%s%s]", lineno, clean,
				 section, vf ? " " : "", vf ? vf->name : "");
			return -EINVAL;
		}
		if (vf ? vf_seen[k - vf_keys] : seen[k - keys]) {
			diag_set(d, "line %u: %s.%s given twice", lineno, vf ? vf->name : section,
				 key);
			return -EINVAL;
		}
		if (vf)
			vf_seen[k - vf_keys] = true;
		else
			seen[k - keys] = true;
		if (set_value(vf ? (void *)vf : (void *)&tmp, k, val, &vd) < 0) {
			diag_set(d, "line %u: %s", lineno, vd.msg);
			return -EINVAL;
		}
	}
	*c = tmp;
	return 0;
}

int config_set(struct config *c, const char *assignment, struct diag *d)
{
	char sec[CONFIG_WORD_MAX], key[CONFIG_WORD_MAX];
	const char *dot = strchr(assignment, '.'), *eq = strchr(assignment, '=');
	const struct ckey *k;

	if (!dot || !eq || dot > eq || (size_t)(dot - assignment) >= sizeof(sec) ||
	    (size_t)(eq - dot - 1) >= sizeof(key)) {
		diag_set(d, "override must be section.key=value");
		return -EINVAL;
	}
	memcpy(sec, assignment, (size_t)(dot - assignment));
	sec[dot - assignment] = '\0';
	memcpy(key, dot + 1, (size_t)(eq - dot - 1));
	key[eq - dot - 1] = '\0';
	k = find_key(sec, key);
	if (!k) {
		char clean[80];

		str_sanitize(clean, sizeof(clean), assignment);
		diag_set(d, "unknown config key in \"%s\"", clean);
		return -EINVAL;
	}
	if (strlen(eq + 1) >= CONFIG_LINE_MAX) {
		diag_set(d, "%s.%s: value too long", sec, key);
		return -EINVAL;
	}
	return set_value(c, k, eq + 1, d);
}

static int format_value(const void *c, const struct ckey *k, char *buf, size_t n)
{
	const char *base = c;
	char mac[18];

	switch (k->type) {
	case T_STR:
	case T_PATH:
		return snprintf(buf, n, "%s", base + k->off);
	case T_MAC:
		if (!*(const bool *)(base + k->has_off))
			return snprintf(buf, n, "%s", "");
		return snprintf(buf, n, "%s", format_mac((const uint8_t *)(base + k->off), mac));
	case T_BOOL:
		return snprintf(buf, n, "%s", *(const bool *)(base + k->off) ? "yes" : "no");
	case T_MS: {
		int64_t v = *(const int64_t *)(base + k->off);

		if (v && v % 1000 == 0)
			return snprintf(buf, n, "%llds", (long long)(v / 1000));
		return snprintf(buf, n, "%lldms", (long long)v);
	}
	case T_BYTES_PER_S:
		return snprintf(buf, n, "%lld", (long long)*(const int64_t *)(base + k->off));
	case T_VLAN: {
		int v = *(const int *)(base + k->off);

		return v < 0 ? snprintf(buf, n, "none") : snprintf(buf, n, "%d", v);
	}
	case T_INCOMING:
		return snprintf(buf, n, "%s", *(const bool *)(base + k->off) ? "defer" : "listen");
	case T_PCI:
		return snprintf(buf, n, "%s", base + k->off);
	case T_FOM:
		return snprintf(buf, n, "%s",
				bond_fom_to_string(*(const enum bond_fom *)(base + k->off)));
	case T_AGENT:
		return snprintf(
		    buf, n, "%s",
		    config_agent_to_string(*(const enum config_agent *)(base + k->off)));
	case T_POOL: {
		const struct config_side *s =
		    (const struct config_side *)(base + k->off -
						 offsetof(struct config_side, vf_pool));
		size_t o = 0;

		buf[0] = '\0';
		for (size_t i = 0; i < s->n_vf_pool && o < n; i++)
			o += (size_t)snprintf(buf + o, n - o, "%s%s", i ? " " : "", s->vf_pool[i]);
		return (int)o;
	}
	}
	return -EINVAL;
}

bool config_pool_is_sysfs(const struct config_side *s)
{
	return s->n_vf_pool > 0 &&
	       !strncmp(s->vf_pool[0], CONFIG_POOL_SYSFS, strlen(CONFIG_POOL_SYSFS));
}

int config_format(const struct config *c, char *buf, size_t n)
{
	const char *section = "";
	size_t o = 0;

	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		char val[CONFIG_LINE_MAX];
		int k;

		if (strcmp(section, keys[i].section) != 0) {
			section = keys[i].section;
			k = snprintf(buf + o, n - o, "%s[%s]\n", o ? "\n" : "", section);
			if (k < 0 || (size_t)k >= n - o)
				return -E2BIG;
			o += (size_t)k;
		}
		if (format_value(c, &keys[i], val, sizeof(val)) < 0)
			return -EINVAL;
		k = snprintf(buf + o, n - o, "%s = %s\n", keys[i].key, val);
		if (k < 0 || (size_t)k >= n - o)
			return -E2BIG;
		o += (size_t)k;
	}
	for (size_t v = 0; v < c->n_vfs; v++) {
		int k = snprintf(buf + o, n - o, "\n[vf %s]\n", c->vfs[v].name);

		if (k < 0 || (size_t)k >= n - o)
			return -E2BIG;
		o += (size_t)k;
		for (size_t i = 0; i < ARRAY_SIZE(vf_keys); i++) {
			char val[CONFIG_LINE_MAX];

			if (format_value(&c->vfs[v], &vf_keys[i], val, sizeof(val)) < 0)
				return -EINVAL;
			k = snprintf(buf + o, n - o, "%s = %s\n", vf_keys[i].key, val);
			if (k < 0 || (size_t)k >= n - o)
				return -E2BIG;
			o += (size_t)k;
		}
	}
	return (int)o;
}

int config_vfs(const struct config *c, struct config_vf ret[VFM_VFS_MAX], size_t *ret_n,
	       struct diag *d)
{
	struct config_vf *v = &ret[0];

	if (c->n_vfs) {
		if (c->has_vf_mac || c->has_backup_mac || c->bond[0] || c->src.vf_device[0] ||
		    c->src.vf_tap[0] || c->src.vf_host[0]) {
			diag_set(d,
				 "config has [vf NAME] sections and the single VF's keys ([guest] "
				 "bond, vf-mac, backup-mac, [source] vf-device, vf-tap, vf-host): "
				 "describe every VF in its [vf] section");
			return -EINVAL;
		}
		memcpy(ret, c->vfs, c->n_vfs * sizeof(*ret));
		/* The host pools' network is [guest] physnet: a VF that names none is on it. */
		for (size_t i = 0; i < c->n_vfs; i++)
			if (!ret[i].physnet[0])
				snprintf(ret[i].physnet, sizeof(ret[i].physnet), "%s", c->physnet);
		*ret_n = c->n_vfs;
		return 0;
	}
	*ret_n = 0;
	if (!c->has_vf_mac)
		return 0;
	config_vf_init(v);
	snprintf(v->bond, sizeof(v->bond), "%s", c->bond);
	v->has_vf_mac = true;
	memcpy(v->vf_mac, c->vf_mac, 6);
	v->has_backup_mac = c->has_backup_mac;
	memcpy(v->backup_mac, c->backup_mac, 6);
	snprintf(v->physnet, sizeof(v->physnet), "%s", c->physnet);
	v->vlan = c->vlan;
	snprintf(v->vf_device, sizeof(v->vf_device), "%s", c->src.vf_device);
	snprintf(v->vf_bus, sizeof(v->vf_bus), "%s", c->src.vf_bus);
	snprintf(v->vf_driver, sizeof(v->vf_driver), "%s", c->src.vf_driver);
	snprintf(v->vf_netdev, sizeof(v->vf_netdev), "%s", c->src.vf_netdev);
	snprintf(v->vf_tap, sizeof(v->vf_tap), "%s", c->src.vf_tap);
	snprintf(v->vf_host, sizeof(v->vf_host), "%s", c->src.vf_host);
	snprintf(v->dst_vf_device, sizeof(v->dst_vf_device), "%s", c->dst.vf_device);
	*ret_n = 1;
	return 0;
}
