// SPDX-License-Identifier: MIT
#include "hv_libvirt.h"
#include "hv_libvirt_impl.h"

#include <errno.h>
#include <libvirt/libvirt-qemu.h>
#include <libvirt/virterror.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "proto/jsonlim.h"

/* One event loop thread per process, and one lock for everything its callbacks touch. */
pthread_mutex_t lv_lock = PTHREAD_MUTEX_INITIALIZER;
pthread_cond_t lv_cond;
static pthread_once_t lv_once = PTHREAD_ONCE_INIT;
static int lv_init_rc;

static void lv_quiet(void *ud, virErrorPtr e)
{
	(void)ud;
	(void)e;
}

static void lv_tick(int timer, void *ud)
{
	(void)timer;
	(void)ud;
}

static void *lv_event_thread(void *ud)
{
	(void)ud;
	for (;;)
		if (virEventRunDefaultImpl() < 0)
			return NULL;
}

static void lv_init(void)
{
	pthread_condattr_t ca;
	pthread_t t;

	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&lv_cond, &ca);
	pthread_condattr_destroy(&ca);
	/* The library prints every error by default; ours travel in struct diag. */
	virSetErrorFunc(NULL, lv_quiet);
	if (virInitialize() < 0 || virEventRegisterDefaultImpl() < 0) {
		lv_init_rc = -EIO;
		return;
	}
	/* A timer keeps the loop turning so that it notices new handles promptly. */
	virEventAddTimeout(1000, lv_tick, NULL, NULL);
	if (pthread_create(&t, NULL, lv_event_thread, NULL) != 0) {
		lv_init_rc = -EAGAIN;
		return;
	}
	pthread_detach(t);
}

/* Waits on lv_cond (lv_lock held) until deadline_ms on the monotonic clock. */
void lv_cond_wait_until(int64_t deadline_ms)
{
	struct timespec ts = {.tv_sec = deadline_ms / 1000,
			      .tv_nsec = (deadline_ms % 1000) * 1000000};

	pthread_cond_timedwait(&lv_cond, &lv_lock, &ts);
}

int hv_libvirt_errno(int code, int domain)
{
	switch (code) {
	case VIR_ERR_NO_DOMAIN:
	case VIR_ERR_DEVICE_MISSING:
	case VIR_ERR_NO_NETWORK:
		return -ENOENT;
	case VIR_ERR_NO_DOMAIN_METADATA:
		return -ENODATA;
	case VIR_ERR_OPERATION_TIMEOUT:
	case VIR_ERR_AGENT_UNRESPONSIVE:
		return -ETIMEDOUT;
	case VIR_ERR_NO_CONNECT:
	case VIR_ERR_RPC:
		return -ENOTCONN;
	case VIR_ERR_SYSTEM_ERROR:
		return domain == VIR_FROM_RPC ? -ENOTCONN : -EIO;
	case VIR_ERR_OPERATION_INVALID:
		return -EINVAL;
	case VIR_ERR_OPERATION_ABORTED:
		return -ECANCELED;
	default:
		return -EIO;
	}
}

/* libvirt's last error in this thread, as -errno, with its text verbatim in d. */
int lv_error(struct diag *d, const char *fmt, ...)
{
	virErrorPtr e = virGetLastError();
	char what[256];
	va_list ap;
	int r;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	diag_set(d, "%s: %s", what, e && e->message ? e->message : "unknown libvirt error");
	r = e ? hv_libvirt_errno(e->code, e->domain) : -EIO;
	virResetLastError();
	return r;
}

static const char *state_word(int st)
{
	switch (st) {
	case VIR_DOMAIN_RUNNING:
		return "running";
	case VIR_DOMAIN_BLOCKED:
		return "blocked";
	case VIR_DOMAIN_PAUSED:
		return "paused";
	case VIR_DOMAIN_SHUTDOWN:
		return "shutdown";
	case VIR_DOMAIN_SHUTOFF:
		return "shutoff";
	case VIR_DOMAIN_CRASHED:
		return "crashed";
	case VIR_DOMAIN_PMSUSPENDED:
		return "pmsuspended";
	default:
		return "nostate";
	}
}

