/* SPDX-License-Identifier: MIT */
/*
 * struct agent_ops over the stock qemu-ga: the fallback for a guest without vfmigrate-agent,
 * reached through libvirt's agent API (a transport hv_libvirt provides) or, for QEMU driven
 * over QMP, through qemu-ga's own UNIX socket (agent_qga_new_socket). No shell and no guest-exec:
 * the bond is read from /proc/net/bonding/BOND and driven through its sysfs files (slaves, primary,
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
#ifndef VFM_IO_AGENT_QGA_H
#define VFM_IO_AGENT_QGA_H

#include <jansson.h>

#include "core/ops.h"

struct agent_qga;

/* How one qemu-ga command reaches the guest. */
struct qga_transport {
	void *userdata;
	/*
	 * Runs cmd with args (consumed; may be NULL) before the deadline; *ret: a new reference
	 * to the reply's "return" (the reply parsed strictly, with size and depth limits).
	 * -errno with d filled; -EREMOTEIO when the agent answered with an error.
	 */
	int (*call)(void *userdata, const char *cmd, json_t *args, int64_t deadline_ms,
		    json_t **ret, struct diag *d);
	void (*free)(void *userdata); /* may be NULL */
};

/* Over any transport (copied; the adapter frees its userdata with its free). */
int agent_qga_new(const struct qga_transport *t, struct agent_qga **ret, struct diag *d);
/* Over qemu-ga's UNIX socket at path, connected on first use (and again after a hang-up). */
int agent_qga_new_socket(const char *path, struct agent_qga **ret, struct diag *d);
/* Whether a socket adapter has been used (tried) yet: for the report. */
bool agent_qga_socket_used(const struct agent_qga *a);
/* Accepts NULL; returns NULL. */
struct agent_qga *agent_qga_free(struct agent_qga *a);
void agent_qga_ops(struct agent_qga *a, struct agent_ops *ret_ops);

/*
 * Parses the text of /proc/net/bonding/BOND (pure; for tests). -EBADMSG, -E2BIG. The bond's
 * fail_over_mac comes from the "Bonding Mode:" line (none when an active-backup bond's line
 * names none, unknown in other modes); its own MAC is not in that file (has_mac false).
 */
int agent_qga_parse_bonding(const char *text, const char *bond, struct bond_status *ret,
			    struct diag *d);

/* Parses /sys/class/net/NAME/address ("aa:bb:cc:dd:ee:ff\n"). -EBADMSG. */
int agent_qga_parse_address(const char *text, uint8_t ret_mac[6]);

/*
 * Parses the uevent file of a NIC's device (KEY=VALUE lines; pure, for tests): DRIVER into
 * driver ("" when absent; 1-31 of [A-Za-z0-9_-]) and PCI_SLOT_NAME into pci ("" when absent;
 * else pci_addr_valid()). -EBADMSG on anything else in those keys, a key given twice or a line
 * without '='.
 */
int agent_qga_parse_uevent(const char *text, char driver[32], char pci[VFM_PCI_MAX]);

/* Whether s is a plausible interface name to put into a sysfs path. */
bool agent_qga_ifname_ok(const char *s);

#endif
