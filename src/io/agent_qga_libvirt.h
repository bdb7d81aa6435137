/* SPDX-License-Identifier: MIT */
/*
 * struct agent_ops over the stock qemu-ga, reached through libvirt's agent API: the fallback
 * for a libvirt guest without vfmigrate-agent's channel. No shell and no guest-exec: the bond
 * is read from /proc/net/bonding/BOND and driven through its sysfs files (slaves, primary,
 * active_slave) with guest-file-open/read/write; NICs are found by MAC with
 * guest-network-get-interfaces (enslaved NICs by their permanent address in the bonding file);
 * the bond's fail_over_mac from the bonding file, its own MAC from /sys/class/net/BOND/address;
 * carrier from /sys/class/net/NAME/carrier, polled. A slave's kind (virtio, vf, other) and
 * PCI address, which tell NICs that share one MAC apart, come from the uevent files of its
 * device (DRIVER, PCI_SLOT_NAME) and, for virtio-net, of the device's parent (the PCI
 * function). Every name that comes from the guest and
 * goes into a path is checked (an interface name: 1-15 of [A-Za-z0-9_.-], not "." or "..").
 *
 * bond_create is not offered (bringing a new bond up needs more than sysfs): -EOPNOTSUPP.
 */
#ifndef VFM_IO_AGENT_QGA_LIBVIRT_H
#define VFM_IO_AGENT_QGA_LIBVIRT_H

#include "core/ops.h"
#include "io/hv_libvirt.h"

struct agent_qgalv;

/* hv: the adapter of the host the guest runs on (borrowed). */
int agent_qgalv_new(struct hv_libvirt *hv, struct agent_qgalv **ret, struct diag *d);
/* Accepts NULL; returns NULL. */
struct agent_qgalv *agent_qgalv_free(struct agent_qgalv *a);
void agent_qgalv_ops(struct agent_qgalv *a, struct agent_ops *ret_ops);

/*
 * Parses the text of /proc/net/bonding/BOND (pure; for tests). -EBADMSG, -E2BIG. The bond's
 * fail_over_mac comes from the "Bonding Mode:" line (none when an active-backup bond's line
 * names none, unknown in other modes); its own MAC is not in that file (has_mac false).
 */
int agent_qgalv_parse_bonding(const char *text, const char *bond, struct bond_status *ret,
			      struct diag *d);

/* Parses /sys/class/net/NAME/address ("aa:bb:cc:dd:ee:ff\n"). -EBADMSG. */
int agent_qgalv_parse_address(const char *text, uint8_t ret_mac[6]);

/*
 * Parses the uevent file of a NIC's device (KEY=VALUE lines; pure, for tests): DRIVER into
 * driver ("" when absent; 1-31 of [A-Za-z0-9_-]) and PCI_SLOT_NAME into pci ("" when absent;
 * else pci_addr_valid()). -EBADMSG on anything else in those keys, a key given twice or a line
 * without '='.
 */
int agent_qgalv_parse_uevent(const char *text, char driver[32], char pci[VFM_PCI_MAX]);

/* Whether s is a plausible interface name to put into a sysfs path. */
bool agent_qgalv_ifname_ok(const char *s);

#endif