int hv_libvirt_map_path(const char *path, const char *from, const char *to,
			char ret[DOMXML_PATH_MAX])
{
	size_t fl = strlen(from);
	int n;

	if (fl && to[0] && strncmp(path, from, fl) == 0 && (path[fl] == '/' || !path[fl]))
		n = snprintf(ret, DOMXML_PATH_MAX, "%s%s", to, path + fl);
	else
		n = snprintf(ret, DOMXML_PATH_MAX, "%s", path);
	return n < 0 || n >= DOMXML_PATH_MAX ? -E2BIG : 0;
}

int hv_libvirt_new(const struct hv_libvirt_options *o, struct hv_libvirt **ret, struct diag *d)
{
	struct hv_libvirt *h;

	pthread_once(&lv_once, lv_init);
	if (lv_init_rc < 0) {
		diag_set(d, "cannot start the libvirt event loop");
		return lv_init_rc;
	}
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->o = *o;
	h->o.uri[sizeof(h->o.uri) - 1] = '\0';
	h->o.domain[sizeof(h->o.domain) - 1] = '\0';
	if (h->o.progress_interval_ms <= 0)
		h->o.progress_interval_ms = 250;
	h->cb_removed = h->cb_failed = h->cb_job = -1;
	*ret = h;
	return 0;
}

void mig_unref_locked(struct mig_thread *m)
{
	if (!m || --m->refs > 0)
		return;
	if (m->dom)
		virDomainFree(m->dom);
	if (m->dconn)
		virConnectClose(m->dconn);
	virTypedParamsFree(m->params, m->nparams);
	free(m);
}

static void lv_disconnect(struct hv_libvirt *h)
{
	if (!h->conn)
		return;
	if (h->cb_removed >= 0)
		virConnectDomainEventDeregisterAny(h->conn, h->cb_removed);
	if (h->cb_failed >= 0)
		virConnectDomainEventDeregisterAny(h->conn, h->cb_failed);
	if (h->cb_job >= 0)
		virConnectDomainEventDeregisterAny(h->conn, h->cb_job);
	h->cb_removed = h->cb_failed = h->cb_job = -1;
	virConnectClose(h->conn);
	h->conn = NULL;
}

struct hv_libvirt *hv_libvirt_free(struct hv_libvirt *h)
{
	if (!h)
		return NULL;
	pthread_mutex_lock(&lv_lock);
	mig_unref_locked(h->mig);
	h->mig = NULL;
	pthread_mutex_unlock(&lv_lock);
	lv_disconnect(h);
	free(h);
	return NULL;
}

void hv_libvirt_set_peer(struct hv_libvirt *src, struct hv_libvirt *dst)
{
	src->peer = dst;
}

bool lv_dom_is_ours(struct hv_libvirt *h, virDomainPtr dom)
{
	const char *n = virDomainGetName(dom);

	return n && strcmp(n, h->o.domain) == 0;
}

/* A device-removed or device-removal-failed event: ends the pending unplug of alias. */
static void unplug_event(struct hv_libvirt *h, virDomainPtr dom, const char *alias,
			 enum unplug_state state)
{
	if (!alias || !lv_dom_is_ours(h, dom))
		return;
	pthread_mutex_lock(&lv_lock);
	if (h->unplug == UNPLUG_PENDING && strcmp(alias, h->unplug_alias) == 0) {
		h->unplug = state;
		pthread_cond_broadcast(&lv_cond);
	}
	pthread_mutex_unlock(&lv_lock);
}

static void on_removed(virConnectPtr c, virDomainPtr dom, const char *alias, void *ud)
{
	(void)c;
	unplug_event(ud, dom, alias, UNPLUG_REMOVED);
}

static void on_removal_failed(virConnectPtr c, virDomainPtr dom, const char *alias, void *ud)
{
	(void)c;
	unplug_event(ud, dom, alias, UNPLUG_FAILED);
}

