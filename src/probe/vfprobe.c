// SPDX-License-Identifier: MIT
/*
 * vfprobe: a fixed-rate loss probe. Sends ICMP echo requests (or UDP datagrams to a
 * `vfprobe --echo` peer) on an absolute schedule that never waits for replies, hands every
 * send and reply to lossacct, and prints sent/received/lost and each loss window.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <netdb.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>

#include "lossacct.h"
#include "vfprobe.h"
#include "util/util.h"
static const uint8_t payload_magic[4] = {'V', 'F', 'P', 'B'};
static void put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static uint64_t get_be64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

static void payload_build(uint8_t *p, uint64_t nonce, uint64_t seq)
{
	memset(p, 0, PAYLOAD_LEN);
	memcpy(p, payload_magic, sizeof(payload_magic));
	p[4] = PAYLOAD_VERSION;
	put_be64(p + 8, nonce);
	put_be64(p + 16, seq);
}

/* Returns 0 and the sequence number when p is a probe payload of this run, else -EINVAL. */
static int payload_parse(const uint8_t *p, size_t len, uint64_t nonce, uint64_t *ret_seq)
{
	if (len < PAYLOAD_MIN || memcmp(p, payload_magic, sizeof(payload_magic)) != 0 ||
	    p[4] != PAYLOAD_VERSION || get_be64(p + 8) != nonce)
		return -EINVAL;
	*ret_seq = get_be64(p + 16);
	return 0;
}

static uint16_t inet_checksum(const uint8_t *p, size_t len)
{
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void socket_grow_rcvbuf(int fd)
{
	/* Replies queue up while the process is descheduled; a dropped reply is a false loss. */
	int size = 4 << 20;

	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
}

static int probe_resolve(struct probe *p, struct diag *d)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_DGRAM};
	struct addrinfo *res = NULL;
	int r;

	r = getaddrinfo(p->o->target, NULL, &hints, &res);
	if (r != 0 || !res) {
		char t[256];

		str_sanitize(t, sizeof(t), p->o->target);
		diag_set(d, "cannot resolve '%s': %s", t, r ? gai_strerror(r) : "no address");
		return -EINVAL;
	}
	memcpy(&p->dst, res->ai_addr, res->ai_addrlen);
	p->dst_len = res->ai_addrlen;
	p->family = res->ai_family;
	freeaddrinfo(res);
	if (p->family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&p->dst;

		sin->sin_port = htons((uint16_t)p->o->udp_port);
		inet_ntop(AF_INET, &sin->sin_addr, p->dst_text, sizeof(p->dst_text));
	} else if (p->family == AF_INET6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&p->dst;

		sin6->sin6_port = htons((uint16_t)p->o->udp_port);
		inet_ntop(AF_INET6, &sin6->sin6_addr, p->dst_text, sizeof(p->dst_text));
	} else {
		diag_set(d, "unsupported address family %d", p->family);
		return -EAFNOSUPPORT;
	}
	return 0;
}

static int probe_open_socket(struct probe *p, struct diag *d)
{
	int one = 1, fd;

	if (!p->icmp) {
		fd = socket(p->family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0) {
			diag_set(d, "UDP socket: %s", strerror(errno));
			return -errno;
		}
	} else {
		int proto = p->family == AF_INET ? IPPROTO_ICMP : IPPROTO_ICMPV6;

		fd = socket(p->family, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, proto);
		if (fd < 0 && (errno == EPERM || errno == EACCES)) {
			/* Unprivileged: a ping socket, if net.ipv4.ping_group_range allows it. */
			fd = socket(p->family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, proto);
			if (fd >= 0)
				p->ping_socket = true;
			else
				errno = EPERM;
		}
		if (fd < 0) {
			diag_set(d, "ICMP socket: %s (run as root, or use --udp)", strerror(errno));
			return -errno;
		}
		if (p->family == AF_INET && !p->ping_socket) {
			uint32_t drop = ~(1U << ICMP_ECHOREPLY);

			p->ip_header = true;
			(void)setsockopt(fd, SOL_RAW, ICMP_FILTER, &drop, sizeof(drop));
		} else if (p->family == AF_INET6 && !p->ping_socket) {
			struct icmp6_filter f;

			ICMP6_FILTER_SETBLOCKALL(&f);
			ICMP6_FILTER_SETPASS(ICMP6_ECHO_REPLY, &f);
			(void)setsockopt(fd, IPPROTO_ICMPV6, ICMP6_FILTER, &f, sizeof(f));
		}
	}
	socket_grow_rcvbuf(fd);
	(void)setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one));
	p->sock = fd;
	return 0;
}

