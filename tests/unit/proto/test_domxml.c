// SPDX-License-Identifier: MIT
/* libvirt XML (proto/domxml): parsing, editing, building, metadata; no daemon. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "proto/domxml.h"

#include "../domxml_samples.h"

static struct domxml_domain dom; /* large: not on the stack */

static void test_parse_domain(void **state)
{
	const struct domxml_nic *n;
	struct diag d = {{0}};

	(void)state;
	assert_int_equal(domxml_parse_domain(live_xml, strlen(live_xml), &dom, &d), 0);
	assert_string_equal(dom.name, "g0");
	assert_int_equal(dom.n_nics, 4);
	n = domxml_find_nic(&dom, "ua-vf0", NULL);
	assert_non_null(n);
	assert_string_equal(n->type, "ethernet");
	assert_string_equal(n->target_dev, "f0");
	assert_string_equal(n->model, "e1000e");
	assert_true(n->has_mac);
	assert_memory_equal(n->mac, vf_mac, 6);
	n = domxml_find_nic(&dom, "hostdev0", NULL);
	assert_non_null(n);
	assert_string_equal(n->hostdev_pci, "0000:3b:02.1");
	/* By MAC when the alias is unknown (libvirt-generated aliases differ per host). */
	n = domxml_find_nic(&dom, "nope", net_mac);
	assert_non_null(n);
	assert_string_equal(n->network, "sriov-a");
	assert_null(domxml_find_nic(&dom, "nope", NULL));
	assert_true(dom.has_agent_channel);
	assert_string_equal(
	    dom.agent_path,
	    "/var/lib/libvirt/qemu/channel/target/domain-1-g0/org.vfmigrate.agent.0");
	assert_string_equal(dom.agent_type, "unix");
	assert_true(dom.has_qga_channel);
}

/* The agent channel's type whatever it is (a pty channel can be opened through libvirt too);
 * only a unix one has a socket path. */
static void test_agent_channel_types(void **state)
{
	static const char pty[] =
	    "<domain><name>g0</name><devices><channel type='pty'><source path='/dev/pts/7'/>"
	    "<target type='virtio' name='org.vfmigrate.agent.0'/></channel></devices></domain>";
	static const char none[] =
	    "<domain><name>g0</name><devices><channel type='unix'><source path='/x/qga'/>"
	    "<target type='virtio' name='org.qemu.guest_agent.0'/></channel></devices></domain>";
	static const char long_type[] =
	    "<domain><name>g0</name><devices><channel type='aaaaaaaaaaaaaaaaaaaaaaaa'>"
	    "<target type='virtio' name='org.vfmigrate.agent.0'/></channel></devices></domain>";
	struct domxml_domain dom;
	struct diag d = {{0}};

	(void)state;
	assert_int_equal(domxml_parse_domain(pty, strlen(pty), &dom, &d), 0);
	assert_string_equal(dom.agent_type, "pty");
	assert_false(dom.has_agent_channel);
	assert_string_equal(dom.agent_path, "");
	assert_int_equal(domxml_parse_domain(none, strlen(none), &dom, &d), 0);
	assert_string_equal(dom.agent_type, "");
	assert_false(dom.has_agent_channel);
	assert_int_equal(domxml_parse_domain(long_type, strlen(long_type), &dom, &d), -E2BIG);
}

static void test_parse_rejects(void **state)
{
	static const char doctype[] = "<!DOCTYPE domain [<!ENTITY a 'b'>]><domain/>";
	static const char broken[] = "<domain><devices></domain>";
	static const char other[] = "<network/>";
	char longname[200];
	struct diag d = {{0}};

	(void)state;
	assert_int_equal(domxml_parse_domain(doctype, strlen(doctype), &dom, &d), -EBADMSG);
	assert_int_equal(domxml_parse_domain(broken, strlen(broken), &dom, &d), -EBADMSG);
	assert_non_null(strstr(d.msg, "not well-formed"));
	assert_int_equal(domxml_parse_domain(other, strlen(other), &dom, &d), -EBADMSG);
	snprintf(longname, sizeof(longname),
		 "<domain><devices><interface type='ethernet'><alias name='%0100d'/>"
		 "</interface></devices></domain>",
		 0);
	/* An over-long value is an error, never a truncated identifier. */
	assert_int_equal(domxml_parse_domain(longname, strlen(longname), &dom, &d), -E2BIG);
}

