/* SPDX-License-Identifier: MIT */
/* A lab guest's libvirt XML and its MACs, for the tests of proto/domxml and of the libvirt
 * backend in io/. */
#ifndef VFM_TEST_DOMXML_SAMPLES_H
#define VFM_TEST_DOMXML_SAMPLES_H

#include <stdint.h>

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

/* A guest whose VF is a bare PCI <hostdev managed='no'> (its MAC set on the PF by the host),
 * beside a USB hostdev that is no NIC. */
static const char hostdev_xml[] =
    "<domain type='qemu'><name>g1</name><devices>\n"
    "    <interface type='ethernet'><mac address='52:54:00:77:00:10'/>"
    "<target dev='v0' managed='no'/><model type='virtio'/><alias name='ua-net0'/></interface>\n"
    "    <hostdev mode='subsystem' type='usb' managed='no'><source><vendor id='0x1d6b'/>"
    "<product id='0x0002'/></source><alias name='ua-usb0'/></hostdev>\n"
    "    <hostdev mode='subsystem' type='pci' managed='no'><source><address domain='0x0000' "
    "bus='0x01' slot='0x10' function='0x0'/></source><alias name='ua-vf0'/></hostdev>\n"
    "</devices></domain>";

static const uint8_t vf_mac[6] = {0x52, 0x54, 0x00, 0x77, 0x01, 0x10};
static const uint8_t net_mac[6] = {0x52, 0x54, 0x00, 0x77, 0x03, 0x10};

#endif