static bool errno_is_transient(int e)
{
	switch (e) {
	case EAGAIN:
	case EINTR:
	case ENOBUFS:
	case ENOMEM:
	case ENETDOWN:
	case ENETUNREACH:
	case EHOSTDOWN:
	case EHOSTUNREACH:
	case ECONNREFUSED:
	case EPERM: /* a firewall rule */
		return true;
	default:
		return false;
	}
}

/* Sends packet seq. A transient failure is recorded as a sent (and so lost) packet. */
static int probe_send(struct probe *p, uint64_t seq, int64_t *ret_t, struct diag *d)
{
	uint8_t buf[8 + PAYLOAD_LEN];
	size_t len;
	int64_t t;
	ssize_t n;
	int r;

	if (p->icmp) {
		buf[0] = p->family == AF_INET ? ICMP_ECHO : ICMP6_ECHO_REQUEST;
		buf[1] = 0;
		buf[2] = buf[3] = 0;
		buf[4] = (uint8_t)(p->ident >> 8);
		buf[5] = (uint8_t)p->ident;
		buf[6] = (uint8_t)(seq >> 8);
		buf[7] = (uint8_t)seq;
		payload_build(buf + 8, p->nonce, seq);
		len = 8 + PAYLOAD_LEN;
		if (p->family == AF_INET) {
			uint16_t c = inet_checksum(buf, len);

			buf[2] = (uint8_t)(c >> 8);
			buf[3] = (uint8_t)c;
		}
	} else {
		payload_build(buf, p->nonce, seq);
		len = PAYLOAD_LEN;
	}
	t = time_now_ns();
	n = sendto(p->sock, buf, len, 0, (struct sockaddr *)&p->dst, p->dst_len);
	if (n < 0) {
		if (!errno_is_transient(errno)) {
			diag_set(d, "sending to %s: %s", p->dst_text, strerror(errno));
			return -errno;
		}
		p->send_errors++;
		p->last_send_errno = errno;
	}
	r = lossacct_record_sent(p->acct, seq, t);
	if (r < 0) {
		diag_set(d, "internal error: sequence %" PRIu64 " out of order", seq);
		return r;
	}
	*ret_t = t;
	return 0;
}

static bool addr_matches(const struct probe *p, const struct sockaddr_storage *from, bool port)
{
	if (from->ss_family != p->family)
		return false;
	if (p->family == AF_INET) {
		const struct sockaddr_in *a = (const void *)from, *b = (const void *)&p->dst;

		return a->sin_addr.s_addr == b->sin_addr.s_addr &&
		       (!port || a->sin_port == b->sin_port);
	}
	const struct sockaddr_in6 *a = (const void *)from, *b = (const void *)&p->dst;

	return memcmp(&a->sin6_addr, &b->sin6_addr, sizeof(a->sin6_addr)) == 0 &&
	       (!port || a->sin6_port == b->sin6_port);
}

