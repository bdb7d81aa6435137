// SPDX-License-Identifier: MIT
#include "domxml.h"

#include <errno.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlsave.h>
#include <stdio.h>
#include <string.h>

static void docp(xmlDocPtr *doc)
{
	if (*doc)
		xmlFreeDoc(*doc);
}
#define _cleanup_doc_ _cleanup_(docp)

static bool has_doctype(const char *xml, size_t len)
{
	static const char needle[] = "<!DOCTYPE";

	for (size_t i = 0; i + sizeof(needle) - 1 <= len; i++)
		if (xml[i] == '<' && strncasecmp(xml + i, needle, sizeof(needle) - 1) == 0)
			return true;
	return false;
}

/* Parses a document whose root element is `root`. */
static int doc_read(const char *xml, size_t len, const char *root, xmlDocPtr *ret, struct diag *d)
{
	xmlDocPtr doc;
	xmlNodePtr r;

	if (len > DOMXML_MAX) {
		diag_set(d, "%s XML larger than %d bytes", root, DOMXML_MAX);
		return -EFBIG;
	}
	if (memchr(xml, '\0', len) || has_doctype(xml, len)) {
		diag_set(d, "%s XML with a NUL byte or a DOCTYPE", root);
		return -EBADMSG;
	}
	doc = xmlReadMemory(xml, (int)len, NULL, NULL,
			    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
				XML_PARSE_NOCDATA);
	if (!doc) {
		const xmlError *e = xmlGetLastError();
		char msg[200] = "";
		size_t l;

		if (e && e->message)
			snprintf(msg, sizeof(msg), ": %s", e->message);
		/* libxml2 messages end in a newline. */
		l = strlen(msg);
		while (l > 0 && (msg[l - 1] == '\n' || msg[l - 1] == ' '))
			msg[--l] = '\0';
		diag_set(d, "%s XML is not well-formed%s", root, msg);
		return -EBADMSG;
	}
	r = xmlDocGetRootElement(doc);
	if (!r || strcmp((const char *)r->name, root) != 0) {
		xmlFreeDoc(doc);
		diag_set(d, "XML is not a <%s>", root);
		return -EBADMSG;
	}
	*ret = doc;
	return 0;
}

static bool is_el(xmlNodePtr n, const char *name)
{
	return n && n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0;
}

static xmlNodePtr child(xmlNodePtr n, const char *name)
{
	for (xmlNodePtr c = n ? n->children : NULL; c; c = c->next)
		if (is_el(c, name))
			return c;
	return NULL;
}

/* Copies attribute `attr` of n into dst; absent: 0 and dst empty; too long: -E2BIG. */
static int attr_copy(xmlNodePtr n, const char *attr, char *dst, size_t size, struct diag *d)
{
	xmlChar *v;
	size_t l;

	dst[0] = '\0';
	if (!n)
		return 0;
	v = xmlGetProp(n, (const xmlChar *)attr);
	if (!v)
		return 0;
	l = strlen((const char *)v);
	if (l >= size) {
		xmlFree(v);
		diag_set(d, "<%s %s=...> is longer than %zu bytes", (const char *)n->name, attr,
			 size - 1);
		return -E2BIG;
	}
	memcpy(dst, v, l + 1);
	xmlFree(v);
	return 0;
}

static int attr_mac(xmlNodePtr n, const char *attr, uint8_t mac[6], bool *ret_has, struct diag *d)
{
	char s[32];
	int r = attr_copy(n, attr, s, sizeof(s), d);

	if (r < 0)
		return r;
	if (ret_has)
		*ret_has = false;
	if (!s[0])
		return 0;
	if (parse_mac(s, mac) < 0) {
		char clean[40];

		str_sanitize(clean, sizeof(clean), s);
		diag_set(d, "bad MAC address \"%s\"", clean);
		return -EINVAL;
	}
	if (ret_has)
		*ret_has = true;
	return 0;
}

bool domxml_pci_parse(const char *s, unsigned ret[4])
{
	unsigned v[4];
	int n = 0;

	if (!s || strlen(s) != 12)
		return false;
	for (size_t i = 0; i < 12; i++) {
		bool sep = i == 4 || i == 7 || i == 10;

		if (sep ? s[i] != (i == 10 ? '.' : ':') : !strchr("0123456789abcdefABCDEF", s[i]))
			return false;
	}
	if (sscanf(s, "%4x:%2x:%2x.%1x%n", &v[0], &v[1], &v[2], &v[3], &n) != 4 || n != 12 ||
	    v[2] > 0x1f || v[3] > 7)
		return false;
	if (ret)
		memcpy(ret, v, sizeof(v));
	return true;
}

