// SPDX-License-Identifier: MIT
#include "vfpool_libvirt.h"

#include <errno.h>
#include <fcntl.h>
#include <libvirt/virterror.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

struct vfpool_libvirt {
	struct hv_libvirt *hv;
	size_t n;
	char sources[DOMXML_SOURCES_MAX][VFM_ID_MAX];
	/* vfpool_libvirt_share: the in-flight locks' directory and host key ("" = none). */
	char dir[VFPOOL_LIBVIRT_DIR_MAX];
	char key[17];
	int held_fd; /* the lock of this run's reservation, -1 = none */
	size_t held_source;
};

int vfpool_libvirt_new(struct hv_libvirt *hv, const char (*sources)[VFM_ID_MAX], size_t n,
		       struct vfpool_libvirt **ret, struct diag *d)
{
	struct vfpool_libvirt *p;

	if (n > DOMXML_SOURCES_MAX) {
		diag_set(d, "more than %d VF sources", DOMXML_SOURCES_MAX);
		return -E2BIG;
	}
	for (size_t i = 0; i < n; i++) {
		int r = domxml_source_check(sources[i], d);

		if (r < 0)
			return r;
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->hv = hv;
	p->n = n;
	p->held_fd = -1;
	memcpy(p->sources, sources, n * VFM_ID_MAX);
	*ret = p;
	return 0;
}

struct vfpool_libvirt *vfpool_libvirt_free(struct vfpool_libvirt *p)
{
	if (p && p->held_fd >= 0)
		close(p->held_fd);
	free(p);
	return NULL;
}

int vfpool_libvirt_share(struct vfpool_libvirt *p, const char *state_dir, const char *host,
			 struct diag *d)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a: a file name for any URI */

	if (!state_dir || !state_dir[0] || !host ||
	    snprintf(p->dir, sizeof(p->dir), "%s/vfpool-libvirt", state_dir) >=
		(int)sizeof(p->dir)) {
		p->dir[0] = '\0';
		diag_set(d, "libvirt VF pool: state dir path empty or too long");
		return -EINVAL;
	}
	for (const char *c = host; *c; c++)
		h = (h ^ (unsigned char)*c) * 1099511628211ULL;
	snprintf(p->key, sizeof(p->key), "%016llx", (unsigned long long)h);
	return 0;
}

/*
 * Takes lock slot k of source i (a network source has one slot per VF it may still hand out):
 * a flock held from reserve until release or the end of this process, so that a run in flight
 * between reserve and plug keeps its VF from other runs, and one that dies gives it up at
 * once. Returns the fd, -EWOULDBLOCK when another run holds the slot, or -errno.
 */
static int slot_lock(struct vfpool_libvirt *p, size_t i, unsigned k, struct diag *d)
{
	char path[VFPOOL_LIBVIRT_DIR_MAX + VFM_ID_MAX + 48], name[VFM_ID_MAX];
	int fd, r;

	/* The state dir may not exist yet (check runs before any journal). */
	snprintf(path, sizeof(path), "%.*s", (int)(strlen(p->dir) - strlen("/vfpool-libvirt")),
		 p->dir);
	(void)mkdir(path, 0700);
	(void)mkdir(p->dir, 0700);
	snprintf(name, sizeof(name), "%s", p->sources[i]);
	for (char *c = name; *c; c++)
		if (*c == '/')
			*c = '_';
	snprintf(path, sizeof(path), "%s/%s@%s#%u.lock", p->dir, p->key, name, k);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		r = -errno;
		diag_set(d, "opening %s: %s", path, strerror(-r));
		return r;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		r = errno == EWOULDBLOCK ? -EWOULDBLOCK : -errno;
		close(fd);
		if (r != -EWOULDBLOCK)
			diag_set(d, "locking %s: %s", path, strerror(-r));
		return r;
	}
	return fd;
}

/* A free lock slot among the first nfree of source i: its fd, -EWOULDBLOCK when all are held. */
static int take_slot(struct vfpool_libvirt *p, size_t i, unsigned nfree, struct diag *d)
{
	for (unsigned k = 0; k < nfree; k++) {
		int fd = slot_lock(p, i, k, d);

		if (fd != -EWOULDBLOCK)
			return fd;
	}
	return -EWOULDBLOCK;
}

