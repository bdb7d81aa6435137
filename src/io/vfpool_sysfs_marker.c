// SPDX-License-Identifier: MIT
/* The VF pool's reservation markers: one file per reserved VF under the state dir. */
#include "vfpool_sysfs_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/fdio.h"
#include "util/file.h"

/* ------------------------------------------------------------------------------------------ */
/* Reservation markers                                                                         */

static int marker_path(const struct vfpool_sysfs *p, const char *bdf, char *out, size_t n)
{
	int k = snprintf(out, n, "%s/vfpool/%s", p->o.state_dir, bdf);

	return k < 0 || (size_t)k >= n ? -ENAMETOOLONG : 0;
}

/* 0 and *ret, -ENOENT when there is none, -EBADMSG when it says nothing we understand. */
int marker_read(const struct vfpool_sysfs *p, const char *bdf, struct marker *ret)
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
int marker_create(struct vfpool_sysfs *p, const struct vf *vf, const uint8_t mac[6], int vlan,
		  const char *device_id, struct diag *d)
{
	char path[2 * VFPOOL_SYSFS_PATH_MAX], dir[2 * VFPOOL_SYSFS_PATH_MAX], text[SMALL_FILE_MAX],
	    m[18];
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
	snprintf(text, sizeof(text), "pf=%s\nvf=%u\nmac=%s\nvlan=%d\ndevice=%s\n", vf->pf->name,
		 vf->index, format_mac(mac, m), vlan, device_id);
	return file_create_excl(path, text, strlen(text), d);
}

int marker_remove(const struct vfpool_sysfs *p, const char *bdf, struct diag *d)
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
