/* SPDX-License-Identifier: MIT */
/*
 * vfmigrate's data model: the limits, the plug spec of a VF, migration parameters, tuning and
 * statistics, a guest bond's status. Plain data and their names, no behaviour and no I/O.
 *
 * It sits at the bottom, above util only, because every layer speaks it: the codecs in proto/
 * (the config file, the journal, libvirt XML) decode into it, the core's interfaces (core/ops.h)
 * take and return it, the adapters in io/ fill it and the CLI prints it. Kept apart from
 * core/ops.h so that a codec can name a plug spec without depending on the core.
 *
 * Strings are NUL-terminated fixed arrays: whoever fills one from a peer's value that is too
 * long fails (-E2BIG/-EPROTO) instead of truncating an identifier.
 */
#ifndef VFM_MODEL_VFM_H
#define VFM_MODEL_VFM_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define VFM_ID_MAX	    64 /* device ids, bus/root port ids, netdev ids, physnet names */
#define VFM_IFNAME_MAX	    16 /* a Linux interface name with its NUL (IFNAMSIZ) */
#define VFM_PCI_MAX	    32 /* "0000:3b:02.1" or a guest PCI path */
#define VFM_URI_MAX	    256
#define VFM_STATUS_MAX	    32 /* hypervisor status words: "running", "completed", ... */
#define VFM_BOND_SLAVES_MAX 8
#define VFM_VFS_MAX	    4 /* VFs of one guest that one run migrates */

/* ------------------------------------------------------------------------------------------ */
/* Hypervisor side: what a probe finds, what is plugged, how a migration runs.                 */

enum hv_incoming {
	HV_INCOMING_NONE = 0,  /* not waiting for an incoming migration */
	HV_INCOMING_LISTENING, /* started with -incoming URI: ready */
	HV_INCOMING_DEFERRED,  /* started with -incoming defer: needs migrate_incoming() */
};

struct hv_probe {
	/* The hypervisor's run state word, verbatim ("running", "paused", "inmigrate", ...). */
	char status[VFM_STATUS_MAX];
	bool running; /* vCPUs are running */
	enum hv_incoming incoming;
};

enum plug_backend {
	PLUG_BACKEND_TAP = 0, /* emulated VF: netdev_add tap(ifname=backend) + device_add */
	PLUG_BACKEND_HOSTDEV, /* real VF: vfio-pci host=backend (a host PCI address) */
};

/* Everything needed to hot-plug one VF into a guest, and to find it again to unplug it. */
struct plug_spec {
	char device_id[VFM_ID_MAX]; /* QEMU device id / libvirt alias; required */
	char driver[VFM_ID_MAX];    /* "e1000e" (lab), "vfio-pci" */
	char bus[VFM_ID_MAX];	    /* root port id, e.g. "rp1" */
	uint8_t mac[6];
	bool has_mac;
	enum plug_backend backend_kind;
	char backend[VFM_ID_MAX]; /* tap ifname (TAP) or host PCI address (HOSTDEV) */
	/* TAP: the netdev id to create before device_add and remove after the device is gone;
	 * empty = the adapter derives one from device_id. */
	char netdev_id[VFM_ID_MAX];
	int vlan; /* -1 = none; used by vfpool handoff, not by the hypervisor */
	/* QEMU failover: the id of the virtio-net NIC (failover=on) this VF is the hidden
	 * primary of; "" = none. Plugged with it (device_add failover_pair_id). */
	char failover_pair_id[VFM_ID_MAX];
};

struct migrate_params {
	char uri[VFM_URI_MAX]; /* where the source sends, e.g. "tcp:10.0.0.2:4444", "unix:/p" */
	/* Destination started with -incoming defer: the URI it listens on; empty = same as uri. */
	char incoming_uri[VFM_URI_MAX];
	int64_t max_bandwidth;	   /* bytes/s; 0 = leave the hypervisor's default */
	int64_t downtime_limit_ms; /* 0 = leave the hypervisor's default */
	/*
	 * Failover mode: the destination VFs (the pool's reservations, each with its
	 * failover_pair_id; device_id names the source's VF it replaces). A hypervisor that
	 * defines the guest on the destination itself (libvirt) puts each in the destination's
	 * definition in place of that VF, and the destination QEMU plugs them once the guest
	 * arrived; bare QEMU ignores them (the plug step plugs them). None in bond mode, where
	 * the VFs are unplugged before the migration and left out of it.
	 */
	size_t n_failover_vfs;
	struct plug_spec failover_vfs[VFM_VFS_MAX];
};

/* A source's own migration tuning, kept between migrations by the hypervisor (QMP
 * migrate-set-parameters). -1 = unknown / leave alone. */
struct migrate_tuning {
	int64_t max_bandwidth;	   /* bytes/s */
	int64_t downtime_limit_ms; /* ms */
};

struct migrate_stats {
	char status[VFM_STATUS_MAX]; /* verbatim: "active", "completed", "failed", ... */
	int64_t total_ms;	     /* -1 = unknown */
	int64_t downtime_ms;	     /* -1 = unknown */
	int64_t setup_ms;	     /* -1 = unknown */
	uint64_t transferred_bytes;
	uint64_t remaining_bytes;
	uint64_t total_bytes; /* guest RAM */
	uint64_t dirty_sync_count;
};