static int pci_from_address(xmlNodePtr a, char *dst, size_t size)
{
	const char *names[4] = {"domain", "bus", "slot", "function"};
	unsigned long v[4];

	for (int i = 0; i < 4; i++) {
		xmlChar *s = xmlGetProp(a, (const xmlChar *)names[i]);
		char *end;

		if (!s)
			return -EINVAL;
		errno = 0;
		v[i] = strtoul((const char *)s, &end, 0);
		if (errno || *end || end == (char *)s) {
			xmlFree(s);
			return -EINVAL;
		}
		xmlFree(s);
	}
	if (v[0] > 0xffff || v[1] > 0xff || v[2] > 0x1f || v[3] > 7)
		return -EINVAL;
	snprintf(dst, size, "%04lx:%02lx:%02lx.%lx", v[0], v[1], v[2], v[3]);
	return 0;
}

static int parse_nic(xmlNodePtr n, struct domxml_nic *nic, struct diag *d)
{
	xmlNodePtr src;
	int r;

	memset(nic, 0, sizeof(*nic));
	if ((r = attr_copy(n, "type", nic->type, sizeof(nic->type), d)) < 0 ||
	    (r = attr_copy(child(n, "alias"), "name", nic->alias, sizeof(nic->alias), d)) < 0 ||
	    (r = attr_mac(child(n, "mac"), "address", nic->mac, &nic->has_mac, d)) < 0 ||
	    (r = attr_copy(child(n, "model"), "type", nic->model, sizeof(nic->model), d)) < 0 ||
	    (r = attr_copy(child(n, "target"), "dev", nic->target_dev, sizeof(nic->target_dev),
			   d)) < 0)
		return r;
	if ((r = attr_copy(child(n, "teaming"), "type", nic->teaming_type,
			   sizeof(nic->teaming_type), d)) < 0 ||
	    (r = attr_copy(child(n, "teaming"), "persistent", nic->teaming_persistent,
			   sizeof(nic->teaming_persistent), d)) < 0)
		return r;
	src = child(n, "source");
	if (strcmp(nic->type, "network") == 0) {
		r = attr_copy(src, "network", nic->network, sizeof(nic->network), d);
		if (r < 0)
			return r;
	}
	if (strcmp(nic->type, "hostdev") == 0) {
		xmlNodePtr a = child(src, "address");
		char managed[8];

		r = attr_copy(n, "managed", managed, sizeof(managed), d);
		if (r < 0)
			return r;
		nic->managed = strcmp(managed, "yes") == 0;

		if (a && pci_from_address(a, nic->hostdev_pci, sizeof(nic->hostdev_pci)) < 0) {
			diag_set(d, "hostdev interface with a bad PCI address");
			return -EINVAL;
		}
	}
	return 0;
}

/*
 * A <hostdev mode='subsystem' type='pci'> (a VF given to the guest as a bare PCI device: the
 * host set its MAC on the PF, libvirt sets none) as a NIC of type DOMXML_HOSTDEV_PCI: its
 * alias, PCI address and managed flag; no MAC. Other hostdevs (USB, SCSI, mdev) are not NICs:
 * *ret_is_nic false.
 */
static int parse_hostdev(xmlNodePtr n, struct domxml_nic *nic, bool *ret_is_nic, struct diag *d)
{
	char mode[16], type[16], managed[8];
	xmlNodePtr a;
	int r;

	memset(nic, 0, sizeof(*nic));
	*ret_is_nic = false;
	if ((r = attr_copy(n, "mode", mode, sizeof(mode), d)) < 0 ||
	    (r = attr_copy(n, "type", type, sizeof(type), d)) < 0 ||
	    (r = attr_copy(n, "managed", managed, sizeof(managed), d)) < 0)
		return r;
	if ((mode[0] && strcmp(mode, "subsystem") != 0) || strcmp(type, "pci") != 0)
		return 0;
	a = child(child(n, "source"), "address");
	if (!a || pci_from_address(a, nic->hostdev_pci, sizeof(nic->hostdev_pci)) < 0) {
		diag_set(d, "PCI hostdev without a good PCI source address");
		return -EINVAL;
	}
	r = attr_copy(child(n, "alias"), "name", nic->alias, sizeof(nic->alias), d);
	if (r < 0)
		return r;
	snprintf(nic->type, sizeof(nic->type), "%s", DOMXML_HOSTDEV_PCI);
	nic->managed = strcmp(managed, "yes") == 0;
	*ret_is_nic = true;
	return 0;
}