static void test_remove_nic(void **state)
{
	char *out = NULL;
	unsigned n = 99;
	struct diag d = {{0}};

	(void)state;
	assert_int_equal(
	    domxml_remove_nic(live_xml, strlen(live_xml), "ua-vf0", vf_mac, &out, &n, &d), 0);
	assert_int_equal(n, 1);
	assert_null(strstr(out, "ua-vf0"));
	assert_null(strstr(out, "52:54:00:77:01:10"));
	assert_non_null(strstr(out, "ua-net0"));
	assert_non_null(strstr(out, "org.vfmigrate.agent.0"));
	assert_null(strstr(out, "<?xml")); /* libvirt wants the bare element */
	assert_int_equal(domxml_parse_domain(out, strlen(out), &dom, &d), 0);
	assert_int_equal(dom.n_nics, 3);
	free(out);
	/* Nothing to remove: the document comes back whole. */
	assert_int_equal(domxml_remove_nic(live_xml, strlen(live_xml), "none", NULL, &out, &n, &d),
			 0);
	assert_int_equal(n, 0);
	assert_int_equal(domxml_parse_domain(out, strlen(out), &dom, &d), 0);
	assert_int_equal(dom.n_nics, 4);
	free(out);
}

/* Wraps an <interface> into a domain and parses it back. */
static const struct domxml_nic *roundtrip(const char *nic)
{
	char buf[2048];
	struct diag d = {{0}};

	snprintf(buf, sizeof(buf), "<domain><name>x</name><devices>%s</devices></domain>", nic);
	assert_int_equal(domxml_parse_domain(buf, strlen(buf), &dom, &d), 0);
	assert_int_equal(dom.n_nics, 1);
	return &dom.nics[0];
}

static void test_build_nic(void **state)
{
	struct plug_spec s = {.device_id = "ua-vf0",
			      .backend = "f0",
			      .driver = "e1000e",
			      .has_mac = true,
			      .vlan = -1};
	const struct domxml_nic *n;
	struct diag d = {{0}};
	char *xml = NULL;

	(void)state;
	memcpy(s.mac, vf_mac, 6);
	s.backend_kind = PLUG_BACKEND_TAP;
	assert_int_equal(domxml_build_nic(&s, &xml, &d), 0);
	assert_non_null(strstr(xml, "<target dev='f0' managed='no'/>"));
	assert_non_null(strstr(xml, "<rom enabled='no'/>"));
	n = roundtrip(xml);
	assert_string_equal(n->type, "ethernet");
	assert_string_equal(n->alias, "ua-vf0");
	assert_string_equal(n->model, "e1000e");
	assert_memory_equal(n->mac, vf_mac, 6);
	free(xml);

	/* A hostdev network: libvirt picks the VF, sets MAC and VLAN. */
	s.backend_kind = PLUG_BACKEND_HOSTDEV;
	snprintf(s.driver, sizeof(s.driver), "network");
	snprintf(s.backend, sizeof(s.backend), "sriov-a");
	s.vlan = 100;
	assert_int_equal(domxml_build_nic(&s, &xml, &d), 0);
	assert_non_null(strstr(xml, "<vlan><tag id='100'/></vlan>"));
	n = roundtrip(xml);
	assert_string_equal(n->type, "network");
	assert_string_equal(n->network, "sriov-a");
	free(xml);

	/* An explicit VF. */
	snprintf(s.driver, sizeof(s.driver), "hostdev");
	snprintf(s.backend, sizeof(s.backend), "0000:3b:02.1");
	assert_int_equal(domxml_build_nic(&s, &xml, &d), 0);
	assert_non_null(strstr(xml, "managed='yes'"));
	n = roundtrip(xml);
	assert_string_equal(n->type, "hostdev");
	assert_string_equal(n->hostdev_pci, "0000:3b:02.1");
	free(xml);

	/* Nothing that could break out of an attribute; no bad addresses. */
	snprintf(s.backend, sizeof(s.backend), "0000:3b:02.9");
	assert_int_equal(domxml_build_nic(&s, &xml, &d), -EINVAL);
	snprintf(s.backend, sizeof(s.backend), "0000:3b:02.1");
	snprintf(s.device_id, sizeof(s.device_id), "ua-x'/><evil");
	assert_int_equal(domxml_build_nic(&s, &xml, &d), -EINVAL);
}

/* A VF given as a bare PCI device (<hostdev managed='no'>, its MAC set on the PF by the host):
 * found by alias, removed by alias, re-plugged as it was (the pool's view: io/test_libvirt.c). USB
 * hostdevs are not NICs. */
