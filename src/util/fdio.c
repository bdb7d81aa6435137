// SPDX-License-Identifier: MIT
#include "fdio.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util.h"

/*
 * Waits until fd is ready for events or deadline_ms. 0 when it is (or when poll() reports a
 * hang-up or an error: *ret_hup is set and the next read or write tells which), -ETIMEDOUT,
 * -EBADF, other -errno.
 */
static int fd_wait(int fd, short events, int64_t deadline_ms, bool *ret_hup)
{
	for (;;) {
		struct pollfd p = {.fd = fd, .events = events};
		int64_t left = deadline_left_ms(deadline_ms);
		int k;

		if (left <= 0)
			return -ETIMEDOUT;
		k = poll(&p, 1, left > INT_MAX ? INT_MAX : (int)left);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -errno;
		if (k == 0)
			continue; /* the deadline is checked above: poll's clock may run ahead */
		if (p.revents & POLLNVAL)
			return -EBADF;
		*ret_hup = !(p.revents & events) && (p.revents & (POLLHUP | POLLERR));
		return 0;
	}
}

int fdio_wait(int fd, short events, int64_t deadline_ms)
{
	bool hup;

	return fd_wait(fd, events, deadline_ms, &hup);
}

/* One send, or one write where fd is no socket (*sock cleared for the next ones). */
static ssize_t fd_send_once(int fd, const void *buf, size_t len, bool *sock)
{
	if (*sock) {
		ssize_t n = send(fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n >= 0 || errno != ENOTSOCK)
			return n;
		*sock = false;
	}
	return write(fd, buf, len);
}

static ssize_t fd_recv_once(int fd, void *buf, size_t size, bool *sock)
{
	if (*sock) {
		ssize_t n = recv(fd, buf, size, MSG_DONTWAIT);

		if (n >= 0 || errno != ENOTSOCK)
			return n;
		*sock = false;
	}
	return read(fd, buf, size);
}

int fdio_send_all(int fd, const void *buf, size_t len, int64_t deadline_ms)
{
	const char *p = buf;
	bool sock = true;

	while (len > 0) {
		ssize_t n = fd_send_once(fd, p, len, &sock);
		bool hup = false;
		int r;

		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
			return -errno;
		r = fd_wait(fd, POLLOUT, deadline_ms, &hup);
		if (r < 0)
			return r;
		/* No room and the peer hung up (a virtio port while the host is away): it will
		 * not take the rest, and write() may well say EAGAIN forever. */
		if (hup)
			return -EPIPE;
	}
	return 0;
}

ssize_t fdio_recv(int fd, void *buf, size_t size, int64_t deadline_ms)
{
	bool sock = true, hup = false;

	for (;;) {
		ssize_t n = fd_recv_once(fd, buf, size, &sock);
		int r;

		if (n >= 0)
			return n;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return -errno;
		/* Hung up with nothing left to read: the end, even where read() says EAGAIN. */
		if (hup)
			return 0;
		r = fd_wait(fd, POLLIN, deadline_ms, &hup);
		if (r < 0)
			return r;
	}
}
