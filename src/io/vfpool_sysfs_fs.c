// SPDX-License-Identifier: MIT
/* The sysfs side of the VF pool: bounded reads and writes under sysfs-root, a PF's VFs. */
#include "vfpool_sysfs_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util/fdio.h"
#include "util/file.h"

/* ------------------------------------------------------------------------------------------ */
/* sysfs, bounded                                                                              */

static int path_of(const struct vfpool_sysfs *p, char *out, size_t n, const char *rel)
{
	int k = snprintf(out, n, "%s/%s", p->o.sysfs_root, rel);

	return k < 0 || (size_t)k >= n ? -ENAMETOOLONG : 0;
}

/* Reads a small regular file into buf (NUL-terminated, one trailing newline dropped): its
 * length, or -errno (d names the path). -EBADMSG when it holds a NUL. */
int read_small(const char *path, unsigned flags, char *buf, size_t cap, struct diag *d)
{
	size_t len;
	int r = file_read(path, flags, buf, cap, &len, d);

	if (r < 0)
		return r;
	if (len > 0 && buf[len - 1] == '\n')
		buf[--len] = '\0';
	if (memchr(buf, '\0', len)) {
		diag_set(d, "%s: holds a NUL byte", path);
		return -EBADMSG;
	}
	return (int)len;
}

static int sysfs_read(const struct vfpool_sysfs *p, const char *rel, char *buf, size_t cap,
		      struct diag *d)
{
	char path[2 * VFPOOL_SYSFS_PATH_MAX];
	int r = path_of(p, path, sizeof(path), rel);

	if (r < 0) {
		diag_set(d, "%s: path too long", rel);
		return r;
	}
	return read_small(path, 0, buf, cap, d);
}

static int sysfs_readlink(const struct vfpool_sysfs *p, const char *rel, char *buf, size_t cap)
{
	char path[2 * VFPOOL_SYSFS_PATH_MAX];
	ssize_t k;
	int r = path_of(p, path, sizeof(path), rel);

	if (r < 0)
		return r;
	k = readlink(path, buf, cap);
	if (k < 0)
		return -errno;
	if ((size_t)k >= cap)
		return -ENAMETOOLONG;
	buf[k] = '\0';
	return 0;
}

/* Whether rel exists (as anything, a link not followed). */
bool sysfs_exists(const struct vfpool_sysfs *p, const char *rel)
{
	char path[2 * VFPOOL_SYSFS_PATH_MAX];
	struct stat st;

	return path_of(p, path, sizeof(path), rel) == 0 && lstat(path, &st) == 0;
}

int sysfs_write(struct vfpool_sysfs *p, const char *rel, const char *val, struct diag *d)
{
	char path[2 * VFPOOL_SYSFS_PATH_MAX];
	_cleanup_close_ int fd = -1;
	int r = path_of(p, path, sizeof(path), rel);

	if (r < 0) {
		diag_set(d, "%s: path too long", rel);
		return r;
	}
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOCTTY);
	if (fd < 0 || (r = write_all(fd, val, strlen(val))) < 0) {
		r = fd < 0 ? -errno : r;
		diag_set(d, "writing %s to %s: %s", val[0] == '\n' ? "a newline" : val, path,
			 strerror(-r));
		return r;
	}
	if (p->o.after_write)
		p->o.after_write(p->o.hook_userdata, rel, val);
	return 0;
}

void sleep_ms(int64_t ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/*
 * Waits until the child pid exits or deadline_ms: 0 and its wait status; -ETIMEDOUT (it goes
 * on); -errno. It waits on the child's pidfd; only a kernel without pidfd_open (before 5.3)
 * gets a polling wait.
 */
static int child_wait(pid_t pid, int64_t deadline_ms, int *ret_status)
{
	_cleanup_close_ int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);

	for (;;) {
		pid_t w = waitpid(pid, ret_status, WNOHANG);
		int r;

		if (w == pid)
			return 0;
		if (w < 0 && errno != EINTR)
			return -errno;
		if (pidfd >= 0) {
			r = fdio_wait(pidfd, POLLIN, deadline_ms);
			if (r < 0)
				return r;
		} else if (time_now_ms() >= deadline_ms) {
			return -ETIMEDOUT;
		} else {
			sleep_ms(2);
		}
	}
}

/*
 * A write the kernel may block on for as long as someone holds the device (an unbind from
 * vfio-pci waits for QEMU to let go): done by a child, waited for until deadline_ms. On
 * -ETIMEDOUT the child is left to finish on its own (it cannot be interrupted either).
 */
