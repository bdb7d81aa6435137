// SPDX-License-Identifier: MIT
#include "vfpool_emul.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/file.h"

struct slot {
	char physnet[VFM_ID_MAX];
	char tap[VFM_IFNAME_MAX];
	char bus[VFM_ID_MAX];
	bool reserved;
	bool handed_in; /* handoff(incoming=true) seen since reserve */
	char device_id[VFM_ID_MAX];
	uint8_t mac[6];
	int vlan;
};

struct vfpool_emul {
	char driver[VFM_ID_MAX];
	/* vfpool_emul_share: where the host's reservations are ("" = in this process only). */
	char dir[VFPOOL_EMUL_DIR_MAX];
	char host[VFM_ID_MAX];
	size_t n;
	struct slot slots[VFPOOL_EMUL_SLOTS_MAX];
};

static bool name_ok(const char *s, size_t max)
{
	size_t n = s ? strlen(s) : 0, i;

	if (n == 0 || n >= max)
		return false;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '.' || s[i] == '-'))
			return false;
	return true;
}

int vfpool_emul_new(const char *driver, struct vfpool_emul **ret, struct diag *d)
{
	struct vfpool_emul *p;

	if (!driver || !driver[0])
		driver = "e1000e";
	if (!name_ok(driver, VFM_ID_MAX)) {
		diag_set(d, "invalid emulated VF driver name");
		return -EINVAL;
	}
	p = calloc(1, sizeof(*p));
	if (!p) {
		diag_set(d, "out of memory");
		return -ENOMEM;
	}
	snprintf(p->driver, sizeof(p->driver), "%s", driver);
	*ret = p;
	return 0;
}

struct vfpool_emul *vfpool_emul_free(struct vfpool_emul *p)
{
	free(p);
	return NULL;
}

int vfpool_emul_share(struct vfpool_emul *p, const char *state_dir, const char *host,
		      struct diag *d)
{
	if (!name_ok(host, VFM_ID_MAX)) {
		diag_set(d, "emulated VF pool: invalid host name");
		return -EINVAL;
	}
	if (!state_dir || !state_dir[0] ||
	    snprintf(p->dir, sizeof(p->dir), "%s/vfpool-emul", state_dir) >= (int)sizeof(p->dir)) {
		p->dir[0] = '\0';
		diag_set(d, "emulated VF pool: state dir path empty or too long");
		return -EINVAL;
	}
	snprintf(p->host, sizeof(p->host), "%s", host);
	return 0;
}

static void marker_path(const struct vfpool_emul *p, const struct slot *s, char *buf, size_t n)
{
	snprintf(buf, n, "%s/%s@%s", p->dir, p->host, s->tap);
}

/*
 * The host's pool lock, held while a probe or reserve looks at the markers, so that what it
 * counts is what it can take. flock: a run that dies lets go of it with its last fd. Waits
 * until deadline_ms (<= 0: one second) for a holder, polling: flock has no timed wait.
 */
static int pool_lock(const struct vfpool_emul *p, int64_t deadline_ms, int *ret_fd, struct diag *d)
{
	char path[VFPOOL_EMUL_DIR_MAX + VFM_ID_MAX + 8];
	int fd;

	if (deadline_ms <= 0)
		deadline_ms = time_now_ms() + 1000;
	/* The state dir may not exist yet (check runs before any journal). */
	char parent[VFPOOL_EMUL_DIR_MAX];

	snprintf(parent, sizeof(parent), "%.*s", (int)(strlen(p->dir) - strlen("/vfpool-emul")),
		 p->dir);
	if (mkdir(parent, 0700) < 0 && errno != EEXIST) {
		int r = -errno;

		diag_set(d, "creating %s: %s", parent, strerror(-r));
		return r;
	}
	if ((mkdir(p->dir, 0700) < 0 && errno != EEXIST)) {
		int r = -errno;

		diag_set(d, "creating %s: %s", p->dir, strerror(-r));
		return r;
	}
	snprintf(path, sizeof(path), "%s/%s.lock", p->dir, p->host);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		int r = -errno;

		diag_set(d, "opening %s: %s", path, strerror(-r));
		return r;
	}
	while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK && errno != EINTR) {
			int r = -errno;

			close(fd);
			diag_set(d, "locking %s: %s", path, strerror(-r));
			return r;
		}
		if (time_now_ms() >= deadline_ms) {
			close(fd);
			diag_set(d, "VF pool of %s: another vfmigrate holds its lock", p->host);
			return -ETIMEDOUT;
		}
		usleep(10000);
	}
	*ret_fd = fd;
	return 0;
}

static bool marked(const struct vfpool_emul *p, const struct slot *s)
{
	char path[VFPOOL_EMUL_DIR_MAX + 2 * VFM_ID_MAX];
	struct stat st;

	if (!p->dir[0])
		return false;
	marker_path(p, s, path, sizeof(path));
	return lstat(path, &st) == 0;
}