int lv_conn(struct hv_libvirt *h, struct diag *d)
{
	const char *uri = h->o.uri[0] ? h->o.uri : NULL;

	if (h->conn && virConnectIsAlive(h->conn) == 1)
		return 0;
	lv_disconnect(h);
	h->conn = virConnectOpen(uri);
	if (!h->conn)
		return lv_error(d, "connect to %s", uri ? uri : "the default libvirt URI");
	/* libvirt's calls have no deadline of their own: a daemon silent for 5 s x 3 probes
	 * closes the connection, and the call waiting on it fails. (Not every driver has it.) */
	if (virConnectSetKeepAlive(h->conn, 5, 3) < 0)
		virResetLastError();
	h->cb_removed =
	    virConnectDomainEventRegisterAny(h->conn, NULL, VIR_DOMAIN_EVENT_ID_DEVICE_REMOVED,
					     VIR_DOMAIN_EVENT_CALLBACK(on_removed), h, NULL);
	h->cb_failed = virConnectDomainEventRegisterAny(
	    h->conn, NULL, VIR_DOMAIN_EVENT_ID_DEVICE_REMOVAL_FAILED,
	    VIR_DOMAIN_EVENT_CALLBACK(on_removal_failed), h, NULL);
	/* The completed migration's statistics: waited for, not polled (hv_libvirt_migrate.c).
	 * A daemon without the event leaves the one query after it. */
	h->cb_job = virConnectDomainEventRegisterAny(
	    h->conn, NULL, VIR_DOMAIN_EVENT_ID_JOB_COMPLETED,
	    VIR_DOMAIN_EVENT_CALLBACK(lv_on_job_completed), h, NULL);
	if (h->cb_job < 0)
		virResetLastError();
	if (h->cb_removed < 0 || h->cb_failed < 0) {
		int r = lv_error(d, "register for device removal events");

		lv_disconnect(h);
		return r;
	}
	h->gen++;
	return 0;
}

/*
 * lv_conn, and while that fails to connect, again every LV_RECONNECT_MS until deadline_ms: a
 * daemon that restarts has no socket for a few seconds, and there is no event that says it is
 * back. Used where a lost daemon must not cost the guest its VF (plug, and the presence check
 * before it, after the point of no return). deadline_ms <= 0: one try.
 */
#define LV_RECONNECT_MS 200
static int lv_conn_by(struct hv_libvirt *h, int64_t deadline_ms, struct diag *d)
{
	for (;;) {
		int r = lv_conn(h, d);
		int64_t left = deadline_ms - time_now_ms();

		if (r >= 0 || deadline_ms <= 0 || left <= 0)
			return r;
		usleep((useconds_t)(left < LV_RECONNECT_MS ? left : LV_RECONNECT_MS) * 1000);
	}
}

int hv_libvirt_connect(struct hv_libvirt *h, struct diag *d)
{
	return lv_conn(h, d);
}

int hv_libvirt_conn(struct hv_libvirt *h, virConnectPtr *ret, struct diag *d)
{
	int r = lv_conn(h, d);

	if (r < 0)
		return r;
	*ret = h->conn;
	return 0;
}

/* The domain on this side; the caller frees it. */
int lv_dom(struct hv_libvirt *h, virDomainPtr *ret, struct diag *d)
{
	virDomainPtr dom;
	int r = lv_conn(h, d);

	if (r < 0)
		return r;
	dom = virDomainLookupByName(h->conn, h->o.domain);
	if (!dom)
		return lv_error(d, "domain %s", h->o.domain);
	*ret = dom;
	return 0;
}

int hv_libvirt_domain_xml(struct hv_libvirt *h, enum hv_libvirt_view view, char **ret,
			  struct diag *d)
{
	_cleanup_dom_ virDomainPtr dom = NULL;
	unsigned flags = 0;
	char *xml;
	int r = lv_dom(h, &dom, d);

