/* SPDX-License-Identifier: MIT */
/*
 * vfmigrate-agent command logic: one request message in, one reply out, over a backend that
 * reads and changes network links. The real backend speaks rtnetlink (backend_nl.c); unit
 * tests use a fake one.
 */
#ifndef VFM_AGENT_H
#define VFM_AGENT_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../src/util/util.h"

#define AGENT_PORT_NAME "org.vfmigrate.agent.0"

/* Default and largest deadline (ms) of the waiting commands. */
#define AGENT_WAIT_DEFAULT_MS 5000
#define AGENT_WAIT_MAX_MS     60000
/* Re-read link state at least this often while waiting, even without netlink events. */
#define AGENT_WAIT_TICK_MS 100
/* Most links read from one dump. */
#define AGENT_LINKS_MAX 1024

/* From the kernel's bonding uapi (linux/if_bonding.h clashes with net/if.h). */
#define AGENT_BOND_MODE_ACTIVEBACKUP 1
#define AGENT_BOND_LINK_UP	     0 /* slave MII status */
#define AGENT_BOND_LINK_DOWN	     2
#define AGENT_IF_OPER_UP	     6

enum agent_fail_over_mac {
	AGENT_FOM_NONE = 0,
	AGENT_FOM_ACTIVE = 1,
	AGENT_FOM_FOLLOW = 2,
};

/* One network link as read from an RTM_NEWLINK message. */
struct agent_link {
	int ifindex;
	char name[IF_NAMESIZE];
	uint8_t addr[6], perm_addr[6], slave_perm_addr[6];
	bool has_addr, has_perm_addr, has_slave_perm_addr;
	unsigned flags;	   /* IFF_* */
	uint8_t operstate; /* IF_OPER_* */
	bool has_operstate;
	bool carrier;
	bool has_carrier;
	int master;	     /* ifindex, 0 when none */
	char kind[16];	     /* IFLA_INFO_KIND, "" if none */
	char slave_kind[16]; /* IFLA_INFO_SLAVE_KIND, "" if none */
	/* Other links name it as their master (set by the command logic, not the backend). */
	bool is_upper;
	/* kind == "bond" */
	bool has_bond_mode, has_bond_miimon, has_bond_fom;
	uint8_t bond_mode;
	int bond_active_slave; /* ifindex, 0 when none */
	int bond_primary;      /* ifindex, 0 when none */
	uint32_t bond_miimon;
	uint8_t bond_fail_over_mac;
	/* slave_kind == "bond" */
	bool has_slave_state, has_slave_mii;
	uint8_t slave_state;	  /* BOND_STATE_ACTIVE / BACKUP */
	uint8_t slave_mii_status; /* BOND_LINK_UP, ... */
};

/* The MAC that names a NIC: its permanent address if known, else its current one. */
const uint8_t *agent_link_mac(const struct agent_link *l);

struct agent_bond_params {
	const char *name;
	uint8_t mode;
	uint32_t miimon;
	uint8_t fail_over_mac;
};

/*
 * What the command logic needs from the system. Each returns >= 0 or -errno, with kernel text
 * (extack) in d on failure.
 */
struct agent_backend {
	/* All links; *ret_links is malloc'd. */
	int (*link_list)(void *ctx, struct agent_link **ret_links, size_t *ret_n, struct diag *d);
	int (*bond_create)(void *ctx, const struct agent_bond_params *p, struct diag *d);
	/* Deletes a virtual link (a bond: the kernel releases its slaves). */
	int (*link_delete)(void *ctx, int ifindex, struct diag *d);
	/* master 0 releases the link from its master. */
	int (*link_set_master)(void *ctx, int ifindex, int master, struct diag *d);
	int (*link_set_up)(void *ctx, int ifindex, bool up, struct diag *d);
	int (*bond_set_active)(void *ctx, int bond, int slave, struct diag *d);
	/* slave 0 clears the primary. */
	int (*bond_set_primary)(void *ctx, int bond, int slave, struct diag *d);
	/* PCI address of the NIC ("0000:01:00.0") into buf, or -ENOENT. For virtio-net, the
	 * PCI function of its virtio device. */
	int (*pci_address)(void *ctx, const char *ifname, char *buf, size_t n);
	/* Name of the driver bound to the NIC's device ("virtio_net", "igbvf") into buf, or
	 * -ENOENT (no device, or none bound). */
	int (*driver)(void *ctx, const char *ifname, char *buf, size_t n);
	int64_t (*now_ms)(void *ctx);
	/* Blocks until a link changes or timeout_ms pass. */
	int (*wait)(void *ctx, int timeout_ms);
	void *ctx;
};

struct agent_timing;

struct agent {
	const struct agent_backend *be;
	uint64_t requests, errors;
	/* NULL, or what guest-agent-timing reports (be is then its ops: timing.h). */
	struct agent_timing *timing;
};

void agent_init(struct agent *a, const struct agent_backend *be);

/*
 * Handles one request message (as split from the stream) and returns the reply to write
 * (malloc'd, NUL-terminated, may start with 0xFF; *ret_len excludes the NUL), or NULL on
 * allocation failure.
 */
char *agent_handle_message(struct agent *a, const char *buf, size_t len, size_t *ret_len);

/* The reply to a request that exceeded QGA_REQUEST_MAX. */
char *agent_reply_oversize(struct agent *a, size_t dropped, size_t *ret_len);

#endif
