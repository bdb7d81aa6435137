/* SPDX-License-Identifier: MIT */
/*
 * The per-guest config file (/etc/vfmigrate/GUEST.conf or --config FILE): INI-like,
 *
 *   # comment
 *   [guest]
 *   bond = bond0
 *   vf-mac = 52:54:00:12:34:0f
 *   [source]
 *   qmp = /run/vfm/g1-src.qmp
 *   ...
 *   [vf eth1]            # several VFs: one section each (up to VFM_VFS_MAX), instead of
 *   bond = bond1         # [guest] bond/vf-mac/backup-mac/physnet/vlan and [source] vf-*
 *   vf-mac = ...
 *
 * Strict: unknown sections or keys, duplicates, bad values and over-long lines are errors
 * with their line number. The same key table serves command-line overrides
 * ("destination.qmp=/path"). No I/O here: bytes in, struct out.
 */
#ifndef VFM_PROTO_CONFIG_H
#define VFM_PROTO_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../model/vfm.h"
#include "../util/util.h"

#define CONFIG_FILE_MAX	  65536
#define CONFIG_LINE_MAX	  1024
#define CONFIG_PATH_MAX	  108 /* sun_path */
#define CONFIG_POOL_MAX	  16
#define CONFIG_WORD_MAX	  32
#define CONFIG_POOL_SYSFS "sysfs:" /* prefix of a vf-pool entry naming a PF */

struct config_side {
	char qmp[CONFIG_PATH_MAX];   /* QMP unix socket */
	char agent[CONFIG_PATH_MAX]; /* vfmigrate-agent unix socket (virtio-serial chardev) */
	char qga[CONFIG_PATH_MAX];   /* the stock qemu-ga's unix socket: without vfmigrate-agent */
	/* The VF: on the source the one plugged now; on the destination where the new one
	 * goes (empty = same as the source). */
	char vf_device[VFM_ID_MAX];
	char vf_bus[VFM_ID_MAX];
	char vf_driver[VFM_ID_MAX];
	char vf_netdev[VFM_ID_MAX];
	char vf_tap[VFM_ID_MAX]; /* source: the tap backing the current emulated VF */
	/* VF pool on this host: emulated, "tap" or "tap:rootport" (default root port: vf-bus);
	 * or real SR-IOV VFs, "sysfs:PF" or "sysfs:PF:rootport" (never both kinds). */
	char vf_pool[CONFIG_POOL_MAX][VFM_ID_MAX];
	size_t n_vf_pool;
	/* Emulated pool: the host's name for reservations shared under the state dir with every
	 * vfmigrate run on it ("" = they live in the run only). */
	char pool_host[VFM_ID_MAX];
	/* sysfs pool: where sysfs is ("" = /sys; a fake tree in tests). */
	char sysfs_root[CONFIG_PATH_MAX];
	/* source only: the host PCI address of the real VF the guest has now (instead of
	 * vf-tap), "DDDD:BB:DD.F". */
	char vf_host[VFM_PCI_MAX];
	/* destination only */
	char migrate_uri[VFM_URI_MAX];
	char incoming_uri[VFM_URI_MAX];
	bool incoming_defer;
};

/* [libvirt] agent: how vfmigrate reaches vfmigrate-agent on a libvirt guest. */
enum config_agent {
	CONFIG_AGENT_AUTO = 0, /* socket if it exists here, else channel, else qemu-ga */
	CONFIG_AGENT_SOCKET,   /* the channel's UNIX socket, from the domain XML (or the config) */
	CONFIG_AGENT_CHANNEL,  /* the channel through libvirt (virDomainOpenChannel) */
	CONFIG_AGENT_QEMU_GA,  /* the stock qemu-ga through libvirt's agent API */
	_CONFIG_AGENT_MAX,
};

const char *config_agent_to_string(enum config_agent a);

/* One VF of the guest: a [vf NAME] section, or the single VF of the [guest] and [source]
 * keys of a config without one. */
struct config_vf {
	char name[VFM_ID_MAX];
	char bond[VFM_IFNAME_MAX];
	bool has_vf_mac, has_backup_mac;
	uint8_t vf_mac[6];
	uint8_t backup_mac[6];
	char physnet[VFM_ID_MAX];
	int vlan; /* -1 none */
	/* The VF as plugged on the source now (vf-tap: emulated, vf-host: real). */
	char vf_device[VFM_ID_MAX];
	char vf_bus[VFM_ID_MAX];
	char vf_driver[VFM_ID_MAX];
	char vf_netdev[VFM_ID_MAX];
	char vf_tap[VFM_ID_MAX];
	char vf_host[VFM_PCI_MAX];
	/* The destination device id ("" = vf-device). */
	char dst_vf_device[VFM_ID_MAX];
};

struct config {
	/* [guest] */
	char bond[VFM_IFNAME_MAX];
	bool has_vf_mac, has_backup_mac;
	uint8_t vf_mac[6];
	uint8_t backup_mac[6];
	char physnet[VFM_ID_MAX];
	int vlan; /* -1 none */
	bool create_bond;
	enum bond_fom fail_over_mac;   /* what create_bond builds: none, active (default), follow */
	char backend[CONFIG_WORD_MAX]; /* hypervisor backend: "qmp" (default); later "libvirt" */
	char mode[CONFIG_WORD_MAX];    /* "" or auto, bond, failover (plan_mode) */
	/* [source], [destination] */
	struct config_side src, dst;
	/* [migration] */
	int64_t max_bandwidth;	   /* bytes/s, 0 = default */
	int64_t downtime_limit_ms; /* 0 = default */
	/* [timeouts], in ms; 0 = built-in default */
	int64_t t_command, t_unplug, t_unplug_settle, t_migrate, t_alive, t_link;
	/* [libvirt] */
	enum config_agent lv_agent;
	/* [vf NAME] sections, in file order; none: the single VF of [guest] and [source]. */
	size_t n_vfs;
	struct config_vf vfs[VFM_VFS_MAX];
};

/*
 * The guest's VFs as the config describes them: its [vf NAME] sections, or the one VF of the
 * old single-VF keys (named ""), or none. -EINVAL with d when a config mixes the two forms
 * ([guest] vf-mac with [vf] sections).
 */
int config_vfs(const struct config *c, struct config_vf ret[VFM_VFS_MAX], size_t *ret_n,
	       struct diag *d);

void config_init(struct config *c);

/*
 * Parses a config file's text into c (which config_init prepared; keys not in the text keep
 * their values). Returns 0 or -EINVAL with "line N: ..." in d.
 */
int config_parse(struct config *c, const char *buf, size_t len, struct diag *d);

/* Applies one override "section.key=value" (the value may be empty). */
int config_set(struct config *c, const char *assignment, struct diag *d);

/* Whether a side's VF pool is real SR-IOV VFs (its entries are "sysfs:PF[:rootport]"). */
bool config_pool_is_sysfs(const struct config_side *s);

/* Writes the effective config in the file format (every key, canonical order) into buf.
 * Returns the length, or -E2BIG. */
int config_format(const struct config *c, char *buf, size_t n);

#endif
