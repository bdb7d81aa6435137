// SPDX-License-Identifier: MIT
/* libvirt XML of the libvirt backend: parsing, editing, building, metadata; no daemon. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "io/agent_qga_libvirt.h"
#include "io/hv_libvirt.h"
#include "io/vfpool_libvirt.h"
#include "proto/domxml.h"

/* Shaped like libvirt 9.0's live XML of the lab guest. */
static const char live_xml[] =
    "<domain type='qemu' id='1'>\n"
    "  <name>g0</name>\n"
    "  <metadata>\n"
    "    <vfm:vfmigrate xmlns:vfm=\"https://vfmigrate.org/xmlns/libvirt/1\">\n"
    "      <vfm:bond name=\"bond0\"/>\n"
    "    </vfm:vfmigrate>\n"
    "  </metadata>\n"
    "  <devices>\n"
    "    <interface type='ethernet'>\n"
    "      <mac address='52:54:00:77:00:10'/>\n"
    "      <target dev='v0' managed='no'/>\n"
    "      <model type='virtio'/>\n"
    "      <alias name='ua-net0'/>\n"
    "    </interface>\n"
    "    <interface type='ethernet'>\n"
    "      <mac address='52:54:00:77:01:10'/>\n"
    "      <target dev='f0' managed='no'/>\n"
    "      <model type='e1000e'/>\n"
    "      <rom enabled='no'/>\n"
    "      <alias name='ua-vf0'/>\n"
    "    </interface>\n"
    "    <interface type='hostdev' managed='yes'>\n"
    "      <mac address='52:54:00:77:02:10'/>\n"
    "      <source><address type='pci' domain='0x0000' bus='0x3b' slot='0x02' "
    "function='0x1'/></source>\n"
    "      <alias name='hostdev0'/>\n"
    "    </interface>\n"
    "    <interface type='network'>\n"
    "      <mac address='52:54:00:77:03:10'/>\n"
    "      <source network='sriov-a'/>\n"
    "    </interface>\n"
    "    <channel type='unix'>\n"
    "      <source mode='bind' "
    "path='/var/lib/libvirt/qemu/channel/target/domain-1-g0/org.vfmigrate.agent.0'/>\n"
    "      <target type='virtio' name='org.vfmigrate.agent.0' state='connected'/>\n"
    "    </channel>\n"
    "    <channel type='unix'>\n"
    "      <source mode='bind' path='/x/org.qemu.guest_agent.0'/>\n"
    "      <target type='virtio' name='org.qemu.guest_agent.0'/>\n"
    "    </channel>\n"
    "  </devices>\n"
    "</domain>\n";

static const uint8_t vf_mac[6] = {0x52, 0x54, 0x00, 0x77, 0x01, 0x10};
static const uint8_t net_mac[6] = {0x52, 0x54, 0x00, 0x77, 0x03, 0x10};

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

	static const char nobond[] =
	    "<vfmigrate><vf alias='a' mac='52:54:00:77:01:10'/></vfmigrate>";
	assert_int_equal(domxml_meta_parse(nobond, strlen(nobond), &back, &d), -EINVAL);
	static const char badsrc[] =
	    "<vfmigrate><bond name='b'/><vf alias='a' "
	    "mac='52:54:00:77:01:10'/><source value='tap:f0'/></vfmigrate>";
	assert_int_equal(domxml_meta_parse(badsrc, strlen(badsrc), &back, &d), -EINVAL);
	assert_non_null(strstr(d.msg, "bad VF source"));
	static const char badmac[] =
	    "<vfmigrate><bond name='b'/><vf alias='a' mac='52:54:00'/></vfmigrate>";
	assert_int_equal(domxml_meta_parse(badmac, strlen(badmac), &back, &d), -EINVAL);
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

