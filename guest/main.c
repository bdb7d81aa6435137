// SPDX-License-Identifier: MIT
/*
 * vfmigrate-agent: the in-guest daemon. Serves the QEMU guest agent protocol on the
 * virtio-serial port org.vfmigrate.agent.0 (or a given device, or a unix socket for tests).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "../src/proto/qga.h"
#include "../src/util/fdio.h"
#include "../src/util/file.h"
#include "agent.h"
#include "backend_nl.h"
#include "timing.h"

#define HANGUP_RETRY_MS	 100
#define OPEN_RETRY_MS	 1000
#define WRITE_TIMEOUT_MS 5000

static volatile sig_atomic_t stop;
static int verbose;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void logmsg(const char *fmt, ...) _printf_(1, 2);
static void logmsg(const char *fmt, ...)
{
	va_list ap;

	fputs("vfmigrate-agent: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void pause_ms(int ms)
{
	poll(NULL, 0, ms);
}

/* Finds /dev/vportNpM whose sysfs name is AGENT_PORT_NAME. */
static int port_find(char *buf, size_t n)
{
	DIR *dir = opendir("/sys/class/virtio-ports");
	struct dirent *de;
	int r = -ENOENT;

	if (!dir)
		return -errno;
	while ((de = readdir(dir))) {
		char path[512], name[128];
		size_t len;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/class/virtio-ports/%s/name", de->d_name);
		if (file_read(path, 0, name, sizeof(name), &len, NULL) < 0)
			continue;
		name[strcspn(name, "\n")] = '\0';
		if (strcmp(name, AGENT_PORT_NAME) == 0) {
			snprintf(buf, n, "/dev/%s", de->d_name);
			r = 0;
			break;
		}
	}
	closedir(dir);
	return r;
}

static void write_reply(int fd, const char *s, size_t len)
{
	int r = fdio_send_all(fd, s, len, time_now_ms() + WRITE_TIMEOUT_MS);

	if (r == -ETIMEDOUT)
		logmsg("host did not take the reply within %d ms; dropped", WRITE_TIMEOUT_MS);
	else if (r == -EPIPE)
		logmsg("host went away; reply dropped");
	else if (r < 0)
		logmsg("write: %s; reply dropped", strerror(-r));
}

static void log_text(const char *what, const char *s, size_t len)
{
	char clean[300], raw[300];

	if (!verbose)
		return;
	if (len >= sizeof(raw))
		len = sizeof(raw) - 1;
	memcpy(raw, s, len);
	raw[len] = '\0';
	str_sanitize(clean, sizeof(clean), raw);
	logmsg("%s %s", what, clean);
}

/* Feeds input to the splitter and answers every complete request. */
static void serve_input(struct agent *a, struct qga_splitter *sp, int fd, const char *buf, size_t n)
{
	size_t off = 0;

	while (off < n) {
		size_t used = 0, rlen = 0;
		char *reply = NULL;
		int ev = qga_splitter_feed(sp, buf + off, n - off, &used);

		off += used;
		switch (ev) {
		case QGA_SPLIT_MESSAGE:
			log_text("<-", sp->buf, sp->len);
			reply = agent_handle_message(a, sp->buf, sp->len, &rlen);
			break;
		case QGA_SPLIT_OVERSIZE:
			reply = agent_reply_oversize(a, sp->dropped, &rlen);
			break;
		case QGA_SPLIT_RESYNC:
			if (verbose)
				logmsg("0xFF: parser reset");
			break;
		case QGA_SPLIT_NEED_MORE:
			break;
		default:
			logmsg("out of memory; input dropped");
			qga_splitter_reset(sp);
			return;
		}
		if (reply) {
			log_text("->", reply, rlen);
			write_reply(fd, reply, rlen);
			free(reply);
		} else if (ev == QGA_SPLIT_MESSAGE || ev == QGA_SPLIT_OVERSIZE) {
			logmsg("out of memory; no reply");
		}
	}
}

/*
 * Serves one open channel until it fails (returns -errno) or stop. A virtio-serial port reads
 * EOF (POLLHUP) while the host side is not connected: that is not an error, we pause and keep
 * the port. A unix socket client (for_socket) is done at EOF: returns 0.
 */