/* Returns 0 and the sequence number if buf is a reply to this run's packets, else -EINVAL. */
static int probe_parse_reply(const struct probe *p, const uint8_t *buf, size_t len,
			     uint64_t *ret_seq)
{
	uint64_t seq;

	if (!p->icmp)
		return payload_parse(buf, len, p->nonce, ret_seq);
	if (p->ip_header) {
		size_t ihl;

		if (len < 20 || (buf[0] >> 4) != 4)
			return -EINVAL;
		ihl = (size_t)(buf[0] & 0x0f) * 4;
		if (ihl < 20 || ihl > len)
			return -EINVAL;
		buf += ihl;
		len -= ihl;
	}
	if (len < 8)
		return -EINVAL;
	if (buf[0] != (p->family == AF_INET ? ICMP_ECHOREPLY : ICMP6_ECHO_REPLY) || buf[1] != 0)
		return -EINVAL;
	if (!p->ping_socket && (uint16_t)(buf[4] << 8 | buf[5]) != p->ident)
		return -EINVAL;
	if (payload_parse(buf + 8, len - 8, p->nonce, &seq) < 0)
		return -EINVAL;
	if ((uint16_t)(buf[6] << 8 | buf[7]) != (uint16_t)seq)
		return -EINVAL;
	*ret_seq = seq;
	return 0;
}

/* Reads every queued reply. Returns 0 or -errno on a socket failure. */
static int probe_receive(struct probe *p, struct diag *d)
{
	for (;;) {
		uint8_t buf[1500];
		union {
			struct cmsghdr h;
			char space[CMSG_SPACE(sizeof(struct timespec)) * 2];
		} ctl;
		struct sockaddr_storage from;
		struct iovec iov = {.iov_base = buf, .iov_len = sizeof(buf)};
		struct msghdr mh = {
		    .msg_name = &from,
		    .msg_namelen = sizeof(from),
		    .msg_iov = &iov,
		    .msg_iovlen = 1,
		    .msg_control = &ctl,
		    .msg_controllen = sizeof(ctl),
		};
		int64_t now, t;
		uint64_t seq;
		ssize_t n;

		n = recvmsg(p->sock, &mh, MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			if (errno_is_transient(errno))
				continue;
			diag_set(d, "receiving: %s", strerror(errno));
			return -errno;
		}
		now = time_now_ns();
		if ((mh.msg_flags & MSG_TRUNC) || !addr_matches(p, &from, !p->icmp) ||
		    probe_parse_reply(p, buf, (size_t)n, &seq) < 0)
			continue;
		/* The kernel's arrival time (wall clock), so a descheduled probe does not take a
		 * reply for a late one; the process time when there is none. */
		t = now;
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
			if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
				struct timespec ts;

				memcpy(&ts, CMSG_DATA(c), sizeof(ts));
				t = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec -
				    p->wall_minus_mono;
			}
		}
		if (t > now || t < now - 10 * (int64_t)1000000000)
			t = now; /* the wall clock was stepped */
		lossacct_record_reply(p->acct, seq, t);
	}
}

static int write_ready_file(const char *path, struct diag *d)
{
	_cleanup_free_ char *tmp = NULL;
	_cleanup_close_ int fd = -1;
	char line[32];
	int r;

	if (asprintf(&tmp, "%s.tmp%d", path, (int)getpid()) < 0) {
		tmp = NULL;
		return -ENOMEM;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0) {
		diag_set(d, "ready file %s: %s", tmp, strerror(errno));
		return -errno;
	}
	snprintf(line, sizeof(line), "%d\n", (int)getpid());
	r = write_all(fd, line, strlen(line));
	if (r < 0 || rename(tmp, path) < 0) {
		r = r < 0 ? r : -errno;
		diag_set(d, "ready file %s: %s", path, strerror(-r));
		unlink(tmp);
		return r;
	}
	return 0;
}

