// SPDX-License-Identifier: MIT
#include "vfpool_libvirt.h"

#include <errno.h>
#include <libvirt/virterror.h>
#include <stdio.h>
#include <string.h>

struct vfpool_libvirt {
	struct hv_libvirt *hv;
	size_t n;
	char sources[DOMXML_SOURCES_MAX][VFM_ID_MAX];
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
	memcpy(p->sources, sources, n * VFM_ID_MAX);
	*ret = p;
	return 0;
}

struct vfpool_libvirt *vfpool_libvirt_free(struct vfpool_libvirt *p)
{
	free(p);
	return NULL;
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

/* Whether source i is free on this host now. */
static int source_free(struct vfpool_libvirt *p, size_t i, bool *ret_free, struct diag *d)
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
		int r = source_free(p, i, &f, &sd);

		if (r < 0 && !first_rc) {
			first_rc = r;
			first = sd;
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

		if (source_free(p, i, &f, &sd) < 0 || !f)
			continue;
		if (domxml_source_to_spec(p->sources[i], &s, d) < 0)
			return -EINVAL;
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
	(void)ud;
	(void)spec;
	(void)deadline_ms;
	(void)d;
	return 0; /* libvirt frees a VF when its interface is detached or the guest leaves */
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
	};
}
