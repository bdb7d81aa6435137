// SPDX-License-Identifier: MIT
#include "hv_libvirt.h"

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

/* One event loop thread per process, and one lock for everything its callbacks touch. */
static pthread_mutex_t lv_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t lv_cond;
static pthread_once_t lv_once = PTHREAD_ONCE_INIT;
static int lv_init_rc;

enum unplug_state {
	UNPLUG_IDLE = 0,
	UNPLUG_PENDING,
	UNPLUG_REMOVED,
	UNPLUG_FAILED
};

struct mig_thread {
	/* Owned by the thread once started; freed by whoever sees it last (refs). */
	int refs;
	bool done;
	bool ok;
	char err[sizeof(((struct diag *)0)->msg)];
	int err_code, err_domain; /* libvirt's error (virErrorNumber, virErrorDomain) */
	virDomainPtr dom;
	virConnectPtr dconn;
	virTypedParameterPtr params;
	int nparams;
	unsigned flags;
};

struct hv_libvirt {
	struct hv_libvirt_options o;
	struct hv_libvirt *peer;
	virConnectPtr conn;
	int cb_removed, cb_failed;
	unsigned gen, unplug_gen;
	/* Under lv_lock. */
	enum unplug_state unplug;
	char unplug_alias[VFM_ID_MAX];
	struct mig_thread *mig;
	/* migrate_wait stops with -EINTR once this says so (set_interrupt). */
	interrupt_fn interrupted;
	void *intr_userdata;
	/* Channels opened through libvirt so far (a reopen forces out our own stale stream). */
	unsigned channels_opened;
};

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
static void lv_cond_wait_until(int64_t deadline_ms)
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
static int lv_error(struct diag *d, const char *fmt, ...) _printf_(2, 3);
static int lv_error(struct diag *d, const char *fmt, ...)
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
	h->cb_removed = h->cb_failed = -1;
	*ret = h;
	return 0;
}

static void mig_unref_locked(struct mig_thread *m)
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
	h->cb_removed = h->cb_failed = -1;
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

static bool dom_is_ours(struct hv_libvirt *h, virDomainPtr dom)
{
	const char *n = virDomainGetName(dom);

	return n && strcmp(n, h->o.domain) == 0;
}

static void on_removed(virConnectPtr c, virDomainPtr dom, const char *alias, void *ud)
{
	struct hv_libvirt *h = ud;

	(void)c;
	if (!alias || !dom_is_ours(h, dom))
		return;
	pthread_mutex_lock(&lv_lock);
	if (h->unplug == UNPLUG_PENDING && strcmp(alias, h->unplug_alias) == 0) {
		h->unplug = UNPLUG_REMOVED;
		pthread_cond_broadcast(&lv_cond);
	}
	pthread_mutex_unlock(&lv_lock);
}

static void on_removal_failed(virConnectPtr c, virDomainPtr dom, const char *alias, void *ud)
{
	struct hv_libvirt *h = ud;

	(void)c;
	if (!alias || !dom_is_ours(h, dom))
		return;
	pthread_mutex_lock(&lv_lock);
	if (h->unplug == UNPLUG_PENDING && strcmp(alias, h->unplug_alias) == 0) {
		h->unplug = UNPLUG_FAILED;
		pthread_cond_broadcast(&lv_cond);
	}
	pthread_mutex_unlock(&lv_lock);
}

static int lv_conn(struct hv_libvirt *h, struct diag *d)
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
static int lv_dom(struct hv_libvirt *h, virDomainPtr *ret, struct diag *d)
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

static void domp(virDomainPtr *dom)
{
	if (*dom)
		virDomainFree(*dom);
}
#define _cleanup_dom_ _cleanup_(domp)

