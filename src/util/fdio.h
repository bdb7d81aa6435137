/* SPDX-License-Identifier: MIT */
/*
 * Sending and receiving on a stream fd (a UNIX socket to QEMU, a guest agent channel, a
 * virtio-serial port) with a deadline: absolute, monotonic milliseconds as from time_now_ms().
 * Waits are poll()s, never sleeps; EINTR is retried, so a signal does not end a wait early
 * (the deadline does). A socket is used with MSG_DONTWAIT (and MSG_NOSIGNAL: a closed peer is
 * -EPIPE, not SIGPIPE) whatever its O_NONBLOCK; any other fd must be O_NONBLOCK, and is
 * written with write(): a caller writing to a pipe or a device ignores SIGPIPE.
 *
 * A deadline in the past does not block, but what can be done at once still is: bytes already
 * received are returned, bytes the peer has room for are sent.
 */
#ifndef VFM_UTIL_FDIO_H
#define VFM_UTIL_FDIO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * Sends all of buf. 0; -ETIMEDOUT when the peer has not taken all of it by deadline_ms (part
 * of it may have gone: the stream is then out of step); -EPIPE or -ECONNRESET when the peer is
 * gone (also a hang-up that poll() reports while nothing can be written); -EBADF; other
 * -errno.
 */
int fdio_send_all(int fd, const void *buf, size_t len, int64_t deadline_ms);

/*
 * Receives what has arrived, up to size bytes, waiting for the first byte until deadline_ms.
 * The count (> 0); 0 at the end of the stream (the peer closed or hung up with nothing left to
 * read); -ETIMEDOUT when nothing arrived by then; other -errno.
 */
ssize_t fdio_recv(int fd, void *buf, size_t size, int64_t deadline_ms);

/*
 * Waits until fd is ready for events (POLLIN, POLLOUT) or reports a hang-up or an error, for
 * a caller doing its own recv() (a datagram socket: netlink). 0 then (the next call says
 * which); -ETIMEDOUT at deadline_ms (at once when it has passed); -EBADF; other -errno.
 */
int fdio_wait(int fd, short events, int64_t deadline_ms);

#endif