	if (r < 0)
		return r;
	if (view == HV_LIBVIRT_INACTIVE)
		flags = VIR_DOMAIN_XML_INACTIVE;
	else if (view == HV_LIBVIRT_MIGRATABLE)
		flags = VIR_DOMAIN_XML_MIGRATABLE;
	xml = virDomainGetXMLDesc(dom, flags);
	if (!xml)
		return lv_error(d, "XML of %s", h->o.domain);
	*ret = xml;
	return 0;
}

int hv_libvirt_domain(struct hv_libvirt *h, enum hv_libvirt_view view, struct domxml_domain *ret,
		      struct diag *d)
{
	_cleanup_free_ char *xml = NULL;
	int r = hv_libvirt_domain_xml(h, view, &xml, d);

	if (r < 0)
		return r;
	return domxml_parse_domain(xml, strlen(xml), ret, d);
}

int hv_libvirt_get_metadata(struct hv_libvirt *h, struct domxml_metas *ret, struct diag *d)
{
	_cleanup_dom_ virDomainPtr dom = NULL;
	_cleanup_free_ char *xml = NULL;
	int r = lv_dom(h, &dom, d);

	if (r < 0)
		return r;
	xml = virDomainGetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT, DOMXML_META_NS,
				   VIR_DOMAIN_AFFECT_CURRENT);
	if (!xml) {
		r = lv_error(d, "vfmigrate metadata of %s", h->o.domain);
		if (r == -ENODATA)
			diag_set(d,
				 "domain %s has no vfmigrate metadata (write it with 'vfmigrate "
				 "setup')",
				 h->o.domain);
		return r;
	}
	return domxml_metas_parse(xml, strlen(xml), ret, d);
}

int hv_libvirt_list_managed(struct hv_libvirt *h, char (*ret)[VFM_ID_MAX], size_t max,
			    size_t *ret_n, struct diag *d)
{
	virDomainPtr *doms = NULL;
	size_t n = 0;
	int k, r = lv_conn(h, d);

	if (r < 0)
		return r;
	k = virConnectListAllDomains(h->conn, &doms, VIR_CONNECT_LIST_DOMAINS_ACTIVE);
	if (k < 0)
		return lv_error(d, "list the domains");
	for (int i = 0; i < k; i++) {
		const char *name = virDomainGetName(doms[i]);
		char *xml = virDomainGetMetadata(doms[i], VIR_DOMAIN_METADATA_ELEMENT,
						 DOMXML_META_NS, VIR_DOMAIN_AFFECT_LIVE);

		if (!xml)
			virResetLastError();
		else if (name && strlen(name) < VFM_ID_MAX && n < max)
			snprintf(ret[n++], VFM_ID_MAX, "%s", name);
		else if (name && strlen(name) < VFM_ID_MAX && r == 0) {
			diag_set(d, "more than %zu domains with vfmigrate metadata", max);
			r = -E2BIG;
		}
		free(xml);
		virDomainFree(doms[i]);
	}
	free(doms);
	if (r < 0)
		return r;
	*ret_n = n;
	return 0;
}

int hv_libvirt_set_metadata(struct hv_libvirt *h, const struct domxml_metas *m, struct diag *d)
{
	_cleanup_dom_ virDomainPtr dom = NULL;
	_cleanup_free_ char *xml = NULL;
	unsigned flags = VIR_DOMAIN_AFFECT_CURRENT;
	int r = lv_dom(h, &dom, d);

	if (r < 0)
		return r;
	r = domxml_metas_format(m, &xml, d);
	if (r < 0)
		return r;
	if (virDomainIsActive(dom) == 1)
		flags = VIR_DOMAIN_AFFECT_LIVE |
			(virDomainIsPersistent(dom) == 1 ? VIR_DOMAIN_AFFECT_CONFIG : 0);
	if (virDomainSetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT, xml, DOMXML_META_PREFIX,
				 DOMXML_META_NS, flags) < 0)
		return lv_error(d, "write vfmigrate metadata of %s", h->o.domain);
	return 0;
}