int hv_libvirt_domain_xml(struct hv_libvirt *h, bool inactive, char **ret, struct diag *d)
{
	_cleanup_dom_ virDomainPtr dom = NULL;
	char *xml;
	int r = lv_dom(h, &dom, d);

	if (r < 0)
		return r;
	xml = virDomainGetXMLDesc(dom, inactive ? VIR_DOMAIN_XML_INACTIVE : 0);
	if (!xml)
		return lv_error(d, "XML of %s", h->o.domain);
	*ret = xml;
	return 0;
}

int hv_libvirt_domain(struct hv_libvirt *h, bool inactive, struct domxml_domain *ret,
		      struct diag *d)
{
	_cleanup_free_ char *xml = NULL;
	int r = hv_libvirt_domain_xml(h, inactive, &xml, d);

	if (r < 0)
		return r;
	return domxml_parse_domain(xml, strlen(xml), ret, d);
}

int hv_libvirt_get_metadata(struct hv_libvirt *h, struct domxml_meta *ret, struct diag *d)
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
	return domxml_meta_parse(xml, strlen(xml), ret, d);
}

int hv_libvirt_set_metadata(struct hv_libvirt *h, const struct domxml_meta *m, struct diag *d)
{
	_cleanup_dom_ virDomainPtr dom = NULL;
	_cleanup_free_ char *xml = NULL;
	unsigned flags = VIR_DOMAIN_AFFECT_CURRENT;
	int r = lv_dom(h, &dom, d);

	if (r < 0)
		return r;
	r = domxml_meta_format(m, &xml, d);
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
	r = hv_libvirt_domain(h, false, dom, d);
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

/* ------------------------------------------------------------------------------------------ */
/* A domain channel through libvirt (virDomainOpenChannel) as a plain socket for the caller.   */

/* Each direction holds at most this much (a QGA request is at most QGA_REQUEST_MAX). */
#define CHAN_BUF_MAX (64 * 1024)

/*
 * Lives on the event loop thread once set up: every callback takes p->lock, and a callback
 * registration holds a reference (released by libvirt's free function), so a callback that is
 * already dispatched when the pump dies still finds it. The owner reference is dropped by
 * whoever tears the pump down (once).
 */
/* Guest bytes read from libvirt per wake-up, at most; guest bytes dropped (nobody reading)
 * before the channel is cut. */
#define PUMP_READ_BUDGET (1024 * 1024)
#define PUMP_DROP_MAX	 (4 * 1024 * 1024)

struct chan_pump {
	pthread_mutex_t lock;
	int refs; /* atomic */
	bool dead;
	virStreamPtr st;
	bool st_cb; /* stream callback registered */
	int fd;	    /* our end of the socketpair */
	int watch;  /* virEventAddHandle id, -1: none */
	/* guest -> caller, and caller -> guest */
	char to_sock[CHAN_BUF_MAX];
	size_t to_sock_len;
	char to_st[CHAN_BUF_MAX];
	size_t to_st_len;
	uint64_t dropped; /* guest bytes discarded while nobody read */
};

static void pump_unref(void *opaque)
{
	struct chan_pump *p = opaque;

	if (__atomic_sub_fetch(&p->refs, 1, __ATOMIC_ACQ_REL) > 0)
		return;
	pthread_mutex_destroy(&p->lock);
	free(p);
}

/*
 * Ends both sides (p->lock held): callbacks removed, the stream finished (the guest side
 * ended cleanly) or aborted, our socket end closed, so the caller reads EOF. Returns true
 * when this call did it: the caller then drops the owner reference after unlocking.
 */
static bool pump_kill_locked(struct chan_pump *p, bool finish)
{
	if (p->dead)
		return false;
	p->dead = true;
	if (p->watch >= 0)
		virEventRemoveHandle(p->watch);
	p->watch = -1;
	if (p->st_cb)
		virStreamEventRemoveCallback(p->st);
	p->st_cb = false;
	if (finish ? virStreamFinish(p->st) < 0 : virStreamAbort(p->st) < 0)
		virResetLastError(); /* nothing more to do about a stream that is gone */
	virStreamFree(p->st);
	p->st = NULL;
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
	return true;
}

/* Sends what the guest sent on to the caller, as far as the socket takes it. <0: dead. */
static int pump_flush_sock(struct chan_pump *p)
{
	while (p->to_sock_len > 0) {
		ssize_t n = send(p->fd, p->to_sock, p->to_sock_len, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n <= 0)
			return -EPIPE;
		memmove(p->to_sock, p->to_sock + n, p->to_sock_len - (size_t)n);
		p->to_sock_len -= (size_t)n;
	}
	return 0;
}

/* Sends what the caller wrote on to the guest. <0: dead. */
static int pump_flush_stream(struct chan_pump *p)
{
	while (p->to_st_len > 0) {
		int n = virStreamSend(p->st, p->to_st, p->to_st_len);

		if (n == -2)
			return 0;
		if (n <= 0) {
			virResetLastError();
			return -EPIPE;
		}
		memmove(p->to_st, p->to_st + n, p->to_st_len - (size_t)n);
		p->to_st_len -= (size_t)n;
	}
	return 0;
}

/* What each side should wake us for, from the buffers' fill. */
static void pump_rearm(struct chan_pump *p)
{
	int sev = VIR_STREAM_EVENT_READABLE | VIR_STREAM_EVENT_ERROR | VIR_STREAM_EVENT_HANGUP;
	int hev = 0;

	if (p->to_st_len > 0)
		sev |= VIR_STREAM_EVENT_WRITABLE;
	if (p->to_st_len < sizeof(p->to_st))
		hev |= VIR_EVENT_HANDLE_READABLE;
	if (p->to_sock_len > 0)
		hev |= VIR_EVENT_HANDLE_WRITABLE;
	virStreamEventUpdateCallback(p->st, sev);
	virEventUpdateHandle(p->watch, hev);
}

static void pump_on_stream(virStreamPtr st, int events, void *opaque)
{
	struct chan_pump *p = opaque;
	bool killed = false;

	(void)st;
	pthread_mutex_lock(&p->lock);
	if (p->dead)
		goto out;
	if (events & VIR_STREAM_EVENT_READABLE) {
		size_t budget = PUMP_READ_BUDGET;

		/* Drain what libvirt queued (it queues without limit), up to a budget a wake-up. */
		while (budget > 0) {
			char scratch[4096];
			size_t room = sizeof(p->to_sock) - p->to_sock_len;
			/* Nobody reads (the client is between calls) and both buffers are full: the
			 * guest's bytes go, rather than piling up in libvirt's stream queue. The
			 * client resynchronises before its next command anyway. */
			char *dst = room ? p->to_sock + p->to_sock_len : scratch;
			int n = virStreamRecv(p->st, dst, room ? room : sizeof(scratch));

			if (n == -2)
				break; /* nothing more for now */
			if (n == 0) {
				/* The guest side ended (domain gone, migrated away, daemon closed
				 * it). */
				pump_flush_sock(p);
				killed = pump_kill_locked(p, true);
				goto out;
			}
			if (n < 0) {
				virResetLastError();
				killed = pump_kill_locked(p, false);
				goto out;
			}
			if (room)
				p->to_sock_len += (size_t)n;
			else
				p->dropped += (uint64_t)n;
			budget -= (size_t)n < budget ? (size_t)n : budget;
			if (pump_flush_sock(p) < 0) {
				killed = pump_kill_locked(p, false);
				goto out;
			}
		}
		/* A guest that floods a channel nobody reads: cut it; the client reconnects. */
		if (p->dropped > PUMP_DROP_MAX) {
			killed = pump_kill_locked(p, false);
			goto out;
		}
	}
	if ((events & VIR_STREAM_EVENT_WRITABLE) && pump_flush_stream(p) < 0) {
		killed = pump_kill_locked(p, false);
		goto out;
	}
	if (events & (VIR_STREAM_EVENT_ERROR | VIR_STREAM_EVENT_HANGUP)) {
		pump_flush_sock(p);
		killed = pump_kill_locked(p, false);
		goto out;
	}
	pump_rearm(p);
out:
	pthread_mutex_unlock(&p->lock);
	if (killed)
		pump_unref(p);
}

static void pump_on_sock(int watch, int fd, int events, void *opaque)
{
	struct chan_pump *p = opaque;
	bool killed = false;

	(void)watch;
	(void)fd;
	pthread_mutex_lock(&p->lock);
	if (p->dead)
		goto out;
	if ((events & VIR_EVENT_HANDLE_WRITABLE) && pump_flush_sock(p) < 0) {
		killed = pump_kill_locked(p, false);
		goto out;
	}
	if ((events & VIR_EVENT_HANDLE_READABLE) && p->to_st_len < sizeof(p->to_st)) {
		ssize_t n = recv(p->fd, p->to_st + p->to_st_len, sizeof(p->to_st) - p->to_st_len,
				 MSG_DONTWAIT);

		if (n == 0 ||
		    (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
			/* The caller closed its end: the whole channel goes. */
			killed = pump_kill_locked(p, false);
			goto out;
		}
		if (n > 0)
			p->to_st_len += (size_t)n;
		if (pump_flush_stream(p) < 0) {
			killed = pump_kill_locked(p, false);
			goto out;
		}
	} else if (events & (VIR_EVENT_HANDLE_HANGUP | VIR_EVENT_HANDLE_ERROR)) {
		killed = pump_kill_locked(p, false);
		goto out;
	}
	pump_rearm(p);
out:
	pthread_mutex_unlock(&p->lock);
	if (killed)
		pump_unref(p);
}

int hv_libvirt_open_channel(struct hv_libvirt *h, const char *name, struct diag *d)
{
	_cleanup_dom_ virDomainPtr dom = NULL;
	struct chan_pump *p;
	int sv[2], r;
	bool killed;

	r = lv_dom(h, &dom, d);
	if (r < 0)
		return r;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	pthread_mutex_init(&p->lock, NULL);
	p->refs = 1;
	p->fd = p->watch = -1;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		r = -errno;
		diag_set(d, "socketpair: %s", strerror(errno));
		pthread_mutex_destroy(&p->lock);
		free(p);
		return r;
	}
	p->fd = sv[1];
	fcntl(p->fd, F_SETFL, fcntl(p->fd, F_GETFL) | O_NONBLOCK);
	/* Held until both callbacks are in place: they may fire as soon as registered. */
	pthread_mutex_lock(&p->lock);
	p->st = virStreamNew(h->conn, VIR_STREAM_NONBLOCK);
	if (!p->st) {
		r = lv_error(d, "channel %s: new stream", name);
		goto fail;
	}
	/* A stream of ours from an earlier connection may still hold the channel in the daemon
	 * (it is torn down asynchronously after the caller closed its end): a reopen forces it
	 * out. The first open does not, so another user of the channel is reported, not cut. */
	if (virDomainOpenChannel(dom, name, p->st,
				 h->channels_opened ? VIR_DOMAIN_CHANNEL_FORCE : 0) < 0) {
		r = lv_error(d, "open channel %s of %s through libvirt", name, h->o.domain);
		goto fail;
	}
	h->channels_opened++;
	__atomic_add_fetch(&p->refs, 1, __ATOMIC_ACQ_REL);
	p->watch = virEventAddHandle(p->fd, VIR_EVENT_HANDLE_READABLE, pump_on_sock, p, pump_unref);
	if (p->watch < 0) {
		__atomic_sub_fetch(&p->refs, 1, __ATOMIC_ACQ_REL);
		r = lv_error(d, "channel %s: watch the socket", name);
		goto fail;
	}
	__atomic_add_fetch(&p->refs, 1, __ATOMIC_ACQ_REL);
	if (virStreamEventAddCallback(
		p->st, VIR_STREAM_EVENT_READABLE | VIR_STREAM_EVENT_ERROR | VIR_STREAM_EVENT_HANGUP,
		pump_on_stream, p, pump_unref) < 0) {
		__atomic_sub_fetch(&p->refs, 1, __ATOMIC_ACQ_REL);
		r = lv_error(d, "channel %s: watch the stream", name);
		goto fail;
	}
	p->st_cb = true;
	pthread_mutex_unlock(&p->lock);
	return sv[0];
fail:
	if (p->st) {
		killed = pump_kill_locked(p, false);
	} else {
		p->dead = killed = true;
		close(p->fd);
		p->fd = -1;
	}
	pthread_mutex_unlock(&p->lock);
	if (killed)
		pump_unref(p);
	close(sv[0]);
	return r;
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

static int hv_device_present(void *ud, const char *device_id, int64_t deadline_ms,
			     bool *ret_present, struct diag *d)
{
	struct hv_libvirt *h = ud;
	_cleanup_free_ struct domxml_domain *dom = calloc(1, sizeof(*dom));
	int r;

	if (!dom)
		return -ENOMEM;
	r = lv_conn_by(h, deadline_ms, d);
	if (r < 0)
		return r;
	r = hv_libvirt_domain(h, false, dom, d);
	if (r < 0)
		return r;
	*ret_present = domxml_find_nic(dom, device_id, NULL) != NULL;
	return 0;
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
	pthread_mutex_lock(&lv_lock);
	h->unplug = UNPLUG_PENDING;
	snprintf(h->unplug_alias, sizeof(h->unplug_alias), "%s", spec->device_id);
	pthread_mutex_unlock(&lv_lock);
	h->unplug_gen = h->gen;
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
	if (virDomainAttachDeviceFlags(dom, nic, flags) < 0)
		return lv_error(d, "attach %s", spec->device_id);
	return 0;
}

static int hv_migrate_incoming(void *ud, const struct migrate_params *p, int64_t deadline_ms,
			       struct diag *d)
{
	(void)ud;
	(void)p;
	(void)deadline_ms;
	(void)d;
	return 0; /* libvirt prepares the destination itself */
}

int hv_libvirt_migrate_errno(int code, int domain)
{
	/* The plan treats a timeout or an interrupt of the migration as its own (deadline, signal):
	 * a failure libvirt reports is cancelled or it is not. */
	return hv_libvirt_errno(code, domain) == -ECANCELED ? -ECANCELED : -EIO;
}

static void *mig_run(void *ud)
{
	struct mig_thread *m = ud;
	virDomainPtr nd;
	char err[sizeof(m->err)] = "";
	int code = VIR_ERR_OK, domain = VIR_FROM_NONE;

	nd = virDomainMigrate3(m->dom, m->dconn, m->params, (unsigned)m->nparams, m->flags);
	if (nd)
		virDomainFree(nd);
	else {
		virErrorPtr e = virGetLastError();

		snprintf(err, sizeof(err), "%s",
			 e && e->message ? e->message : "unknown libvirt error");
		if (e) {
			code = e->code;
			domain = e->domain;
		}
	}
	pthread_mutex_lock(&lv_lock);
	m->done = true;
	m->ok = nd != NULL;
	memcpy(m->err, err, sizeof(err));
	m->err_code = code;
	m->err_domain = domain;
	pthread_cond_broadcast(&lv_cond);
	mig_unref_locked(m);
	pthread_mutex_unlock(&lv_lock);
	return NULL;
}

/* The XML of dom without the VF: flags for virDomainGetXMLDesc. */
static int xml_without_vf(struct hv_libvirt *h, virDomainPtr dom, unsigned flags, char **ret,
			  struct diag *d)
{
	_cleanup_free_ char *xml = virDomainGetXMLDesc(dom, flags);
	unsigned removed = 0;

	if (!xml)
		return lv_error(d, "XML of %s", h->o.domain);
	if (!h->o.has_vf) {
		*ret = xml;
		xml = NULL;
		return 0;
	}
	return domxml_remove_nic(xml, strlen(xml), h->o.vf_alias, h->o.vf_mac, ret, &removed, d);
}

static int hv_migrate_start(void *ud, const struct migrate_params *p, int64_t deadline_ms,
			    struct diag *d)
{
	struct hv_libvirt *h = ud;
	_cleanup_dom_ virDomainPtr dom = NULL;
	_cleanup_free_ char *dxml = NULL, *pxml = NULL;
	virTypedParameterPtr params = NULL;
	int nparams = 0, maxparams = 0, r;
	unsigned flags = VIR_MIGRATE_LIVE;
	struct mig_thread *m;
	pthread_t t;

	(void)deadline_ms;
	if (!h->peer) {
		diag_set(d, "no destination connection for the migration");
		return -EINVAL;
	}
	pthread_mutex_lock(&lv_lock);
	r = h->mig && !h->mig->done ? -EBUSY : 0;
	pthread_mutex_unlock(&lv_lock);
	if (r < 0) {
		diag_set(d, "a migration is already running");
		return r;
	}
	r = lv_dom(h, &dom, d);
	if (r < 0)
		return r;
	r = lv_conn(h->peer, d);
	if (r < 0) {
		diag_prefix(d, "destination");
		return r;
	}
	r = xml_without_vf(h, dom, VIR_DOMAIN_XML_SECURE | VIR_DOMAIN_XML_MIGRATABLE, &dxml, d);
	if (r < 0)
		return r;
	if (virDomainIsPersistent(dom) == 1) {
		r = xml_without_vf(h, dom,
				   VIR_DOMAIN_XML_SECURE | VIR_DOMAIN_XML_MIGRATABLE |
				       VIR_DOMAIN_XML_INACTIVE,
				   &pxml, d);
		if (r < 0)
			return r;
		flags |= VIR_MIGRATE_PERSIST_DEST | VIR_MIGRATE_UNDEFINE_SOURCE;
	}
	if (p->downtime_limit_ms > 0 &&
	    virDomainMigrateSetMaxDowntime(dom, (unsigned long long)p->downtime_limit_ms, 0) < 0)
		return lv_error(d, "set the downtime limit");
	if (virTypedParamsAddString(&params, &nparams, &maxparams, VIR_MIGRATE_PARAM_DEST_XML,
				    dxml) < 0 ||
	    (pxml && virTypedParamsAddString(&params, &nparams, &maxparams,
					     VIR_MIGRATE_PARAM_PERSIST_XML, pxml) < 0) ||
	    (p->uri[0] && virTypedParamsAddString(&params, &nparams, &maxparams,
						  VIR_MIGRATE_PARAM_URI, p->uri) < 0) ||
	    (p->max_bandwidth > 0 &&
	     virTypedParamsAddULLong(&params, &nparams, &maxparams, VIR_MIGRATE_PARAM_BANDWIDTH,
				     (unsigned long long)(p->max_bandwidth + (1 << 20) - 1) >> 20) <
		 0)) {
		virTypedParamsFree(params, nparams);
		return lv_error(d, "migration parameters");
	}
	m = calloc(1, sizeof(*m));
	if (!m) {
		virTypedParamsFree(params, nparams);
		return -ENOMEM;
	}
	m->refs = 2;
	m->dom = dom;
	dom = NULL;
	m->dconn = h->peer->conn;
	virConnectRef(m->dconn);
	m->params = params;
	m->nparams = nparams;
	m->flags = flags;
	pthread_mutex_lock(&lv_lock);
	mig_unref_locked(h->mig);
	h->mig = m;
	pthread_mutex_unlock(&lv_lock);
	if (pthread_create(&t, NULL, mig_run, m) != 0) {
		pthread_mutex_lock(&lv_lock);
		m->refs--;
		m->done = true;
		snprintf(m->err, sizeof(m->err), "cannot start the migration thread");
		pthread_mutex_unlock(&lv_lock);
		diag_set(d, "cannot start the migration thread");
		return -EAGAIN;
	}
	pthread_detach(t);
	return 0;
}

static unsigned long long tp_ull(virTypedParameterPtr p, int n, const char *name)
{
	unsigned long long v = 0;

	if (virTypedParamsGetULLong(p, n, name, &v) != 1)
		return 0;
	return v;
}

static void stats_from_params(virTypedParameterPtr p, int n, struct migrate_stats *s)
{
	s->total_ms = (int64_t)tp_ull(p, n, VIR_DOMAIN_JOB_TIME_ELAPSED);
	s->downtime_ms = (int64_t)tp_ull(p, n, VIR_DOMAIN_JOB_DOWNTIME);
	s->setup_ms = (int64_t)tp_ull(p, n, VIR_DOMAIN_JOB_SETUP_TIME);
	s->transferred_bytes = tp_ull(p, n, VIR_DOMAIN_JOB_MEMORY_PROCESSED);
	s->remaining_bytes = tp_ull(p, n, VIR_DOMAIN_JOB_MEMORY_REMAINING);
	s->total_bytes = tp_ull(p, n, VIR_DOMAIN_JOB_MEMORY_TOTAL);
	s->dirty_sync_count = tp_ull(p, n, VIR_DOMAIN_JOB_MEMORY_ITERATION);
}

static int job_stats(virDomainPtr dom, bool completed, struct migrate_stats *ret)
{
	virTypedParameterPtr p = NULL;
	int n = 0, type = 0;

	if (virDomainGetJobStats(dom, &type, &p, &n,
				 completed ? VIR_DOMAIN_JOB_STATS_COMPLETED : 0) < 0) {
		virResetLastError();
		return -EIO;
	}
	memset(ret, 0, sizeof(*ret));
	stats_from_params(p, n, ret);
	virTypedParamsFree(p, n);
	return type;
}

static void final_stats(struct hv_libvirt *h, struct migrate_stats *s)
{
	_cleanup_dom_ virDomainPtr dd = NULL;
	struct diag ignored;
	int64_t until = time_now_ms() + 2000;

	memset(s, 0, sizeof(*s));
	s->total_ms = s->downtime_ms = s->setup_ms = -1;
	if (h->peer && lv_dom(h->peer, &dd, &ignored) >= 0) {
		/* The completed stats may show up a moment after the API returned. */
		for (;;) {
			struct migrate_stats t;

			if (job_stats(dd, true, &t) >= 0 && t.total_ms > 0) {
				*s = t;
				break;
			}
			if (time_now_ms() >= until)
				break;
			usleep(50000);
		}
	}
	snprintf(s->status, sizeof(s->status), "completed");
	if (s->total_ms <= 0)
		s->total_ms = -1;
	if (s->downtime_ms <= 0)
		s->downtime_ms = -1;
}

static int hv_migrate_wait(void *ud, int64_t deadline_ms, migrate_progress_fn progress,
			   void *cb_userdata, struct migrate_stats *ret_stats, struct diag *d)
{
	struct hv_libvirt *h = ud;
	struct mig_thread *m;
	bool ok;
	char err[sizeof(m->err)];
	int code, domain;

	pthread_mutex_lock(&lv_lock);
	m = h->mig;
	if (!m) {
		pthread_mutex_unlock(&lv_lock);
		diag_set(d, "no migration is running");
		return -ESRCH;
	}
	for (;;) {
		int64_t slice = time_now_ms() + h->o.progress_interval_ms;

		if (slice > deadline_ms)
			slice = deadline_ms;
		while (!m->done && time_now_ms() < slice)
			lv_cond_wait_until(slice);
		if (m->done)
			break;
		if (h->interrupted) {
			/* Checked once a slice: the wait on the condition does not end early
			 * on a signal. */
			const char *why = h->interrupted(h->intr_userdata);

			if (why) {
				pthread_mutex_unlock(&lv_lock);
				diag_set(d, "interrupted by %s while migrating", why);
				return -EINTR;
			}
		}
		if (time_now_ms() >= deadline_ms) {
			pthread_mutex_unlock(&lv_lock);
			diag_set(d, "migration still running at the deadline");
			return -ETIMEDOUT;
		}
		pthread_mutex_unlock(&lv_lock);
		if (progress) {
			_cleanup_dom_ virDomainPtr dom = NULL;
			struct diag ignored;
			struct migrate_stats s;

			if (lv_dom(h, &dom, &ignored) >= 0 && job_stats(dom, false, &s) >= 0) {
				snprintf(s.status, sizeof(s.status), "active");
				progress(cb_userdata, &s);
			}
		}
		pthread_mutex_lock(&lv_lock);
	}
	ok = m->ok;
	memcpy(err, m->err, sizeof(err));
	code = m->err_code;
	domain = m->err_domain;
	pthread_mutex_unlock(&lv_lock);
	if (!ok) {
		diag_set(d, "migration failed: %s", err);
		return hv_libvirt_migrate_errno(code, domain);
	}
	final_stats(h, ret_stats);
	return 0;
}

static void hv_set_interrupt(void *ud, interrupt_fn interrupted, void *intr_userdata)
{
	struct hv_libvirt *h = ud;

	h->interrupted = interrupted;
	h->intr_userdata = interrupted ? intr_userdata : NULL;
}

static int hv_migrate_cancel(void *ud, int64_t deadline_ms, struct diag *d)
{
	struct hv_libvirt *h = ud;
	_cleanup_dom_ virDomainPtr dom = NULL;
	bool running, ok;
	int r;

	pthread_mutex_lock(&lv_lock);
	running = h->mig && !h->mig->done;
	pthread_mutex_unlock(&lv_lock);
	r = lv_dom(h, &dom, d);
	if (r < 0)
		return r;
	if (virDomainAbortJob(dom) < 0) {
		struct diag ad = {{0}};

		r = lv_error(&ad, "abort the migration");
		/* No job (not ours, or already over): nothing to cancel. */
		if (running && r != -EINVAL) {
			*d = ad;
			return r;
		}
	}
	if (!running)
		return 0;
	pthread_mutex_lock(&lv_lock);
	while (!h->mig->done && time_now_ms() < deadline_ms)
		lv_cond_wait_until(deadline_ms);
	running = !h->mig->done;
	ok = h->mig->ok;
	pthread_mutex_unlock(&lv_lock);
	if (running) {
		diag_set(d, "migration still cancelling at the deadline");
		return -ETIMEDOUT;
	}
	if (ok) {
		diag_set(d, "migration completed before it could be cancelled");
		return -EALREADY;
	}
	return 0;
}

static int hv_stop(void *ud, int64_t deadline_ms, struct diag *d)
{
	struct hv_libvirt *h = ud;
	_cleanup_dom_ virDomainPtr dom = NULL;
	int r = lv_dom(h, &dom, d);

	(void)deadline_ms;
	if (r < 0)
		return r;
	return virDomainSuspend(dom) < 0 ? lv_error(d, "suspend %s", h->o.domain) : 0;
}

static int hv_cont(void *ud, int64_t deadline_ms, struct diag *d)
{
	struct hv_libvirt *h = ud;
	_cleanup_dom_ virDomainPtr dom = NULL;
	int r = lv_dom(h, &dom, d);

	(void)deadline_ms;
	if (r < 0)
		return r;
	return virDomainResume(dom) < 0 ? lv_error(d, "resume %s", h->o.domain) : 0;
}

/* Ends the guest on this side (the destination, when it arrived dead). */
static int hv_quit(void *ud, int64_t deadline_ms, struct diag *d)
{
	struct hv_libvirt *h = ud;
	_cleanup_dom_ virDomainPtr dom = NULL;
	int r = lv_dom(h, &dom, d);

	(void)deadline_ms;
	if (r < 0)
		return r;
	if (virDomainIsActive(dom) != 1)
		return -ENOENT;
	return virDomainDestroy(dom) < 0 ? lv_error(d, "destroy %s", h->o.domain) : 0;
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
	};
}
