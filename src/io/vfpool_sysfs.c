// SPDX-License-Identifier: MIT
#include "vfpool_sysfs.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "proto/vfnl.h"
#include "util/fdio.h"
#include "util/file.h"

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

/* ------------------------------------------------------------------------------------------ */
/* Names                                                                                       */

static bool is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

bool vfpool_sysfs_pci_addr_valid(const char *s)
{
	static const char pat[] = "xxxx:xx:xx.f";

	if (!s || strlen(s) != sizeof(pat) - 1)
		return false;
	for (size_t i = 0; pat[i]; i++) {
		if (pat[i] == 'x' && !is_hex(s[i]))
			return false;
		if (pat[i] == 'f' && !(s[i] >= '0' && s[i] <= '7'))
			return false;
		if ((pat[i] == ':' || pat[i] == '.') && s[i] != pat[i])
			return false;
	}
	/* Device numbers are 5 bits. */
	return (s[8] >= '0' && s[8] <= '1');
}

static bool id_ok(const char *s, size_t max)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n >= max)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '.' || s[i] == '-'))
			return false;
	return !(s[0] == '.' && (n == 1 || (n == 2 && s[1] == '.')));
}

/* ------------------------------------------------------------------------------------------ */
/* sysfs, bounded                                                                              */

static int path_of(const struct vfpool_sysfs *p, char *out, size_t n, const char *rel)
{
	int k = snprintf(out, n, "%s/%s", p->o.sysfs_root, rel);

	return k < 0 || (size_t)k >= n ? -ENAMETOOLONG : 0;
}

/* Reads a small regular file into buf (NUL-terminated, one trailing newline dropped): its
 * length, or -errno (d names the path). -EBADMSG when it holds a NUL. */
static int read_small(const char *path, unsigned flags, char *buf, size_t cap, struct diag *d)
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
static bool sysfs_exists(const struct vfpool_sysfs *p, const char *rel)
{
	char path[2 * VFPOOL_SYSFS_PATH_MAX];
	struct stat st;

	return path_of(p, path, sizeof(path), rel) == 0 && lstat(path, &st) == 0;
}

static int sysfs_write(struct vfpool_sysfs *p, const char *rel, const char *val, struct diag *d)
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