static int serve_fd(struct agent *a, int fd, bool for_socket)
{
	struct qga_splitter sp;
	bool connected = true;
	char buf[4096];
	int r = 0;

	qga_splitter_init(&sp, QGA_REQUEST_MAX);
	while (!stop) {
		/* A second at a time, so that stop is seen. */
		ssize_t n = fdio_recv(fd, buf, sizeof(buf), time_now_ms() + 1000);

		if (n == -ETIMEDOUT)
			continue;
		if (n > 0) {
			if (!connected) {
				logmsg("host connected");
				connected = true;
			}
			serve_input(a, &sp, fd, buf, (size_t)n);
			continue;
		}
		if (n < 0) {
			r = (int)n;
			break;
		}
		/* EOF: the host side hung up (or is not there yet). */
		if (for_socket)
			break;
		if (connected) {
			logmsg("host disconnected; waiting for it");
			connected = false;
		}
		qga_splitter_reset(&sp);
		pause_ms(HANGUP_RETRY_MS);
	}
	qga_splitter_done(&sp);
	return r;
}

static int serve_device(struct agent *a, const char *device)
{
	char path[300] = "";
	bool warned = false;

	while (!stop) {
		_cleanup_close_ int fd = -1;
		int r = 0;

		if (device)
			snprintf(path, sizeof(path), "%s", device);
		else
			r = port_find(path, sizeof(path));
		if (r >= 0) {
			fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
			if (fd < 0)
				r = -errno;
		}
		if (r < 0) {
			if (!warned)
				logmsg("no port %s yet (%s); retrying",
				       device ? device : AGENT_PORT_NAME, strerror(-r));
			warned = true;
			pause_ms(OPEN_RETRY_MS);
			continue;
		}
		warned = false;
		logmsg("serving on %s", path);
		r = serve_fd(a, fd, false);
		if (r < 0 && !stop) {
			logmsg("%s: %s; reopening", path, strerror(-r));
			pause_ms(OPEN_RETRY_MS);
		}
	}
	return 0;
}

/* Test mode: listen on a unix socket, one client at a time. */
static int serve_listen(struct agent *a, const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	_cleanup_close_ int lfd = -1;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		logmsg("socket path too long: %s", path);
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, path);
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0)
		return -errno;
	unlink(path);
	if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(lfd, 4) < 0) {
		logmsg("%s: %s", path, strerror(errno));
		return -errno;
	}
	logmsg("listening on %s", path);
	while (!stop) {
		_cleanup_close_ int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

		if (fd < 0) {
			if (errno == EINTR)
				continue;
			logmsg("accept: %s", strerror(errno));
			return -errno;
		}
		serve_fd(a, fd, true);
	}
	unlink(path);
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: vfmigrate-agent [--device PATH | --listen SOCKET] [--verbose]\n"
		   "Serves the QEMU guest agent protocol with bond commands on the virtio-serial\n"
		   "port " AGENT_PORT_NAME " (found in /sys/class/virtio-ports).\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"device", required_argument, NULL, 'd'}, {"listen", required_argument, NULL, 'l'},
	    {"verbose", no_argument, NULL, 'v'},      {"version", no_argument, NULL, 'V'},
	    {"help", no_argument, NULL, 'h'},	      {NULL, 0, NULL, 0},
	};
	const char *device = NULL, *listen_path = NULL;
	struct sigaction sa = {.sa_handler = on_signal};
	struct nl_backend *nb = NULL;
	struct agent_timing timing;
	struct agent_backend be;
	struct agent a;
	int c, r;

	while ((c = getopt_long(argc, argv, "d:l:vVh", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			device = optarg;
			break;
		case 'l':
			listen_path = optarg;
			break;
		case 'v':
			verbose = 1;
			break;
		case 'V':
			printf("vfmigrate-agent %s\n", VFM_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc || (device && listen_path)) {
		usage(stderr);
		return 2;
	}
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	r = nl_backend_new(NULL, &nb);
	if (r < 0) {
		logmsg("cannot open rtnetlink: %s", strerror(-r));
		return 1;
	}
	nl_backend_ops(nb, &be);
	/* Timing costs two clock reads per kernel call; only guest-agent-timing shows it. */
	agent_timing_init(&timing, &be, time_now_ns);
	agent_init(&a, &timing.ops);
	a.timing = &timing;
	logmsg("version %s starting", VFM_VERSION);
	if (listen_path)
		r = serve_listen(&a, listen_path);
	else
		r = serve_device(&a, device);
	logmsg("exiting after %llu requests (%llu errors)", (unsigned long long)a.requests,
	       (unsigned long long)a.errors);
	nl_backend_free(nb);
	return r < 0 ? 1 : 0;
}