/* Signals arrive through a signalfd so the poll loop sees them; returns the fd or -errno. */
static int signals_open(void)
{
	sigset_t set;
	int fd;

	signal(SIGINT, SIG_DFL); /* a background job of a shell starts with SIGINT ignored */
	signal(SIGTERM, SIG_DFL);
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -errno;
	fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

static int signals_read(int fd)
{
	struct signalfd_siginfo si;
	int n = 0;

	while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		n++;
	return n;
}

static int timer_arm(int fd, int64_t abs_ns)
{
	struct itimerspec its = {
	    .it_value = {.tv_sec = abs_ns / 1000000000, .tv_nsec = abs_ns % 1000000000},
	};

	if (abs_ns <= 0)
		its.it_value.tv_nsec = 1;
	return timerfd_settime(fd, TFD_TIMER_ABSTIME, &its, NULL) < 0 ? -errno : 0;
}

static int64_t slot_time(const struct probe *p, int64_t t0, uint64_t k)
{
	return t0 + (int64_t)((__int128)k * 1000000000 / p->o->rate);
}

static int run_probe(const struct options *o)
{
	struct probe p = {.o = o, .sock = -1, .icmp = o->udp_port == 0};
	_cleanup_close_ int sigfd = -1, tfd = -1, sock = -1;
	struct lossacct_config cfg;
	struct lossacct_totals totals;
	struct diag d = {{0}};
	uint64_t k = 0, slots;
	int64_t t0, drain_deadline = 0, last_send = 0, tat, tau, catchup_ns;
	bool sending = true, stop = false, ready_written = false;
	int r;

	r = probe_resolve(&p, &d);
	if (r < 0)
		goto fail;
	r = probe_open_socket(&p, &d);
	if (r < 0)
		goto fail;
	sock = p.sock;
	if (getrandom(&p.nonce, sizeof(p.nonce), 0) != sizeof(p.nonce) ||
	    getrandom(&p.ident, sizeof(p.ident), 0) != sizeof(p.ident)) {
		r = -errno;
		diag_set(&d, "getrandom: %s", strerror(errno));
		goto fail;
	}
	p.interval_ns = 1000000000 / o->rate;
	cfg = (struct lossacct_config){
	    .interval_ns = p.interval_ns,
	    .timeout_ns = o->timeout_ms * 1000000,
	    /* Every packet younger than the timeout, plus a second of slack for catch-up. */
	    .max_inflight = (size_t)(o->rate * (o->timeout_ms + 1000) / 1000 + 64),
	    .max_windows = LOSSACCT_MAX_WINDOWS,
	    .on_window = on_window,
	    .userdata = &p,
	};
	r = lossacct_new(&cfg, &p.acct);
	if (r < 0) {
		diag_set(&d, "%s",
			 r == -EINVAL ? "--rate times --timeout is too large" : "out of memory");
		goto fail;
	}
	sigfd = signals_open();
	tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (sigfd < 0 || tfd < 0) {
		r = sigfd < 0 ? sigfd : -errno;
		diag_set(&d, "signalfd/timerfd: %s", strerror(-r));
		goto fail;
	}
	(void)prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0); /* wake within 1 us of the schedule */
	slots = o->duration_ms ? (uint64_t)((__int128)o->duration_ms * o->rate / 1000) : UINT64_MAX;
	if (slots == 0)
		slots = 1;
	if (!o->quiet) {
		if (p.icmp)
			fprintf(stderr, "vfprobe: ICMP echo to %s", p.dst_text);
		else
			fprintf(stderr, "vfprobe: UDP to %s port %" PRId64, p.dst_text,
				o->udp_port);
		fprintf(stderr,
			" at %" PRId64 "/s, reply timeout %" PRId64 " ms; SIGINT/SIGTERM stops\n",
			o->rate, o->timeout_ms);
	}
	/* Behind schedule, packets go out at CATCHUP_FACTOR times the rate, at most SEND_BURST
	 * back to back (a GCRA pacer: tat is the theoretical time of the next send). */
	catchup_ns = p.interval_ns / CATCHUP_FACTOR;
	tau = (SEND_BURST - 1) * catchup_ns;
	p.wall_minus_mono = time_wall_ns() - time_now_ns();
	t0 = time_now_ns();
	tat = t0;
	for (;;) {
		struct pollfd fds[3] = {
		    {.fd = sock, .events = POLLIN},
		    {.fd = sigfd, .events = POLLIN},
		    {.fd = tfd, .events = POLLIN},
		};
		int64_t now = time_now_ns(), wake, due;
		uint64_t dummy;

		if (sending && (stop || k >= slots)) {
			sending = false;
			drain_deadline = last_send + o->timeout_ms * 1000000;
		}
		due = slot_time(&p, t0, k);
		if (sending && due <= now && tat - tau <= now) {
			int64_t late = now - due, t_sent = now;

			if (late > p.max_lateness_ns)
				p.max_lateness_ns = late;
			if (late > MAX_BACKLOG_NS) {
				/* A long stall: drop the oldest slots rather than catch up for
				 * long. */
				uint64_t kn = (uint64_t)((__int128)(now - MAX_BACKLOG_NS - t0) *
							 o->rate / 1000000000) +
					      1;

				if (kn > slots)
					kn = slots;
				if (kn > k) {
					p.skipped += kn - k;
					k = kn;
				}
				if (k >= slots)
					continue;
			}
			if (late > p.interval_ns) {
				/* Take in queued replies first: a reply that waited in the socket
				 * during a stall must not be judged after newer sends settle it. */
				r = probe_receive(&p, &d);
				if (r < 0)
					goto fail;
				if (signals_read(sigfd) > 0)
					stop =
					    true; /* a machine too slow for the rate never polls */
			}
			r = probe_send(&p, lossacct_next_seq(p.acct), &t_sent, &d);
			if (r < 0)
				goto fail;
			k++;
			last_send = t_sent;
			tat = (tat > t_sent ? tat : t_sent) + catchup_ns;
			if (!ready_written && o->ready_file) {
				r = write_ready_file(o->ready_file, &d);
				if (r < 0)
					goto fail;
				ready_written = true;
			}
			continue;
		}
		if (!sending) {
			lossacct_advance(p.acct, now);
			if (lossacct_outstanding(p.acct) == 0 || now >= drain_deadline)
				break;
		}
		wake = !sending ? drain_deadline : due > tat - tau ? due : tat - tau;
		r = timer_arm(tfd, wake);
		if (r < 0) {
			diag_set(&d, "timerfd: %s", strerror(-r));
			goto fail;
		}
		if (poll(fds, 3, -1) < 0 && errno != EINTR) {
			r = -errno;
			diag_set(&d, "poll: %s", strerror(errno));
			goto fail;
		}
		if (fds[0].revents) {
			r = probe_receive(&p, &d);
			if (r < 0)
				goto fail;
		}
		if (fds[1].revents && signals_read(sigfd) > 0) {
			if (!sending)
				break; /* a second signal: stop waiting for replies */
			stop = true;
		}
		if (fds[2].revents)
			(void)!read(tfd, &dummy, sizeof(dummy));
	}

	lossacct_finish(p.acct, &totals);
	if (o->json)
		r = report_json(&p, &totals);
	else
		report_text(&p, &totals);
	if (!o->quiet && p.send_errors)
		fprintf(stderr, "vfprobe: %" PRIu64 " sends failed (last: %s); counted as lost\n",
			p.send_errors, strerror(p.last_send_errno));
	lossacct_free(p.acct);
	if (fflush(stdout) != 0 || r < 0) {
		fprintf(stderr, "vfprobe: writing the report: %s\n", strerror(errno));
		return EXIT_RUNTIME;
	}
	return 0;
fail:
	lossacct_free(p.acct);
	fprintf(stderr, "vfprobe: %s\n", d.msg[0] ? d.msg : strerror(-r));
	return EXIT_RUNTIME;
}