int domxml_parse_domain(const char *xml, size_t len, struct domxml_domain *ret, struct diag *d)
{
	_cleanup_doc_ xmlDocPtr doc = NULL;
	_cleanup_free_ struct domxml_domain *dom = calloc(1, sizeof(*dom));
	xmlNodePtr root, devs;
	int r;

	if (!dom)
		return -ENOMEM;
	r = doc_read(xml, len, "domain", &doc, d);
	if (r < 0)
		return r;
	root = xmlDocGetRootElement(doc);
	{
		xmlNodePtr nm = child(root, "name");
		xmlChar *s = nm ? xmlNodeGetContent(nm) : NULL;

		if (s && strlen((const char *)s) >= sizeof(dom->name)) {
			xmlFree(s);
			diag_set(d, "domain name longer than %zu bytes", sizeof(dom->name) - 1);
			return -E2BIG;
		}
		if (s)
			snprintf(dom->name, sizeof(dom->name), "%s", (const char *)s);
		xmlFree(s);
	}
	devs = child(root, "devices");
	for (xmlNodePtr c = devs ? devs->children : NULL; c; c = c->next) {
		if (is_el(c, "interface") || is_el(c, "hostdev")) {
			bool is_nic = true;

			if (dom->n_nics == DOMXML_NICS_MAX) {
				diag_set(d, "domain has more than %d interfaces and PCI hostdevs",
					 DOMXML_NICS_MAX);
				return -E2BIG;
			}
			if (is_el(c, "interface"))
				r = parse_nic(c, &dom->nics[dom->n_nics], d);
			else
				r = parse_hostdev(c, &dom->nics[dom->n_nics], &is_nic, d);
			if (r < 0)
				return r;
			if (is_nic)
				dom->n_nics++;
		} else if (is_el(c, "channel")) {
			char type[DOMXML_CHANNEL_TYPE_MAX], name[64], path[DOMXML_PATH_MAX];
			xmlNodePtr t = child(c, "target");

			if ((r = attr_copy(t, "name", name, sizeof(name), d)) < 0)
				return r;
			if (strcmp(name, DOMXML_QGA_CHANNEL) == 0)
				dom->has_qga_channel = true;
			if (strcmp(name, DOMXML_AGENT_CHANNEL) != 0)
				continue;
			if ((r = attr_copy(c, "type", type, sizeof(type), d)) < 0)
				return r;
			memcpy(dom->agent_type, type, sizeof(type));
			if (strcmp(type, "unix") != 0)
				continue;
			if ((r = attr_copy(child(c, "source"), "path", path, sizeof(path), d)) < 0)
				return r;
			dom->has_agent_channel = true;
			memcpy(dom->agent_path, path, sizeof(path));
		}
	}
	*ret = *dom;
	return 0;
}

const struct domxml_nic *domxml_find_nic(const struct domxml_domain *dom, const char *alias,
					 const uint8_t *mac)
{
	for (size_t i = 0; alias && alias[0] && i < dom->n_nics; i++)
		if (strcmp(dom->nics[i].alias, alias) == 0)
			return &dom->nics[i];
	for (size_t i = 0; mac && i < dom->n_nics; i++)
		if (dom->nics[i].has_mac && memcmp(dom->nics[i].mac, mac, 6) == 0)
			return &dom->nics[i];
	return NULL;
}

int domxml_failover_pair(const struct domxml_domain *dom, const char *alias, char ret[VFM_ID_MAX],
			 struct diag *d)
{
	const struct domxml_nic *vf = domxml_find_nic(dom, alias, NULL), *p;
	char clean[VFM_ID_MAX];

	if (!alias || !alias[0] || !vf) {
		diag_set(d, "no interface or PCI hostdev with alias %.64s", alias ? alias : "");
		return -ENOENT;
	}
	if (strcmp(vf->teaming_type, "transient") != 0) {
		ret[0] = '\0';
		return 0;
	}
	str_sanitize(clean, sizeof(clean), vf->teaming_persistent);
	if (!vf->teaming_persistent[0]) {
		diag_set(d, "%s has <teaming type='transient'> without persistent='ALIAS'", alias);
		return -EINVAL;
	}
	p = domxml_find_nic(dom, vf->teaming_persistent, NULL);
	if (!p || p == vf) {
		diag_set(d, "%s: <teaming persistent='%s'> names no other interface", alias, clean);
		return -EINVAL;
	}
	if (strcmp(p->teaming_type, "persistent") != 0) {
		diag_set(d, "%s: interface %s has no <teaming type='persistent'/>", alias, clean);
		return -EINVAL;
	}
	if (strcmp(p->model, "virtio") != 0) {
		diag_set(d,
			 "%s: interface %s is not model virtio (QEMU's failover standby is a "
			 "virtio-net NIC)",
			 alias, clean);
		return -EINVAL;
	}
	snprintf(ret, VFM_ID_MAX, "%s", vf->teaming_persistent);
	return 0;
}

static int doc_dump(xmlDocPtr doc, char **ret, struct diag *d)
{
	xmlChar *out = NULL;
	int n = 0;
	char *s;

	/* The root element only: libvirt does not want an XML declaration. */
	xmlBufferPtr b = xmlBufferCreate();

	if (!b)
		return -ENOMEM;
	n = xmlNodeDump(b, doc, xmlDocGetRootElement(doc), 0, 0);
	if (n < 0) {
		xmlBufferFree(b);
		diag_set(d, "cannot serialize XML");
		return -ENOMEM;
	}
	out = (xmlChar *)xmlBufferContent(b);
	s = strdup((const char *)out);
	xmlBufferFree(b);
	if (!s)
		return -ENOMEM;
	*ret = s;
	return 0;
}