static void test_hostdev_pci(void **state)
{
	const struct domxml_nic *n;
	struct plug_spec s = {.device_id = "ua-vf0",
			      .backend = "0000:01:10.0",
			      .driver = DOMXML_HOSTDEV_PCI,
			      .backend_kind = PLUG_BACKEND_HOSTDEV,
			      .has_mac = true,
			      .vlan = 7};
	struct diag d = {{0}};
	char *out = NULL;
	unsigned removed = 0;

	(void)state;
	assert_int_equal(domxml_parse_domain(hostdev_xml, strlen(hostdev_xml), &dom, &d), 0);
	assert_int_equal(dom.n_nics, 2); /* the virtio NIC and the PCI VF, not the USB device */
	n = domxml_find_nic(&dom, "ua-vf0", NULL);
	assert_non_null(n);
	assert_string_equal(n->type, DOMXML_HOSTDEV_PCI);
	assert_string_equal(n->hostdev_pci, "0000:01:10.0");
	assert_false(n->has_mac);
	assert_false(n->managed);
	assert_null(domxml_find_nic(&dom, "ua-usb0", NULL));

	/* The migration's destination XML loses it, and only it. */
	assert_int_equal(domxml_remove_nic(hostdev_xml, strlen(hostdev_xml), "ua-vf0", vf_mac, &out,
					   &removed, &d),
			 0);
	assert_int_equal(removed, 1);
	assert_null(strstr(out, "ua-vf0"));
	assert_non_null(strstr(out, "ua-usb0"));
	assert_non_null(strstr(out, "ua-net0"));
	free(out);

	/* Re-plugged as it was: no MAC, no VLAN (the PF's), managed as before. */
	assert_int_equal(domxml_build_nic(&s, &out, &d), 0);
	assert_non_null(strstr(out, "<hostdev mode='subsystem' type='pci' managed='no'>"));
	assert_null(strstr(out, "<mac"));
	assert_null(strstr(out, "<vlan"));
	n = roundtrip(out);
	assert_string_equal(n->type, DOMXML_HOSTDEV_PCI);
	assert_string_equal(n->alias, "ua-vf0");
	assert_string_equal(n->hostdev_pci, "0000:01:10.0");
	free(out);
	snprintf(s.driver, sizeof(s.driver), "%s", DOMXML_HOSTDEV_PCI_MANAGED);
	assert_int_equal(domxml_build_nic(&s, &out, &d), 0);
	n = roundtrip(out);
	assert_true(n->managed);
	free(out);
	snprintf(s.backend, sizeof(s.backend), "0000:01:10.8");
	assert_int_equal(domxml_build_nic(&s, &out, &d), -EINVAL);

	/* A PCI hostdev without its address is refused, not guessed. */
	{
		static const char bad[] =
		    "<domain><name>x</name><devices><hostdev mode='subsystem' "
		    "type='pci'><alias name='ua-vf0'/></hostdev></devices>"
		    "</domain>";

		assert_int_equal(domxml_parse_domain(bad, strlen(bad), &dom, &d), -EINVAL);
	}
}