int sysfs_write_bounded(struct vfpool_sysfs *p, const char *rel, const char *val,
			int64_t deadline_ms, struct diag *d)
{
	char path[2 * VFPOOL_SYSFS_PATH_MAX];
	int r = path_of(p, path, sizeof(path), rel), st;
	pid_t pid;

	if (r < 0) {
		diag_set(d, "%s: path too long", rel);
		return r;
	}
	pid = fork();
	if (pid < 0) {
		r = -errno;
		diag_set(d, "fork: %s", strerror(-r));
		return r;
	}
	if (pid == 0) {
		int fd;

		/* It may outlive us, blocked in the kernel: it must not hold our journal lock,
		 * QMP or libvirt connections or channel sockets, nor our stdout and stderr (a
		 * parent reading them, as evacuate does, would wait for it). */
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);

		for (int i = 0; null >= 0 && i < 3; i++)
			dup2(null, i);
		if (close_range(3, ~0U, 0) < 0)
			for (int i = 3; i < 1024; i++)
				close(i);
		fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOCTTY);

		if (fd < 0)
			_exit(errno & 0xff);
		if (write(fd, val, strlen(val)) != (ssize_t)strlen(val))
			_exit(errno ? errno & 0xff : EIO);
		_exit(0);
	}
	r = child_wait(pid, deadline_ms, &st);
	if (r == -ETIMEDOUT) {
		diag_set(d,
			 "writing %s to %s did not finish by the deadline (the device is "
			 "probably still in use, e.g. by QEMU)",
			 val, path);
		return r;
	}
	if (r < 0) {
		diag_set(d, "waiting for the writer of %s: %s", path, strerror(-r));
		return r;
	}
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		r = WIFEXITED(st) ? -WEXITSTATUS(st) : -EIO;
		diag_set(d, "writing %s to %s: %s", val, path, strerror(-r));
		return r;
	}
	if (p->o.after_write)
		p->o.after_write(p->o.hook_userdata, rel, val);
	return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* The PF's VFs in sysfs                                                                       */

int pf_numvfs(const struct vfpool_sysfs *p, const struct pf *pf, unsigned *ret, struct diag *d)
{
	char rel[VFPOOL_SYSFS_PATH_MAX], buf[SMALL_FILE_MAX];
	int64_t x;
	int r;

	snprintf(rel, sizeof(rel), "class/net/%s/device/sriov_numvfs", pf->name);
	r = sysfs_read(p, rel, buf, sizeof(buf), d);
	if (r == -ENOENT) {
		diag_set(d, "PF %s: no %s/%s (no such netdev, or not an SR-IOV PF)", pf->name,
			 p->o.sysfs_root, rel);
		return -ENODEV;
	}
	if (r < 0) {
		diag_prefix(d, "PF %s", pf->name);
		return r;
	}
	if (parse_int64(buf, 0, VFNL_VFS_MAX, &x) < 0) {
		char clean[40];

		str_sanitize(clean, sizeof(clean), buf);
		diag_set(d, "PF %s: %s/%s holds \"%s\", not a VF count 0..%d", pf->name,
			 p->o.sysfs_root, rel, clean, VFNL_VFS_MAX);
		return -EBADMSG;
	}
	*ret = (unsigned)x;
	return 0;
}

/* VF index of pf: its PCI address, from the virtfnN link, which must read "../BDF". */
int pf_vf(const struct vfpool_sysfs *p, const struct pf *pf, uint32_t index, struct vf *ret,
	  struct diag *d)
{
	char rel[VFPOOL_SYSFS_PATH_MAX], target[VFPOOL_SYSFS_PATH_MAX];
	int r;

	snprintf(rel, sizeof(rel), "class/net/%s/device/virtfn%u", pf->name, index);
	r = sysfs_readlink(p, rel, target, sizeof(target));
	if (r < 0) {
		diag_set(d, "PF %s: VF %u: %s/%s: %s", pf->name, index, p->o.sysfs_root, rel,
			 strerror(-r));
		return r == -ENOENT ? -ENODEV : r;
	}
	if (strncmp(target, "../", 3) != 0 || !vfpool_sysfs_pci_addr_valid(target + 3)) {
		char clean[64];

		str_sanitize(clean, sizeof(clean), target);
		diag_set(d, "PF %s: %s/%s points to \"%s\", not to a PCI function ../DDDD:BB:DD.F",
			 pf->name, p->o.sysfs_root, rel, clean);
		return -EBADMSG;
	}
	ret->pf = pf;
	ret->index = index;
	snprintf(ret->bdf, sizeof(ret->bdf), "%s", target + 3);
	return 0;
}

