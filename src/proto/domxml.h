/* SPDX-License-Identifier: MIT */
/*
 * libvirt XML for the libvirt backend, no I/O: reading a domain's NICs and agent channel,
 * removing the VF's <interface> from a domain definition (destination and persistent XML of a
 * migration), building the <interface> of a VF to attach, vfmigrate's <metadata> element, and
 * the free VFs of a <forward mode='hostdev'> network.
 *
 * Everything here comes from a daemon (and, for metadata, from whoever could edit the domain):
 * documents are size-limited, a DOCTYPE is refused (libvirt never sends one, and with it go
 * entity tricks), values longer than their field are errors, never truncated.
 */
#ifndef VFM_PROTO_DOMXML_H
#define VFM_PROTO_DOMXML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../model/vfm.h"
#include "../util/util.h"

#define DOMXML_MAX		(4 * 1024 * 1024)
#define DOMXML_NICS_MAX		32
#define DOMXML_PATH_MAX		108 /* sun_path */
#define DOMXML_CHANNEL_TYPE_MAX 16
#define DOMXML_SOURCES_MAX	8

/* The name vfmigrate-agent's virtio-serial port has in the guest. */
#define DOMXML_AGENT_CHANNEL "org.vfmigrate.agent.0"
#define DOMXML_QGA_CHANNEL   "org.qemu.guest_agent.0"
/* Namespace of vfmigrate's element in a domain's <metadata>. */
#define DOMXML_META_NS	   "https://vfmigrate.org/xmlns/libvirt/1"
#define DOMXML_META_PREFIX "vfm"

struct domxml_nic {
	char type[VFM_ID_MAX]; /* verbatim: "ethernet", "network", "hostdev", "bridge", ... */
	char alias[VFM_ID_MAX];
	bool has_mac;
	uint8_t mac[6];
	char model[VFM_ID_MAX];
	char target_dev[VFM_IFNAME_MAX];
	char network[VFM_ID_MAX];
	char hostdev_pci[VFM_PCI_MAX]; /* "0000:3b:02.1": type hostdev and DOMXML_HOSTDEV_PCI */
	bool managed;		       /* managed='yes' (the two hostdev kinds) */
	/* <teaming type= persistent=> (libvirt's QEMU failover), verbatim; "" when absent:
	 * "persistent" on the virtio NIC (failover=on), "transient" on its VF, whose
	 * teaming_persistent is the virtio NIC's alias (QEMU's failover_pair_id). */
	char teaming_type[16];
	char teaming_persistent[VFM_ID_MAX];
};

/*
 * The type of a "NIC" that is a <hostdev mode='subsystem' type='pci'> element (a VF given as a
 * bare PCI device; its MAC is set on the PF by the host, not by libvirt), and, as a plug
 * spec's driver, the element to re-plug it with (managed='no', or managed='yes').
 */
#define DOMXML_HOSTDEV_PCI	   "hostdev-pci"
#define DOMXML_HOSTDEV_PCI_MANAGED "hostdev-pci-managed"

struct domxml_domain {
	char name[VFM_ID_MAX];
	size_t n_nics;
	struct domxml_nic nics[DOMXML_NICS_MAX];
	/* <channel type='unix'> with target name org.vfmigrate.agent.0: its socket path (empty
	 * when the channel has none, e.g. an inactive definition with a generated path). */
	bool has_agent_channel;
	char agent_path[DOMXML_PATH_MAX];
	/* The type of the org.vfmigrate.agent.0 channel, whatever it is ("" = none). */
	char agent_type[DOMXML_CHANNEL_TYPE_MAX];
	bool has_qga_channel;
};

/* Parses a <domain> document: its <interface>s and PCI <hostdev>s as NICs (see
 * DOMXML_HOSTDEV_PCI), its agent channels. -EBADMSG (not well-formed / not a domain), -EFBIG,
 * -E2BIG. */
int domxml_parse_domain(const char *xml, size_t len, struct domxml_domain *ret, struct diag *d);

/* The NIC with this alias (alias != NULL) or else with this MAC; NULL when there is none. */
const struct domxml_nic *domxml_find_nic(const struct domxml_domain *dom, const char *alias,
					 const uint8_t *mac);

/*
 * The failover pair of the NIC with this alias (libvirt's <teaming>): 0 and ret = the alias of
 * the virtio NIC whose <teaming type='persistent'/> it is the transient of, or ret = "" when it
 * has no <teaming type='transient'>. -ENOENT: no NIC with that alias. -EINVAL (d says why):
 * its persistent= names no interface, or one without <teaming type='persistent'/> or not of
 * model virtio.
 */
int domxml_failover_pair(const struct domxml_domain *dom, const char *alias, char ret[VFM_ID_MAX],
			 struct diag *d);

/*
 * Failover mode's destination definition: the <interface> with this alias gets the source of
 * spec (a HOSTDEV plug spec: driver "network" -> type='network' <source network=.../>, else
 * type='hostdev' managed='yes' <source><address type='pci' .../></source>); everything else of
 * it (MAC, <teaming>, guest <address>, alias, ROM, VLAN) stays, so libvirt's ABI check between
 * the two definitions passes; that check also refuses a change of type, so the interface must
 * already be of the spec's type. *ret_xml: malloc'd document. -ENOENT: no <interface> with that
 * alias; -EINVAL: spec is no real VF (a TAP spec, a bare <hostdev>), of another type than the
 * interface, or a bad field.
 */