static void test_meta(void **state)
{
	struct domxml_meta m, back;
	struct diag d = {{0}};
	char *xml = NULL, ns[1024];

	(void)state;
	domxml_meta_init(&m);
	snprintf(m.bond, sizeof(m.bond), "bond0");
	snprintf(m.vf_alias, sizeof(m.vf_alias), "ua-vf0");
	memcpy(m.vf_mac, vf_mac, 6);
	memcpy(m.backup_mac, net_mac, 6);
	m.vlan = 42;
	snprintf(m.sources[m.n_sources++], VFM_ID_MAX, "network:sriov-a");
	snprintf(m.sources[m.n_sources++], VFM_ID_MAX, "hostdev:0000:3b:02.1");
	snprintf(m.sources[m.n_sources++], VFM_ID_MAX, "ethernet:f0:e1000e");
	assert_int_equal(domxml_meta_format(&m, &xml, &d), 0);
	assert_int_equal(domxml_meta_parse(xml, strlen(xml), &back, &d), 0);
	assert_memory_equal(&m, &back, sizeof(m));
	free(xml);

	/* As libvirt returns it: prefixed, namespaced, with unknown (newer) elements. */
	snprintf(ns, sizeof(ns),
		 "<vfm:vfmigrate xmlns:vfm=\"%s\">\n  <vfm:bond name=\"b1\"/>\n"
		 "  <vfm:vf alias=\"ua-vf1\" mac=\"52:54:00:77:01:10\"/>\n"
		 "  <vfm:backup mac=\"52:54:00:77:03:10\"/>\n  <vfm:future x=\"1\"/>\n"
		 "</vfm:vfmigrate>",
		 DOMXML_META_NS);
	assert_int_equal(domxml_meta_parse(ns, strlen(ns), &back, &d), 0);
	assert_string_equal(back.bond, "b1");
	assert_int_equal(back.vlan, -1);
	assert_int_equal(back.n_sources, 0);

	/* No bond: a failover guest's (the kernel's net_failover pairs its NICs). */
	static const char nobond[] =
	    "<vfmigrate><vf alias='a' mac='52:54:00:77:01:10'/></vfmigrate>";
	assert_int_equal(domxml_meta_parse(nobond, strlen(nobond), &back, &d), 0);
	assert_string_equal(back.bond, "");
	assert_string_equal(back.vf_alias, "a");
	{
		char *x = NULL;

		assert_int_equal(domxml_meta_format(&back, &x, &d), 0);
		assert_null(strstr(x, "<bond"));
		assert_int_equal(domxml_meta_parse(x, strlen(x), &back, &d), 0);
		assert_string_equal(back.bond, "");
		free(x);
	}
	static const char badbond[] =
	    "<vfmigrate><bond name='a b'/><vf alias='a' mac='52:54:00:77:01:10'/></vfmigrate>";
	assert_int_equal(domxml_meta_parse(badbond, strlen(badbond), &back, &d), -EINVAL);
	static const char noalias[] = "<vfmigrate><bond name='b'/></vfmigrate>";
	assert_int_equal(domxml_meta_parse(noalias, strlen(noalias), &back, &d), -EINVAL);
	static const char badsrc[] =
	    "<vfmigrate><bond name='b'/><vf alias='a' "
	    "mac='52:54:00:77:01:10'/><source value='tap:f0'/></vfmigrate>";
	assert_int_equal(domxml_meta_parse(badsrc, strlen(badsrc), &back, &d), -EINVAL);
	assert_non_null(strstr(d.msg, "bad VF source"));
	static const char badmac[] =
	    "<vfmigrate><bond name='b'/><vf alias='a' mac='52:54:00'/></vfmigrate>";
	assert_int_equal(domxml_meta_parse(badmac, strlen(badmac), &back, &d), -EINVAL);
}

/* Several VFs: a <nic> each; one VF keeps the single form. */
static void test_metas(void **state)
{
	struct domxml_metas m = {.n = 2}, back;
	struct diag d = {{0}};
	char *xml = NULL;

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		struct domxml_meta *v = &m.vfs[i];

		domxml_meta_init(v);
		snprintf(v->bond, sizeof(v->bond), "bond%zu", i);
		snprintf(v->vf_alias, sizeof(v->vf_alias), "ua-vf%zu", i);
		memcpy(v->vf_mac, vf_mac, 6);
		v->vf_mac[5] = (uint8_t)i;
		memcpy(v->backup_mac, net_mac, 6);
		v->backup_mac[5] = (uint8_t)i;
		snprintf(v->sources[v->n_sources++], VFM_ID_MAX, "ethernet:f%zu:e1000e", i);
	}
	m.vfs[1].vlan = 9;
	assert_int_equal(domxml_metas_format(&m, &xml, &d), 0);
	assert_non_null(strstr(xml, "<vfmigrate><nic><bond name='bond0'/>"));
	assert_non_null(strstr(xml, "</nic><nic><bond name='bond1'/>"));
	memset(&back, 0, sizeof(back));
	assert_int_equal(domxml_metas_parse(xml, strlen(xml), &back, &d), 0);
	assert_memory_equal(&m, &back, sizeof(m));
	free(xml);

	/* One VF: the single form, which the single-VF parser (and older vfmigrate) reads. */
	m.n = 1;
	assert_int_equal(domxml_metas_format(&m, &xml, &d), 0);
	assert_null(strstr(xml, "<nic>"));
	assert_int_equal(domxml_meta_parse(xml, strlen(xml), &back.vfs[0], &d), 0);
	assert_memory_equal(&m.vfs[0], &back.vfs[0], sizeof(m.vfs[0]));
	memset(&back, 0, sizeof(back));
	assert_int_equal(domxml_metas_parse(xml, strlen(xml), &back, &d), 0);
	assert_int_equal(back.n, 1);
	free(xml);

	static const char dup[] = "<vfmigrate><nic><bond name='b'/><vf alias='a' "
				  "mac='52:54:00:77:01:10'/></nic><nic><bond name='c'/><vf "
				  "alias='a' mac='52:54:00:77:01:11'/></nic></vfmigrate>";
	assert_int_equal(domxml_metas_parse(dup, strlen(dup), &back, &d), -EINVAL);
	assert_non_null(strstr(d.msg, "two <nic> elements with VF alias a"));
	static const char bad2[] = "<vfmigrate><nic><bond name='b'/><vf alias='a' "
				   "mac='52:54:00:77:01:10'/></nic><nic><bond name='c'/><vf "
				   "mac='52:54:00:77:01:11'/></nic></vfmigrate>";
	assert_int_equal(domxml_metas_parse(bad2, strlen(bad2), &back, &d), -EINVAL);
	assert_non_null(strstr(d.msg, "<nic> 2"));
	{
		char five[1024] = "<vfmigrate>";

		for (int i = 0; i < VFM_VFS_MAX + 1; i++)
			snprintf(five + strlen(five), sizeof(five) - strlen(five),
				 "<nic><bond name='b'/><vf alias='a%d' mac='52:54:00:77:01:1%d'/>"
				 "<backup mac='52:54:00:77:00:10'/></nic>",
				 i, i);
		strcat(five, "</vfmigrate>");
		assert_int_equal(domxml_metas_parse(five, strlen(five), &back, &d), -E2BIG);
	}
	m.n = 0;
	assert_int_equal(domxml_metas_format(&m, &xml, &d), -EINVAL);
}

