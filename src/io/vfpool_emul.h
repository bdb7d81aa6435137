/* SPDX-License-Identifier: MIT */
/*
 * struct vfpool_ops for the lab: "VFs" are emulated e1000e NICs on tap devices that exist
 * beforehand. Each slot is one tap and the pcie-root-port it is plugged into; reserve() hands a
 * free slot out as a plug spec with the guest's VF MAC. handoff() only checks and records
 * (an emulated NIC has no host-side MAC/VLAN). Nothing here touches the host but the
 * reservation markers of vfpool_emul_share.
 */
#ifndef VFM_VFPOOL_EMUL_H
#define VFM_VFPOOL_EMUL_H

#include "core/ops.h"

#define VFPOOL_EMUL_SLOTS_MAX 64
#define VFPOOL_EMUL_DIR_MAX   4096

struct vfpool_emul;

/* driver: QEMU device driver for the plug spec; NULL or "" = "e1000e". */
int vfpool_emul_new(const char *driver, struct vfpool_emul **ret, struct diag *d);
/* Accepts NULL; returns NULL. */
struct vfpool_emul *vfpool_emul_free(struct vfpool_emul *p);

/*
 * Adds a slot: tap interface name (1-15 of [A-Za-z0-9_.-]), root port id (the QEMU bus,
 * [A-Za-z0-9_.-]), physnet ("" = serves any physnet), in_use_by: NULL/"" = free, else the id of
 * the device already plugged on it (the source's VF at guest start; release() frees it).
 * -EINVAL on a bad name, -EEXIST when the tap or root port is already in the pool, -ENOSPC past
 * VFPOOL_EMUL_SLOTS_MAX.
 */
int vfpool_emul_add(struct vfpool_emul *p, const char *physnet, const char *tap, const char *bus,
		    const char *in_use_by, struct diag *d);

/*
 * Shares the pool's reservations with every vfmigrate run on the host named host: each taken
 * slot is a marker file STATE_DIR/vfpool-emul/HOST@TAP (created O_EXCL: two runs never take
 * one slot), probe and reserve look at them under a flock on STATE_DIR/vfpool-emul/HOST.lock
 * (a killed run cannot leave it held). A marker stays while a guest holds the slot; release
 * removes it (unless it holds another MAC), also by MAC alone (a spec without a tap: recover).
 * Without this call, reservations live in the process only. -EINVAL on a bad host name.
 */
int vfpool_emul_share(struct vfpool_emul *p, const char *state_dir, const char *host,
		      struct diag *d);

void vfpool_emul_ops(struct vfpool_emul *p, struct vfpool_ops *ret_ops);

#endif