int hv_libvirt_agent_channel(struct hv_libvirt *h, struct hv_libvirt_agent_channel *ret,
			     struct diag *d)
{
	_cleanup_free_ struct domxml_domain *dom = calloc(1, sizeof(*dom));
	struct hv_libvirt_agent_channel c = {0};
	int r;

	if (!dom)
		return -ENOMEM;
	r = hv_libvirt_domain(h, HV_LIBVIRT_LIVE, dom, d);
	if (r < 0)
		return r;
	if (!dom->agent_type[0]) {
		diag_set(d, "domain %s has no channel %s", h->o.domain, DOMXML_AGENT_CHANNEL);
		return -ENODEV;
	}
	snprintf(c.type, sizeof(c.type), "%s", dom->agent_type);
	if (dom->has_agent_channel && dom->agent_path[0] &&
	    hv_libvirt_map_path(dom->agent_path, h->o.path_from, h->o.path_to, c.path) < 0) {
		diag_set(d, "agent socket path too long");
		return -E2BIG;
	}
	*ret = c;
	return 0;
}

int hv_libvirt_agent_path(struct hv_libvirt *h, char ret[DOMXML_PATH_MAX], struct diag *d)
{
	struct hv_libvirt_agent_channel c;
	int r = hv_libvirt_agent_channel(h, &c, d);

	if (r < 0)
		return r;
	if (!c.path[0]) {
		diag_set(d, "domain %s has no UNIX channel %s", h->o.domain, DOMXML_AGENT_CHANNEL);
		return -ENODEV;
	}
	memcpy(ret, c.path, DOMXML_PATH_MAX);
	return 0;
}

int hv_libvirt_qga_command(struct hv_libvirt *h, const char *request, int64_t deadline_ms,
			   char **ret, struct diag *d)
{
	_cleanup_dom_ virDomainPtr dom = NULL;
	int64_t left = deadline_left_ms(deadline_ms);
	int secs = (int)((left + 999) / 1000);
	char *reply;
	int r;

	r = lv_dom(h, &dom, d);
	if (r < 0)
		return r;
	if (secs < 1) {
		diag_set(d, "guest agent: deadline passed");
		return -ETIMEDOUT;
	}
	reply = virDomainQemuAgentCommand(dom, request, secs, 0);
	if (!reply)
		return lv_error(d, "qemu-ga through libvirt");
	*ret = reply;
	return 0;
}

/* A qemu-ga reply through libvirt, at most (parsed with jsonlim's depth limit too). */
#define QGA_LV_REPLY_MAX (1024 * 1024)

static int lv_qga_call(void *ud, const char *cmd, json_t *args, int64_t deadline_ms, json_t **ret,
		       struct diag *d)
{
	_cleanup_free_ char *req = NULL, *reply = NULL;
	json_t *o = json_pack("{ss}", "execute", cmd), *v, *rv;
	int r;

	if (!o) {
		json_decref(args);
		return -ENOMEM;
	}
	if (args)
		json_object_set_new(o, "arguments", args);
	req = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (!req)
		return -ENOMEM;
	r = hv_libvirt_qga_command(ud, req, deadline_ms, &reply, d);
	if (r < 0)
		return r;
	v = json_decode_strict(reply, strlen(reply), QGA_LV_REPLY_MAX, 16, d);
	if (!v) {
		diag_prefix(d, "reply");
		return -EBADMSG;
	}
	rv = json_object_get(v, "return");
	*ret = rv ? json_incref(rv) : NULL;
	json_decref(v);
	return 0;
}

void hv_libvirt_qga_transport(struct hv_libvirt *h, struct qga_transport *ret)
{
	*ret = (struct qga_transport){.userdata = h, .call = lv_qga_call};
}

/* ------------------------------------------------------------------------------------------ */