/* 0: taken; -EEXIST: someone else's; other -errno: failed. */
static int mark(const struct vfpool_emul *p, const struct slot *s, const uint8_t mac[6],
		const char *device_id, struct diag *d)
{
	char path[VFPOOL_EMUL_DIR_MAX + 2 * VFM_ID_MAX], text[128], m[18];

	marker_path(p, s, path, sizeof(path));
	snprintf(text, sizeof(text), "mac=%s\ndevice=%s\n", format_mac(mac, m), device_id);
	return file_create_excl(path, text, strlen(text), d);
}

/* The MAC a slot's marker holds: 0, -ENOENT without a marker, -EBADMSG when unreadable. */
static int marker_mac(const struct vfpool_emul *p, const struct slot *s, uint8_t ret[6])
{
	char path[VFPOOL_EMUL_DIR_MAX + 2 * VFM_ID_MAX], buf[128];
	ssize_t n;
	int fd;

	marker_path(p, s, path, sizeof(path));
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 4)
		return -EBADMSG;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	if (strncmp(buf, "mac=", 4) != 0 || parse_mac(buf + 4, ret) < 0)
		return -EBADMSG;
	return 0;
}

/* Removes a slot's marker unless it holds another MAC than mac (NULL: any). */
static void unmark(const struct vfpool_emul *p, const struct slot *s, const uint8_t *mac)
{
	char path[VFPOOL_EMUL_DIR_MAX + 2 * VFM_ID_MAX];
	uint8_t m[6];

	if (!p->dir[0])
		return;
	if (mac && marker_mac(p, s, m) == 0 && memcmp(m, mac, 6) != 0)
		return; /* someone else's now: a release twice must not undo it */
	marker_path(p, s, path, sizeof(path));
	(void)unlink(path);
}

int vfpool_emul_add(struct vfpool_emul *p, const char *physnet, const char *tap, const char *bus,
		    const char *in_use_by, struct diag *d)
{
	struct slot *s;
	size_t i;

	if (!physnet)
		physnet = "";
	if (!name_ok(tap, VFM_IFNAME_MAX) || !name_ok(bus, VFM_ID_MAX) ||
	    (physnet[0] && !name_ok(physnet, VFM_ID_MAX)) ||
	    (in_use_by && in_use_by[0] && !name_ok(in_use_by, VFM_ID_MAX))) {
		diag_set(d, "emulated VF slot: invalid tap, root port or physnet name");
		return -EINVAL;
	}
	for (i = 0; i < p->n; i++) {
		if (strcmp(p->slots[i].tap, tap) == 0 || strcmp(p->slots[i].bus, bus) == 0) {
			diag_set(d,
				 "emulated VF slot %s on %s: tap or root port already in the pool",
				 tap, bus);
			return -EEXIST;
		}
	}
	if (p->n == VFPOOL_EMUL_SLOTS_MAX) {
		diag_set(d, "more than %d emulated VF slots", VFPOOL_EMUL_SLOTS_MAX);
		return -ENOSPC;
	}
	s = &p->slots[p->n++];
	memset(s, 0, sizeof(*s));
	snprintf(s->physnet, sizeof(s->physnet), "%s", physnet);
	snprintf(s->tap, sizeof(s->tap), "%s", tap);
	snprintf(s->bus, sizeof(s->bus), "%s", bus);
	s->vlan = -1;
	if (in_use_by && in_use_by[0]) {
		s->reserved = true;
		snprintf(s->device_id, sizeof(s->device_id), "%s", in_use_by);
	}
	return 0;
}

static bool serves(const struct slot *s, const char *physnet)
{
	return !s->physnet[0] || !physnet || !physnet[0] || strcmp(s->physnet, physnet) == 0;
}

/* The slot of a spec's tap; -ENOENT when the tap is not in the pool, -EINVAL on a bus mismatch. */
static int slot_of(struct vfpool_emul *p, const struct plug_spec *spec, struct slot **ret,
		   struct diag *d)
{
	size_t i;

	for (i = 0; spec->backend_kind == PLUG_BACKEND_TAP && i < p->n; i++) {
		struct slot *s = &p->slots[i];

		if (strcmp(s->tap, spec->backend) != 0)
			continue;
		if (strcmp(s->bus, spec->bus) != 0) {
			diag_set(d, "emulated VF %s belongs to root port %s, not %s", s->tap,
				 s->bus, spec->bus);
			return -EINVAL;
		}
		*ret = s;
		return 0;
	}
	diag_set(d, "%s is not an emulated VF of this pool", spec->backend);
	return -ENOENT;
}

