/* SPDX-License-Identifier: MIT */
/*
 * struct vfpool_ops for real SR-IOV VFs on the machine vfmigrate runs on: the VFs of one or
 * more physical functions (PF netdevs), found in sysfs, bound to vfio-pci for QEMU, with their
 * MAC and VLAN set on the PF over rtnetlink.
 *
 *   sysfs (below options.sysfs_root, "/sys" by default):
 *     class/net/PF/device/sriov_numvfs, class/net/PF/device/virtfnN -> ../DDDD:BB:DD.F
 *     bus/pci/devices/BDF/driver (link), bus/pci/devices/BDF/driver_override,
 *     bus/pci/drivers/DRIVER/unbind, bus/pci/drivers_probe
 *   rtnetlink: RTM_SETLINK / RTM_GETLINK on the PF (src/proto/vfnl.h)
 *   reservations: one marker file per VF, options.state_dir/vfpool/BDF, created with O_EXCL
 *     (two vfmigrate runs never take the same VF), holding the MAC it was reserved for.
 *
 * A VF is free when (a) it has no marker, (b) it is not bound to vfio-pci (it is on its net
 * driver, or on none: a VF on vfio-pci without our marker belongs to someone else, e.g.
 * libvirt or a guest started by hand), (c) no driver_override is set on it (someone is
 * binding it), (d) a driver it is on is a network driver (it has a netdev: a VF parked on
 * pci-stub or another non-network driver is someone's), (e) it has an IOMMU group (else
 * vfio-pci cannot take it: the IOMMU is off), and (f) the PF lists it over rtnetlink (its MAC
 * can be set). probe fails with -ENOSPC, saying why of each VF, when none is free.
 *
 * Paths are built only from the config (root, PF names) and from kernel-given names checked
 * against strict patterns (PCI addresses, driver names); every read is bounded, every wait has
 * the caller's deadline. The unbind from vfio-pci runs in a child process: the kernel blocks
 * it for as long as a user (QEMU) holds the device, and vfmigrate must not hang on that.
 */
#ifndef VFM_VFPOOL_SYSFS_H
#define VFM_VFPOOL_SYSFS_H

#include <stddef.h>

#include "core/ops.h"

#define VFPOOL_SYSFS_PFS_MAX  16
#define VFPOOL_SYSFS_PATH_MAX 256

/* A netlink socket, as the pool uses it (tests script a fake one). */
struct vfpool_sysfs_nl {
	void *userdata;
	/* Sends one request. */
	int (*send)(void *ud, const void *buf, size_t len, struct diag *d);
	/* Receives one datagram (at most cap bytes; -EMSGSIZE when it was longer), waiting until
	 * deadline_ms (-ETIMEDOUT). */
	int (*recv)(void *ud, void *buf, size_t cap, size_t *ret_len, int64_t deadline_ms,
		    struct diag *d);
};

/* Tests: called after each sysfs write the pool made (path relative to the root, the value
 * written), so a fake tree can do what the kernel would. */
typedef void (*vfpool_sysfs_write_hook)(void *ud, const char *relpath, const char *value);

struct vfpool_sysfs_options {
	char sysfs_root[VFPOOL_SYSFS_PATH_MAX]; /* "" = "/sys" */
	char state_dir[VFPOOL_SYSFS_PATH_MAX];	/* required: markers go to state_dir/vfpool/ */
	char driver[VFM_ID_MAX];		/* plug spec driver; "" = "vfio-pci" */
	/* How often the driver link is looked at while waiting for a bind; 0 = 10 ms. The
	 * kernel has no event for it short of a uevent socket, and binds vfio-pci within the
	 * drivers_probe write, so the first look normally sees it. */
	int64_t bind_poll_ms;
	/* NULL send = a NETLINK_ROUTE socket opened at the first use. */
	struct vfpool_sysfs_nl nl;
	vfpool_sysfs_write_hook after_write;
	void *hook_userdata;
};

struct vfpool_sysfs;

int vfpool_sysfs_new(const struct vfpool_sysfs_options *o, struct vfpool_sysfs **ret,
		     struct diag *d);
/* Accepts NULL; returns NULL. */
struct vfpool_sysfs *vfpool_sysfs_free(struct vfpool_sysfs *p);

/*
 * Adds a PF: its netdev name (checked as the kernel checks names) and the root port id its
 * VFs are plugged into in the guest ("" = the caller's default). -EINVAL on a bad name,
 * -EEXIST when the PF is in the pool already, -ENOSPC past VFPOOL_SYSFS_PFS_MAX. Nothing is
 * read here: a PF that does not exist fails at probe/reserve with its name.
 */
int vfpool_sysfs_add_pf(struct vfpool_sysfs *p, const char *pf, const char *bus, struct diag *d);

void vfpool_sysfs_ops(struct vfpool_sysfs *p, struct vfpool_ops *ret_ops);

/* "DDDD:BB:DD.F" in lower-case hex, as the kernel names PCI functions. */
bool vfpool_sysfs_pci_addr_valid(const char *s);

#endif