int domxml_remove_nic(const char *xml, size_t len, const char *alias, const uint8_t *mac,
		      char **ret_xml, unsigned *ret_removed, struct diag *d)
{
	_cleanup_doc_ xmlDocPtr doc = NULL;
	xmlNodePtr devs, c, next;
	unsigned removed = 0;
	int r;

	r = doc_read(xml, len, "domain", &doc, d);
	if (r < 0)
		return r;
	devs = child(xmlDocGetRootElement(doc), "devices");
	for (c = devs ? devs->children : NULL; c; c = next) {
		struct domxml_nic nic;

		next = c->next;
		if (is_el(c, "interface")) {
			r = parse_nic(c, &nic, d);
		} else if (is_el(c, "hostdev")) {
			bool is_nic;

			r = parse_hostdev(c, &nic, &is_nic, d);
			if (r == 0 && !is_nic)
				continue;
		} else {
			continue;
		}
		if (r < 0)
			return r;
		if ((alias && alias[0] && strcmp(nic.alias, alias) == 0) ||
		    (mac && nic.has_mac && memcmp(nic.mac, mac, 6) == 0)) {
			/* Take the indentation before it along. */
			if (c->prev && c->prev->type == XML_TEXT_NODE) {
				xmlNodePtr ws = c->prev;

				xmlUnlinkNode(ws);
				xmlFreeNode(ws);
			}
			xmlUnlinkNode(c);
			xmlFreeNode(c);
			removed++;
		}
	}
	r = doc_dump(doc, ret_xml, d);
	if (r < 0)
		return r;
	*ret_removed = removed;
	return 0;
}

/* Identifiers that go into attributes we build: no quoting needed, nothing surprising. */
static bool word_ok(const char *s, const char *extra)
{
	if (!s[0])
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || strchr("_.-", *s) ||
		      (extra && strchr(extra, *s))))
			return false;
	return true;
}

int domxml_build_nic(const struct plug_spec *spec, char **ret_xml, struct diag *d)
{
	char mac[18], macel[64] = "", vlan[64] = "", alias[VFM_ID_MAX + 32], *s = NULL;
	char teaming[VFM_ID_MAX + 64] = "";
	unsigned pci[4];
	int n;

	if (!word_ok(spec->device_id, NULL)) {
		diag_set(d, "bad device alias \"%.64s\"", spec->device_id);
		return -EINVAL;
	}
	if (!word_ok(spec->backend, ":")) {
		diag_set(d, "bad VF backend \"%.64s\"", spec->backend);
		return -EINVAL;
	}
	if (spec->has_mac)
		snprintf(macel, sizeof(macel), "<mac address='%s'/>", format_mac(spec->mac, mac));
	if (spec->vlan > 4094) {
		diag_set(d, "bad VLAN %d", spec->vlan);
		return -EINVAL;
	}
	if (spec->vlan >= 0)
		snprintf(vlan, sizeof(vlan), "<vlan><tag id='%d'/></vlan>", spec->vlan);
	snprintf(alias, sizeof(alias), "<alias name='%s'/>", spec->device_id);
	/* A failover primary (re-plugged in a rollback) is paired again; libvirt refuses it on
	 * the other kinds, and so do we. */
	if (spec->failover_pair_id[0]) {
		if (!word_ok(spec->failover_pair_id, NULL) ||
		    spec->backend_kind != PLUG_BACKEND_HOSTDEV ||
		    strcmp(spec->driver, DOMXML_HOSTDEV_PCI) == 0 ||
		    strcmp(spec->driver, DOMXML_HOSTDEV_PCI_MANAGED) == 0) {
			diag_set(d,
				 "a failover VF is an <interface type='hostdev'> or 'network' with "
				 "a plain failover pair alias");
			return -EINVAL;
		}
		snprintf(teaming, sizeof(teaming), "<teaming type='transient' persistent='%s'/>",
			 spec->failover_pair_id);
	}
	if (spec->backend_kind == PLUG_BACKEND_TAP) {
		const char *model = spec->driver[0] ? spec->driver : "e1000e";

		if (!word_ok(model, NULL) || strlen(spec->backend) >= VFM_IFNAME_MAX) {
			diag_set(d, "bad model or tap name");
			return -EINVAL;
		}
		n = asprintf(&s,
			     "<interface type='ethernet'>%s<target dev='%s' managed='no'/>"
			     "<model type='%s'/><rom enabled='no'/>%s</interface>",
			     macel, spec->backend, model, alias);
	} else if (strcmp(spec->driver, DOMXML_HOSTDEV_PCI) == 0 ||
		   strcmp(spec->driver, DOMXML_HOSTDEV_PCI_MANAGED) == 0) {
		/* No <mac> and no <vlan>: a bare PCI device's are its PF's business. */
		if (!domxml_pci_parse(spec->backend, pci)) {
			diag_set(d, "bad VF PCI address \"%.64s\"", spec->backend);
			return -EINVAL;
		}
		n = asprintf(&s,
			     "<hostdev mode='subsystem' type='pci' managed='%s'><source><address "
			     "domain='0x%04x' bus='0x%02x' slot='0x%02x' function='0x%x'/></source>"
			     "%s</hostdev>",
			     strcmp(spec->driver, DOMXML_HOSTDEV_PCI) == 0 ? "no" : "yes", pci[0],
			     pci[1], pci[2], pci[3], alias);
	} else if (strcmp(spec->driver, "network") == 0) {
		n = asprintf(&s,
			     "<interface type='network'>%s<source network='%s'/>%s%s%s</interface>",
			     macel, spec->backend, vlan, teaming, alias);
	} else {
		if (!domxml_pci_parse(spec->backend, pci)) {
			diag_set(d, "bad VF PCI address \"%.64s\"", spec->backend);
			return -EINVAL;
		}
		n = asprintf(
		    &s,
		    "<interface type='hostdev' managed='yes'>%s<source><address type='pci' "
		    "domain='0x%04x' bus='0x%02x' slot='0x%02x' function='0x%x'/></source>"
		    "%s%s%s</interface>",
		    macel, pci[0], pci[1], pci[2], pci[3], vlan, teaming, alias);
	}
	if (n < 0)
		return -ENOMEM;
	*ret_xml = s;
	return 0;
}