static void test_sources(void **state)
{
	struct plug_spec s = {0};
	struct diag d = {{0}};

	(void)state;
	assert_int_equal(domxml_source_to_spec("ethernet:f0", &s, &d), 0);
	assert_int_equal(s.backend_kind, PLUG_BACKEND_TAP);
	assert_string_equal(s.backend, "f0");
	assert_string_equal(s.driver, "e1000e");
	assert_int_equal(domxml_source_to_spec("ethernet:averyveryverylongtapname", &s, &d),
			 -EINVAL);
	assert_int_equal(domxml_source_to_spec("hostdev:3b:02.1", &s, &d), -EINVAL);
	assert_int_equal(domxml_source_to_spec("network:", &s, &d), -EINVAL);
	assert_int_equal(domxml_source_to_spec("network:a b", &s, &d), -EINVAL);
}

/* libvirt's failover: a virtio NIC with <teaming type='persistent'/> and its VF with
 * <teaming type='transient' persistent=ALIAS/>, both on one MAC. */
#define FO_VIRTIO(alias, model, teaming)                                                 \
	"<interface type='ethernet'><mac address='52:54:00:77:00:10'/><target dev='v0' " \
	"managed='no'/><model type='" model "'/>" teaming "<alias name='" alias "'/>"    \
	"<address type='pci' domain='0x0000' bus='0x01' slot='0x00' function='0x0'/></interface>"
#define FO_VF(teaming)                                                                        \
	"<interface type='hostdev' managed='yes'><mac address='52:54:00:77:00:10'/><driver "  \
	"name='vfio'/><source><address type='pci' domain='0x0000' bus='0x01' slot='0x10' "    \
	"function='0x0'/></source>" teaming "<alias name='ua-vf0'/><rom bar='off'/><address " \
	"type='pci' domain='0x0000' bus='0x03' slot='0x00' function='0x0'/></interface>"
#define FO_DOM(devs) "<domain type='qemu'><name>g0</name><devices>" devs "</devices></domain>"

static const char fo_xml[] = FO_DOM(FO_VIRTIO("ua-net0", "virtio", "<teaming type='persistent'/>")
					FO_VF("<teaming type='transient' persistent='ua-net0'/>"));

static const char fo_net_xml[] = FO_DOM(
    FO_VIRTIO("ua-net0", "virtio",
	      "<teaming type='persistent'/>") "<interface type='network'><mac "
					      "address='52:54:00:77:00:10'/><source "
					      "network='physnet-src'/><teaming type='transient' "
					      "persistent='ua-net0'/><alias "
					      "name='ua-vf0'/></interface>");