/* ------------------------------------------------------------------------------------------ */
/* Guest side: the bond the VF and its virtio backup are slaves of. NICs are known by MAC.     */

/*
 * What a guest NIC is, as the guest sees it: how NICs that carry one MAC are told apart
 * (net_failover's layout: the virtio NIC configured with the VF's MAC). The words are the
 * agent protocol's "kind".
 */
enum nic_kind {
	NIC_KIND_ANY = 0, /* a selector: any; a status: not reported (an older agent) */
	NIC_KIND_VIRTIO,  /* the virtio-net driver */
	NIC_KIND_VF,	  /* any other driver of a PCI function: a VF, the lab's e1000e */
	NIC_KIND_OTHER,	  /* neither */
	_NIC_KIND_MAX,
};

static inline const char *nic_kind_to_string(enum nic_kind k)
{
	static const char *const names[_NIC_KIND_MAX] = {
	    [NIC_KIND_ANY] = "any",
	    [NIC_KIND_VIRTIO] = "virtio",
	    [NIC_KIND_VF] = "vf",
	    [NIC_KIND_OTHER] = "other",
	};

	return (unsigned)k < _NIC_KIND_MAX ? names[k] : "any";
}

/* The words the agent reports ("any" is not one of them); -EINVAL otherwise. */
static inline int nic_kind_from_string(const char *s, enum nic_kind *ret)
{
	for (int i = NIC_KIND_VIRTIO; i < _NIC_KIND_MAX; i++)
		if (strcmp(s, nic_kind_to_string((enum nic_kind)i)) == 0) {
			*ret = (enum nic_kind)i;
			return 0;
		}
	return -EINVAL;
}

/* Names one guest NIC: its permanent MAC and, where NICs share it, its kind and/or its PCI
 * address as the guest sees it. */
struct nic_sel {
	uint8_t mac[6];
	enum nic_kind kind;    /* NIC_KIND_ANY: any */
	char pci[VFM_PCI_MAX]; /* "": any; else pci_addr_valid() */
};

struct bond_slave {
	uint8_t mac[6]; /* permanent MAC of the NIC */
	char name[VFM_IFNAME_MAX];
	bool link_up;
	bool active;	       /* the bond's active slave */
	char pci[VFM_PCI_MAX]; /* guest PCI address, empty for non-PCI or not reported */
	enum nic_kind kind;    /* NIC_KIND_ANY: not reported */
};

/*
 * A bond's fail_over_mac (active-backup mode): which MAC each slave carries. It decides
 * whether a VF whose MAC its PF sets (it cannot change it from inside the guest) can be a
 * slave at all, and with which MAC (see vfmigrate(8), MAC MODEL).
 */
enum bond_fom {
	BOND_FOM_UNKNOWN = 0, /* not reported (an older agent) or not readable */
	BOND_FOM_NONE,	      /* every slave is given the bond's MAC */
	BOND_FOM_ACTIVE,      /* slaves keep their own MACs; the bond's follows the active one */
	BOND_FOM_FOLLOW,      /* the active slave is given the bond's MAC: MACs swap on failover */
	_BOND_FOM_MAX,
};

/* Inline: core, the adapters and the config codec all use these and link separately. */
static inline const char *bond_fom_to_string(enum bond_fom f)
{
	static const char *const names[_BOND_FOM_MAX] = {
	    [BOND_FOM_UNKNOWN] = "unknown",
	    [BOND_FOM_NONE] = "none",
	    [BOND_FOM_ACTIVE] = "active",
	    [BOND_FOM_FOLLOW] = "follow",
	};

	return (unsigned)f < _BOND_FOM_MAX ? names[f] : "unknown";
}

/* The word as the kernel and the agent spell it ("unknown" included); -EINVAL otherwise. */
static inline int bond_fom_from_string(const char *s, enum bond_fom *ret)
{
	for (int i = 0; i < _BOND_FOM_MAX; i++)
		if (strcmp(s, bond_fom_to_string((enum bond_fom)i)) == 0) {
			*ret = (enum bond_fom)i;
			return 0;
		}
	return -EINVAL;
}

struct bond_status {
	char name[VFM_IFNAME_MAX];
	char mode[VFM_STATUS_MAX]; /* verbatim, e.g. "active-backup" */
	enum bond_fom fail_over_mac;
	bool has_mac;
	uint8_t mac[6]; /* the bond's own current MAC, valid when has_mac */
	bool has_active;
	uint8_t active_mac[6]; /* valid when has_active */
	size_t n_slaves;
	struct bond_slave slaves[VFM_BOND_SLAVES_MAX];
};

/*
 * The guest kernel's net_failover (QEMU failover=on): a master NIC over a virtio-net standby
 * and, while the VF is there, the VF as primary, all three on one MAC. The master sends on the
 * primary while it is up with carrier, else on the standby.
 */
struct failover_status {
	char master[VFM_IFNAME_MAX];
	bool has_standby;
	bool standby_link;
	bool has_primary;
	bool primary_link;
	bool primary_active; /* the master sends on the primary */
};

#endif
