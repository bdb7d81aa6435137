/* SPDX-License-Identifier: MIT */
/*
 * struct vfpool_ops for a libvirt host: the VF sources of the guest's vfmigrate metadata
 * ("ethernet:TAP[:MODEL]" for the lab's emulated VF, "network:NAME" for a libvirt network with
 * <forward mode='hostdev'>, "hostdev:DDDD:BB:SS.F"), checked against that host's daemon.
 *
 * libvirt itself assigns a VF from a hostdev network, and sets its MAC and VLAN at attach, so
 * reserve() holds nothing and release()/handoff() have nothing to do: reserve() picks the
 * first source that is free now (a tap or PCI address no active domain uses, a network with
 * fewer connections than VFs) and describes it as a plug spec for hv_libvirt.
 */
#ifndef VFM_VFPOOL_LIBVIRT_H
#define VFM_VFPOOL_LIBVIRT_H

#include "core/ops.h"
#include "io/hv_libvirt.h"

#define VFPOOL_LIBVIRT_DIR_MAX 4096

struct vfpool_libvirt;

/* hv: this host's adapter (its connection is used; borrowed). sources: copied. */
int vfpool_libvirt_new(struct hv_libvirt *hv, const char (*sources)[VFM_ID_MAX], size_t n,
		       struct vfpool_libvirt **ret, struct diag *d);
/* Accepts NULL; returns NULL. */
struct vfpool_libvirt *vfpool_libvirt_free(struct vfpool_libvirt *p);
void vfpool_libvirt_ops(struct vfpool_libvirt *p, struct vfpool_ops *ret_ops);

/*
 * Keeps concurrent vfmigrate runs on this host (host: its libvirt URI, any string) from taking
 * one VF: from reserve until release or the end of the process, the run holds a flock on
 * STATE_DIR/vfpool-libvirt/KEY@SOURCE#N.lock (N: one slot per VF a network source may still
 * hand out); probe and reserve skip what another run holds. A killed run's locks go with it.
 * Without this call, two runs at once may pick one VF (the second plug then fails).
 */
int vfpool_libvirt_share(struct vfpool_libvirt *p, const char *state_dir, const char *host,
			 struct diag *d);

/*
 * Whether every source hands out VFs that take a MAC from the guest: only "ethernet:" (the
 * lab's emulated NIC). For "network:" and "hostdev:" libvirt sets the VF's MAC on its PF, so
 * the guest cannot change it; no sources at all: false. (vf_takes_guest_mac of the ops.)
 */
bool vfpool_libvirt_takes_guest_mac(const char (*sources)[VFM_ID_MAX], size_t n);

/*
 * Pure part, for tests: whether `source` is free given the XML of every active domain on the
 * host (doms, n) and, for a network source, its network XML (NULL otherwise).
 */
int vfpool_libvirt_source_free(const char *source, const char *const *doms, size_t n,
			       const char *net_xml, bool *ret_free, struct diag *d);

#endif