int domxml_set_nic_source(const char *xml, size_t len, const char *alias,
			  const struct plug_spec *spec, char **ret_xml, struct diag *d);

/*
 * Removes from a <domain> document every <interface> or PCI <hostdev> whose alias is `alias` (may
 * be NULL) or whose MAC is `mac` (may be NULL). *ret_xml: malloc'd document; *ret_removed: how
 * many.
 */
int domxml_remove_nic(const char *xml, size_t len, const char *alias, const uint8_t *mac,
		      char **ret_xml, unsigned *ret_removed, struct diag *d);

/*
 * The <interface> to attach for a plug spec (libvirt flavour):
 *   backend_kind TAP:     <interface type='ethernet'>, <target dev=backend managed='no'/>,
 *                         <model type=driver/> (default e1000e), <rom enabled='no'/>
 *   HOSTDEV, driver "network": <interface type='network'>, <source network=backend/>
 *                         (a <forward mode='hostdev'> network: libvirt picks a free VF)
 *   HOSTDEV, driver DOMXML_HOSTDEV_PCI (_MANAGED): <hostdev mode='subsystem' type='pci'
 *                         managed='no' ('yes')>, source PCI address backend, no MAC, no VLAN
 *                         (the re-plug of a VF the domain had as a bare PCI device)
 *   HOSTDEV, otherwise:   <interface type='hostdev' managed='yes'>, source PCI address backend
 * with <mac> (when has_mac), <vlan><tag> (vlan >= 0, hostdev kinds), <teaming type='transient'
 * persistent=failover_pair_id/> (when set: the two <interface> kinds only) and <alias
 * name=device_id/> (libvirt wants user aliases to start with "ua-"). -EINVAL on a bad field.
 */
int domxml_build_nic(const struct plug_spec *spec, char **ret_xml, struct diag *d);

/* vfmigrate's facts about a guest, kept in its <metadata>. */
struct domxml_meta {
	char bond[VFM_IFNAME_MAX];
	char vf_alias[VFM_ID_MAX];
	uint8_t vf_mac[6];
	uint8_t backup_mac[6];
	char physnet[VFM_ID_MAX]; /* may be empty */
	int vlan;		  /* -1 none */
	/* Where a VF may come from on a destination, in order of preference:
	 * "ethernet:TAP[:MODEL]" (lab), "network:NAME", "hostdev:0000:3b:02.1". */
	size_t n_sources;
	char sources[DOMXML_SOURCES_MAX][VFM_ID_MAX];
};

/*
 * A guest with several VFs: one <nic> element per VF in vfmigrate's element, each holding what
 * the single VF's form holds directly (<bond>, <vf>, <backup>, ...). A guest with one VF keeps
 * the single form (older vfmigrate reads it).
 */
struct domxml_metas {
	size_t n;
	struct domxml_meta vfs[VFM_VFS_MAX];
};

void domxml_meta_init(struct domxml_meta *m);
/* Checks one VF source string; 0 or -EINVAL with the reason. */
int domxml_source_check(const char *source, struct diag *d);
/* Turns a VF source into a plug spec (backend, backend_kind, driver); other fields untouched. */
int domxml_source_to_spec(const char *source, struct plug_spec *spec, struct diag *d);
/*
 * Failover mode: whether source can stand in for VF alias, an <interface type='kind'> ("hostdev"
 * or "network"; what a plug spec's driver says of it). libvirt keeps a failover VF's
 * <interface> in the destination's definition and changes only its source, and its ABI check
 * refuses a change of type: a hostdev interface takes hostdev: sources only, a network one
 * network: sources only. 0, or -EINVAL saying why. Another kind: 0 (no such interface pairs).
 */
int domxml_failover_fits(const char *alias, const char *kind, const char *source, struct diag *d);
/* Parses the element virDomainGetMetadata returns. -EBADMSG, -EINVAL (bad or missing value). */
int domxml_meta_parse(const char *xml, size_t len, struct domxml_meta *ret, struct diag *d);
/* The element for virDomainSetMetadata (no namespace declaration: libvirt adds it). */
int domxml_meta_format(const struct domxml_meta *m, char **ret_xml, struct diag *d);
/* Either form into a list of 1..VFM_VFS_MAX VFs (distinct aliases); the single form for one VF,
 * the <nic> form for several. */
int domxml_metas_parse(const char *xml, size_t len, struct domxml_metas *ret, struct diag *d);
int domxml_metas_format(const struct domxml_metas *m, char **ret_xml, struct diag *d);

/*
 * A <network> document with <forward mode='hostdev'>: the VFs it has (<address type='pci'>
 * children of <forward>, or <pf> when the VFs are not listed: unknown, *ret_total = 0) and the
 * connections in use (the live XML's connections='N' on <forward>).
 * -EMEDIUMTYPE when the network is not in hostdev mode.
 */
int domxml_parse_hostdev_network(const char *xml, size_t len, unsigned *ret_total,
				 unsigned *ret_used, struct diag *d);

/* Whether s is "DDDD:BB:SS.F" (hex); the four numbers in ret (may be NULL). */
bool domxml_pci_parse(const char *s, unsigned ret[4]);

#endif