static int pair_of(const char *xml, const char *alias, char pair[VFM_ID_MAX], struct diag *d)
{
	int r = domxml_parse_domain(xml, strlen(xml), &dom, d);

	return r < 0 ? r : domxml_failover_pair(&dom, alias, pair, d);
}

static void test_failover_pair(void **state)
{
	static const char no_teaming[] = FO_DOM(FO_VIRTIO("ua-net0", "virtio", "") FO_VF(""));
	static const char no_persistent_attr[] =
	    FO_DOM(FO_VIRTIO("ua-net0", "virtio", "<teaming type='persistent'/>")
		       FO_VF("<teaming type='transient'/>"));
	static const char missing[] =
	    FO_DOM(FO_VIRTIO("ua-net1", "virtio", "<teaming type='persistent'/>")
		       FO_VF("<teaming type='transient' persistent='ua-net0'/>"));
	static const char not_persistent[] = FO_DOM(FO_VIRTIO("ua-net0", "virtio", "") FO_VF(
	    "<teaming type='transient' persistent='ua-net0'/>"));
	static const char not_virtio[] =
	    FO_DOM(FO_VIRTIO("ua-net0", "e1000e", "<teaming type='persistent'/>")
		       FO_VF("<teaming type='transient' persistent='ua-net0'/>"));
	/* Hostile: the VF names itself, a value with markup in it, an over-long value. */
	static const char self[] = FO_DOM(FO_VF("<teaming type='transient' persistent='ua-vf0'/>"));
	static const char markup[] =
	    FO_DOM(FO_VIRTIO("ua-net0", "virtio", "<teaming type='persistent'/>")
		       FO_VF("<teaming type='transient' persistent='&lt;x&gt;&#10;'/>"));
	char longval[1024], pair[VFM_ID_MAX];
	struct diag d = {{0}};

	(void)state;
	assert_int_equal(pair_of(fo_xml, "ua-vf0", pair, &d), 0);
	assert_string_equal(pair, "ua-net0");
	assert_string_equal(dom.nics[0].teaming_type, "persistent");
	assert_string_equal(dom.nics[1].teaming_type, "transient");
	assert_string_equal(dom.nics[1].teaming_persistent, "ua-net0");
	/* The virtio NIC is no one's transient. */
	assert_int_equal(pair_of(fo_xml, "ua-net0", pair, &d), 0);
	assert_string_equal(pair, "");
	assert_int_equal(pair_of(fo_xml, "ua-vf9", pair, &d), -ENOENT);
	assert_int_equal(pair_of(no_teaming, "ua-vf0", pair, &d), 0);
	assert_string_equal(pair, "");
	assert_int_equal(pair_of(no_persistent_attr, "ua-vf0", pair, &d), -EINVAL);
	assert_non_null(strstr(d.msg, "without persistent="));
	assert_int_equal(pair_of(missing, "ua-vf0", pair, &d), -EINVAL);
	assert_non_null(strstr(d.msg, "names no other interface"));
	assert_int_equal(pair_of(not_persistent, "ua-vf0", pair, &d), -EINVAL);
	assert_non_null(strstr(d.msg, "no <teaming type='persistent'/>"));
	assert_int_equal(pair_of(not_virtio, "ua-vf0", pair, &d), -EINVAL);
	assert_non_null(strstr(d.msg, "not model virtio"));
	assert_int_equal(pair_of(self, "ua-vf0", pair, &d), -EINVAL);
	assert_int_equal(pair_of(markup, "ua-vf0", pair, &d), -EINVAL);
	assert_null(strchr(d.msg, '\n'));
	snprintf(longval, sizeof(longval),
		 "<domain><devices><interface type='hostdev'><teaming type='transient' "
		 "persistent='%0300d'/><alias name='ua-vf0'/></interface></devices></domain>",
		 0);
	assert_int_equal(pair_of(longval, "ua-vf0", pair, &d), -E2BIG);
	snprintf(longval, sizeof(longval),
		 "<domain><devices><interface type='hostdev'><teaming type='%064d'/>"
		 "<alias name='ua-vf0'/></interface></devices></domain>",
		 0);
	assert_int_equal(pair_of(longval, "ua-vf0", pair, &d), -E2BIG);
}