/* Only the lab's emulated NIC takes a MAC from the guest; libvirt sets a real VF's on its PF. */
static void test_sources_take_guest_mac(void **state)
{
	static const char eth[][VFM_ID_MAX] = {"ethernet:f0", "ethernet:f1:e1000e"};
	static const char mixed[][VFM_ID_MAX] = {"ethernet:f0", "network:sriov-a"};
	static const char net[][VFM_ID_MAX] = {"network:sriov-a"};
	static const char hostdev[][VFM_ID_MAX] = {"hostdev:0000:3b:02.1"};

	(void)state;
	assert_true(vfpool_libvirt_takes_guest_mac(eth, 2));
	assert_false(vfpool_libvirt_takes_guest_mac(net, 1));
	assert_false(vfpool_libvirt_takes_guest_mac(hostdev, 1));
	/* A pool that may hand out a real VF is treated as one. */
	assert_false(vfpool_libvirt_takes_guest_mac(mixed, 2));
	assert_false(vfpool_libvirt_takes_guest_mac(eth, 0));
}

static void test_hostdev_network(void **state)
{
	static const char net[] =
	    "<network connections='1'><name>sriov-a</name>"
	    "<forward mode='hostdev' managed='yes' connections='1'><pf dev='eth3'/>"
	    "<address type='pci' domain='0x0000' bus='0x3b' slot='0x02' function='0x1'/>"
	    "<address type='pci' domain='0x0000' bus='0x3b' slot='0x02' function='0x2'/>"
	    "</forward></network>";
	static const char bridge[] = "<network><forward mode='bridge'/></network>";
	unsigned total = 0, used = 0;
	struct diag d = {{0}};
	const char *doms[1] = {live_xml};
	bool free_ = true;

	(void)state;
	assert_int_equal(domxml_parse_hostdev_network(net, strlen(net), &total, &used, &d), 0);
	assert_int_equal(total, 2);
	assert_int_equal(used, 1);
	assert_int_equal(domxml_parse_hostdev_network(bridge, strlen(bridge), &total, &used, &d),
			 -EMEDIUMTYPE);

	/* The pool's view: a source is taken when a running domain uses it. */
	assert_int_equal(vfpool_libvirt_source_free("network:sriov-a", doms, 1, net, &free_, &d),
			 0);
	assert_true(free_);
	assert_int_equal(vfpool_libvirt_source_free("ethernet:f0", doms, 1, NULL, &free_, &d), 0);
	assert_false(free_);
	assert_int_equal(vfpool_libvirt_source_free("ethernet:f1", doms, 1, NULL, &free_, &d), 0);
	assert_true(free_);
	assert_int_equal(
	    vfpool_libvirt_source_free("hostdev:0000:3b:02.1", doms, 1, NULL, &free_, &d), 0);
	assert_false(free_);
	assert_int_equal(
	    vfpool_libvirt_source_free("hostdev:0000:3b:02.2", doms, 1, NULL, &free_, &d), 0);
	assert_true(free_);
}

static void test_map_path(void **state)
{
	char out[DOMXML_PATH_MAX];

	(void)state;
	assert_int_equal(
	    hv_libvirt_map_path("/var/lib/libvirt/qemu/x", "/var/lib/libvirt", "/tmp/lab/lib", out),
	    0);
	assert_string_equal(out, "/tmp/lab/lib/qemu/x");
	/* Only whole path components. */
	assert_int_equal(hv_libvirt_map_path("/var/lib/libvirtX/a", "/var/lib/libvirt", "/t", out),
			 0);
	assert_string_equal(out, "/var/lib/libvirtX/a");
	assert_int_equal(hv_libvirt_map_path("/a/b", "", "", out), 0);
	assert_string_equal(out, "/a/b");
}