/* The driver the VF is bound to ("" = none). */
int vf_driver(const struct vfpool_sysfs *p, const struct vf *vf, char ret[DRIVER_NAME_MAX],
	      struct diag *d)
{
	char rel[VFPOOL_SYSFS_PATH_MAX], target[VFPOOL_SYSFS_PATH_MAX];
	const char *base;
	int r;

	snprintf(rel, sizeof(rel), "bus/pci/devices/%s/driver", vf->bdf);
	r = sysfs_readlink(p, rel, target, sizeof(target));
	if (r == -ENOENT) {
		char dev[VFPOOL_SYSFS_PATH_MAX];
		struct stat st;

		/* No driver, or no device at all. */
		snprintf(rel, sizeof(rel), "bus/pci/devices/%s", vf->bdf);
		if (path_of(p, dev, sizeof(dev), rel) < 0 || stat(dev, &st) < 0) {
			diag_set(d, "VF %s of %s: no %s/%s", vf->bdf, vf->pf->name, p->o.sysfs_root,
				 rel);
			return -ENODEV;
		}
		ret[0] = '\0';
		return 0;
	}
	if (r < 0) {
		diag_set(d, "VF %s: reading its driver link: %s", vf->bdf, strerror(-r));
		return r;
	}
	base = strrchr(target, '/');
	base = base ? base + 1 : target;
	if (!id_ok(base, DRIVER_NAME_MAX)) {
		char clean[64];

		str_sanitize(clean, sizeof(clean), target);
		diag_set(d, "VF %s: driver link points to \"%s\"", vf->bdf, clean);
		return -EBADMSG;
	}
	snprintf(ret, DRIVER_NAME_MAX, "%s", base);
	return 0;
}

/* driver_override: "" when unset (the kernel shows "(null)"). */
int vf_override(const struct vfpool_sysfs *p, const struct vf *vf, char ret[DRIVER_NAME_MAX],
		struct diag *d)
{
	char rel[VFPOOL_SYSFS_PATH_MAX], buf[SMALL_FILE_MAX];
	int r;

	snprintf(rel, sizeof(rel), "bus/pci/devices/%s/driver_override", vf->bdf);
	r = sysfs_read(p, rel, buf, sizeof(buf), d);
	if (r < 0) {
		diag_prefix(d, "VF %s", vf->bdf);
		return r;
	}
	if (!buf[0] || !strcmp(buf, "(null)")) {
		ret[0] = '\0';
		return 0;
	}
	if (!id_ok(buf, DRIVER_NAME_MAX)) {
		diag_set(d, "VF %s: driver_override holds something that is no driver name",
			 vf->bdf);
		return -EBADMSG;
	}
	snprintf(ret, DRIVER_NAME_MAX, "%s", buf);
	return 0;
}

int vf_each(struct vfpool_sysfs *p, const struct vf_walk *w, void *arg, struct diag *d)
{
	for (size_t i = 0; i < p->n_pfs; i++) {
		const struct pf *pf = &p->pfs[i];
		unsigned n;
		int r = pf_numvfs(p, pf, &n, d);

		if (r < 0)
			return r;
		if (w->pf && (r = w->pf(p, pf, n, arg, d)) != 0) {
			if (r < 0)
				return r;
			continue;
		}
		for (uint32_t k = 0; k < n; k++) {
			struct vf vf;

			r = pf_vf(p, pf, k, &vf, d);
			if (r < 0)
				return r;
			r = w->vf(p, &vf, arg, d);
			if (r != 0)
				return r;
		}
	}
	return 0;
}

struct by_bdf {
	const char *bdf;
	struct vf *ret;
};

static int vf_by_bdf(struct vfpool_sysfs *p, const struct vf *vf, void *arg, struct diag *d)
{
	struct by_bdf *b = arg;

	(void)p;
	(void)d;
	if (strcmp(vf->bdf, b->bdf) != 0)
		return 0;
	*b->ret = *vf;
	return 1;
}

/* Finds the VF with this PCI address among the VFs of the pool's PFs. */
int find_vf(struct vfpool_sysfs *p, const char *bdf, struct vf *ret, struct diag *d)
{
	static const struct vf_walk walk = {.vf = vf_by_bdf};
	struct by_bdf b = {.bdf = bdf, .ret = ret};
	int r;

	if (!vfpool_sysfs_pci_addr_valid(bdf)) {
		char clean[VFM_ID_MAX];

		str_sanitize(clean, sizeof(clean), bdf);
		diag_set(d, "\"%s\" is not a PCI address DDDD:BB:DD.F", clean);
		return -EINVAL;
	}
	r = vf_each(p, &walk, &b, d);
	if (r != 0)
		return r < 0 ? r : 0;
	diag_set(d, "%s is not a VF of this pool's PFs", bdf);
	return -ENOENT;
}