int vfpool_libvirt_source_free(const char *source, const char *const *doms, size_t n,
			       const char *net_xml, bool *ret_free, struct diag *d)
{
	_cleanup_free_ struct domxml_domain *dom = calloc(1, sizeof(*dom));
	struct plug_spec s = {0};
	int r;

	if (!dom)
		return -ENOMEM;
	r = domxml_source_to_spec(source, &s, d);
	if (r < 0)
		return r;
	if (strcmp(s.driver, "network") == 0) {
		unsigned total = 0, used = 0;

		if (!net_xml) {
			diag_set(d, "network %s: no XML", s.backend);
			return -EINVAL;
		}
		r = domxml_parse_hostdev_network(net_xml, strlen(net_xml), &total, &used, d);
		if (r < 0) {
			diag_prefix(d, "network %s", s.backend);
			return r;
		}
		*ret_free = used < total;
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		r = domxml_parse_domain(doms[i], strlen(doms[i]), dom, d);
		if (r < 0)
			return r;
		for (size_t k = 0; k < dom->n_nics; k++) {
			const struct domxml_nic *nic = &dom->nics[k];

			if ((s.backend_kind == PLUG_BACKEND_TAP &&
			     strcmp(nic->target_dev, s.backend) == 0) ||
			    (s.backend_kind == PLUG_BACKEND_HOSTDEV &&
			     strcmp(nic->hostdev_pci, s.backend) == 0)) {
				*ret_free = false;
				return 0;
			}
		}
	}
	*ret_free = true;
	return 0;
}

/* Whether source i is free on this host now, and how many VFs it can still hand out. */
static int source_free(struct vfpool_libvirt *p, size_t i, bool *ret_free, unsigned *ret_n,
		       struct diag *d)
{
	virConnectPtr conn;
	virDomainPtr *doms = NULL;
	char **xmls = NULL;
	char *net_xml = NULL;
	struct plug_spec s = {0};
	int n = 0, nx = 0, r;

	r = hv_libvirt_conn(p->hv, &conn, d);
	if (r < 0)
		return r;
	r = domxml_source_to_spec(p->sources[i], &s, d);
	if (r < 0)
		return r;
	if (strcmp(s.driver, "network") == 0) {
		virNetworkPtr net = virNetworkLookupByName(conn, s.backend);
		virErrorPtr e;

		if (net) {
			if (virNetworkIsActive(net) == 1)
				net_xml = virNetworkGetXMLDesc(net, 0);
			else
				diag_set(d, "network %s is not active", s.backend);
			virNetworkFree(net);
		}
		if (!net_xml) {
			e = virGetLastError();
			if (e && e->message)
				diag_set(d, "network %s: %s", s.backend, e->message);
			else if (!net)
				diag_set(d, "network %s not found", s.backend);
			virResetLastError();
			return -ENOENT;
		}
	} else {
		n = virConnectListAllDomains(conn, &doms, VIR_CONNECT_LIST_DOMAINS_ACTIVE);
		if (n < 0) {
			virErrorPtr e = virGetLastError();

			diag_set(d, "list domains: %s", e && e->message ? e->message : "error");
			virResetLastError();
			return -EIO;
		}
		xmls = calloc((size_t)n + 1, sizeof(*xmls));
		for (int k = 0; xmls && k < n; k++)
			xmls[k] = virDomainGetXMLDesc(doms[k], 0);
	}
	if (n > 0 && !xmls) {
		r = -ENOMEM;
	} else {
		int have = 0;

		for (int k = 0; k < n; k++)
			if (xmls[k])
				xmls[have++] = xmls[k];
		nx = have;
		r = vfpool_libvirt_source_free(p->sources[i], (const char *const *)xmls,
					       (size_t)have, net_xml, ret_free, d);
		*ret_n = r >= 0 && *ret_free ? 1 : 0;
		if (r >= 0 && *ret_free && net_xml) {
			unsigned total = 0, used = 0;

			if (domxml_parse_hostdev_network(net_xml, strlen(net_xml), &total, &used,
							 d) >= 0 &&
			    total > used)
				*ret_n = total - used;
		}
	}
	for (int k = 0; xmls && k < nx; k++)
		free(xmls[k]);
	free(xmls);
	for (int k = 0; doms && doms[k]; k++)
		virDomainFree(doms[k]);
	free(doms);
	free(net_xml);
	return r;
}

static int vp_probe(void *ud, const char *physnet, int64_t deadline_ms, unsigned *ret_free,
		    struct diag *d)
{
	struct vfpool_libvirt *p = ud;
	unsigned nfree = 0;
	struct diag first = {{0}};
	int first_rc = 0;