/* The qemu-ga fallback reads the bond from /proc/net/bonding (Linux 6.1 format). */
static void test_parse_bonding(void **state)
{
	static const char text[] =
	    "Ethernet Channel Bonding Driver: v6.1.0-56-amd64\n\n"
	    "Bonding Mode: fault-tolerance (active-backup)\n"
	    "Primary Slave: enp1s0 (primary_reselect always)\n"
	    "Currently Active Slave: enp1s0\n"
	    "MII Status: up\nMII Polling Interval (ms): 100\n\n"
	    "Slave Interface: enp2s0\nMII Status: up\nSpeed: Unknown\n"
	    "Link Failure Count: 0\nPermanent HW addr: 52:54:00:77:00:10\nSlave queue ID: 0\n\n"
	    "Slave Interface: enp1s0\nMII Status: down\n"
	    "Permanent HW addr: 52:54:00:77:01:10\nSlave queue ID: 0\n";
	static const char evil[] = "Bonding Mode: fault-tolerance (active-backup)\n"
				   "Slave Interface: ../../x\n";
	struct bond_status b;
	struct diag d = {{0}};

	(void)state;
	assert_int_equal(agent_qgalv_parse_bonding(text, "bond0", &b, &d), 0);
	assert_string_equal(b.mode, "active-backup");
	/* The kernel names fail_over_mac only when it is not none. */
	assert_int_equal(b.fail_over_mac, BOND_FOM_NONE);
	assert_false(b.has_mac); /* not in this file */
	assert_int_equal(b.n_slaves, 2);
	assert_string_equal(b.slaves[0].name, "enp2s0");
	assert_true(b.slaves[0].link_up);
	assert_false(b.slaves[1].link_up);
	assert_true(b.has_active);
	assert_memory_equal(b.active_mac, vf_mac, 6);
	/* A name that would walk out of /sys/class/net is refused. */
	assert_int_equal(agent_qgalv_parse_bonding(evil, "bond0", &b, &d), -EBADMSG);
	assert_int_equal(agent_qgalv_parse_bonding("garbage", "bond0", &b, &d), -EBADMSG);
	assert_false(agent_qgalv_ifname_ok(".."));
	assert_false(agent_qgalv_ifname_ok("a/b"));
	assert_false(agent_qgalv_ifname_ok("0123456789abcdef"));
	assert_true(agent_qgalv_ifname_ok("bond0"));
}

/* "Bonding Mode: fault-tolerance (active-backup) (fail_over_mac active)": the mode is the
 * first group, fail_over_mac the second; a word the kernel does not write is refused. */
static void test_parse_bonding_fail_over_mac(void **state)
{
	static const struct {
		const char *line;
		int rc;
		const char *mode;
		enum bond_fom fom;
	} cases[] = {
	    {"fault-tolerance (active-backup) (fail_over_mac active)", 0, "active-backup",
	     BOND_FOM_ACTIVE},
	    {"fault-tolerance (active-backup) (fail_over_mac follow)", 0, "active-backup",
	     BOND_FOM_FOLLOW},
	    {"fault-tolerance (active-backup) (fail_over_mac none)", 0, "active-backup",
	     BOND_FOM_NONE},
	    {"fault-tolerance (active-backup)", 0, "active-backup", BOND_FOM_NONE},
	    /* Other modes have no fail_over_mac worth knowing. */
	    {"load balancing (round-robin)", 0, "round-robin", BOND_FOM_UNKNOWN},
	    {"IEEE 802.3ad Dynamic link aggregation", 0, "IEEE 802.3ad Dynamic link aggregat",
	     BOND_FOM_UNKNOWN},
	    {"fault-tolerance (active-backup) (fail_over_mac swap)", -EBADMSG, NULL, 0},
	    {"fault-tolerance (active-backup) (fail_over_mac unknown)", -EBADMSG, NULL, 0},
	    {"fault-tolerance (active-backup) (fail_over_mac active", -EBADMSG, NULL, 0},
	    {"fault-tolerance (active-backup) (fail_over_mac )", -EBADMSG, NULL, 0},
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct bond_status b;
		struct diag d = {{0}};
		char text[256];

		snprintf(text, sizeof(text),
			 "Bonding Mode: %s\nCurrently Active Slave: None\n\n"
			 "Slave Interface: eth0\nMII Status: up\n"
			 "Permanent HW addr: 52:54:00:77:00:10\n",
			 cases[i].line);
		if (agent_qgalv_parse_bonding(text, "bond0", &b, &d) != cases[i].rc)
			fail_msg("case %zu (%s): not %d", i, cases[i].line, cases[i].rc);
		if (cases[i].rc < 0)
			continue;
		if (strncmp(b.mode, cases[i].mode, sizeof(b.mode) - 1) != 0)
			fail_msg("case %zu: mode \"%s\"", i, b.mode);
		assert_int_equal(b.fail_over_mac, cases[i].fom);
	}
}

