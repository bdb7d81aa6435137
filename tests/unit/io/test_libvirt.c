// SPDX-License-Identifier: MIT
/* The libvirt backend's decisions without a daemon: which pool sources are free and take a
 * guest MAC, path mapping, the qemu-ga fallback's parsers of /proc/net/bonding and sysfs. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "../domxml_samples.h"
#include "io/agent_qga.h"
#include "io/hv_libvirt.h"
#include "io/vfpool_libvirt.h"
#include "proto/domxml.h"

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

/* Another domain's bare PCI VF (<hostdev managed='no'>) is taken for the pool. */
static void test_source_free_hostdev_pci(void **state)
{
	const char *doms[1] = {hostdev_xml};
	struct diag d = {{0}};
	bool free_ = true;

	(void)state;
	assert_int_equal(
	    vfpool_libvirt_source_free("hostdev:0000:01:10.0", doms, 1, NULL, &free_, &d), 0);
	assert_false(free_);
	assert_int_equal(
	    vfpool_libvirt_source_free("hostdev:0000:01:10.2", doms, 1, NULL, &free_, &d), 0);
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
	assert_int_equal(agent_qga_parse_bonding(text, "bond0", &b, &d), 0);
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
	assert_int_equal(agent_qga_parse_bonding(evil, "bond0", &b, &d), -EBADMSG);
	assert_int_equal(agent_qga_parse_bonding("garbage", "bond0", &b, &d), -EBADMSG);
	assert_false(agent_qga_ifname_ok(".."));
	assert_false(agent_qga_ifname_ok("a/b"));
	assert_false(agent_qga_ifname_ok("0123456789abcdef"));
	assert_true(agent_qga_ifname_ok("bond0"));
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
		if (agent_qga_parse_bonding(text, "bond0", &b, &d) != cases[i].rc)
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
	assert_int_equal(agent_qga_parse_address("52:54:00:77:01:10\n", mac), 0);
	assert_memory_equal(mac, vf_mac, 6);
	assert_int_equal(agent_qga_parse_address("52:54:00:77:01:10", mac), 0);
	assert_int_equal(agent_qga_parse_address("", mac), -EBADMSG);
	assert_int_equal(agent_qga_parse_address("52:54:00:77:01:10\n\n", mac), -EBADMSG);
	assert_int_equal(agent_qga_parse_address("52:54:00:77:01:1\n", mac), -EBADMSG);
	assert_int_equal(agent_qga_parse_address("52-54-00-77-01-10\n", mac), -EBADMSG);
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
	assert_int_equal(agent_qga_parse_uevent("DRIVER=igbvf\nPCI_CLASS=20000\nPCI_ID=8086:10CA\n"
						"PCI_SLOT_NAME=0000:01:00.0\nMODALIAS=pci:v0\n",
						driver, pci),
			 0);
	assert_string_equal(driver, "igbvf");
	assert_string_equal(pci, "0000:01:00.0");
	assert_int_equal(
	    agent_qga_parse_uevent("DRIVER=virtio_net\nMODALIAS=virtio:d00000001v00001AF4\n",
				   driver, pci),
	    0);
	assert_string_equal(driver, "virtio_net");
	assert_string_equal(pci, "");
	assert_int_equal(agent_qga_parse_uevent("", driver, pci), 0);
	assert_string_equal(driver, "");
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		if (agent_qga_parse_uevent(bad[i], driver, pci) != -EBADMSG)
			fail_msg("accepted %s", bad[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sources_take_guest_mac),
	    cmocka_unit_test(test_hostdev_network),
	    cmocka_unit_test(test_source_free_hostdev_pci),
	    cmocka_unit_test(test_map_path),
	    cmocka_unit_test(test_parse_bonding),
	    cmocka_unit_test(test_parse_bonding_fail_over_mac),
	    cmocka_unit_test(test_parse_address),
	    cmocka_unit_test(test_parse_uevent),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