/* A new element before `before` (NULL: last child of parent); NULL on allocation failure. */
static xmlNodePtr new_el_before(xmlNodePtr parent, xmlNodePtr before, const char *name)
{
	xmlNodePtr n = xmlNewDocNode(parent->doc, NULL, (const xmlChar *)name, NULL);

	if (!n)
		return NULL;
	if (before)
		return xmlAddPrevSibling(before, n) ? n : (xmlFreeNode(n), NULL);
	return xmlAddChild(parent, n) ? n : (xmlFreeNode(n), NULL);
}

int domxml_set_nic_source(const char *xml, size_t len, const char *alias,
			  const struct plug_spec *spec, char **ret_xml, struct diag *d)
{
	_cleanup_doc_ xmlDocPtr doc = NULL;
	xmlNodePtr devs, c, nic = NULL, at = NULL, src, a;
	bool network = strcmp(spec->driver, "network") == 0;
	unsigned pci[4];
	char v[16];
	int r;

	if (spec->backend_kind != PLUG_BACKEND_HOSTDEV ||
	    strcmp(spec->driver, DOMXML_HOSTDEV_PCI) == 0 ||
	    strcmp(spec->driver, DOMXML_HOSTDEV_PCI_MANAGED) == 0) {
		diag_set(d, "a failover VF comes from a hostdev: or network: source (libvirt "
			    "pairs only an <interface type='hostdev'> or 'network')");
		return -EINVAL;
	}
	if (network ? !word_ok(spec->backend, NULL) : !domxml_pci_parse(spec->backend, pci)) {
		diag_set(d, "bad VF backend \"%.64s\"", spec->backend);
		return -EINVAL;
	}
	r = doc_read(xml, len, "domain", &doc, d);
	if (r < 0)
		return r;
	devs = child(xmlDocGetRootElement(doc), "devices");
	/* Every interface as strictly as domxml_parse_domain reads it (a bad MAC is refused). */
	for (c = devs ? devs->children : NULL; c && !nic; c = c->next) {
		struct domxml_nic n;

		if (!is_el(c, "interface"))
			continue;
		r = parse_nic(c, &n, d);
		if (r < 0)
			return r;
		if (alias && alias[0] && strcmp(n.alias, alias) == 0)
			nic = c;
	}
	if (!nic) {
		diag_set(d, "no <interface> with alias %.64s", alias ? alias : "");
		return -ENOENT;
	}
	/* libvirt's ABI check between the two definitions refuses a change of type (a network
	 * interface gets a default model, a hostdev one has none): the type stays. */
	{
		xmlChar *t = xmlGetProp(nic, (const xmlChar *)"type");
		char clean[24];

		str_sanitize(clean, sizeof(clean), t ? (const char *)t : "");
		xmlFree(t);
		if (strcmp(clean, "hostdev") != 0 && strcmp(clean, "network") != 0) {
			diag_set(
			    d, "VF %.64s is an <interface type='%s'>, not a hostdev or network one",
			    alias, clean);
			return -EINVAL;
		}
		if (strcmp(clean, network ? "network" : "hostdev") != 0) {
			diag_set(d,
				 "VF %.64s is an <interface type='%s'>: its destination must be a "
				 "%s: source (libvirt refuses a failover VF that changes type)",
				 alias, clean, clean);
			return -EINVAL;
		}
	}
	/* The new <source> goes where the old one was (libvirt does not mind the order). */
	for (c = nic->children; c; c = c->next) {
		xmlNodePtr next = c->next;

		if (!is_el(c, "source"))
			continue;
		at = next;
		xmlUnlinkNode(c);
		xmlFreeNode(c);
		break;
	}
	src = new_el_before(nic, at, "source");
	if (!src)
		return -ENOMEM;
	if (network) {
		if (!xmlSetProp(src, (const xmlChar *)"network", (const xmlChar *)spec->backend))
			return -ENOMEM;
		/* managed= is the network's own (its <forward managed=>). */
		xmlUnsetProp(nic, (const xmlChar *)"managed");
	} else {
		const char *names[4] = {"domain", "bus", "slot", "function"};
		const char *fmt[4] = {"0x%04x", "0x%02x", "0x%02x", "0x%x"};

		/* The pool's VF is libvirt's to bind, as a plugged one is (domxml_build_nic). */
		if (!xmlSetProp(nic, (const xmlChar *)"managed", (const xmlChar *)"yes"))
			return -ENOMEM;
		a = xmlNewChild(src, NULL, (const xmlChar *)"address", NULL);
		if (!a || !xmlSetProp(a, (const xmlChar *)"type", (const xmlChar *)"pci"))
			return -ENOMEM;
		for (int i = 0; i < 4; i++) {
			snprintf(v, sizeof(v), fmt[i], pci[i]);
			if (!xmlSetProp(a, (const xmlChar *)names[i], (const xmlChar *)v))
				return -ENOMEM;
		}
	}
	return doc_dump(doc, ret_xml, d);
}

