// SPDX-License-Identifier: MIT
#include "hv_libvirt_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

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

enum pump_next {
	PUMP_ON,     /* go on: wait for what the buffers' fill asks for */
	PUMP_ABORT,  /* a side failed: the channel goes */
	PUMP_FINISH, /* the guest's side ended: finish the stream, the channel goes */
};

/* One wake-up of either side: under the lock, unless the pump died meanwhile. */
static void pump_wake(struct chan_pump *p, enum pump_next (*handle)(struct chan_pump *, int),
		      int events)
{
	bool killed = false;

	pthread_mutex_lock(&p->lock);
	if (!p->dead) {
		enum pump_next next = handle(p, events);

		if (next == PUMP_ON)
			pump_rearm(p);
		else
			killed = pump_kill_locked(p, next == PUMP_FINISH);
	}
	pthread_mutex_unlock(&p->lock);
	if (killed)
		pump_unref(p);
}

/* The guest's side woke us (under the lock, the pump alive). */
static enum pump_next pump_stream_events(struct chan_pump *p, int events)
{
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
				/* The guest side ended (domain gone, migrated away, daemon
				 * closed it). */
				pump_flush_sock(p);
				return PUMP_FINISH;
			}
			if (n < 0) {
				virResetLastError();
				return PUMP_ABORT;
			}
			if (room)
				p->to_sock_len += (size_t)n;
			else
				p->dropped += (uint64_t)n;
			budget -= (size_t)n < budget ? (size_t)n : budget;
			if (pump_flush_sock(p) < 0)
				return PUMP_ABORT;
		}
		/* A guest that floods a channel nobody reads: cut it; the client reconnects. */
		if (p->dropped > PUMP_DROP_MAX)
			return PUMP_ABORT;
	}
	if ((events & VIR_STREAM_EVENT_WRITABLE) && pump_flush_stream(p) < 0)
		return PUMP_ABORT;
	if (events & (VIR_STREAM_EVENT_ERROR | VIR_STREAM_EVENT_HANGUP)) {
		pump_flush_sock(p);
		return PUMP_ABORT;
	}
	return PUMP_ON;
}

/* The caller's socket woke us (under the lock, the pump alive). */
static enum pump_next pump_sock_events(struct chan_pump *p, int events)
{
	if ((events & VIR_EVENT_HANDLE_WRITABLE) && pump_flush_sock(p) < 0)
		return PUMP_ABORT;
	if ((events & VIR_EVENT_HANDLE_READABLE) && p->to_st_len < sizeof(p->to_st)) {
		ssize_t n = recv(p->fd, p->to_st + p->to_st_len, sizeof(p->to_st) - p->to_st_len,
				 MSG_DONTWAIT);

		if (n == 0 ||
		    (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
			/* The caller closed its end: the whole channel goes. */
			return PUMP_ABORT;
		}
		if (n > 0)
			p->to_st_len += (size_t)n;
		if (pump_flush_stream(p) < 0)
			return PUMP_ABORT;
	} else if (events & (VIR_EVENT_HANDLE_HANGUP | VIR_EVENT_HANDLE_ERROR))
		return PUMP_ABORT;
	return PUMP_ON;
}

static void pump_on_stream(virStreamPtr st, int events, void *opaque)
{
	(void)st;
	pump_wake(opaque, pump_stream_events, events);
}

static void pump_on_sock(int watch, int fd, int events, void *opaque)
{
	(void)watch;
	(void)fd;
	pump_wake(opaque, pump_sock_events, events);
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