static int hv_probe(void *ud, int64_t deadline_ms, struct hv_probe *ret_probe, struct diag *d)
{
	struct hv_libvirt *h = ud;
	_cleanup_dom_ virDomainPtr dom = NULL;
	struct hv_probe p = {0};
	struct diag ld = {{0}};
	int st = 0, reason = 0, r;

	(void)deadline_ms;
	r = lv_conn(h, d);
	if (r < 0)
		return r;
	r = lv_dom(h, &dom, &ld);
	if (r == -ENOENT && h->peer == NULL) {
		/* Destination without the domain: ready to receive it. */
		snprintf(p.status, sizeof(p.status), "absent");
		p.incoming = HV_INCOMING_LISTENING;
		*ret_probe = p;
		return 0;
	}
	if (r < 0) {
		*d = ld;
		return r;
	}
	if (virDomainGetState(dom, &st, &reason, 0) < 0)
		return lv_error(d, "state of %s", h->o.domain);
	snprintf(p.status, sizeof(p.status), "%s", state_word(st));
	p.running = st == VIR_DOMAIN_RUNNING;
	if (!h->peer && virDomainIsActive(dom) == 0)
		p.incoming = HV_INCOMING_LISTENING;
	*ret_probe = p;
	return 0;
}

/* The live domain, parsed (*ret: free()), read through a connection by deadline_ms. */
static int live_domain(struct hv_libvirt *h, int64_t deadline_ms, struct domxml_domain **ret,
		       struct diag *d)
{
	struct domxml_domain *dom = calloc(1, sizeof(*dom));
	int r;

	if (!dom)
		return -ENOMEM;
	r = lv_conn_by(h, deadline_ms, d);
	if (r >= 0)
		r = hv_libvirt_domain(h, HV_LIBVIRT_LIVE, dom, d);
	if (r < 0) {
		free(dom);
		return r;
	}
	*ret = dom;
	return 0;
}

static int hv_device_present(void *ud, const char *device_id, int64_t deadline_ms,
			     bool *ret_present, struct diag *d)
{
	_cleanup_free_ struct domxml_domain *dom = NULL;
	int r = live_domain(ud, deadline_ms, &dom, d);

	if (r < 0)
		return r;
	*ret_present = domxml_find_nic(dom, device_id, NULL) != NULL;
	return 0;
}

/* From now on a removal of alias (libvirt's DEVICE_REMOVED event) is what unplug_wait awaits. */
static void watch_removal(struct hv_libvirt *h, const char *alias)
{
	pthread_mutex_lock(&lv_lock);
	h->unplug = UNPLUG_PENDING;
	snprintf(h->unplug_alias, sizeof(h->unplug_alias), "%s", alias);
	pthread_mutex_unlock(&lv_lock);
	h->unplug_gen = h->gen;
}

static int hv_unplug_start(void *ud, const struct plug_spec *spec, int64_t deadline_ms,
			   struct diag *d)
{
	struct hv_libvirt *h = ud;
	_cleanup_dom_ virDomainPtr dom = NULL;
	int r;

	(void)deadline_ms;
	r = lv_dom(h, &dom, d);
	if (r < 0)
		return r;
	watch_removal(h, spec->device_id);
	if (virDomainDetachDeviceAlias(dom, spec->device_id, VIR_DOMAIN_AFFECT_LIVE) < 0) {
		r = lv_error(d, "detach %s", spec->device_id);
		pthread_mutex_lock(&lv_lock);
		h->unplug = UNPLUG_IDLE;
		pthread_mutex_unlock(&lv_lock);
		return r;
	}
	return 0;
}

static int hv_unplug_wait(void *ud, const struct plug_spec *spec, int64_t deadline_ms,
			  struct diag *d)
{
	struct hv_libvirt *h = ud;
	enum unplug_state st;
	bool present = true;
	int r;