/* ------------------------------------------------------------------------------------------ */

void domxml_meta_init(struct domxml_meta *m)
{
	memset(m, 0, sizeof(*m));
	m->vlan = -1;
}

int domxml_source_to_spec(const char *source, struct plug_spec *spec, struct diag *d)
{
	const char *colon = strchr(source, ':');
	char kind[16];
	const char *rest;

	if (!colon || (size_t)(colon - source) >= sizeof(kind) || strlen(source) >= VFM_ID_MAX)
		goto bad;
	snprintf(kind, sizeof(kind), "%.*s", (int)(colon - source), source);
	rest = colon + 1;
	if (strcmp(kind, "ethernet") == 0) {
		const char *c2 = strchr(rest, ':');
		char tap[VFM_ID_MAX], model[VFM_ID_MAX];

		snprintf(tap, sizeof(tap), "%.*s", c2 ? (int)(c2 - rest) : (int)strlen(rest), rest);
		snprintf(model, sizeof(model), "%s", c2 ? c2 + 1 : "e1000e");
		if (!word_ok(tap, NULL) || strlen(tap) >= VFM_IFNAME_MAX || !word_ok(model, NULL))
			goto bad;
		spec->backend_kind = PLUG_BACKEND_TAP;
		snprintf(spec->backend, sizeof(spec->backend), "%s", tap);
		snprintf(spec->driver, sizeof(spec->driver), "%s", model);
	} else if (strcmp(kind, "network") == 0) {
		if (!word_ok(rest, NULL))
			goto bad;
		spec->backend_kind = PLUG_BACKEND_HOSTDEV;
		snprintf(spec->backend, sizeof(spec->backend), "%s", rest);
		snprintf(spec->driver, sizeof(spec->driver), "network");
	} else if (strcmp(kind, "hostdev") == 0) {
		if (!domxml_pci_parse(rest, NULL))
			goto bad;
		spec->backend_kind = PLUG_BACKEND_HOSTDEV;
		snprintf(spec->backend, sizeof(spec->backend), "%s", rest);
		snprintf(spec->driver, sizeof(spec->driver), "hostdev");
	} else {
		goto bad;
	}
	return 0;
bad : {
	char clean[80];

	str_sanitize(clean, sizeof(clean), source);
	diag_set(d,
		 "bad VF source \"%s\" (want ethernet:TAP[:MODEL], network:NAME or "
		 "hostdev:DDDD:BB:SS.F)",
		 clean);
	return -EINVAL;
}
}

int domxml_source_check(const char *source, struct diag *d)
{
	struct plug_spec s;

	return domxml_source_to_spec(source, &s, d);
}

int domxml_failover_fits(const char *alias, const char *kind, const char *source, struct diag *d)
{
	struct plug_spec s;
	char clean[80], calias[80];
	int r;

	if (strcmp(kind, "hostdev") != 0 && strcmp(kind, "network") != 0)
		return 0;
	r = domxml_source_to_spec(source, &s, d);
	if (r < 0)
		return r;
	if (strcmp(s.driver, kind) == 0)
		return 0;
	str_sanitize(clean, sizeof(clean), source);
	str_sanitize(calias, sizeof(calias), alias);
	diag_set(d,
		 "VF %s is an <interface type='%s'> of a failover pair: source %s cannot "
		 "replace it (libvirt keeps the interface, type and all, and changes only its "
		 "source); give it %s: sources (vfmigrate setup DOMAIN --vf-alias %s "
		 "--vf-source %s)",
		 calias, kind, clean, kind, calias,
		 strcmp(kind, "hostdev") == 0 ? "hostdev:DDDD:BB:SS.F" : "network:NAME");
	return -EINVAL;
}