/* A failover VF's destination source must be of its interface's kind (libvirt keeps the type). */
static void test_failover_fits(void **state)
{
	struct diag d = {{0}};

	(void)state;
	assert_int_equal(domxml_failover_fits("ua-vf0", "hostdev", "hostdev:0000:02:10.2", &d), 0);
	assert_int_equal(domxml_failover_fits("ua-vf0", "network", "network:physnet", &d), 0);
	assert_int_equal(domxml_failover_fits("ua-vf0", "hostdev", "network:physnet", &d), -EINVAL);
	assert_non_null(strstr(d.msg, "VF ua-vf0 is an <interface type='hostdev'>"));
	assert_non_null(strstr(d.msg, "source network:physnet cannot replace it"));
	assert_non_null(strstr(d.msg, "give it hostdev: sources"));
	assert_int_equal(domxml_failover_fits("ua-vf0", "network", "hostdev:0000:02:10.2", &d),
			 -EINVAL);
	assert_non_null(strstr(d.msg, "give it network: sources"));
	assert_int_equal(domxml_failover_fits("ua-vf0", "network", "ethernet:f0", &d), -EINVAL);
	/* A bad source is refused as such; a kind that libvirt does not pair is not judged. */
	assert_int_equal(domxml_failover_fits("ua-vf0", "hostdev", "hostdev:nope", &d), -EINVAL);
	assert_non_null(strstr(d.msg, "bad VF source"));
	assert_int_equal(domxml_failover_fits("ua-vf0", "ethernet", "network:physnet", &d), 0);
	assert_int_equal(domxml_failover_fits("ua-vf0", DOMXML_HOSTDEV_PCI, "network:x", &d), 0);
}

