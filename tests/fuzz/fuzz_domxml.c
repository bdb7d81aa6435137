// SPDX-License-Identifier: MIT
/*
 * libvirt-side parsers: domain XML (NICs, agent channel and its type, the <teaming> failover pair),
 * vfmigrate's <metadata>, NIC removal and failover mode's source rewrite, hostdev networks, and the
 * guest's /proc/net/bonding text and a bond's sysfs address read through qemu-ga (guest data). The
 * first byte picks the parser; the rest is its input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "io/agent_qga.h"
#include "proto/domxml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct domxml_domain *dom;
	struct domxml_metas metas;
	struct bond_status bs;
	struct diag d = {{0}};
	unsigned total, used;
	char *text, *out = NULL;
	const uint8_t mac[6] = {0x52, 0x54, 0, 0x77, 1, 0x10};
	static const struct plug_spec fo_vf = {.device_id = "ua-vf0",
					       .driver = "hostdev",
					       .backend_kind = PLUG_BACKEND_HOSTDEV,
					       .backend = "0000:02:10.2",
					       .vlan = -1};

	if (size < 1)
		return 0;
	text = malloc(size);
	if (!text)
		return 0;
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	switch (data[0] % 5) {
	case 0:
		dom = malloc(sizeof(*dom));
		if (dom && domxml_parse_domain(text, size - 1, dom, &d) >= 0) {
			char pair[VFM_ID_MAX];

			(void)domxml_find_nic(dom, "ua-vf0", mac);
			(void)domxml_failover_pair(dom, "ua-vf0", pair, &d);
		}
		free(dom);
		break;
	case 1:
		/* Either form, one VF or several: what parses formats and parses back the same. */
		if (domxml_metas_parse(text, size - 1, &metas, &d) >= 0 &&
		    domxml_metas_format(&metas, &out, &d) >= 0) {
			struct domxml_metas *back = calloc(1, sizeof(*back));

			if (!back || domxml_metas_parse(out, strlen(out), back, &d) < 0 ||
			    back->n != metas.n)
				abort();
			free(back);
			free(out);
		}
		break;
	case 2:
		if (domxml_remove_nic(text, size - 1, "ua-vf0", mac, &out, &used, &d) >= 0)
			free(out);
		out = NULL;
		/* What the rewrite returns of a domain that parses holds the VF with the new
		 * source. */
		if (domxml_set_nic_source(text, size - 1, "ua-vf0", &fo_vf, &out, &d) >= 0) {
			const struct domxml_nic *n;

			dom = malloc(sizeof(*dom));
			if (dom && domxml_parse_domain(text, size - 1, dom, &d) >= 0 &&
			    (domxml_parse_domain(out, strlen(out), dom, &d) < 0 ||
			     !(n = domxml_find_nic(dom, "ua-vf0", NULL)) ||
			     strcmp(n->type, "hostdev") != 0 ||
			     strcmp(n->hostdev_pci, fo_vf.backend) != 0))
				abort();
			free(dom);
			free(out);
		}
		break;
	case 3:
		(void)domxml_parse_hostdev_network(text, size - 1, &total, &used, &d);
		break;
	case 4:
		(void)agent_qga_parse_bonding(text, "bond0", &bs, &d);
		(void)agent_qga_parse_address(text, bs.mac);
		break;
	}
	free(text);
	return 0;
}