static int run_echo(const struct options *o)
{
	_cleanup_close_ int sock = -1, sigfd = -1;
	struct sockaddr_in6 a6 = {.sin6_family = AF_INET6,
				  .sin6_port = htons((uint16_t)o->echo_port),
				  .sin6_addr = IN6ADDR_ANY_INIT};
	struct sockaddr_in a4 = {.sin_family = AF_INET,
				 .sin_port = htons((uint16_t)o->echo_port),
				 .sin_addr.s_addr = htonl(INADDR_ANY)};
	struct diag d = {{0}};
	int64_t deadline = o->duration_ms ? time_now_ms() + o->duration_ms : 0;
	uint64_t echoed = 0;
	int zero = 0, r;

	/* One dual-stack socket when IPv6 exists, plain IPv4 otherwise. */
	sock = socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (sock >= 0) {
		(void)setsockopt(sock, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
		if (bind(sock, (struct sockaddr *)&a6, sizeof(a6)) < 0) {
			r = -errno;
			diag_set(&d, "bind UDP port %" PRId64 ": %s", o->echo_port,
				 strerror(errno));
			goto fail;
		}
	} else {
		sock = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (sock < 0 || bind(sock, (struct sockaddr *)&a4, sizeof(a4)) < 0) {
			r = -errno;
			diag_set(&d, "bind UDP port %" PRId64 ": %s", o->echo_port,
				 strerror(errno));
			goto fail;
		}
	}
	socket_grow_rcvbuf(sock);
	sigfd = signals_open();
	if (sigfd < 0) {
		r = sigfd;
		diag_set(&d, "signalfd: %s", strerror(-r));
		goto fail;
	}
	if (o->ready_file) {
		r = write_ready_file(o->ready_file, &d);
		if (r < 0)
			goto fail;
	}
	if (!o->quiet)
		fprintf(stderr, "vfprobe: echoing vfprobe packets on UDP port %" PRId64 "\n",
			o->echo_port);
	for (;;) {
		struct pollfd fds[2] = {{.fd = sock, .events = POLLIN},
					{.fd = sigfd, .events = POLLIN}};
		int timeout = deadline ? (int)deadline_left_ms(deadline) : -1;

		if (deadline && timeout == 0)
			break;
		if (poll(fds, 2, timeout) < 0 && errno != EINTR) {
			r = -errno;
			diag_set(&d, "poll: %s", strerror(errno));
			goto fail;
		}
		if (fds[1].revents && signals_read(sigfd) > 0)
			break;
		if (!fds[0].revents)
			continue;
		for (;;) {
			uint8_t buf[256];
			struct sockaddr_storage from;
			socklen_t fl = sizeof(from);
			ssize_t n = recvfrom(sock, buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC,
					     (struct sockaddr *)&from, &fl);

			if (n < 0) {
				if (errno == EAGAIN || errno == EWOULDBLOCK)
					break;
				if (errno_is_transient(errno))
					continue;
				r = -errno;
				diag_set(&d, "receiving: %s", strerror(errno));
				goto fail;
			}
			/* Answer only probe packets, same size back: no reflection of other
			 * traffic, no amplification. */
			if (n < PAYLOAD_MIN || (size_t)n > sizeof(buf) ||
			    memcmp(buf, payload_magic, sizeof(payload_magic)) != 0 ||
			    buf[4] != PAYLOAD_VERSION)
				continue;
			if (sendto(sock, buf, (size_t)n, 0, (struct sockaddr *)&from, fl) == n)
				echoed++;
		}
	}
	if (!o->quiet)
		fprintf(stderr, "vfprobe: echoed %" PRIu64 " packets\n", echoed);
	return 0;
fail:
	fprintf(stderr, "vfprobe: %s\n", d.msg[0] ? d.msg : strerror(-r));
	return EXIT_RUNTIME;
}

int main(int argc, char **argv)
{
	struct options o;
	int r;

	r = parse_options(argc, argv, &o);
	if (r >= 0)
		return r;
	setvbuf(stdout, NULL, _IOFBF, 1 << 16);
	return o.echo ? run_echo(&o) : run_probe(&o);
}