static void test_set_nic_source(void **state)
{
	struct plug_spec hd = {.backend_kind = PLUG_BACKEND_HOSTDEV, .vlan = -1};
	struct plug_spec net = hd, tap = hd, bare = hd;
	const struct domxml_nic *n;
	char *out = NULL;
	struct diag d = {{0}};
	size_t n_before;

	(void)state;
	snprintf(hd.driver, sizeof(hd.driver), "hostdev");
	snprintf(hd.backend, sizeof(hd.backend), "0000:02:10.2");
	assert_int_equal(domxml_set_nic_source(fo_xml, strlen(fo_xml), "ua-vf0", &hd, &out, &d), 0);
	assert_null(strstr(out, "<?xml"));
	assert_int_equal(domxml_parse_domain(out, strlen(out), &dom, &d), 0);
	n_before = dom.n_nics;
	assert_int_equal(n_before, 2);
	n = domxml_find_nic(&dom, "ua-vf0", NULL);
	assert_non_null(n);
	assert_string_equal(n->type, "hostdev");
	assert_true(n->managed);
	assert_string_equal(n->hostdev_pci, "0000:02:10.2");
	assert_string_equal(n->teaming_type, "transient");
	assert_string_equal(n->teaming_persistent, "ua-net0");
	assert_true(n->has_mac);
	/* The guest's PCI address and the rest stay: libvirt's ABI check compares them. */
	assert_non_null(strstr(out, "bus=\"0x03\" slot=\"0x00\""));
	assert_non_null(strstr(out, "<rom bar="));
	assert_non_null(strstr(out, "<driver name="));
	/* Only the VF changed: the virtio NIC (same MAC) keeps its source. */
	n = domxml_find_nic(&dom, "ua-net0", NULL);
	assert_non_null(n);
	assert_string_equal(n->target_dev, "v0");
	assert_string_equal(n->teaming_type, "persistent");
	assert_null(strstr(out, "slot=\"0x10\" function=\"0x0\""));
	free(out);

	/* A network VF gets another network; libvirt's ABI check refuses a change of type. */
	snprintf(net.driver, sizeof(net.driver), "network");
	snprintf(net.backend, sizeof(net.backend), "physnet");
	assert_int_equal(domxml_set_nic_source(fo_xml, strlen(fo_xml), "ua-vf0", &net, &out, &d),
			 -EINVAL);
	assert_non_null(strstr(d.msg, "hostdev: source"));
	assert_int_equal(
	    domxml_set_nic_source(fo_net_xml, strlen(fo_net_xml), "ua-vf0", &net, &out, &d), 0);
	assert_int_equal(domxml_parse_domain(out, strlen(out), &dom, &d), 0);
	n = domxml_find_nic(&dom, "ua-vf0", NULL);
	assert_string_equal(n->type, "network");
	assert_string_equal(n->network, "physnet");
	assert_string_equal(n->teaming_persistent, "ua-net0");
	assert_null(strstr(out, "physnet-src"));
	free(out);
	assert_int_equal(
	    domxml_set_nic_source(fo_net_xml, strlen(fo_net_xml), "ua-vf0", &hd, &out, &d),
	    -EINVAL);
	assert_non_null(strstr(d.msg, "network: source"));
	/* Read as strictly as domxml_parse_domain does: a bad MAC is refused, not passed on. */
	{
		static const char bad_mac[] = FO_DOM(FO_VIRTIO(
		    "ua-net0", "virtio",
		    "<teaming type='persistent'/>") "<interface type='hostdev' managed='yes'><mac "
						    "address='52:54:00:77:bo:10'/><alias "
						    "name='ua-vf0'/></interface>");

		assert_int_equal(
		    domxml_set_nic_source(bad_mac, strlen(bad_mac), "ua-vf0", &hd, &out, &d),
		    -EINVAL);
	}
	/* The virtio NIC is no VF. */
	assert_int_equal(domxml_set_nic_source(fo_xml, strlen(fo_xml), "ua-net0", &hd, &out, &d),
			 -EINVAL);

	/* A failover primary plugged again (rollback) is paired again, on the interface kinds
	 * only. */
	snprintf(hd.device_id, sizeof(hd.device_id), "ua-vf0");
	snprintf(hd.failover_pair_id, sizeof(hd.failover_pair_id), "ua-net0");
	assert_int_equal(domxml_build_nic(&hd, &out, &d), 0);
	assert_non_null(strstr(out, "<teaming type='transient' persistent='ua-net0'/>"));
	free(out);
	snprintf(bare.device_id, sizeof(bare.device_id), "ua-vf0");
	snprintf(bare.failover_pair_id, sizeof(bare.failover_pair_id), "ua-net0");
	assert_int_equal(domxml_build_nic(&bare, &out, &d), -EINVAL);
	snprintf(hd.failover_pair_id, sizeof(hd.failover_pair_id), "a'/><x y='");
	assert_int_equal(domxml_build_nic(&hd, &out, &d), -EINVAL);
	hd.failover_pair_id[0] = '\0';

	/* No such interface; a source that is no real VF; hostile values. */
	assert_int_equal(domxml_set_nic_source(fo_xml, strlen(fo_xml), "ua-vf9", &hd, &out, &d),
			 -ENOENT);
	tap.backend_kind = PLUG_BACKEND_TAP;
	snprintf(tap.backend, sizeof(tap.backend), "f0");
	assert_int_equal(domxml_set_nic_source(fo_xml, strlen(fo_xml), "ua-vf0", &tap, &out, &d),
			 -EINVAL);
	snprintf(bare.driver, sizeof(bare.driver), "%s", DOMXML_HOSTDEV_PCI);
	snprintf(bare.backend, sizeof(bare.backend), "0000:02:10.2");
	assert_int_equal(domxml_set_nic_source(fo_xml, strlen(fo_xml), "ua-vf0", &bare, &out, &d),
			 -EINVAL);
	snprintf(net.backend, sizeof(net.backend), "a' b='c");
	assert_int_equal(domxml_set_nic_source(fo_xml, strlen(fo_xml), "ua-vf0", &net, &out, &d),
			 -EINVAL);
	snprintf(hd.backend, sizeof(hd.backend), "0000:02:10.9");
	assert_int_equal(domxml_set_nic_source(fo_xml, strlen(fo_xml), "ua-vf0", &hd, &out, &d),
			 -EINVAL);
	snprintf(hd.backend, sizeof(hd.backend), "0000:02:10.2");
	assert_int_equal(
	    domxml_set_nic_source("<!DOCTYPE x><domain/>", 21, "ua-vf0", &hd, &out, &d), -EBADMSG);
	assert_int_equal(domxml_set_nic_source("<domain><devices>", 17, "ua-vf0", &hd, &out, &d),
			 -EBADMSG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_domain),   cmocka_unit_test(test_agent_channel_types),
	    cmocka_unit_test(test_parse_rejects),  cmocka_unit_test(test_remove_nic),
	    cmocka_unit_test(test_build_nic),	   cmocka_unit_test(test_hostdev_pci),
	    cmocka_unit_test(test_meta),	   cmocka_unit_test(test_metas),
	    cmocka_unit_test(test_sources),	   cmocka_unit_test(test_failover_pair),
	    cmocka_unit_test(test_set_nic_source), cmocka_unit_test(test_failover_fits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