/* One VF's facts: the children of root (the single form's <vfmigrate>, or a <nic>). */
static int meta_from_node(xmlNodePtr root, struct domxml_meta *ret, struct diag *d)
{
	struct domxml_meta m;
	char buf[VFM_ID_MAX];
	bool has;
	int r;

	domxml_meta_init(&m);
	for (xmlNodePtr c = root->children; c; c = c->next) {
		if (c->type != XML_ELEMENT_NODE)
			continue;
		if (is_el(c, "bond")) {
			r = attr_copy(c, "name", m.bond, sizeof(m.bond), d);
		} else if (is_el(c, "vf")) {
			r = attr_copy(c, "alias", m.vf_alias, sizeof(m.vf_alias), d);
			if (r >= 0)
				r = attr_mac(c, "mac", m.vf_mac, &has, d);
			if (r >= 0 && !has) {
				diag_set(d, "<vf> without mac");
				r = -EINVAL;
			}
		} else if (is_el(c, "backup")) {
			r = attr_mac(c, "mac", m.backup_mac, &has, d);
			if (r >= 0 && !has) {
				diag_set(d, "<backup> without mac");
				r = -EINVAL;
			}
		} else if (is_el(c, "physnet")) {
			r = attr_copy(c, "name", m.physnet, sizeof(m.physnet), d);
		} else if (is_el(c, "vlan")) {
			int64_t v;

			r = attr_copy(c, "id", buf, sizeof(buf), d);
			if (r >= 0 && parse_int64(buf, 0, 4094, &v) < 0) {
				diag_set(d, "bad <vlan id>");
				r = -EINVAL;
			}
			if (r >= 0)
				m.vlan = (int)v;
		} else if (is_el(c, "source")) {
			if (m.n_sources == DOMXML_SOURCES_MAX) {
				diag_set(d, "more than %d VF sources", DOMXML_SOURCES_MAX);
				return -E2BIG;
			}
			r = attr_copy(c, "value", m.sources[m.n_sources], VFM_ID_MAX, d);
			if (r >= 0)
				r = domxml_source_check(m.sources[m.n_sources], d);
			m.n_sources++;
		} else {
			continue; /* newer versions may add elements */
		}
		if (r < 0) {
			diag_prefix(d, "vfmigrate metadata");
			return r;
		}
	}
	/* No bond: a guest whose kernel pairs VF and virtio NIC itself (failover mode). */
	if (!m.vf_alias[0] || (m.bond[0] && !word_ok(m.bond, NULL)) || !word_ok(m.vf_alias, NULL)) {
		diag_set(d, "vfmigrate metadata: missing or bad <vf alias>, or a bad <bond name>");
		return -EINVAL;
	}
	*ret = m;
	return 0;
}

int domxml_meta_parse(const char *xml, size_t len, struct domxml_meta *ret, struct diag *d)
{
	_cleanup_doc_ xmlDocPtr doc = NULL;
	int r;

	r = doc_read(xml, len, "vfmigrate", &doc, d);
	if (r < 0)
		return r;
	return meta_from_node(xmlDocGetRootElement(doc), ret, d);
}

int domxml_metas_parse(const char *xml, size_t len, struct domxml_metas *ret, struct diag *d)
{
	_cleanup_doc_ xmlDocPtr doc = NULL;
	struct domxml_metas m = {0};
	xmlNodePtr root;
	int r;

	r = doc_read(xml, len, "vfmigrate", &doc, d);
	if (r < 0)
		return r;
	root = xmlDocGetRootElement(doc);
	for (xmlNodePtr c = root->children; c; c = c->next) {
		if (!is_el(c, "nic"))
			continue;
		if (m.n == VFM_VFS_MAX) {
			diag_set(d, "vfmigrate metadata: more than %d <nic> elements", VFM_VFS_MAX);
			return -E2BIG;
		}
		r = meta_from_node(c, &m.vfs[m.n], d);
		if (r < 0) {
			diag_prefix(d, "<nic> %zu", m.n + 1);
			return r;
		}
		for (size_t i = 0; i < m.n; i++)
			if (!strcmp(m.vfs[i].vf_alias, m.vfs[m.n].vf_alias)) {
				diag_set(d,
					 "vfmigrate metadata: two <nic> elements with VF alias %s",
					 m.vfs[i].vf_alias);
				return -EINVAL;
			}
		m.n++;
	}
	/* The single form: the element itself is the one VF. */
	if (m.n == 0) {
		r = meta_from_node(root, &m.vfs[0], d);
		if (r < 0)
			return r;
		m.n = 1;
	}
	*ret = m;
	return 0;
}