	r = lv_conn(h, d);
	if (r < 0)
		return r;
	if (h->unplug_gen != h->gen) {
		/* Reconnected since the detach: its event may be lost; ask. */
		r = hv_device_present(h, spec->device_id, deadline_ms, &present, d);
		if (r < 0)
			return r;
		if (!present)
			return 0;
		h->unplug_gen = h->gen;
	}
	pthread_mutex_lock(&lv_lock);
	while (h->unplug == UNPLUG_PENDING && time_now_ms() < deadline_ms)
		lv_cond_wait_until(deadline_ms);
	st = h->unplug;
	if (st != UNPLUG_PENDING)
		h->unplug = UNPLUG_IDLE;
	pthread_mutex_unlock(&lv_lock);
	switch (st) {
	case UNPLUG_REMOVED:
		return 0;
	case UNPLUG_FAILED:
		diag_set(d, "libvirt reports that the removal of %s failed (guest refused it)",
			 spec->device_id);
		return -EBUSY;
	case UNPLUG_PENDING:
		/* The event may have come before we registered interest after a reconnect. */
		if (hv_device_present(h, spec->device_id, deadline_ms, &present, d) >= 0 &&
		    !present) {
			pthread_mutex_lock(&lv_lock);
			h->unplug = UNPLUG_IDLE;
			pthread_mutex_unlock(&lv_lock);
			return 0;
		}
		diag_set(d, "removal of %s still in flight", spec->device_id);
		return -ETIMEDOUT;
	default:
		diag_set(d, "no removal of %s was started", spec->device_id);
		return -EINVAL;
	}
}

#define PLUG_SETTLE_MS 5000
static int hv_plug(void *ud, const struct plug_spec *spec, int64_t deadline_ms, struct diag *d)
{
	struct hv_libvirt *h = ud;
	_cleanup_dom_ virDomainPtr dom = NULL;
	_cleanup_free_ char *nic = NULL, *cfg = NULL;
	unsigned flags = VIR_DOMAIN_AFFECT_LIVE;
	int r;

	r = domxml_build_nic(spec, &nic, d);
	if (r < 0)
		return r;
	r = lv_conn_by(h, deadline_ms, d);
	if (r < 0)
		return r;
	r = lv_dom(h, &dom, d);
	if (r < 0)
		return r;
	if (virDomainIsPersistent(dom) == 1) {
		_cleanup_free_ struct domxml_domain *pd = calloc(1, sizeof(*pd));

		cfg = virDomainGetXMLDesc(dom, VIR_DOMAIN_XML_INACTIVE);
		if (!cfg)
			return lv_error(d, "persistent XML of %s", h->o.domain);
		if (!pd)
			return -ENOMEM;
		r = domxml_parse_domain(cfg, strlen(cfg), pd, d);
		if (r < 0)
			return r;
		/* The source keeps its VF in its config while it is only unplugged live. */
		if (!domxml_find_nic(pd, spec->device_id, spec->has_mac ? spec->mac : NULL))
			flags |= VIR_DOMAIN_AFFECT_CONFIG;
	}
	/*
	 * A managed VF that just left a guest (a late eject) goes back to its net driver after
	 * libvirt reported the removal; until its netdev is there an attach of it fails ("Could
	 * not find any network device under PCI device"). Such a failure is tried again for a
	 * short while.
	 */
	for (int64_t until = 0;;) {
		virErrorPtr e;

		if (virDomainAttachDeviceFlags(dom, nic, flags) >= 0)
			return 0;
		e = virGetLastError();
		if (!until)
			until = time_now_ms() + PLUG_SETTLE_MS;
		if (spec->backend_kind != PLUG_BACKEND_HOSTDEV || !e ||
		    e->code != VIR_ERR_INTERNAL_ERROR || time_now_ms() >= until ||
		    time_now_ms() >= deadline_ms)
			return lv_error(d, "attach %s", spec->device_id);
		virResetLastError();
		pthread_mutex_lock(&lv_lock);
		lv_cond_wait_until(time_now_ms() + 250 < deadline_ms ? time_now_ms() + 250
								     : deadline_ms);
		pthread_mutex_unlock(&lv_lock);
	}
}

