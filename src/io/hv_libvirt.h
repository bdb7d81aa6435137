/* SPDX-License-Identifier: MIT */
/*
 * struct hv_ops over libvirt's C API, one instance per host side, for a domain by name. Never
 * talks QMP to the guest's QEMU. The connection is opened lazily (or by hv_libvirt_connect)
 * and reopened when libvirt says it is no longer alive.
 *
 *   unplug:   virDomainDetachDeviceAlias (live), then waits for the DEVICE_REMOVED or
 *             DEVICE_REMOVAL_FAILED event (an event loop thread runs libvirt's default
 *             implementation); after a reconnect it asks the live XML instead.
 *   plug:     virDomainAttachDeviceFlags with the <interface> of domxml_build_nic(), live, and
 *             in the persistent config too when the domain is persistent and its config lacks
 *             that NIC.
 *   migrate:  the source instance runs virDomainMigrate3 to its peer's connection (set with
 *             hv_libvirt_set_peer) in a thread, live, with the live XML minus the VF as the
 *             destination XML and, for a persistent domain, the persistent XML minus the VF
 *             (PERSIST_DEST + UNDEFINE_SOURCE); progress from virDomainGetJobStats; the final
 *             statistics (downtime) are the destination's completed-job stats. Failover mode
 *             (migrate_params.failover_vfs): both XMLs keep each VF's <interface>, its source
 *             its destination VF, which the destination QEMU plugs once the guest arrived.
 *   failover: the pair from the live XML's <teaming>; wait-unplug from the job stats (no RAM
 *             figures while QEMU waits for the guest).
 *   probe:    source: the domain's state. Destination: the daemon answers and the domain is
 *             not active there (then it counts as "waiting for an incoming migration").
 *
 * libvirt's error text reaches d verbatim ("detach ua-vf0: <libvirt message>").
 */
#ifndef VFM_HV_LIBVIRT_H
#define VFM_HV_LIBVIRT_H

#include <libvirt/libvirt.h>

#include "core/ops.h"
#include "io/agent_qga.h"
#include "proto/domxml.h"

struct hv_libvirt_options {
	char uri[VFM_URI_MAX]; /* "" = libvirt's default URI */
	char domain[VFM_ID_MAX];
	/* The VFs to leave out of the XML a migration sends (none: nothing removed). */
	size_t n_vfs;
	struct {
		char alias[VFM_ID_MAX];
		uint8_t mac[6];
	} vfs[VFM_VFS_MAX];
	/* Paths the daemon reports that start with path_from are visible here under path_to
	 * (a daemon in a container or its own mount namespace). Empty: no mapping. */
	char path_from[DOMXML_PATH_MAX];
	char path_to[DOMXML_PATH_MAX];
	/* migrate_wait asks for job stats this often; 0 = 250 ms. */
	int64_t progress_interval_ms;
};

struct hv_libvirt;

int hv_libvirt_new(const struct hv_libvirt_options *o, struct hv_libvirt **ret, struct diag *d);
/* Accepts NULL; returns NULL. A migration thread still running is left to finish detached. */
struct hv_libvirt *hv_libvirt_free(struct hv_libvirt *h);

/*
 * The definition a migration sends (xml: the source's live or, inactive, persistent XML): in
 * bond mode without o's VFs (by alias); in failover mode (p->n_failover_vfs) with each VF's
 * <interface> given its destination VF's source. *ret: malloc'd.
 */
int hv_libvirt_dest_xml(const struct hv_libvirt_options *o, const char *xml, bool inactive,
			const struct migrate_params *p, char **ret, struct diag *d);

/* The destination of a source instance (borrowed; must outlive the migration). */
void hv_libvirt_set_peer(struct hv_libvirt *src, struct hv_libvirt *dst);

void hv_libvirt_ops(struct hv_libvirt *h, struct hv_ops *ret_ops);

/* Opens the connection now (it is opened lazily otherwise). */
int hv_libvirt_connect(struct hv_libvirt *h, struct diag *d);
/* The open connection (connecting first); borrowed. */
int hv_libvirt_conn(struct hv_libvirt *h, virConnectPtr *ret, struct diag *d);

/*
 * Which XML of a domain. LIVE is its state: an <interface type='network'> on a hostdev network
 * reads there as the <interface type='hostdev'> of the VF the network gave it. MIGRATABLE is
 * the running definition as a migration sends it (that interface type='network', its source
 * the network), INACTIVE the persistent config.
 */
enum hv_libvirt_view {
	HV_LIBVIRT_LIVE,
	HV_LIBVIRT_INACTIVE,
	HV_LIBVIRT_MIGRATABLE,
};