/* /sys/class/net/BOND/address, as sysfs writes it. */
static void test_parse_address(void **state)
{
	uint8_t mac[6] = {0};

	(void)state;
	assert_int_equal(agent_qgalv_parse_address("52:54:00:77:01:10\n", mac), 0);
	assert_memory_equal(mac, vf_mac, 6);
	assert_int_equal(agent_qgalv_parse_address("52:54:00:77:01:10", mac), 0);
	assert_int_equal(agent_qgalv_parse_address("", mac), -EBADMSG);
	assert_int_equal(agent_qgalv_parse_address("52:54:00:77:01:10\n\n", mac), -EBADMSG);
	assert_int_equal(agent_qgalv_parse_address("52:54:00:77:01:1\n", mac), -EBADMSG);
	assert_int_equal(agent_qgalv_parse_address("52-54-00-77-01-10\n", mac), -EBADMSG);
}

/* A NIC's device uevent, as the stock qemu-ga path reads it to tell NICs with one MAC apart:
 * the kernel's own files parse; anything else in DRIVER or PCI_SLOT_NAME is refused. */
static void test_parse_uevent(void **state)
{
	static const char *const bad[] = {
	    "DRIVER=igbvf\nPCI_SLOT_NAME=0000:01:00.0; reboot\n",
	    "DRIVER=igbvf\nPCI_SLOT_NAME=0000:01:00.0\nPCI_SLOT_NAME=0000:02:00.0\n",
	    "DRIVER=igb vf\n",
	    "DRIVER=\x1b[2J\n",
	    "DRIVER=\n",
	    "DRIVER=a_driver_name_that_is_far_too_long_to_be_one\n",
	    "DRIVER=igbvf\nDRIVER=virtio_net\n",
	    "PCI_SLOT_NAME=0000:01:00.0/../..\n",
	    "PCI_SLOT_NAME=0000:01:00.000000000000000000000000000000000000\n",
	    "garbage without an equals sign\n",
	};
	char driver[32], pci[VFM_PCI_MAX];

	(void)state;
	assert_int_equal(
	    agent_qgalv_parse_uevent("DRIVER=igbvf\nPCI_CLASS=20000\nPCI_ID=8086:10CA\n"
				     "PCI_SLOT_NAME=0000:01:00.0\nMODALIAS=pci:v0\n",
				     driver, pci),
	    0);
	assert_string_equal(driver, "igbvf");
	assert_string_equal(pci, "0000:01:00.0");
	assert_int_equal(
	    agent_qgalv_parse_uevent("DRIVER=virtio_net\nMODALIAS=virtio:d00000001v00001AF4\n",
				     driver, pci),
	    0);
	assert_string_equal(driver, "virtio_net");
	assert_string_equal(pci, "");
	assert_int_equal(agent_qgalv_parse_uevent("", driver, pci), 0);
	assert_string_equal(driver, "");
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		if (agent_qgalv_parse_uevent(bad[i], driver, pci) != -EBADMSG)
			fail_msg("accepted %s", bad[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_domain),
	    cmocka_unit_test(test_agent_channel_types),
	    cmocka_unit_test(test_parse_rejects),
	    cmocka_unit_test(test_remove_nic),
	    cmocka_unit_test(test_build_nic),
	    cmocka_unit_test(test_meta),
	    cmocka_unit_test(test_sources),
	    cmocka_unit_test(test_hostdev_network),
	    cmocka_unit_test(test_map_path),
	    cmocka_unit_test(test_parse_bonding),
	    cmocka_unit_test(test_sources_take_guest_mac),
	    cmocka_unit_test(test_parse_bonding_fail_over_mac),
	    cmocka_unit_test(test_parse_address),
	    cmocka_unit_test(test_parse_uevent),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