/* unplug_wait also sees a removal the guest started itself (device_id NULL: not any more). */
static int hv_removal_watch(void *ud, const char *device_id, struct diag *d)
{
	struct hv_libvirt *h = ud;

	(void)d;
	if (device_id && device_id[0]) {
		watch_removal(h, device_id);
		return 0;
	}
	pthread_mutex_lock(&lv_lock);
	if (h->unplug == UNPLUG_PENDING)
		h->unplug = UNPLUG_IDLE;
	pthread_mutex_unlock(&lv_lock);
	h->unplug_gen = h->gen;
	return 0;
}

/* libvirt's QEMU failover: the VF's <teaming type='transient' persistent='ALIAS'/>. */
static int hv_failover_pair(void *ud, const char *device_id, int64_t deadline_ms,
			    char ret[VFM_ID_MAX], struct diag *d)
{
	_cleanup_free_ struct domxml_domain *dom = NULL;
	int r = live_domain(ud, deadline_ms, &dom, d);

	if (r < 0)
		return r;
	return domxml_failover_pair(dom, device_id, ret, d);
}

/* One lifecycle call on the domain: what, for the error ("suspend", ...). */
static int lv_lifecycle(struct hv_libvirt *h, int (*fn)(virDomainPtr), bool only_active,
			const char *what, struct diag *d)
{
	_cleanup_dom_ virDomainPtr dom = NULL;
	int r = lv_dom(h, &dom, d);

	if (r < 0)
		return r;
	if (only_active && virDomainIsActive(dom) != 1)
		return -ENOENT;
	return fn(dom) < 0 ? lv_error(d, "%s %s", what, h->o.domain) : 0;
}

static int hv_stop(void *ud, int64_t deadline_ms, struct diag *d)
{
	(void)deadline_ms;
	return lv_lifecycle(ud, virDomainSuspend, false, "suspend", d);
}

static int hv_cont(void *ud, int64_t deadline_ms, struct diag *d)
{
	struct hv_libvirt *h = ud;
	_cleanup_dom_ virDomainPtr dom = NULL;
	struct diag ld = {{0}};
	int r = lv_lifecycle(ud, virDomainResume, false, "resume", d), st = 0, reason = 0;

	(void)deadline_ms;
	/* libvirt holds a resume back while a migration job runs, and one that ended (a
	 * cancelled one) may have resumed the domain meanwhile: running is what was asked. */
	if (r == -EINVAL && lv_dom(h, &dom, &ld) >= 0 &&
	    virDomainGetState(dom, &st, &reason, 0) == 0 && st == VIR_DOMAIN_RUNNING)
		return 0;
	virResetLastError();
	return r;
}

/* Ends the guest on this side (the destination, when it arrived dead): -ENOENT if it is not
 * running. */
static int hv_quit(void *ud, int64_t deadline_ms, struct diag *d)
{
	(void)deadline_ms;
	return lv_lifecycle(ud, virDomainDestroy, true, "destroy", d);
}

void hv_libvirt_ops(struct hv_libvirt *h, struct hv_ops *ret_ops)
{
	*ret_ops = (struct hv_ops){
	    .userdata = h,
	    .probe = hv_probe,
	    .device_present = hv_device_present,
	    .unplug_start = hv_unplug_start,
	    .unplug_wait = hv_unplug_wait,
	    .plug = hv_plug,
	    .migrate_incoming = hv_migrate_incoming,
	    .migrate_start = hv_migrate_start,
	    .migrate_wait = hv_migrate_wait,
	    .migrate_cancel = hv_migrate_cancel,
	    .stop = hv_stop,
	    .cont = hv_cont,
	    .quit = hv_quit,
	    .announce = NULL,
	    .set_interrupt = hv_set_interrupt,
	    .failover_pair = hv_failover_pair,
	    .migrate_wait_unplug = hv_migrate_wait_unplug,
	    .removal_watch = hv_removal_watch,
	    /* No libvirt API sends one self-announce out of one NIC. */
	    .announce_nic = NULL,
	};
}