/* The domain's XML as view says. *ret malloc'd. -ENOENT: no such domain. */
int hv_libvirt_domain_xml(struct hv_libvirt *h, enum hv_libvirt_view view, char **ret,
			  struct diag *d);
/* The same, parsed (src/proto/domxml.c). */
int hv_libvirt_domain(struct hv_libvirt *h, enum hv_libvirt_view view, struct domxml_domain *ret,
		      struct diag *d);

/* vfmigrate's <metadata> element of the domain (live). -ENODATA when there is none. */
int hv_libvirt_get_metadata(struct hv_libvirt *h, struct domxml_metas *ret, struct diag *d);
/* Writes it (live, and to the persistent config when the domain is persistent). */
int hv_libvirt_set_metadata(struct hv_libvirt *h, const struct domxml_metas *m, struct diag *d);

/*
 * The names of the running domains of h's connection that carry vfmigrate's <metadata> (what
 * evacuate drains), at most max of them in ret (each VFM_ID_MAX long; longer names are
 * skipped). -E2BIG when there are more.
 */
int hv_libvirt_list_managed(struct hv_libvirt *h, char (*ret)[VFM_ID_MAX], size_t max,
			    size_t *ret_n, struct diag *d);

/* The org.vfmigrate.agent.0 channel of the running domain, as its live XML has it. */
struct hv_libvirt_agent_channel {
	char type[DOMXML_CHANNEL_TYPE_MAX]; /* "unix", "pty", ... */
	/* type unix: its socket, mapped with path_from/path_to ("" for other types). It may not
	 * exist on this machine (a remote daemon). */
	char path[DOMXML_PATH_MAX];
};

/* -ENOENT: not running here; -ENODEV: the domain has no such channel. */
int hv_libvirt_agent_channel(struct hv_libvirt *h, struct hv_libvirt_agent_channel *ret,
			     struct diag *d);

/* The UNIX socket of that channel. -ENOENT: not running here; -ENODEV: no UNIX channel. */
int hv_libvirt_agent_path(struct hv_libvirt *h, char ret[DOMXML_PATH_MAX], struct diag *d);

/*
 * Opens the domain's channel NAME through libvirt (virDomainOpenChannel; the QEMU driver
 * serves channels of type unix and pty), so it works with a remote daemon too. Returns a
 * connected stream socket (SOCK_CLOEXEC) that the caller owns: what is written to it goes to
 * the guest, what the guest sends comes out of it. The event loop thread pumps between that
 * socket and a non-blocking virStream through two bounded buffers (64 KiB each). Once the
 * caller closes its fd, or the channel ends (the guest side closed, the domain stopped or
 * migrated away, the daemon went away), the stream is finished or aborted and everything is
 * released; the caller reads EOF. Guest bytes that arrive while both the socket and the
 * buffer are full (nobody reads) are discarded. A second open on the same instance forces
 * out a stream that an earlier one may still hold in the daemon (VIR_DOMAIN_CHANNEL_FORCE).
 *
 * Returns the fd, or -ENOENT (domain not here), or -errno with libvirt's text in d (e.g. the
 * channel is busy or of a type the driver cannot open).
 */
int hv_libvirt_open_channel(struct hv_libvirt *h, const char *name, struct diag *d);

/*
 * Runs one command (a QGA JSON request) on the stock qemu-ga through libvirt's agent API
 * (virDomainQemuAgentCommand), with a timeout rounded up to whole seconds from deadline_ms.
 * *ret: the reply text, malloc'd (untrusted). -ENOENT: the domain is not here.
 */
int hv_libvirt_qga_command(struct hv_libvirt *h, const char *request, int64_t deadline_ms,
			   char **ret, struct diag *d);

/* qemu-ga through libvirt's agent API as agent_qga's transport (h borrowed). */
void hv_libvirt_qga_transport(struct hv_libvirt *h, struct qga_transport *ret);

/* libvirt's error (virErrorNumber code, virErrorDomain domain) as -errno; -EIO for the rest. */
int hv_libvirt_errno(int code, int domain);
/* A failed virDomainMigrate3's error as migrate_wait returns it: -ECANCELED when libvirt says
 * the job was aborted (VIR_ERR_OPERATION_ABORTED), else -EIO. */
int hv_libvirt_migrate_errno(int code, int domain);

/* Maps a daemon path with from/to (either empty: unchanged). -E2BIG when it does not fit. */
int hv_libvirt_map_path(const char *path, const char *from, const char *to,
			char ret[DOMXML_PATH_MAX]);

#endif