	(void)physnet;
	(void)deadline_ms;
	for (size_t i = 0; i < p->n; i++) {
		struct diag sd = {{0}};
		bool f = false;
		unsigned k = 0;
		int r = source_free(p, i, &f, &k, &sd);

		if (r < 0 && !first_rc) {
			first_rc = r;
			first = sd;
		}
		if (r >= 0 && f && p->dir[0]) {
			/* Not counted while another run holds it between reserve and plug. */
			struct diag ld = {{0}};
			int fd = take_slot(p, i, k, &ld);

			if (fd >= 0)
				close(fd);
			else if (fd == -EWOULDBLOCK)
				f = false; /* a state dir we cannot use is reserve's error, not ours
					    */
		}
		if (r >= 0 && f)
			nfree++;
	}
	/* The daemon not answering is an error; sources that are all taken are "0 free". */
	if (nfree == 0 && first_rc && first_rc != -ENOENT && first_rc != -EMEDIUMTYPE) {
		*d = first;
		return first_rc;
	}
	*ret_free = nfree;
	return 0;
}

static int vp_reserve(void *ud, const char *physnet, const uint8_t mac[6], int vlan,
		      const char *device_id_hint, int64_t deadline_ms, struct plug_spec *ret_spec,
		      struct diag *d)
{
	struct vfpool_libvirt *p = ud;
	struct diag sd = {{0}};

	(void)physnet;
	(void)deadline_ms;
	for (size_t i = 0; i < p->n; i++) {
		struct plug_spec s = {.vlan = vlan};
		bool f = false;
		unsigned k = 0;
		int fd = -1;

		if (source_free(p, i, &f, &k, &sd) < 0 || !f)
			continue;
		if (p->dir[0]) {
			fd = take_slot(p, i, k, &sd);
			if (fd == -EWOULDBLOCK)
				continue; /* another run's, on its way to its guest */
			if (fd < 0) {
				*d = sd;
				return fd;
			}
			/* Ours now: look again (a run may have plugged it and ended meanwhile). */
			if (source_free(p, i, &f, &k, &sd) < 0 || !f) {
				close(fd);
				continue;
			}
		}
		if (domxml_source_to_spec(p->sources[i], &s, d) < 0) {
			if (fd >= 0)
				close(fd);
			return -EINVAL;
		}
		if (p->held_fd >= 0)
			close(p->held_fd);
		p->held_fd = fd;
		p->held_source = i;
		memcpy(s.mac, mac, 6);
		s.has_mac = true;
		if (device_id_hint)
			snprintf(s.device_id, sizeof(s.device_id), "%s", device_id_hint);
		*ret_spec = s;
		return 0;
	}
	if (sd.msg[0])
		diag_set(d, "no free VF (%s)", sd.msg);
	else
		diag_set(d, "no free VF among %zu source(s)", p->n);
	return -ENOSPC;
}

static int vp_release(void *ud, const struct plug_spec *spec, int64_t deadline_ms, struct diag *d)
{
	struct vfpool_libvirt *p = ud;

	(void)spec;
	(void)deadline_ms;
	(void)d;
	/* libvirt frees a VF when its interface is detached or the guest leaves; this run's
	 * in-flight lock goes with the reservation. */
	if (p->held_fd >= 0) {
		close(p->held_fd);
		p->held_fd = -1;
	}
	return 0;
}

static int vp_failover_fits(void *ud, const struct plug_spec *src, struct diag *d)
{
	struct vfpool_libvirt *p = ud;

	for (size_t i = 0; i < p->n; i++) {
		int r = domxml_failover_fits(src->device_id, src->driver, p->sources[i], d);

		if (r < 0)
			return r;
	}
	return 0;
}

bool vfpool_libvirt_takes_guest_mac(const char (*sources)[VFM_ID_MAX], size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (strncmp(sources[i], "ethernet:", strlen("ethernet:")) != 0)
			return false;
	return true;
}

void vfpool_libvirt_ops(struct vfpool_libvirt *p, struct vfpool_ops *ret_ops)
{
	*ret_ops = (struct vfpool_ops){
	    .userdata = p,
	    .vf_takes_guest_mac =
		vfpool_libvirt_takes_guest_mac((const char(*)[VFM_ID_MAX])p->sources, p->n),
	    .probe = vp_probe,
	    .reserve = vp_reserve,
	    .release = vp_release,
	    .handoff = NULL,
	    .failover_fits = vp_failover_fits,
	};
}