static void sleep_ms(int64_t ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/*
 * A write the kernel may block on for as long as someone holds the device (an unbind from
 * vfio-pci waits for QEMU to let go): done by a child, waited for until deadline_ms. On
 * -ETIMEDOUT the child is left to finish on its own (it cannot be interrupted either).
 */
static int sysfs_write_bounded(struct vfpool_sysfs *p, const char *rel, const char *val,
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
		 * QMP or libvirt connections or channel sockets. */
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
	for (;;) {
		pid_t w = waitpid(pid, &st, WNOHANG);

		if (w == pid)
			break;
		if (w < 0 && errno != EINTR) {
			r = -errno;
			diag_set(d, "waitpid: %s", strerror(-r));
			return r;
		}
		if (time_now_ms() >= deadline_ms) {
			diag_set(d,
				 "writing %s to %s did not finish by the deadline (the device is "
				 "probably still in use, e.g. by QEMU)",
				 val, path);
			return -ETIMEDOUT;
		}
		sleep_ms(2);
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

static int pf_numvfs(const struct vfpool_sysfs *p, const struct pf *pf, unsigned *ret,
		     struct diag *d)
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
static int pf_vf(const struct vfpool_sysfs *p, const struct pf *pf, uint32_t index, struct vf *ret,
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
static int vf_driver(const struct vfpool_sysfs *p, const struct vf *vf, char ret[DRIVER_NAME_MAX],
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
static int vf_override(const struct vfpool_sysfs *p, const struct vf *vf, char ret[DRIVER_NAME_MAX],
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

/* Finds the VF with this PCI address among the VFs of the pool's PFs. */
static int find_vf(const struct vfpool_sysfs *p, const char *bdf, struct vf *ret, struct diag *d)
{
	if (!vfpool_sysfs_pci_addr_valid(bdf)) {
		char clean[VFM_ID_MAX];

		str_sanitize(clean, sizeof(clean), bdf);
		diag_set(d, "\"%s\" is not a PCI address DDDD:BB:DD.F", clean);
		return -EINVAL;
	}
	for (size_t i = 0; i < p->n_pfs; i++) {
		unsigned n;
		int r = pf_numvfs(p, &p->pfs[i], &n, d);

		if (r < 0)
			return r;
		for (uint32_t k = 0; k < n; k++) {
			struct vf vf;

			r = pf_vf(p, &p->pfs[i], k, &vf, d);
			if (r < 0)
				return r;
			if (!strcmp(vf.bdf, bdf)) {
				*ret = vf;
				return 0;
			}
		}
	}
	diag_set(d, "%s is not a VF of this pool's PFs", bdf);
	return -ENOENT;
}

/* ------------------------------------------------------------------------------------------ */
/* Reservation markers                                                                         */

static int marker_path(const struct vfpool_sysfs *p, const char *bdf, char *out, size_t n)
{
	int k = snprintf(out, n, "%s/vfpool/%s", p->o.state_dir, bdf);

	return k < 0 || (size_t)k >= n ? -ENAMETOOLONG : 0;
}

/* 0 and *ret, -ENOENT when there is none, -EBADMSG when it says nothing we understand. */
static int marker_read(const struct vfpool_sysfs *p, const char *bdf, struct marker *ret)
{
	char path[2 * VFPOOL_SYSFS_PATH_MAX], buf[SMALL_FILE_MAX], *save = NULL, *line;
	struct marker m = {.vlan = -1};
	bool has_mac = false;
	int r = marker_path(p, bdf, path, sizeof(path));

	if (r < 0)
		return r;
	/* Markers are ours (created O_NOFOLLOW): a link or a FIFO there is not. */
	r = read_small(path, FILE_READ_NOFOLLOW, buf, sizeof(buf), NULL);
	if (r < 0)
		return r;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		int64_t x;

		if (!strncmp(line, "mac=", 4) && parse_mac(line + 4, m.mac) == 0)
			has_mac = true;
		else if (!strncmp(line, "vlan=", 5) && parse_int64(line + 5, -1, 4094, &x) == 0)
			m.vlan = (int)x;
	}
	if (!has_mac)
		return -EBADMSG;
	*ret = m;
	return 0;
}

/* Creates the marker; -EEXIST when the VF is reserved already. */
static int marker_create(struct vfpool_sysfs *p, const struct vf *vf, const uint8_t mac[6],
			 int vlan, const char *device_id, struct diag *d)
{
	char path[2 * VFPOOL_SYSFS_PATH_MAX], dir[2 * VFPOOL_SYSFS_PATH_MAX], text[SMALL_FILE_MAX],
	    m[18];
	_cleanup_close_ int fd = -1;
	int r;

	snprintf(dir, sizeof(dir), "%s/vfpool", p->o.state_dir);
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		r = -errno;
		diag_set(d, "creating %s: %s", dir, strerror(-r));
		return r;
	}
	r = marker_path(p, vf->bdf, path, sizeof(path));
	if (r < 0) {
		diag_set(d, "state dir path too long");
		return r;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		r = -errno;
		if (r != -EEXIST)
			diag_set(d, "creating %s: %s", path, strerror(-r));
		return r;
	}
	snprintf(text, sizeof(text), "pf=%s\nvf=%u\nmac=%s\nvlan=%d\ndevice=%s\n", vf->pf->name,
		 vf->index, format_mac(mac, m), vlan, device_id);
	r = write_all(fd, text, strlen(text));
	if (r >= 0 && fsync(fd) < 0)
		r = -errno;
	if (r < 0) {
		diag_set(d, "writing %s: %s", path, strerror(-r));
		(void)unlink(path);
		return r;
	}
	return 0;
}

static int marker_remove(const struct vfpool_sysfs *p, const char *bdf, struct diag *d)
{
	char path[2 * VFPOOL_SYSFS_PATH_MAX];
	int r = marker_path(p, bdf, path, sizeof(path));

	if (r < 0)
		return r;
	if (unlink(path) < 0 && errno != ENOENT) {
		r = -errno;
		diag_set(d, "removing %s: %s", path, strerror(-r));
		return r;
	}
	return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* rtnetlink                                                                                   */

static int real_send(void *ud, const void *buf, size_t len, struct diag *d)
{
	struct vfpool_sysfs *p = ud;
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK};

	if (p->nl_fd < 0) {
		int one = 1;

		p->nl_fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
		if (p->nl_fd < 0) {
			int r = -errno;

			diag_set(d, "netlink socket: %s", strerror(-r));
			return r;
		}
		/* Extended acks carry the driver's reason; capped acks do not echo requests. */
		(void)setsockopt(p->nl_fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
		(void)setsockopt(p->nl_fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	}
	if (sendto(p->nl_fd, buf, len, 0, (struct sockaddr *)&sa, sizeof(sa)) != (ssize_t)len) {
		int r = -errno;

		diag_set(d, "netlink send: %s", strerror(-r));
		return r;
	}
	return 0;
}

static int real_recv(void *ud, void *buf, size_t cap, size_t *ret_len, int64_t deadline_ms,
		     struct diag *d)
{
	struct vfpool_sysfs *p = ud;

	for (;;) {
		ssize_t k = recv(p->nl_fd, buf, cap, MSG_TRUNC | MSG_DONTWAIT);
		int r;

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0 && errno == EAGAIN) {
			r = fdio_wait(p->nl_fd, POLLIN, deadline_ms);
			if (r == -ETIMEDOUT)
				diag_set(d, "no netlink answer by the deadline");
			else if (r < 0)
				diag_set(d, "netlink poll: %s", strerror(-r));
			if (r < 0)
				return r;
			continue;
		}
		if (k < 0) {
			r = -errno;
			diag_set(d, "netlink receive: %s", strerror(-r));
			return r;
		}
		if ((size_t)k > cap) {
			diag_set(d, "netlink answer of %zd bytes exceeds %zu", k, cap);
			return -EMSGSIZE;
		}
		*ret_len = (size_t)k;
		return 0;
	}
}

/* Sends req and receives until the datagram holding its answer (seq) arrives. parse is
 * vfnl_parse_ack's job or vfnl_parse_link's: this only finds the datagram. */
static int nl_transact(struct vfpool_sysfs *p, const void *req, size_t len, uint32_t seq,
		       size_t *ret_len, int64_t deadline_ms, struct diag *d)
{
	int r = p->o.nl.send(p->o.nl.userdata, req, len, d);

	if (r < 0)
		return r;
	for (;;) {
		struct diag tmp = {{0}};
		size_t n = 0;

		r = p->o.nl.recv(p->o.nl.userdata, p->reply, NL_REPLY_MAX, &n, deadline_ms, d);
		if (r < 0)
			return r;
		/* Skip datagrams answering something else (a late reply to an earlier request). */
		if (vfnl_parse_ack(p->reply, n, seq, &tmp) != -ENOMSG) {
			*ret_len = n;
			return 0;
		}
	}
}

/* The PF's VF list over rtnetlink. */
static int pf_vf_list(struct vfpool_sysfs *p, const struct pf *pf, struct vfnl_vf *vfs,
		      size_t *ret_n, int64_t deadline_ms, struct diag *d)
{
	uint8_t req[VFNL_REQ_BUF];
	uint32_t seq = ++p->seq;
	size_t len;
	int num, r;

	r = vfnl_build_get_pf(req, sizeof(req), seq, pf->name);
	if (r < 0)
		return r;
	r = nl_transact(p, req, (size_t)r, seq, &len, deadline_ms, d);
	if (r >= 0)
		r = vfnl_parse_link(p->reply, len, seq, vfs, VFNL_VFS_MAX, ret_n, &num, d);
	if (r < 0)
		diag_prefix(d, "PF %s: reading its VFs over rtnetlink", pf->name);
	return r;
}

/* Sets the VF's MAC and VLAN (vlan -1: none) on its PF and reads them back. */
static int vf_set_mac_vlan(struct vfpool_sysfs *p, const struct vf *vf, const uint8_t mac[6],
			   int vlan, int64_t deadline_ms, struct diag *d)
{
	_cleanup_free_ struct vfnl_vf *vfs = calloc(VFNL_VFS_MAX, sizeof(*vfs));
	const struct vfnl_vf *got;
	uint8_t req[VFNL_REQ_BUF];
	uint32_t seq = ++p->seq;
	char m[18];
	size_t len, n;
	int r;

	if (!vfs)
		return -ENOMEM;
	r = vfnl_build_set_vf(req, sizeof(req), seq, vf->pf->name, vf->index, mac, vlan);
	if (r < 0) {
		diag_set(d, "cannot build the VF request");
		return r;
	}
	r = nl_transact(p, req, (size_t)r, seq, &len, deadline_ms, d);
	if (r >= 0)
		r = vfnl_parse_ack(p->reply, len, seq, d);
	if (r < 0) {
		diag_prefix(d, "PF %s: setting VF %u MAC %s VLAN %d", vf->pf->name, vf->index,
			    format_mac(mac, m), vlan < 0 ? 0 : vlan);
		return r;
	}
	r = pf_vf_list(p, vf->pf, vfs, &n, deadline_ms, d);
	if (r < 0)
		return r;
	got = vfnl_find(vfs, n, vf->index);
	if (!got || !got->has_mac || memcmp(got->mac, mac, 6) != 0 ||
	    (got->has_vlan && got->vlan != (uint32_t)(vlan < 0 ? 0 : vlan))) {
		diag_set(d, "PF %s: VF %u does not hold MAC %s VLAN %d after setting them",
			 vf->pf->name, vf->index, format_mac(mac, m), vlan < 0 ? 0 : vlan);
		return -EIO;
	}
	return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Binding                                                                                     */

static int wait_driver(struct vfpool_sysfs *p, const struct vf *vf, const char *want,
		       int64_t deadline_ms, struct diag *d)
{
	for (;;) {
		char drv[DRIVER_NAME_MAX];
		int r = vf_driver(p, vf, drv, d);

		if (r < 0)
			return r;
		if (!strcmp(drv, want))
			return 0;
		if (time_now_ms() >= deadline_ms) {
			diag_set(d, "VF %s: not bound to %s by the deadline (driver: %s)", vf->bdf,
				 want, drv[0] ? drv : "none");
			return -ETIMEDOUT;
		}
		sleep_ms(p->o.bind_poll_ms);
	}
}

/* driver_override = vfio-pci, unbind from the current driver, drivers_probe, wait. */
static int bind_vfio(struct vfpool_sysfs *p, const struct vf *vf, const char *cur,
		     int64_t deadline_ms, struct diag *d)
{
	char rel[VFPOOL_SYSFS_PATH_MAX];
	int r;

	/* Bound to vfio-pci by someone else since it was found free: never take it from them. */
	if (!strcmp(cur, VFIO_DRIVER)) {
		diag_set(d, "VF %s was bound to vfio-pci by someone else meanwhile", vf->bdf);
		return -EBUSY;
	}
	snprintf(rel, sizeof(rel), "bus/pci/devices/%s/driver_override", vf->bdf);
	r = sysfs_write(p, rel, VFIO_DRIVER, d);
	if (r < 0)
		return r;
	if (cur[0]) {
		snprintf(rel, sizeof(rel), "bus/pci/drivers/%s/unbind", cur);
		r = sysfs_write_bounded(p, rel, vf->bdf, deadline_ms, d);
		if (r < 0)
			return r;
	}
	r = sysfs_write(p, "bus/pci/drivers_probe", vf->bdf, d);
	if (r < 0)
		return r;
	return wait_driver(p, vf, VFIO_DRIVER, deadline_ms, d);
}

/* Off vfio-pci (if on it), driver_override cleared, back to whatever driver matches. */
static int unbind_vfio(struct vfpool_sysfs *p, const struct vf *vf, int64_t deadline_ms,
		       struct diag *d)
{
	char rel[VFPOOL_SYSFS_PATH_MAX], drv[DRIVER_NAME_MAX];
	int r;

	r = vf_driver(p, vf, drv, d);
	if (r < 0)
		return r;
	snprintf(rel, sizeof(rel), "bus/pci/devices/%s/driver_override", vf->bdf);
	r = sysfs_write(p, rel, "\n", d);
	if (r < 0)
		return r;
	if (!strcmp(drv, VFIO_DRIVER)) {
		r = sysfs_write_bounded(p, "bus/pci/drivers/" VFIO_DRIVER "/unbind", vf->bdf,
					deadline_ms, d);
		if (r < 0)
			return r;
	}
	if (strcmp(drv, VFIO_DRIVER) != 0 && drv[0])
		return 0; /* on its net driver already */
	r = sysfs_write(p, "bus/pci/drivers_probe", vf->bdf, d);
	if (r < 0)
		return r;
	r = vf_driver(p, vf, drv, d);
	if (r < 0)
		return r;
	if (!strcmp(drv, VFIO_DRIVER)) {
		diag_set(d, "VF %s: still on vfio-pci after clearing driver_override", vf->bdf);
		return -EBUSY;
	}
	return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* vfpool_ops                                                                                  */

/* Whether vf is free (see the header); *why says why not, for a diagnostic. */
static int vf_is_free(struct vfpool_sysfs *p, const struct vf *vf, const struct vfnl_vf *nl,
		      size_t n_nl, bool *ret, const char **why, struct diag *d)
{
	char drv[DRIVER_NAME_MAX], ovr[DRIVER_NAME_MAX];
	struct marker m;
	int r;

	r = marker_read(p, vf->bdf, &m);
	if (r != -ENOENT) {
		*why = "reserved";
		*ret = false;
		return 0;
	}
	r = vf_driver(p, vf, drv, d);
	if (r >= 0)
		r = vf_override(p, vf, ovr, d);
	if (r < 0)
		return r;
	*ret = false;
	char rel[VFPOOL_SYSFS_PATH_MAX], net[VFPOOL_SYSFS_PATH_MAX];

	snprintf(rel, sizeof(rel), "bus/pci/devices/%s/iommu_group", vf->bdf);
	snprintf(net, sizeof(net), "bus/pci/devices/%s/net", vf->bdf);
	if (!strcmp(drv, VFIO_DRIVER))
		*why = "on vfio-pci";
	else if (ovr[0])
		*why = "driver_override set";
	else if (drv[0] && !sysfs_exists(p, net))
		/* pci-stub, pci-pf-stub, a driver of someone's: parked there on purpose. */
		*why = "on a driver that is not a network driver";
	else if (!sysfs_exists(p, rel))
		/* vfio-pci cannot take it: no IOMMU, or it is off (intel_iommu=on). */
		*why = "no IOMMU group";
	else if (!vfnl_find(nl, n_nl, vf->index))
		*why = "not listed by the PF";
	else
		*ret = true;
	return 0;
}

/* Calls fn for every free VF until it returns non-zero; counts them in *ret_free. */
static int each_free_vf(struct vfpool_sysfs *p, int64_t deadline_ms,
			int (*fn)(struct vfpool_sysfs *p, const struct vf *vf, void *arg),
			void *arg, unsigned *ret_free, char *busy, size_t busy_n, struct diag *d)
{
	_cleanup_free_ struct vfnl_vf *nl = calloc(VFNL_VFS_MAX, sizeof(*nl));
	unsigned n_free = 0;
	size_t o = 0;

	if (!nl)
		return -ENOMEM;
	if (busy_n)
		busy[0] = '\0';
	for (size_t i = 0; i < p->n_pfs; i++) {
		const struct pf *pf = &p->pfs[i];
		size_t n_nl = 0;
		unsigned n;
		int r;

		r = pf_numvfs(p, pf, &n, d);
		if (r < 0)
			return r;
		if (n == 0) {
			if (o < busy_n) {
				int w = snprintf(busy + o, busy_n - o, "%s%s has sriov_numvfs 0",
						 o ? ", " : "", pf->name);
				o = w < 0 ? busy_n : o + (size_t)w;
			}
			continue;
		}
		r = pf_vf_list(p, pf, nl, &n_nl, deadline_ms, d);
		if (r < 0)
			return r;
		for (uint32_t k = 0; k < n; k++) {
			const char *why = "";
			struct vf vf;
			bool free_;

			r = pf_vf(p, pf, k, &vf, d);
			if (r < 0)
				return r;
			r = vf_is_free(p, &vf, nl, n_nl, &free_, &why, d);
			if (r < 0)
				return r;
			if (!free_) {
				if (o < busy_n) {
					int w = snprintf(busy + o, busy_n - o, "%s%s %s",
							 o ? ", " : "", vf.bdf, why);
					o = w < 0 ? busy_n : o + (size_t)w;
				}
				continue;
			}
			n_free++;
			if (fn) {
				r = fn(p, &vf, arg);
				if (r != 0)
					return r;
			}
		}
	}
	if (ret_free)
		*ret_free = n_free;
	return 0;
}

static int sysfs_probe(void *ud, const char *physnet, int64_t deadline_ms, unsigned *ret_free,
		       struct diag *d)
{
	char busy[512];
	unsigned n;
	int r;

	(void)physnet; /* every PF of the pool serves the guest's physnet */
	r = each_free_vf(ud, deadline_ms, NULL, NULL, &n, busy, sizeof(busy), d);
	if (r < 0)
		return r;
	if (n == 0) {
		/* Pre-flight's refusal, with why each VF is not free. */
		diag_set(d, "no free VF%s%s%s", busy[0] ? " (" : "", busy, busy[0] ? ")" : "");
		return -ENOSPC;
	}
	*ret_free = n;
	return 0;
}

struct take {
	const uint8_t *mac;
	int vlan;
	const char *device_id;
	int64_t deadline_ms;
	struct vf vf;
	int err;
	struct diag *d;
};

#define UNDO_GRACE_MS 2000

/* Undoes a reserve that failed after its marker, best effort. A reserve that ran out of time
 * still gets UNDO_GRACE_MS for this, or it would leave the VF half-taken. */
static void reserve_undo(struct vfpool_sysfs *p, const struct vf *vf, int64_t deadline_ms)
{
	struct diag ignored = {{0}};

	if (deadline_ms < time_now_ms() + UNDO_GRACE_MS)
		deadline_ms = time_now_ms() + UNDO_GRACE_MS;

	(void)vf_set_mac_vlan(p, vf, (const uint8_t[6]){0}, -1, deadline_ms, &ignored);
	/* A VF that could not be unbound stays marked: ours, to be released by MAC later,
	 * rather than unmarked on vfio-pci and nobody's. */
	if (unbind_vfio(p, vf, deadline_ms, &ignored) < 0)
		return;
	(void)marker_remove(p, vf->bdf, &ignored);
}

/* each_free_vf callback: tries to take vf; 1 = taken, 0 = raced (next one), <0 = failed. */
static int take_vf(struct vfpool_sysfs *p, const struct vf *vf, void *arg)
{
	struct take *t = arg;
	char drv[DRIVER_NAME_MAX], ovr[DRIVER_NAME_MAX];
	int r;

	r = marker_create(p, vf, t->mac, t->vlan, t->device_id, t->d);
	if (r == -EEXIST)
		return 0; /* another vfmigrate was faster */
	if (r < 0)
		return r;
	/* The marker keeps other vfmigrate runs out, not libvirt or a hand-started guest: look
	 * again now that it is ours, before its MAC is touched. */
	r = vf_driver(p, vf, drv, t->d);
	if (r >= 0)
		r = vf_override(p, vf, ovr, t->d);
	if (r < 0 || !strcmp(drv, VFIO_DRIVER) || ovr[0]) {
		struct diag ignored = {{0}};

		(void)marker_remove(p, vf->bdf, &ignored);
		return r < 0 ? r : 0; /* taken meanwhile: the next one */
	}
	r = vf_set_mac_vlan(p, vf, t->mac, t->vlan, t->deadline_ms, t->d);
	if (r < 0) {
		struct diag ignored = {{0}};

		/* Nothing written to sysfs yet. The PF may hold the MAC after all (acked, not
		 * read back): clear it, best effort. */
		if (r != -EOPNOTSUPP && r != -EPERM)
			(void)vf_set_mac_vlan(p, vf, (const uint8_t[6]){0}, -1, t->deadline_ms,
					      &ignored);
		(void)marker_remove(p, vf->bdf, &ignored);
		return r;
	}
	r = vf_driver(p, vf, drv, t->d);
	if (r >= 0)
		r = bind_vfio(p, vf, drv, t->deadline_ms, t->d);
	if (r == -EBUSY) {
		struct diag ignored = {{0}};

		/* Someone else's now, between the check above and here (its owner sets the MAC
		 * it wants before use, as libvirt does): leave it, take the next one. */
		(void)marker_remove(p, vf->bdf, &ignored);
		return 0;
	}
	if (r < 0) {
		diag_prefix(t->d, "binding VF %s to vfio-pci", vf->bdf);
		reserve_undo(p, vf, t->deadline_ms);
		return r;
	}
	t->vf = *vf;
	return 1;
}

static bool mac_ok(const uint8_t mac[6])
{
	static const uint8_t zero[6];

	return !(mac[0] & 1) && memcmp(mac, zero, 6) != 0;
}

static int sysfs_reserve(void *ud, const char *physnet, const uint8_t mac[6], int vlan,
			 const char *device_id_hint, int64_t deadline_ms,
			 struct plug_spec *ret_spec, struct diag *d)
{
	struct vfpool_sysfs *p = ud;
	struct plug_spec spec = {.backend_kind = PLUG_BACKEND_HOSTDEV, .has_mac = true};
	struct take t = {.mac = mac, .vlan = vlan, .deadline_ms = deadline_ms, .d = d};
	char busy[256];
	unsigned n;
	int r;

	(void)physnet;
	if (device_id_hint && device_id_hint[0] && !id_ok(device_id_hint, VFM_ID_MAX)) {
		diag_set(d, "invalid device id for the VF");
		return -EINVAL;
	}
	if (!mac_ok(mac) || vlan < -1 || vlan > 4094) {
		diag_set(d, "a VF needs a unicast MAC and a VLAN 0..4094 or none");
		return -EINVAL;
	}
	if (device_id_hint && device_id_hint[0])
		snprintf(spec.device_id, sizeof(spec.device_id), "%s", device_id_hint);
	t.device_id = spec.device_id[0] ? spec.device_id : "-";
	r = each_free_vf(p, deadline_ms, take_vf, &t, &n, busy, sizeof(busy), d);
	if (r < 0)
		return r;
	if (r == 0) {
		char names[VFPOOL_SYSFS_PFS_MAX * VFM_IFNAME_MAX + 16] = "";
		size_t o = 0;

		for (size_t i = 0; i < p->n_pfs; i++)
			o += (size_t)snprintf(names + o, sizeof(names) - o, "%s%s", i ? " " : "",
					      p->pfs[i].name);
		diag_set(d, "no free VF on PF %s%s%s%s", names, busy[0] ? " (" : "", busy,
			 busy[0] ? ")" : "");
		return -ENOSPC;
	}
	if (!spec.device_id[0])
		snprintf(spec.device_id, sizeof(spec.device_id), "vfm-vf%u", t.vf.index);
	snprintf(spec.driver, sizeof(spec.driver), "%s", p->o.driver);
	snprintf(spec.bus, sizeof(spec.bus), "%s", t.vf.pf->bus);
	snprintf(spec.backend, sizeof(spec.backend), "%s", t.vf.bdf);
	memcpy(spec.mac, mac, 6);
	spec.vlan = vlan;
	*ret_spec = spec;
	return 0;
}

/* Gives one VF back: MAC/VLAN cleared while vfio-pci still holds it (so the host's net driver
 * never comes up with the guest's MAC), then back to its net driver, then the marker goes. */
static int release_vf(struct vfpool_sysfs *p, const struct vf *vf, int64_t deadline_ms,
		      struct diag *d)
{
	char drv[DRIVER_NAME_MAX];
	bool marked;
	struct marker m;
	int r;

	marked = marker_read(p, vf->bdf, &m) != -ENOENT;
	r = vf_driver(p, vf, drv, d);
	if (r < 0)
		return r;
	if (!marked && strcmp(drv, VFIO_DRIVER) != 0)
		return 0; /* released already */
	r = vf_set_mac_vlan(p, vf, (const uint8_t[6]){0}, -1, deadline_ms, d);
	if (r < 0)
		return r;
	r = unbind_vfio(p, vf, deadline_ms, d);
	if (r < 0)
		return r;
	return marker_remove(p, vf->bdf, d);
}

/* The reserved VF whose marker holds mac: 1 and *ret, 0 when there is none. */
static int find_by_mac(struct vfpool_sysfs *p, const uint8_t mac[6], struct vf *ret, struct diag *d)
{
	for (size_t i = 0; i < p->n_pfs; i++) {
		unsigned n;
		int r = pf_numvfs(p, &p->pfs[i], &n, d);

		if (r < 0)
			return r;
		for (uint32_t k = 0; k < n; k++) {
			struct marker m;
			struct vf vf;

			r = pf_vf(p, &p->pfs[i], k, &vf, d);
			if (r < 0)
				return r;
			if (marker_read(p, vf.bdf, &m) == 0 && !memcmp(m.mac, mac, 6)) {
				*ret = vf;
				return 1;
			}
		}
	}
	return 0;
}

/*
 * The VF a spec names, for release and handoff: 1 and *ret, 0 when it is not ours to touch
 * any more (reserved since for another MAC: a release twice must not undo someone else's).
 */
static int spec_vf(struct vfpool_sysfs *p, const struct plug_spec *spec, struct vf *ret,
		   struct diag *d)
{
	struct marker m;
	int r;

	if (spec->backend_kind != PLUG_BACKEND_HOSTDEV) {
		diag_set(d, "%s is not a host PCI device", spec->backend);
		return -EINVAL;
	}
	r = find_vf(p, spec->backend, ret, d);
	if (r < 0)
		return r;
	if (spec->has_mac && marker_read(p, ret->bdf, &m) == 0 && memcmp(m.mac, spec->mac, 6))
		return 0;
	return 1;
}

/*
 * A VF without our marker (the source VF the guest was started with, or one released
 * before): 1 while the PF still holds spec's MAC for it, or none (the handoff cleared it); 0
 * when it holds another one: given to someone else since (a repeated release after a crash).
 */
static int unmarked_still_ours(struct vfpool_sysfs *p, const struct plug_spec *spec,
			       const struct vf *vf, int64_t deadline_ms, struct diag *d)
{
	_cleanup_free_ struct vfnl_vf *nl = NULL;
	const struct vfnl_vf *v;
	struct marker m;
	size_t n = 0;
	int r;

	if (!spec->has_mac || marker_read(p, vf->bdf, &m) != -ENOENT)
		return 1;
	nl = calloc(VFNL_VFS_MAX, sizeof(*nl));
	if (!nl)
		return -ENOMEM;
	r = pf_vf_list(p, vf->pf, nl, &n, deadline_ms, d);
	if (r < 0)
		return r;
	v = vfnl_find(nl, n, vf->index);
	if (v && v->has_mac && memcmp(v->mac, (const uint8_t[6]){0}, 6) != 0 &&
	    memcmp(v->mac, spec->mac, 6) != 0)
		return 0;
	return 1;
}

static int sysfs_release(void *ud, const struct plug_spec *spec, int64_t deadline_ms,
			 struct diag *d)
{
	struct vfpool_sysfs *p = ud;
	struct vf vf;
	int r;

	if (!spec->backend[0]) {
		if (!spec->has_mac)
			return 0;
		r = find_by_mac(p, spec->mac, &vf, d);
	} else {
		r = spec_vf(p, spec, &vf, d);
		if (r > 0)
			r = unmarked_still_ours(p, spec, &vf, deadline_ms, d);
	}
	if (r <= 0)
		return r;
	r = release_vf(p, &vf, deadline_ms, d);
	if (r < 0)
		diag_prefix(d, "releasing VF %s", vf.bdf);
	return r;
}

static int sysfs_handoff(void *ud, const struct plug_spec *spec, bool incoming, int64_t deadline_ms,
			 struct diag *d)
{
	struct vfpool_sysfs *p = ud;
	struct vf vf;
	int r;

	r = spec_vf(p, spec, &vf, d);
	if (r < 0)
		return r;
	if (r == 0) {
		diag_set(d, "VF %s is reserved for another MAC now", spec->backend);
		return -EBUSY;
	}
	if (incoming && (!spec->has_mac || !mac_ok(spec->mac))) {
		diag_set(d, "VF %s: handoff without a unicast MAC", spec->backend);
		return -EINVAL;
	}
	return vf_set_mac_vlan(p, &vf, incoming ? spec->mac : (const uint8_t[6]){0},
			       incoming ? spec->vlan : -1, deadline_ms, d);
}

/* ------------------------------------------------------------------------------------------ */

int vfpool_sysfs_new(const struct vfpool_sysfs_options *o, struct vfpool_sysfs **ret,
		     struct diag *d)
{
	struct vfpool_sysfs *p;

	if (o->sysfs_root[0] && o->sysfs_root[0] != '/') {
		diag_set(d, "sysfs root must be an absolute path");
		return -EINVAL;
	}
	if (!o->state_dir[0]) {
		diag_set(d, "the VF pool needs a state directory for its reservations");
		return -EINVAL;
	}
	if (o->driver[0] && !id_ok(o->driver, VFM_ID_MAX)) {
		diag_set(d, "invalid VF device driver name");
		return -EINVAL;
	}
	if ((o->nl.send == NULL) != (o->nl.recv == NULL)) {
		diag_set(d, "netlink: send and recv go together");
		return -EINVAL;
	}
	p = calloc(1, sizeof(*p));
	if (p)
		p->reply = malloc(NL_REPLY_MAX);
	if (!p || !p->reply) {
		if (p)
			free(p);
		diag_set(d, "out of memory");
		return -ENOMEM;
	}
	p->o = *o;
	p->nl_fd = -1;
	if (!p->o.sysfs_root[0])
		snprintf(p->o.sysfs_root, sizeof(p->o.sysfs_root), "/sys");
	if (!p->o.driver[0])
		snprintf(p->o.driver, sizeof(p->o.driver), VFIO_DRIVER);
	if (p->o.bind_poll_ms <= 0)
		p->o.bind_poll_ms = 10;
	if (!p->o.nl.send)
		p->o.nl =
		    (struct vfpool_sysfs_nl){.userdata = p, .send = real_send, .recv = real_recv};
	*ret = p;
	return 0;
}

struct vfpool_sysfs *vfpool_sysfs_free(struct vfpool_sysfs *p)
{
	if (p) {
		if (p->nl_fd >= 0)
			close(p->nl_fd);
		free(p->reply);
		free(p);
	}
	return NULL;
}

int vfpool_sysfs_add_pf(struct vfpool_sysfs *p, const char *pf, const char *bus, struct diag *d)
{
	if (!bus)
		bus = "";
	if (!vfnl_ifname_valid(pf) || (bus[0] && !id_ok(bus, VFM_ID_MAX))) {
		diag_set(d, "VF pool: invalid PF name or root port");
		return -EINVAL;
	}
	for (size_t i = 0; i < p->n_pfs; i++)
		if (!strcmp(p->pfs[i].name, pf)) {
			diag_set(d, "PF %s is in the VF pool twice", pf);
			return -EEXIST;
		}
	if (p->n_pfs == VFPOOL_SYSFS_PFS_MAX) {
		diag_set(d, "more than %d PFs in the VF pool", VFPOOL_SYSFS_PFS_MAX);
		return -ENOSPC;
	}
	snprintf(p->pfs[p->n_pfs].name, VFM_IFNAME_MAX, "%s", pf);
	snprintf(p->pfs[p->n_pfs].bus, VFM_ID_MAX, "%s", bus);
	p->n_pfs++;
	return 0;
}

void vfpool_sysfs_ops(struct vfpool_sysfs *p, struct vfpool_ops *ret_ops)
{
	*ret_ops = (struct vfpool_ops){
	    .userdata = p,
	    .vf_takes_guest_mac = false, /* the PF sets the MAC; an untrusted VF keeps it */
	    .probe = sysfs_probe,
	    .reserve = sysfs_reserve,
	    .release = sysfs_release,
	    .handoff = sysfs_handoff,
	};
}
