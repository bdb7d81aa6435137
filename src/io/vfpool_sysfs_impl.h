/* SPDX-License-Identifier: MIT */
/*
 * What the VF pool's pieces share: vfpool_sysfs.c (the pool), vfpool_sysfs_fs.c (sysfs),
 * vfpool_sysfs_marker.c (reservation markers), vfpool_sysfs_nl.c (rtnetlink). Private to src/io.
 */
#ifndef VFM_IO_VFPOOL_SYSFS_IMPL_H
#define VFM_IO_VFPOOL_SYSFS_IMPL_H

#include "vfpool_sysfs.h"
#include "proto/vfnl.h"

#define VFIO_DRIVER	"vfio-pci"
#define SMALL_FILE_MAX	256	     /* sriov_numvfs, driver_override, a marker */
#define NL_REPLY_MAX	(256 * 1024) /* a PF's link with VFNL_VFS_MAX VFs fits */
#define DRIVER_NAME_MAX 64

struct pf {
	char name[VFM_IFNAME_MAX];
	char bus[VFM_ID_MAX];
};

/* One VF as found now. */
struct vf {
	const struct pf *pf;
	uint32_t index;
	char bdf[VFM_PCI_MAX];
};

/* What a marker says. */
struct marker {
	uint8_t mac[6];
	int vlan;
};

struct vfpool_sysfs {
	struct vfpool_sysfs_options o;
	size_t n_pfs;
	struct pf pfs[VFPOOL_SYSFS_PFS_MAX];
	int nl_fd; /* the real socket, when o.nl.send is NULL */
	uint32_t seq;
	uint8_t *reply; /* NL_REPLY_MAX bytes */
};

/* vfpool_sysfs_fs.c */
int read_small(const char *path, unsigned flags, char *buf, size_t cap, struct diag *d);
bool sysfs_exists(const struct vfpool_sysfs *p, const char *rel);
int sysfs_write(struct vfpool_sysfs *p, const char *rel, const char *val, struct diag *d);
void sleep_ms(int64_t ms);
int sysfs_write_bounded(struct vfpool_sysfs *p, const char *rel, const char *val,
			int64_t deadline_ms, struct diag *d);
int pf_numvfs(const struct vfpool_sysfs *p, const struct pf *pf, unsigned *ret, struct diag *d);
int pf_vf(const struct vfpool_sysfs *p, const struct pf *pf, uint32_t index, struct vf *ret,
	  struct diag *d);
int vf_driver(const struct vfpool_sysfs *p, const struct vf *vf, char ret[DRIVER_NAME_MAX],
	      struct diag *d);
int vf_override(const struct vfpool_sysfs *p, const struct vf *vf, char ret[DRIVER_NAME_MAX],
		struct diag *d);
/*
 * The one walk over the pool's VFs: for each PF, pf (when set) with its VF count, then vf for
 * each of its VFs. A callback returns 0 to go on; >0 from pf skips that PF's VFs; >0 from vf
 * ends the walk, returned; <0 ends it with that error.
 */
struct vf_walk {
	int (*pf)(struct vfpool_sysfs *p, const struct pf *pf, unsigned n_vfs, void *arg,
		  struct diag *d);
	int (*vf)(struct vfpool_sysfs *p, const struct vf *vf, void *arg, struct diag *d);
};
int vf_each(struct vfpool_sysfs *p, const struct vf_walk *w, void *arg, struct diag *d);
int find_vf(struct vfpool_sysfs *p, const char *bdf, struct vf *ret, struct diag *d);

/* vfpool_sysfs_marker.c */
int marker_read(const struct vfpool_sysfs *p, const char *bdf, struct marker *ret);
int marker_create(struct vfpool_sysfs *p, const struct vf *vf, const uint8_t mac[6], int vlan,
		  const char *device_id, struct diag *d);
int marker_remove(const struct vfpool_sysfs *p, const char *bdf, struct diag *d);

/* vfpool_sysfs_nl.c */
int real_send(void *ud, const void *buf, size_t len, struct diag *d);
int real_recv(void *ud, void *buf, size_t cap, size_t *ret_len, int64_t deadline_ms,
	      struct diag *d);
int pf_vf_list(struct vfpool_sysfs *p, const struct pf *pf, struct vfnl_vf *vfs, size_t *ret_n,
	       int64_t deadline_ms, struct diag *d);
int vf_set_mac_vlan(struct vfpool_sysfs *p, const struct vf *vf, const uint8_t mac[6], int vlan,
		    int64_t deadline_ms, struct diag *d);

/* vfpool_sysfs.c */
bool id_ok(const char *s, size_t max);

#endif