/* One VF's elements (the content of the single form or of a <nic>); malloc'd. */
static int meta_inner(const struct domxml_meta *m, char **ret, struct diag *d)
{
	char vf[18], bk[18], vlan[32] = "", phys[VFM_ID_MAX + 32] = "",
			     bond[VFM_IFNAME_MAX + 32] = "";
	char srcs[DOMXML_SOURCES_MAX * (VFM_ID_MAX + 32)] = "";
	size_t off = 0;

	if ((m->bond[0] && !word_ok(m->bond, NULL)) || !word_ok(m->vf_alias, NULL) ||
	    (m->physnet[0] && !word_ok(m->physnet, NULL)) || m->vlan > 4094) {
		diag_set(d, "bad bond, VF alias, physnet or VLAN");
		return -EINVAL;
	}
	for (size_t i = 0; i < m->n_sources; i++) {
		int r = domxml_source_check(m->sources[i], d);

		if (r < 0)
			return r;
		off += (size_t)snprintf(srcs + off, sizeof(srcs) - off, "<source value='%s'/>",
					m->sources[i]);
	}
	if (m->vlan >= 0)
		snprintf(vlan, sizeof(vlan), "<vlan id='%d'/>", m->vlan);
	if (m->physnet[0])
		snprintf(phys, sizeof(phys), "<physnet name='%s'/>", m->physnet);
	if (m->bond[0])
		snprintf(bond, sizeof(bond), "<bond name='%s'/>", m->bond);
	if (asprintf(ret, "%s<vf alias='%s' mac='%s'/><backup mac='%s'/>%s%s%s", bond, m->vf_alias,
		     format_mac(m->vf_mac, vf), format_mac(m->backup_mac, bk), phys, vlan,
		     srcs) < 0)
		return -ENOMEM;
	return 0;
}

int domxml_meta_format(const struct domxml_meta *m, char **ret_xml, struct diag *d)
{
	struct domxml_metas one = {.n = 1};

	one.vfs[0] = *m;
	return domxml_metas_format(&one, ret_xml, d);
}

int domxml_metas_format(const struct domxml_metas *m, char **ret_xml, struct diag *d)
{
	char *out = NULL, *inner[VFM_VFS_MAX] = {0};
	size_t len = 0;
	int r = 0;

	if (m->n == 0 || m->n > VFM_VFS_MAX) {
		diag_set(d, "vfmigrate metadata for 1 to %d VFs", VFM_VFS_MAX);
		return -EINVAL;
	}
	for (size_t i = 0; i < m->n && r >= 0; i++) {
		r = meta_inner(&m->vfs[i], &inner[i], d);
		if (r >= 0)
			len += strlen(inner[i]) + sizeof("<nic></nic>");
	}
	if (r >= 0) {
		out = malloc(len + sizeof("<vfmigrate></vfmigrate>"));
		r = out ? 0 : -ENOMEM;
	}
	if (r >= 0) {
		strcpy(out, "<vfmigrate>");
		for (size_t i = 0; i < m->n; i++) {
			if (m->n > 1)
				strcat(out, "<nic>");
			strcat(out, inner[i]);
			if (m->n > 1)
				strcat(out, "</nic>");
		}
		strcat(out, "</vfmigrate>");
		*ret_xml = out;
	}
	for (size_t i = 0; i < m->n; i++)
		free(inner[i]);
	return r;
}

int domxml_parse_hostdev_network(const char *xml, size_t len, unsigned *ret_total,
				 unsigned *ret_used, struct diag *d)
{
	_cleanup_doc_ xmlDocPtr doc = NULL;
	xmlNodePtr fwd;
	char mode[32], conns[16];
	unsigned total = 0;
	int64_t used = 0;
	int r;

	r = doc_read(xml, len, "network", &doc, d);
	if (r < 0)
		return r;
	fwd = child(xmlDocGetRootElement(doc), "forward");
	if ((r = attr_copy(fwd, "mode", mode, sizeof(mode), d)) < 0 ||
	    (r = attr_copy(fwd, "connections", conns, sizeof(conns), d)) < 0)
		return r;
	if (strcmp(mode, "hostdev") != 0) {
		char clean[40];

		str_sanitize(clean, sizeof(clean), mode);
		diag_set(d, "network forward mode is \"%s\", not hostdev", clean);
		return -EMEDIUMTYPE;
	}
	if (conns[0] && parse_int64(conns, 0, 1 << 20, &used) < 0) {
		diag_set(d, "bad connections count on <forward>");
		return -EINVAL;
	}
	for (xmlNodePtr c = fwd->children; c; c = c->next) {
		char type[16];

		if (!is_el(c, "address"))
			continue;
		if ((r = attr_copy(c, "type", type, sizeof(type), d)) < 0)
			return r;
		if (strcmp(type, "pci") == 0)
			total++;
	}
	*ret_total = total;
	*ret_used = (unsigned)used;
	return 0;
}