static int emul_probe(void *ud, const char *physnet, int64_t deadline_ms, unsigned *ret_free,
		      struct diag *d)
{
	struct vfpool_emul *p = ud;
	unsigned n = 0;
	size_t i;

	_cleanup_close_ int lock = -1;
	int r;

	if (p->dir[0]) {
		r = pool_lock(p, deadline_ms, &lock, d);
		if (r < 0)
			return r;
	}
	for (i = 0; i < p->n; i++)
		if (!p->slots[i].reserved && serves(&p->slots[i], physnet) &&
		    !marked(p, &p->slots[i]))
			n++;
	*ret_free = n;
	return 0;
}

static int emul_reserve(void *ud, const char *physnet, const uint8_t mac[6], int vlan,
			const char *device_id_hint, int64_t deadline_ms, struct plug_spec *ret_spec,
			struct diag *d)
{
	struct vfpool_emul *p = ud;
	struct plug_spec spec = {.backend_kind = PLUG_BACKEND_TAP, .has_mac = true};
	struct slot *s = NULL;
	size_t i;

	_cleanup_close_ int lock = -1;
	int r;

	if (device_id_hint && device_id_hint[0] && !name_ok(device_id_hint, VFM_ID_MAX)) {
		diag_set(d, "invalid device id for the emulated VF");
		return -EINVAL;
	}
	if (p->dir[0]) {
		r = pool_lock(p, deadline_ms, &lock, d);
		if (r < 0)
			return r;
	}
	for (i = 0; i < p->n && !s; i++) {
		if (p->slots[i].reserved || !serves(&p->slots[i], physnet))
			continue;
		if (p->dir[0]) {
			r = mark(p, &p->slots[i], mac,
				 device_id_hint && device_id_hint[0] ? device_id_hint : "-", d);
			if (r == -EEXIST)
				continue; /* another vfmigrate run's */
			if (r < 0)
				return r;
		}
		s = &p->slots[i];
	}
	if (!s) {
		diag_set(d, "no free emulated VF for physnet %s",
			 physnet && physnet[0] ? physnet : "(any)");
		return -ENOSPC;
	}
	if (device_id_hint && device_id_hint[0])
		snprintf(spec.device_id, sizeof(spec.device_id), "%s", device_id_hint);
	else
		snprintf(spec.device_id, sizeof(spec.device_id), "vfm-%s", s->bus);
	snprintf(spec.driver, sizeof(spec.driver), "%s", p->driver);
	snprintf(spec.bus, sizeof(spec.bus), "%s", s->bus);
	snprintf(spec.backend, sizeof(spec.backend), "%s", s->tap);
	memcpy(spec.mac, mac, 6);
	spec.vlan = vlan;
	s->reserved = true;
	s->handed_in = false;
	snprintf(s->device_id, sizeof(s->device_id), "%s", spec.device_id);
	memcpy(s->mac, mac, 6);
	s->vlan = vlan;
	*ret_spec = spec;
	return 0;
}

/* Idempotent, and valid for a slot the pool did not hand out (the source's VF, plugged when the
 * guest started). */
static int emul_release(void *ud, const struct plug_spec *spec, int64_t deadline_ms, struct diag *d)
{
	struct vfpool_emul *p = ud;
	struct slot *s;
	int r;

	(void)deadline_ms;
	if (p->dir[0] && !spec->backend[0] && spec->has_mac) {
		/* recover: what was taken is not known, only for which MAC. */
		for (size_t i = 0; i < p->n; i++) {
			uint8_t m[6];

			if (marker_mac(p, &p->slots[i], m) == 0 && !memcmp(m, spec->mac, 6)) {
				unmark(p, &p->slots[i], spec->mac);
				p->slots[i].reserved = false;
				return 0;
			}
		}
		diag_set(d, "no emulated VF of %s is reserved for that MAC", p->host);
		return -ENOENT;
	}
	r = slot_of(ud, spec, &s, d);
	if (r < 0)
		return r;
	unmark(p, s, spec->has_mac ? spec->mac : NULL);
	s->reserved = false;
	s->handed_in = false;
	s->device_id[0] = '\0';
	return 0;
}

static int emul_handoff(void *ud, const struct plug_spec *spec, bool incoming, int64_t deadline_ms,
			struct diag *d)
{
	struct slot *s;
	int r;

	(void)deadline_ms;
	r = slot_of(ud, spec, &s, d);
	if (r < 0)
		return r;
	s->handed_in = incoming;
	return 0;
}

void vfpool_emul_ops(struct vfpool_emul *p, struct vfpool_ops *ret_ops)
{
	*ret_ops = (struct vfpool_ops){
	    .userdata = p,
	    .vf_takes_guest_mac = true, /* an emulated NIC takes whatever MAC the guest sets */
	    .probe = emul_probe,
	    .reserve = emul_reserve,
	    .release = emul_release,
	    .handoff = emul_handoff,
	};
}
